//! Which snapshot serves a page: the one the caller names, the newest of the same query, or a
//! new one, made once while the other sessions that want it wait.

use super::keys::{self, Identity, Written};
use super::locks;
use super::page::Pin;
use super::snapshot::{self, Snapshot, Writer};
use crate::error::{GnError, GnResult};
use crate::export::Export;
use crate::fnv::fnv1a;
use crate::query::Plan;
use crate::settings;
use crate::sink::dir::Dir;
use pgrx::PgSqlErrorCode as Code;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Microseconds since 2000-01-01 UTC, as PostgreSQL keeps timestamps.
fn now() -> i64 {
    // SAFETY: reads the system clock.
    unsafe { pgrx::pg_sys::GetCurrentTimestamp() }
}

fn age(created: i64) -> Duration {
    Duration::from_micros(now().saturating_sub(created).max(0) as u64)
}

fn expired(export: &Export, id: &str, ttl: Duration) -> GnError {
    GnError::new(
        Code::ERRCODE_INVALID_PARAMETER_VALUE,
        format!(
            "{}: snapshot {id} has expired (unused for more than {} s) or never existed",
            export.name(),
            ttl.as_secs()
        ),
    )
    .hint("Start again from offset 0 without a snapshot: the answer names a new one.")
}

fn other_query(export: &Export, id: &str) -> GnError {
    GnError::new(
        Code::ERRCODE_INVALID_PARAMETER_VALUE,
        format!(
            "{}: snapshot {id} holds another query: other filters or order, or the export has been redefined since",
            export.name()
        ),
    )
    .hint("Page a snapshot with the parameters it was made with, or start again from offset 0 without a snapshot.")
}

/// The snapshot that serves a page of `plan`'s query, marked used. Messages name the snapshot
/// directory relative to the data directory, whose path roles other than the DBA's do not see.
pub fn serve(export: &Export, plan: &Plan, pin: &Pin) -> GnResult<Snapshot> {
    serve_from(export, plan, pin).map_err(|mut e| {
        let data = snapshot::data_directory();
        if !data.is_empty() {
            e.message = e.message.replace(&data, "$PGDATA");
        }
        e
    })
}

fn serve_from(export: &Export, plan: &Plan, pin: &Pin) -> GnResult<Snapshot> {
    let identity = keys::identity(export.id, plan)?;
    let ttl = settings::api_snapshot_ttl();
    let dir = snapshot::store()?;
    let pointer = snapshot::pointer_name(&identity.bytes);
    let found = match pin {
        Pin::Id(id) => {
            let snap = Snapshot::open(&dir, id)?
                .filter(|s| s.idle() <= ttl)
                .ok_or_else(|| expired(export, id, ttl))?;
            if snap.identity()? != identity.bytes {
                return Err(other_query(export, id));
            }
            snap
        }
        Pin::Latest { continuing } => {
            let reuse = |s: &Snapshot| reusable(s, *continuing, ttl);
            match newest(&dir, &pointer, &identity.bytes, reuse)? {
                Some(s) => s,
                None => {
                    // one session makes it, the others wait for it and take it
                    let _query = locks::query(fnv1a(&identity.bytes) as u32)?;
                    match newest(&dir, &pointer, &identity.bytes, reuse)? {
                        Some(s) => s,
                        None => make(export, plan, &dir, &identity, &pointer, ttl)?,
                    }
                }
            }
        }
        Pin::New => {
            let _query = locks::query(fnv1a(&identity.bytes) as u32)?;
            make(export, plan, &dir, &identity, &pointer, ttl)?
        }
    };
    found.touch();
    Ok(found)
}

/// Another harvest is paging a snapshot used this recently.
const PAGING: Duration = Duration::from_secs(60);
/// How old a snapshot that another harvest is paging may be for a new harvest to share it.
const SHARED_AGE: Duration = Duration::from_secs(86_400);

/// Whether a page asked for without a snapshot id takes `snap`, the newest of its query, which
/// still lives (used in the last `ttl`). A page after the first (`continuing`) always does: a
/// harvest stays on the snapshot it began on for as long as it keeps paging, however long it
/// takes. A first page does if the snapshot was made less than `ttl` ago, or if another
/// harvest is paging it and it is less than a day old: a new snapshot then would move that
/// harvest's later pages to it in the middle (duplicates, and rows missed).
fn reusable(snap: &Snapshot, continuing: bool, ttl: Duration) -> bool {
    let (made, idle) = (age(snap.footer.created), snap.idle());
    idle <= ttl && (continuing || made <= ttl || (idle <= PAGING && made <= SHARED_AGE))
}

/// The newest snapshot of the query, if it still lives and `reuse` takes it.
fn newest(
    dir: &Dir,
    pointer: &str,
    identity: &[u8],
    reuse: impl Fn(&Snapshot) -> bool,
) -> GnResult<Option<Snapshot>> {
    let Some(id) = snapshot::latest(dir, pointer)? else {
        return Ok(None);
    };
    let Some(snap) = Snapshot::open(dir, &id)? else {
        return Ok(None);
    };
    Ok((reuse(&snap) && snap.identity()? == identity).then_some(snap))
}

/// Makes a snapshot of the query: its keys in order and its counts, as they are now.
fn make(
    export: &Export,
    plan: &Plan,
    dir: &Dir,
    identity: &Identity,
    pointer: &str,
    ttl: Duration,
) -> GnResult<Snapshot> {
    let _slot = locks::build_slot(&export.name())?;
    let space = settings::api_snapshot_space();
    crate::api::evict::evict(dir, ttl, space)?;
    let created = now();
    // ordered by the key, the writing finds out for itself whether it is unique
    let mut ranked = !keys::finds_duplicates(&plan.paging)
        && cached(&keys::unique_sql(&plan.paging), plan, &identity.version)? != 1;
    let (writer, rows) = loop {
        let mut w = Writer::create(dir, ranked, space)?;
        match keys::write(plan, &mut w, ranked)? {
            Written::Rows(n) => break (w, n),
            Written::NotUnique => ranked = true, // the unranked file is dropped
        }
    };
    let total = if plan.paging.conditions.is_some() {
        crate::source::count(&plan.plain(&keys::total_sql(&plan.paging), &[]))?
    } else {
        rows as i64
    };
    let snap = writer.finish_open(&identity.bytes, total, created)?;
    crate::api::evict::evict(dir, ttl, space)?;
    snapshot::point(dir, pointer, &snap.id)?;
    Ok(snap)
}

/// What this session learnt of a view (whether its key is unique), reused for
/// `gn_export.api_total_cache` seconds, at most `ENTRIES` of them and `KEY_BYTES` of keys:
/// the oldest go first.
const ENTRIES: usize = 256;
const KEY_BYTES: usize = 1 << 20;

#[derive(Default)]
struct Cache {
    entries: VecDeque<(String, i64, Instant)>,
    key_bytes: usize,
}

impl Cache {
    fn get(&self, key: &str, ttl: Duration) -> Option<i64> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _, at)| k == key && at.elapsed() < ttl)
            .map(|(_, n, _)| *n)
    }

    fn put(&mut self, key: String, n: i64) {
        if key.len() > KEY_BYTES / 4 {
            return; // too big to be worth keeping
        }
        self.key_bytes += key.len();
        self.entries.push_back((key, n, Instant::now()));
        while self.entries.len() > ENTRIES || self.key_bytes > KEY_BYTES {
            if let Some((k, _, _)) = self.entries.pop_front() {
                self.key_bytes -= k.len();
            }
        }
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The number `sql` answers, as the plan's definer, reused for `gn_export.api_total_cache`
/// seconds in this session. The key holds the calling role, the role it ran as, the SQL text
/// and the relation's version: a redefined view or another role never reuses it.
fn cached(sql: &str, plan: &Plan, version: &str) -> GnResult<i64> {
    let ttl = settings::api_total_cache();
    // SAFETY: reads the current user id, a backend global.
    let caller = unsafe { pgrx::pg_sys::GetUserId() };
    let key = format!(
        "{caller:?}\u{0}{:?}\u{0}{sql}\u{0}{:?} {version}",
        plan.definer.role, plan.relid
    );
    if let Some(n) = CACHE.with(|c| c.borrow().get(&key, ttl)) {
        return Ok(n);
    }
    let n = crate::source::count(&plan.plain(sql, &[]))?;
    if !ttl.is_zero() {
        CACHE.with(|c| c.borrow_mut().put(key, n));
    }
    Ok(n)
}
