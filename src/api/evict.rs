//! What the snapshot store may hold: snapshots unused for `gn_export.api_snapshot_ttl`, made
//! before the server started, or left half-written by a session that died are removed; then
//! the least recently used snapshots (with the pointers that name them) until the store takes
//! at most `gn_export.api_snapshot_space` on disk and holds at most [`MAX_SNAPSHOTS`]
//! snapshots. Space is counted as the file system allocates it (a pointer of 32 bytes takes a
//! block), pointers and files being written included, so the bound is what `du` says; and with
//! the count bounded, listing the store costs the same whatever calls came before.

use super::snapshot::{is_pointer_file, is_snapshot_file, latest, server_start, STALE_TEMP};
use crate::error::GnResult;
use crate::sink::dir::{Dir, Entry};
use crate::sink::names::{is_temp_file, temp_removal};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// Snapshots the store holds at most: each build lists the store, so its cost stays bounded.
pub const MAX_SNAPSHOTS: usize = 1000;

/// A file removed by [`evict`]: its name, why, its size and last modification.
pub struct Removed {
    pub name: String,
    pub reason: &'static str,
    pub bytes: u64,
    pub modified: SystemTime,
}

/// Why a file goes whatever the space, if it does.
fn stale(f: &Entry, ttl: Duration, started: SystemTime) -> Option<&'static str> {
    let age = f.age();
    if let Some(reason) = temp_removal(&f.name, age, STALE_TEMP) {
        Some(reason)
    } else if (is_snapshot_file(&f.name) || is_temp_file(&f.name)) && f.modified < started {
        Some("API snapshot made before the server started")
    } else if is_snapshot_file(&f.name) && age > ttl {
        Some("API snapshot unused for gn_export.api_snapshot_ttl")
    } else if is_pointer_file(&f.name) && age > ttl {
        Some("API snapshot pointer older than gn_export.api_snapshot_ttl")
    } else {
        None
    }
}

fn remove(dir: &Dir, f: Entry, reason: &'static str, out: &mut Vec<Removed>) -> GnResult<()> {
    // gone already (another session evicting too) is as good
    if dir.remove_if_present(&f.name)? {
        out.push(Removed {
            name: f.name,
            reason,
            bytes: f.allocated,
            modified: f.modified,
        });
    }
    Ok(())
}

/// Removes what [`stale`] says, pointers to snapshots that are gone, then the least recently
/// used snapshots while the store is beyond `space` bytes or [`MAX_SNAPSHOTS`] snapshots
/// (files being written count, but stay). Files that are not gn_export's are left alone.
pub fn evict(dir: &Dir, ttl: Duration, space: u64) -> GnResult<Vec<Removed>> {
    // PostgreSQL's epoch is 2000-01-01, 946,684,800 s after the Unix epoch
    let started = SystemTime::UNIX_EPOCH
        + Duration::from_micros((server_start() + 946_684_800_000_000).max(0) as u64);
    let mut removed = Vec::new();
    let mut snapshots = Vec::new();
    let mut pointers = Vec::new();
    let mut used = 0u64;
    for f in dir.files()? {
        if let Some(reason) = stale(&f, ttl, started) {
            remove(dir, f, reason, &mut removed)?;
        } else if is_snapshot_file(&f.name) {
            used += f.allocated;
            snapshots.push(f);
        } else if is_pointer_file(&f.name) {
            pointers.push(f);
        } else if is_temp_file(&f.name) {
            used += f.allocated;
        }
    }
    // each pointer by the snapshot it names; one naming none that lives goes now
    let mut named: HashMap<String, Vec<Entry>> = HashMap::new();
    for p in pointers {
        match latest(dir, &p.name)? {
            Some(id) if snapshots.iter().any(|s| s.name == id) => {
                used += p.allocated;
                named.entry(id).or_default().push(p);
            }
            _ => remove(
                dir,
                p,
                "API snapshot pointer to a removed snapshot",
                &mut removed,
            )?,
        }
    }
    snapshots.sort_by_key(|f| f.modified);
    let mut count = snapshots.len();
    for f in snapshots {
        if used <= space && count <= MAX_SNAPSHOTS {
            break;
        }
        used = used.saturating_sub(f.allocated);
        count -= 1;
        for p in named.remove(&f.name).unwrap_or_default() {
            used = used.saturating_sub(p.allocated);
            remove(
                dir,
                p,
                "pointer to an API snapshot removed for space",
                &mut removed,
            )?;
        }
        let reason = if count >= MAX_SNAPSHOTS {
            "least recently used API snapshot beyond the store's 1000"
        } else {
            "least recently used API snapshot beyond gn_export.api_snapshot_space"
        };
        remove(dir, f, reason, &mut removed)?;
    }
    Ok(removed)
}
