//! The API's locks: one build per query's snapshot at a time, and `BUILDS` builds on the whole
//! server. Both are held only while a snapshot is made (released as soon as it is written,
//! not at the end of the caller's transaction), and a wait for a build slot is bounded: an
//! open transaction of one caller never stalls the others.
//!
//! They are PostgreSQL advisory locks (they show in `pg_locks`), taken through the lock
//! manager directly so that the build slots carry no database (server-wide, as docs/sql-reference.md says)
//! and can be released early; an ERROR releases them with the transaction.

use crate::error::{GnError, GnResult};
use crate::lock::{self, Held, Scope};
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode as Code;
use std::time::{Duration, Instant};

/// Snapshots made at once on the server: each reads a whole query and may take up to
/// gn_export.api_snapshot_space on disk before the bound applies to it.
pub const BUILDS: u32 = 2;
/// How long a page waits for a build slot before it says the server is busy.
pub const SLOT_WAIT: Duration = Duration::from_secs(10);

/// The right to make the snapshot of one query in this database: the sessions that want the
/// same snapshot wait for it (as long as lock_timeout and statement_timeout let them).
pub fn query(key: u32) -> GnResult<Held> {
    lock::exclusive(Scope::Database, lock::API_QUERY, key, true).ok_or_else(|| {
        GnError::new(
            Code::ERRCODE_INTERNAL_ERROR,
            "gn_export: a waiting lock returned without it",
        )
    })
}

/// One of the server's `BUILDS` build slots, waited for at most [`SLOT_WAIT`]; then 55P03.
pub fn build_slot(export: &str) -> GnResult<Held> {
    let start = Instant::now();
    loop {
        for slot in 0..BUILDS {
            if let Some(held) = lock::exclusive(Scope::Server, lock::API_BUILD, slot, false) {
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
