//! Advisory locks taken through the lock manager, so that a lock can be server-wide (no
//! database in its tag: files under one export_dir, build slots) and released before the
//! transaction ends. They show in `pg_locks` as `advisory`; an ERROR releases them with the
//! transaction.

use pgrx::pg_sys;

/// gn_export's classes of advisory locks, beside the application's own.
pub const API_QUERY: u32 = 0x676e_7870; // "gnxp"
pub const API_BUILD: u32 = 0x676e_7862; // "gnxb"
pub const FILE_NAME: u32 = 0x676e_786e; // "gnxn"

/// Where a lock applies: this database, or the whole server.
pub enum Scope {
    Database,
    Server,
}

/// A transaction-level lock released when dropped (or when the transaction ends, on an ERROR).
pub struct Held {
    tag: pg_sys::LOCKTAG,
}

fn tag(scope: Scope, class: u32, key: u32) -> pg_sys::LOCKTAG {
    let database = match scope {
        // SAFETY: reads a backend global set at connection.
        Scope::Database => unsafe { pg_sys::MyDatabaseId },
        Scope::Server => pg_sys::Oid::INVALID,
    };
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

/// Takes the exclusive lock `(class, key)`: waiting for it (as lock_timeout, statement_timeout,
/// cancels and the deadlock detector allow) or, without `wait`, None when another holds it.
pub fn exclusive(scope: Scope, class: u32, key: u32, wait: bool) -> Option<Held> {
    let tag = tag(scope, class, key);
    // SAFETY: a transaction-level lock of the user lock method on a tag of our own.
    let r = unsafe { pg_sys::LockAcquire(&tag, pg_sys::ExclusiveLock as i32, false, !wait) };
    (r != pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL).then_some(Held { tag })
}

impl Held {
    /// Keeps the lock until the transaction ends.
    pub fn until_transaction_end(self) {
        std::mem::forget(self);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return; // an ERROR is unwinding: the abort releases every lock of the transaction
        }
        // SAFETY: releases the lock `exclusive` took, under the same resource owner.
        unsafe { pg_sys::LockRelease(&self.tag, pg_sys::ExclusiveLock as i32, false) };
    }
}

/// A key for a name (stable across backends of one build).
pub fn key_of(name: &str) -> u32 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(name, &mut h);
    std::hash::Hasher::finish(&h) as u32
}
