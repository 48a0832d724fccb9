//! What differs between the PostgreSQL servers gn_export builds for (15, 17 and 18), in one
//! place: the rest of the code calls these and names no version. From pgrx-pg-sys 0.18.1's
//! bindings of 15.18, 17.10 and 18.4, only three things gn_export uses changed.

use pgrx::pg_sys;

#[cfg(not(any(feature = "pg15", feature = "pg17", feature = "pg18")))]
compile_error!("build gn_export for one server: --features pg15, pg17 or pg18");

/// Runs a started query to its end. PostgreSQL 18 dropped `execute_once` (always true here).
///
/// # Safety
/// `qd` must be a QueryDesc that ExecutorStart has started.
pub unsafe fn executor_run(qd: *mut pg_sys::QueryDesc) {
    let forward = pg_sys::ScanDirection::ForwardScanDirection;
    // SAFETY: the caller's contract
    unsafe {
        #[cfg(feature = "pg18")]
        pg_sys::ExecutorRun(qd, forward, 0);
        #[cfg(not(feature = "pg18"))]
        pg_sys::ExecutorRun(qd, forward, 0, true);
    }
}

/// A tuple descriptor's attributes. PostgreSQL 18 keeps them after its compact attributes
/// (`TupleDescAttrAddress`) where 15 and 17 had the `attrs` array.
///
/// # Safety
/// `desc` must be a valid TupleDesc that outlives the slice.
pub unsafe fn tupdesc_attrs<'a>(desc: pg_sys::TupleDesc) -> &'a [pg_sys::FormData_pg_attribute] {
    // SAFETY: a valid TupleDesc holds `natts` attributes where its version puts them
    unsafe {
        let n = (*desc).natts as usize;
        #[cfg(feature = "pg18")]
        let first = (*desc)
            .compact_attrs
            .as_ptr()
            .add(n)
            .cast::<pg_sys::FormData_pg_attribute>();
        #[cfg(not(feature = "pg18"))]
        let first = (*desc).attrs.as_ptr();
        std::slice::from_raw_parts(first, n)
    }
}

/// Whether the current user may EXECUTE a function. PostgreSQL 16 replaced pg_proc_aclcheck
/// with object_aclcheck.
pub fn may_execute_function(func: pg_sys::Oid) -> bool {
    // SAFETY: a privilege check by the OIDs of a function that exists and of the current user
    let r = unsafe {
        #[cfg(feature = "pg15")]
        {
            pg_sys::pg_proc_aclcheck(func, pg_sys::GetUserId(), pg_sys::ACL_EXECUTE as _)
        }
        #[cfg(not(feature = "pg15"))]
        {
            pg_sys::object_aclcheck(
                pg_sys::ProcedureRelationId,
                func,
                pg_sys::GetUserId(),
                pg_sys::ACL_EXECUTE as _,
            )
        }
    };
    r == pg_sys::AclResult::ACLCHECK_OK
}
