//! Running a piece of work in a subtransaction and getting its error back as a value, the way
//! PL/pgSQL's EXCEPTION blocks do. Query cancellation and shutdown are never swallowed.

use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::{PgSqlErrorCode, PgTryBuilder};

/// A PostgreSQL error caught in a subtransaction.
#[derive(Debug, Clone)]
pub struct Caught {
    pub code: PgSqlErrorCode,
    pub message: String,
}

/// The five-character SQLSTATE of an error code (PostgreSQL packs it six bits a character).
pub fn sqlstate_text(code: PgSqlErrorCode) -> String {
    let mut v = code as i32;
    let mut s = String::with_capacity(5);
    for _ in 0..5 {
        s.push(char::from(b'0' + (v & 0x3f) as u8));
        v >>= 6;
    }
    s
}

/// Runs fallible work in a subtransaction (see [`try_in_subtransaction`]): its value, or the
/// error it returned or raised, one error either way (a raised one keeps its SQLSTATE).
pub fn try_work<T>(f: impl FnOnce() -> crate::error::GnResult<T>) -> crate::error::GnResult<T> {
    match try_in_subtransaction(f) {
        Ok(result) => result,
        Err(caught) => Err(crate::error::GnError::new(caught.code, caught.message)),
    }
}

/// Runs `f` in a subtransaction. On success the subtransaction is committed into the current
/// one; on error it is rolled back and the error returned, except for cancellation, shutdown
/// and out-of-memory, which go on aborting the whole statement as users expect.
pub fn try_in_subtransaction<R>(f: impl FnOnce() -> R) -> Result<R, Caught> {
    // the sequence PL/pgSQL uses (pl_exec.c, exec_stmt_block): remember the memory context and
    // resource owner, start an internal subtransaction, and on either outcome end it and
    // restore both before returning or rethrowing
    // SAFETY: reads of this backend's globals; a subtransaction may begin inside any
    // transaction, and the context is switched back to the caller's at once
    let (old_cxt, old_owner) = unsafe {
        let saved = (pg_sys::CurrentMemoryContext, pg_sys::CurrentResourceOwner);
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(saved.0);
        saved
    };
    let mut f = std::panic::AssertUnwindSafe(Some(f));
    PgTryBuilder::new(move || {
        let cell = &mut f; // the whole wrapper, so the closure is unwind-safe
        let r = (cell.0.take().expect("called once"))();
        // SAFETY: the subtransaction begun above is the current one: commit it into its
        // parent, and restore the caller's context and owner
        unsafe {
            pg_sys::ReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(old_cxt);
            pg_sys::CurrentResourceOwner = old_owner;
        }
        Ok(r)
    })
    .catch_others(move |e| {
        // SAFETY: the error left the subtransaction current (PostgreSQL's error recovery ends
        // none): roll it back, and restore the caller's context and owner
        unsafe {
            pg_sys::MemoryContextSwitchTo(old_cxt);
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(old_cxt);
            pg_sys::CurrentResourceOwner = old_owner;
        }
        Err(caught(e))
    })
    .execute()
}

/// What a caught error reports, whether PostgreSQL or a Rust panic raised it.
pub fn report(e: &CaughtError) -> &pgrx::pg_sys::panic::ErrorReportWithLevel {
    match e {
        CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
        CaughtError::RustPanic { ereport, .. } => ereport,
    }
}

/// The error a subtransaction caught, as a value; cancellation, shutdown and out-of-memory
/// are rethrown, to go on aborting the whole statement.
fn caught(e: CaughtError) -> Caught {
    let report = report(&e);
    let code = report.sql_error_code();
    if matches!(
        code,
        PgSqlErrorCode::ERRCODE_QUERY_CANCELED
            | PgSqlErrorCode::ERRCODE_ADMIN_SHUTDOWN
            | PgSqlErrorCode::ERRCODE_OUT_OF_MEMORY
    ) {
        e.rethrow();
    }
    Caught {
        code,
        message: report.message().to_string(),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn sqlstates() {
        assert_eq!(
            sqlstate_text(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE),
            "22023"
        );
        assert_eq!(
            sqlstate_text(PgSqlErrorCode::ERRCODE_QUERY_CANCELED),
            "57014"
        );
        assert_eq!(
            sqlstate_text(PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE),
            "42P01"
        );
    }
}
