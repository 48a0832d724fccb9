//! The API's locks: one build per query's snapshot at a time, and `BUILDS` builds on the whole
//! server. Both are held only while a snapshot is made (released as soon as it is written,
//! not at the end of the caller's transaction), and a wait for a build slot is bounded: an
//! open transaction of one caller never stalls the others.
//!
//! They are PostgreSQL advisory locks (they show in `pg_locks`), taken through the lock
//! manager directly so that the build slots carry no database (server-wide, as the README says)
//! and can be released early; an ERROR releases them with the transaction.

use crate::error::{GnError, GnResult};
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode as Code;
use std::time::{Duration, Instant};

/// gn_export's classes of advisory locks ("gnxp", "gnxb"), beside the application's own.
const QUERY: u32 = 0x676e_7870;
const BUILD: u32 = 0x676e_7862;
/// Snapshots made at once on the server: each reads a whole query and may take up to
/// gn_export.api_snapshot_space on disk before the bound applies to it.
pub const BUILDS: u32 = 2;
/// How long a page waits for a build slot before it says the server is busy.
pub const SLOT_WAIT: Duration = Duration::from_secs(10);

/// A lock held until dropped (or until the transaction ends, on an ERROR).
pub struct Held {
    tag: pg_sys::LOCKTAG,
}

fn tag(database: pg_sys::Oid, class: u32, key: u32) -> pg_sys::LOCKTAG {
    // SET_LOCKTAG_ADVISORY with two int4 keys (field4 = 2), as pg_advisory_xact_lock(int, int)
    pg_sys::LOCKTAG {
        locktag_field1: database.into(),
        locktag_field2: class,
        locktag_field3: key,
        locktag_field4: 2,
        locktag_type: pg_sys::LockTagType::LOCKTAG_ADVISORY as u8,
        locktag_lockmethodid: pg_sys::USER_LOCKMETHOD as u8,
    }
}

fn acquire(tag: pg_sys::LOCKTAG, wait: bool) -> Option<Held> {
    // SAFETY: a transaction-level lock of the user lock method on a tag of our own; waiting
    // honours lock_timeout, statement_timeout, cancels and the deadlock detector.
    let r = unsafe { pg_sys::LockAcquire(&tag, pg_sys::ExclusiveLock as i32, false, !wait) };
    (r != pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL).then_some(Held { tag })
}

impl Drop for Held {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return; // an ERROR is unwinding: the abort releases every lock of the transaction
        }
        // SAFETY: releases the lock `acquire` took, under the same resource owner.
        unsafe { pg_sys::LockRelease(&self.tag, pg_sys::ExclusiveLock as i32, false) };
    }
}

/// The right to make the snapshot of one query in this database: the sessions that want the
/// same snapshot wait for it (as long as lock_timeout and statement_timeout let them).
pub fn query(key: u32) -> Held {
    // SAFETY: reads a backend global set at connection.
    let database = unsafe { pg_sys::MyDatabaseId };
    acquire(tag(database, QUERY, key), true)
        .expect("a waiting LockAcquire returns only with the lock")
}

/// One of the server's `BUILDS` build slots, waited for at most [`SLOT_WAIT`]; then 55P03.
pub fn build_slot(export: &str) -> GnResult<Held> {
    let start = Instant::now();
    loop {
        for slot in 0..BUILDS {
            if let Some(held) = acquire(tag(pg_sys::Oid::INVALID, BUILD, slot), false) {
                return Ok(held);
            }
        }
        if start.elapsed() >= SLOT_WAIT {
            return Err(GnError::new(
                Code::ERRCODE_LOCK_NOT_AVAILABLE,
                format!(
                    "{export}: the server is busy making other API snapshots ({BUILDS} at once); none was free for {} s",
                    SLOT_WAIT.as_secs()
                ),
            )
            .hint("Retry in a moment. Pages of snapshots already made are served meanwhile."));
        }
        // SAFETY: a short sleep between tries; interrupts (cancel, timeouts) are served after it.
        unsafe { pg_sys::pg_usleep(50_000) };
        pgrx::check_for_interrupts!();
    }
}
