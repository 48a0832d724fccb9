//! Temporary files' names: `.<name>.<writer>.<random>.tmp`, where the writer is the backend
//! (its pid and its server's start), so that a cleanup removes what an ended backend left and
//! never what a running one writes.

use pgrx::prelude::*;

pub fn is_temp_file(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// Who writes a temporary file, in its name: this backend's pid and when this server started
/// (microseconds since 2000, in hex), so that a cleanup finds what a backend that has ended
/// left behind, without mistaking another server's file (a shared export_dir) for one.
pub fn temp_writer() -> String {
    // SAFETY: two backend globals, set before any SQL runs.
    let (pid, started) = unsafe { (pg_sys::MyProcPid, pg_sys::PgStartTime) };
    format!("{pid}-{started:x}")
}

/// The writer `temp_writer()` put in a temporary file's name: `.<name>.<pid>-<start>.<hex>.tmp`.
pub fn temp_writer_of(name: &str) -> Option<(i32, i64)> {
    let rest = name.strip_suffix(".tmp")?;
    let mut parts = rest.rsplitn(3, '.');
    let random = parts.next()?;
    let writer = parts.next()?;
    parts.next()?;
    if random.len() != 32 || !random.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let (pid, started) = writer.split_once('-')?;
    Some((pid.parse().ok()?, i64::from_str_radix(started, 16).ok()?))
}

/// What can be said of a temporary file's writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempWriter {
    /// a backend of this server since it started, that has ended: the file is abandoned
    Ended,
    /// a backend of this server that runs (or a new backend took its pid): never removed by age
    Running,
    /// another server's, an earlier start's, or an older name: the age rule decides
    Unknown,
}

pub fn temp_writer_state(name: &str) -> TempWriter {
    let Some((pid, started)) = temp_writer_of(name) else {
        return TempWriter::Unknown;
    };
    // SAFETY: reads a backend global; BackendPidGetProc scans the proc array under its lock
    // and returns NULL for a pid that no backend has.
    unsafe {
        if started != pg_sys::PgStartTime {
            TempWriter::Unknown
        } else if pg_sys::BackendPidGetProc(pid).is_null() {
            TempWriter::Ended
        } else {
            TempWriter::Running
        }
    }
}

/// Whether a temporary file was left by a backend of this server that has ended.
pub fn is_abandoned_temp(name: &str) -> bool {
    is_temp_file(name) && temp_writer_state(name) == TempWriter::Ended
}

/// Why a temporary file of that age may be removed now, if it may: its writer has ended, or,
/// its writer unknown, it is older than `max_age`; never while a running backend of this server
/// writes it (or waits to publish it). None for a name that is no temporary file.
pub fn temp_removal(
    name: &str,
    age: std::time::Duration,
    max_age: std::time::Duration,
) -> Option<&'static str> {
    if !is_temp_file(name) {
        return None;
    }
    match temp_writer_state(name) {
        TempWriter::Ended => Some("temporary file of a backend that has ended"),
        TempWriter::Running => None,
        TempWriter::Unknown => (age > max_age).then_some("stale temporary file"),
    }
}

#[cfg(test)]
mod temp_names {
    use super::temp_writer_of;

    #[test]
    fn the_writer_of_a_temporary_file() {
        let hex = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            temp_writer_of(&format!(".Jeux.csv.4242-2a1f.{hex}.tmp")),
            Some((4242, 0x2a1f))
        );
        // older names (no writer), others' files and mangled ones say nothing
        assert_eq!(temp_writer_of(&format!(".Jeux.csv.{hex}.tmp")), None);
        assert_eq!(temp_writer_of(".Jeux.csv.4242-2a1f.xyz.tmp"), None);
        assert_eq!(temp_writer_of(&format!(".Jeux.csv.x-2a1f.{hex}.tmp")), None);
        assert_eq!(temp_writer_of("notes.txt"), None);
    }
}
