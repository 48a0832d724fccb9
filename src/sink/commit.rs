//! A generated file is published when the transaction that records it commits, and only then.
//!
//! `generate()` writes its file completely (fsynced) under a temporary name, then writes the
//! run history, the user's notification and the NOTIFY. Renaming the file over its final name
//! before the commit would let a cancel, a timeout or a ROLLBACK that lands in between leave a
//! published file that nothing records (and that replaced the previous one). So the rename
//! waits for the commit: a pending file is renamed once the transaction has committed, and
//! removed if the transaction (or the subtransaction that wrote it) aborts.
//!
//! The renames at commit make no PostgreSQL call that could fail (plain system calls; a
//! failure is a WARNING in the server log and leaves the temporary file for `clean_files()`).
//! A transaction that would be prepared for two-phase commit with pending files is refused
//! (the commit could happen in another session).

use super::dir::{Dir, Sealed};
use crate::error::{GnError, GnResult};
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode as Code;
use std::cell::{Cell, RefCell};

struct Pending {
    file: Sealed,
    final_name: String,
    /// the subtransaction that wrote it, or the one it was committed into
    subxact: pg_sys::SubTransactionId,
}

thread_local! {
    static PENDING: RefCell<Vec<Pending>> = const { RefCell::new(Vec::new()) };
    static REGISTERED: Cell<bool> = const { Cell::new(false) };
}

/// Renames `file` over `final_name` when the current transaction commits.
pub fn publish_at_commit(file: Sealed, final_name: &str) {
    if !REGISTERED.get() {
        // SAFETY: registers two callbacks for the life of the backend; they only touch this
        // module's thread-local list.
        unsafe {
            pg_sys::RegisterXactCallback(Some(on_xact), std::ptr::null_mut());
            pg_sys::RegisterSubXactCallback(Some(on_subxact), std::ptr::null_mut());
        }
        REGISTERED.set(true);
    }
    // SAFETY: reads the current subtransaction's id, a backend global.
    let subxact = unsafe { pg_sys::GetCurrentSubTransactionId() };
    PENDING.with_borrow_mut(|p| {
        p.push(Pending {
            file,
            final_name: final_name.to_string(),
            subxact,
        })
    });
}

/// Whether this transaction will publish a file named `name` in `dir` at commit.
pub fn is_pending(dir: &Dir, name: &str) -> bool {
    PENDING.with_borrow(|p| {
        p.iter()
            .any(|x| x.final_name == name && x.file.dir().path() == dir.path())
    })
}

fn publish_all() {
    for p in PENDING.take() {
        let path = p.file.dir().path().join(&p.final_name);
        if let Err(e) = p.file.rename_to(&p.final_name, true) {
            pgrx::warning!(
                "gn_export: {} was not published after its run committed: {}",
                path.display(),
                e.message
            );
        }
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_xact(event: pg_sys::XactEvent::Type, _arg: *mut std::ffi::c_void) {
    use pg_sys::XactEvent as E;
    match event {
        E::XACT_EVENT_COMMIT | E::XACT_EVENT_PARALLEL_COMMIT => publish_all(),
        // dropping a pending file removes it
        E::XACT_EVENT_ABORT | E::XACT_EVENT_PARALLEL_ABORT => drop(PENDING.take()),
        E::XACT_EVENT_PRE_PREPARE if PENDING.with_borrow(|p| !p.is_empty()) => {
            GnError::new(
                Code::ERRCODE_FEATURE_NOT_SUPPORTED,
                "gn_export: cannot PREPARE a transaction that generated files",
            )
            .hint("Generate outside two-phase transactions: the files are published when the generating transaction commits.")
            .raise()
        }
        _ => {}
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_subxact(
    event: pg_sys::SubXactEvent::Type,
    my: pg_sys::SubTransactionId,
    parent: pg_sys::SubTransactionId,
    _arg: *mut std::ffi::c_void,
) {
    use pg_sys::SubXactEvent as E;
    match event {
        E::SUBXACT_EVENT_COMMIT_SUB => PENDING.with_borrow_mut(|p| {
            for x in p.iter_mut().filter(|x| x.subxact == my) {
                x.subxact = parent;
            }
        }),
        E::SUBXACT_EVENT_ABORT_SUB => {
            let aborted: Vec<Pending> = PENDING.with_borrow_mut(|p| {
                let (gone, kept) = std::mem::take(p).into_iter().partition(|x| x.subxact == my);
                *p = kept;
                gone
            });
            drop(aborted);
        }
        _ => {}
    }
}

/// Publishes `file` under `final_name`: now when nothing will record it (a hot standby), else
/// when the transaction commits.
pub fn publish(file: Sealed, final_name: &str, now: bool) -> GnResult<()> {
    if now {
        file.rename_to(final_name, true)
    } else {
        publish_at_commit(file, final_name);
        Ok(())
    }
}
