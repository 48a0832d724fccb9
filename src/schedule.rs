//! Scheduled exports (GeoNature's Celery beat tasks, without their defects): run_scheduled()
//! generates every schedule that is due, each in its own subtransaction so that one failing or
//! busy schedule never stops the others, and clean_files() removes old files but never the
//! current file of a live schedule.

use crate::adopted;
use crate::catalog::export;
use crate::encode::format::FileFormat;
use crate::error::{GnError, GnResult, OrRaise};
use crate::files::names::{all_stems, is_schedule_file, is_user_file, published_name};
use crate::files::target::{export_dir, Target};
use crate::generate::generate_at;
use crate::history::{self, Status};
use crate::identity::current_user_name;
use crate::settings;
use crate::sink::dir::Dir;
use crate::sink::names::temp_removal;
use crate::subxact::{sqlstate_text, try_work};
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

/// Advisory-lock class of schedules ("gnex"), so that two sessions never run the same one.
const LOCK_CLASS: i32 = 0x676e_6578;

struct Schedule {
    id: i32,
    id_export: i32,
    frequency: i32,
    format: String,
}

fn schedules() -> GnResult<Vec<Schedule>> {
    adopted::with(&[&adopted::SCHEDULES], || {
        Spi::connect(|client| {
            let rows = client.select(
                "SELECT id_export_schedule::int, id_export::int, frequency::int, format::text
               FROM gn_exports.t_export_schedules ORDER BY id_export_schedule",
                None,
                &[],
            )?;
            let mut out = Vec::new();
            for r in rows {
                out.push(Schedule {
                    id: r.get::<i32>(1)?.unwrap_or_default(),
                    id_export: r.get::<i32>(2)?.unwrap_or_default(),
                    frequency: r.get::<i32>(3)?.unwrap_or(1),
                    format: r.get::<String>(4)?.unwrap_or_default(),
                });
            }
            Ok(out)
        })
    })
}

/// When a schedule's file is old enough to be regenerated.
pub fn due_age(frequency_days: i32, tolerance: Duration) -> Duration {
    Duration::from_secs(frequency_days.max(1) as u64 * 86_400).saturating_sub(tolerance)
}

struct Outcome {
    status: Status,
    path: Option<String>,
    rows: Option<i64>,
    bytes: Option<i64>,
    error: Option<String>,
    sqlstate: Option<String>,
    started_at: Option<TimestampWithTimeZone>,
    finished_at: Option<TimestampWithTimeZone>,
}

impl Outcome {
    fn simple(status: Status, error: Option<String>) -> Outcome {
        Outcome {
            status,
            path: None,
            rows: None,
            bytes: None,
            error,
            sqlstate: None,
            started_at: None,
            finished_at: None,
        }
    }

    fn failed(e: GnError) -> Outcome {
        let code = sqlstate_text(e.code);
        let mut o = Outcome::simple(Status::Failed, Some(format!("{} ({code})", e.message)));
        o.sqlstate = Some(code);
        o
    }
}

/// The format of a schedule, spelt as GeoNature's admin finds its file: the admin and
/// GeoNature's own beat look for `schedules/<label>.<format as the row writes it>`, and a
/// published file is named after the format's canonical name, so an alias or another case
/// would be a schedule whose file the admin never lists.
fn schedule_format(s: &Schedule) -> GnResult<FileFormat> {
    let format = FileFormat::parse_for(&s.format, false)?;
    if format.name() != s.format {
        return Err(GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "schedule {}: format \"{}\" is spelt \"{}\" in gn_export, which names the file \
                 schedules/<label>.{}; GeoNature's admin would look for schedules/<label>.{}",
                s.id,
                s.format,
                format.name(),
                format.name(),
                s.format
            ),
        )
        .hint(format!(
            "UPDATE gn_exports.t_export_schedules SET format = '{}' WHERE id_export_schedule = {};",
            format.name(),
            s.id
        )));
    }
    Ok(format)
}

/// As the table's owner: the EXECUTE grant on run_scheduled() is all a scheduler role needs,
/// and a trigger on GeoNature's table never runs with the scheduler's rights.
fn set_in_process(id: i32, value: bool) -> GnResult<()> {
    adopted::with(&[&adopted::SCHEDULES], || {
        Spi::run_with_args(
            "UPDATE gn_exports.t_export_schedules SET in_process = $2
              WHERE id_export_schedule OPERATOR(pg_catalog.=) $1 AND in_process IS DISTINCT FROM $2",
            &[id.into(), value.into()],
        )?;
        Ok(())
    })
}

thread_local! {
    /// The schedules this session has marked in_process and holds the lock of, from
    /// begin_schedule() to the end of run_schedule(): run_schedules() commits in between.
    static BEGUN: std::cell::RefCell<HashSet<i32>> = std::cell::RefCell::new(HashSet::new());
}

fn begun(id: i32) -> bool {
    BEGUN.with_borrow(|b| b.contains(&id))
}

/// Marks a due schedule in_process under a session-level lock, for run_schedules() to commit
/// before it generates: GeoNature's admin then sees the schedule at work. False (nothing done)
/// when it is not due, busy, gone or unreadable: run_schedule() says which.
fn begin(id: i32) -> GnResult<bool> {
    crate::access::require_primary("begin_schedule()", "it writes the schedules' state")?;
    if begun(id) {
        return Ok(true);
    }
    let Some(s) = schedules()?.into_iter().find(|s| s.id == id) else {
        return Ok(false);
    };
    let Ok(format) = schedule_format(&s) else {
        return Ok(false);
    };
    let locked = crate::spi::one::<bool>(
        "SELECT pg_catalog.pg_try_advisory_lock($1, $2)",
        &[LOCK_CLASS.into(), id.into()],
    )?
    .unwrap_or(false);
    if !locked {
        return Ok(false);
    }
    let due = export::load(s.id_export).and_then(|ex| {
        let max_age = due_age(s.frequency, settings::schedule_tolerance());
        Ok(match Target::for_schedule(&ex, format)? {
            Some(target) => target.fresh(max_age)?.is_none(),
            None => false,
        })
    });
    if !matches!(due, Ok(true)) {
        unlock(id)?;
        return due;
    }
    set_in_process(id, true)?;
    BEGUN.with_borrow_mut(|b| b.insert(id));
    Ok(true)
}

fn unlock(id: i32) -> GnResult<()> {
    crate::spi::one::<bool>(
        "SELECT pg_catalog.pg_advisory_unlock($1, $2)",
        &[LOCK_CLASS.into(), id.into()],
    )?;
    Ok(())
}

fn run_one(s: &Schedule) -> GnResult<Outcome> {
    let format = match schedule_format(s) {
        Ok(f) => f,
        Err(e) => {
            let hint = e.hint.clone();
            let mut o = Outcome::failed(e);
            if let (Some(m), Some(h)) = (o.error.as_mut(), hint) {
                m.push_str(&format!(": {h}"));
            }
            return Ok(o);
        }
    };
    // begun: this session holds the lock, and found the schedule due
    let begun = begun(s.id);
    let locked = begun
        || crate::spi::one::<bool>(
            "SELECT pg_catalog.pg_try_advisory_xact_lock($1, $2)",
            &[LOCK_CLASS.into(), s.id.into()],
        )?
        .unwrap_or(false);
    if !locked {
        return Ok(Outcome::simple(Status::Busy, None));
    }
    let ex = export::load(s.id_export)?;
    let Some(target) = Target::for_schedule(&ex, format)? else {
        // an administrator's generation of the same file has not committed yet
        return Ok(Outcome::simple(Status::Busy, None));
    };
    let fresh = if begun {
        None
    } else {
        target.fresh(due_age(s.frequency, settings::schedule_tolerance()))?
    };
    if let Some(f) = fresh {
        let mut o = Outcome::simple(Status::Skipped, None);
        o.path = Some(
            target
                .dir
                .path()
                .join(f.name)
                .to_string_lossy()
                .into_owned(),
        );
        return Ok(o);
    }
    set_in_process(s.id, true)?;
    let g = generate_at(&ex, &target, format, None, Some(s.id))?;
    set_in_process(s.id, false)?;
    Ok(Outcome {
        status: g.status,
        path: g.path.map(|p| p.to_string_lossy().into_owned()),
        rows: Some(g.rows),
        bytes: Some(g.bytes),
        error: g.error,
        sqlstate: None,
        started_at: Some(g.started_at),
        finished_at: Some(g.finished_at),
    })
}

type Row = (
    i32,
    i32,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<TimestampWithTimeZone>,
    Option<TimestampWithTimeZone>,
);

fn run_all() -> GnResult<Vec<Row>> {
    crate::access::require_primary(
        "run_scheduled()",
        "it writes the run history and the schedules' state",
    )?;
    let mut out = Vec::new();
    for s in schedules()? {
        out.push(run_and_record(&s)?);
        pg_sys::check_for_interrupts!();
    }
    Ok(out)
}

/// One schedule, in a subtransaction; its history row when generate() wrote none; in_process
/// false and its lock released (the session's, when begin_schedule() took it) whatever happened.
fn run_and_record(s: &Schedule) -> GnResult<Row> {
    let o = match try_work(|| run_one(s)) {
        Ok(o) => o,
        Err(e) => Outcome::failed(e),
    };
    // GeoNature left in_process true forever after a crash; whatever happened, it is
    // false once this schedule is over
    set_in_process(s.id, false)?;
    if BEGUN.with_borrow_mut(|b| b.remove(&s.id)) {
        unlock(s.id)?;
    }
    if o.status == Status::Busy || (o.status == Status::Failed && o.started_at.is_none()) {
        history::record(&history::Run {
            id_export: s.id_export,
            label: export::load(s.id_export)
                .map(|e| e.label)
                .unwrap_or_default(),
            format: s.format.clone(),
            id_export_schedule: Some(s.id),
            requested_by: current_user_name(),
            status: o.status,
            error: o.error.clone(),
            sqlstate: o.sqlstate.clone(),
            ..Default::default()
        })?;
    }
    Ok((
        s.id,
        s.id_export,
        s.format.clone(),
        o.status.as_str().to_string(),
        o.path,
        o.rows,
        o.bytes,
        o.error,
        o.started_at,
        o.finished_at,
    ))
}

/// Generates every schedule of gn_exports.t_export_schedules that is due: its file is missing or
/// older than `frequency` days (less gn_export.schedule_tolerance minutes, so that a daily
/// cron job regenerates every day). Schedules run one at a time, each in its own
/// subtransaction: a failure is recorded ('failed' and the error) and the loop goes on; a
/// schedule another session is generating is reported 'busy'; one that is not due 'skipped'.
/// in_process is true only while a schedule is being generated and never stays true.
/// Cancellation aborts the whole run. All of it is one transaction, which holds the schedules'
/// row locks and a snapshot until the end: pg_cron should rather `CALL gn_export.run_schedules()`,
/// which commits each schedule on its own.
/// Each export's query runs as its definer, never as the scheduler (docs/security.md). Not
/// executable by PUBLIC: the EXECUTE grant is the privilege.
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelt out here
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn run_scheduled() -> TableIterator<
    'static,
    (
        name!(id_export_schedule, i32),
        name!(id_export, i32),
        name!(format, String),
        name!(status, String),
        name!(path, Option<String>),
        name!(rows, Option<i64>),
        name!(bytes, Option<i64>),
        name!(error, Option<String>),
        name!(started_at, Option<TimestampWithTimeZone>),
        name!(finished_at, Option<TimestampWithTimeZone>),
    ),
> {
    TableIterator::new(run_all().or_raise())
}

/// The ids of gn_exports.t_export_schedules, in order, read as the table's owner: what
/// run_schedules() loops over, so that its caller needs no privilege on GeoNature's table.
/// Not executable by PUBLIC.
#[pg_extern(stable, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn schedule_ids() -> SetOfIterator<'static, i32> {
    SetOfIterator::new(
        schedules()
            .map(|v| v.into_iter().map(|s| s.id).collect::<Vec<_>>())
            .or_raise(),
    )
}

/// Marks a due schedule `in_process` and keeps its lock for this session until
/// `run_schedule(id)` ends, so that `run_schedules()` can commit in between and GeoNature's
/// admin sees the schedule at work. Returns true when it did; false (nothing done) when the
/// schedule is not due, is busy in another session, has gone or has a format gn_export does not
/// write: `run_schedule(id)` then reports which. Not executable by PUBLIC.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn begin_schedule(id_export_schedule: i32) -> bool {
    begin(id_export_schedule).or_raise()
}

/// Generates one schedule if it is due, as `run_scheduled()` does each (same row, same
/// history, `in_process` false at the end); after `begin_schedule(id)` in this session, without
/// checking again, and releasing the lock it took. Errors: P0002 when no schedule has that id.
/// Not executable by PUBLIC.
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelt out here
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn run_schedule(
    id_export_schedule: i32,
) -> TableIterator<
    'static,
    (
        name!(id_export_schedule, i32),
        name!(id_export, i32),
        name!(format, String),
        name!(status, String),
        name!(path, Option<String>),
        name!(rows, Option<i64>),
        name!(bytes, Option<i64>),
        name!(error, Option<String>),
        name!(started_at, Option<TimestampWithTimeZone>),
        name!(finished_at, Option<TimestampWithTimeZone>),
    ),
> {
    let row = crate::access::require_primary(
        "run_schedule()",
        "it writes the run history and the schedules' state",
    )
    .and_then(|_| schedules())
    .and_then(|all| {
        let s = all
            .into_iter()
            .find(|s| s.id == id_export_schedule)
            .ok_or_else(|| {
                GnError::new(
                    Code::ERRCODE_NO_DATA_FOUND,
                    format!("no schedule {id_export_schedule} in gn_exports.t_export_schedules"),
                )
            })?;
        run_and_record(&s)
    })
    .or_raise();
    TableIterator::new(vec![row])
}

pgrx::extension_sql!(
    r#"
REVOKE EXECUTE ON FUNCTION gn_export.schedule_ids() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gn_export.begin_schedule(integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gn_export.run_schedule(integer) FROM PUBLIC;
-- Every schedule that is due, each committed on its own: in_process is committed (GeoNature's
-- admin sees it) before the file is made, and nothing (row locks, snapshot, the xmin horizon
-- VACUUM waits on) is held from one schedule to the next. For pg_cron:
-- CALL gn_export.run_schedules(). A procedure with a SET clause cannot commit: every name in
-- it is schema-qualified and it uses no operator, so the caller's search_path finds nothing.
CREATE PROCEDURE gn_export.run_schedules()
LANGUAGE plpgsql
AS $procedure$
DECLARE
    s integer;
BEGIN
    FOR s IN SELECT x FROM gn_export.schedule_ids() AS x LOOP
        IF gn_export.begin_schedule(s) THEN
            COMMIT;
        END IF;
        PERFORM gn_export.run_schedule(s);
        COMMIT;
    END LOOP;
END
$procedure$;
COMMENT ON PROCEDURE gn_export.run_schedules() IS
    'Generates every due schedule of gn_exports.t_export_schedules as run_scheduled() does, but commits each on its own (in_process visible while it runs; no lock or snapshot held between schedules). For pg_cron: CALL gn_export.run_schedules(). Not executable by PUBLIC.';
REVOKE EXECUTE ON PROCEDURE gn_export.run_schedules() FROM PUBLIC;
"#,
    name = "run_schedules",
    requires = [schedule_ids, begin_schedule, run_schedule]
);

type Removed = (String, String, i64, Option<TimestampWithTimeZone>);

fn modified_ts(secs: f64) -> Option<TimestampWithTimeZone> {
    crate::spi::one::<TimestampWithTimeZone>("SELECT pg_catalog.to_timestamp($1)", &[secs.into()])
        .ok()
        .flatten()
}

fn removed_row(dir: &Dir, name: String, reason: String, bytes: u64, at: SystemTime) -> Removed {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    (
        dir.path().join(name).to_string_lossy().into_owned(),
        reason,
        bytes as i64,
        modified_ts(secs),
    )
}

fn clean(keep_days: Option<i32>) -> GnResult<Vec<Removed>> {
    crate::access::require_primary(
        "clean_files()",
        "the cleaning of export_dir follows the primary's schedules and history",
    )?;
    let keep = keep_days.unwrap_or_else(settings::keep_days);
    if keep < 0 {
        return Err(GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("keep_days {keep} is negative"),
        ));
    }
    // the API's snapshots first: they need no export_dir
    let mut removed = Vec::new();
    let store = crate::api::snapshot::store()?;
    let swept = crate::api::evict::evict(
        &store,
        settings::api_snapshot_ttl(),
        settings::api_snapshot_space(),
    )?;
    for r in swept {
        removed.push(removed_row(
            &store,
            r.name,
            r.reason.to_string(),
            r.bytes,
            r.modified,
        ));
    }
    let root = export_dir()?;
    let max_age = Duration::from_secs(keep as u64 * 86_400);
    // the current file of every live schedule, whatever its age
    let stems = all_stems()?;
    let mut live = HashSet::new();
    for s in schedules()? {
        if let (Some(stem), Some(f)) = (stems.get(&s.id_export), FileFormat::parse(&s.format)) {
            live.insert(published_name(stem, f));
        }
    }
    for (sub, is_ours) in [
        ("usr_generated", is_user_file as fn(&str) -> bool),
        ("schedules", is_schedule_file),
    ] {
        let dir = root.subdir(sub)?;
        for f in dir.files()? {
            let age = f.age();
            let reason = if let Some(r) = temp_removal(&f.name, age, Duration::from_secs(86_400)) {
                r.to_string()
            } else if is_ours(&f.name)
                && age > max_age
                && !(sub == "schedules" && live.contains(&f.name))
            {
                if sub == "schedules" {
                    format!("no schedule, older than {keep} days")
                } else {
                    format!("older than {keep} days")
                }
            } else {
                continue;
            };
            dir.remove(&f.name)?;
            removed.push(removed_row(&dir, f.name, reason, f.bytes, f.modified));
        }
    }
    removed.sort();
    Ok(removed)
}

/// Deletes generated files older than keep_days (default gn_export.keep_days): user files under
/// usr_generated, and files under schedules that belong to no schedule any more; also stale
/// temporary files left by a crash. Never the current file of a live schedule, and only files
/// that match gn_export's naming, never through a symbolic link (a linked subdirectory raises
/// F0000). Also the API's snapshots unused for gn_export.api_snapshot_ttl seconds and the least
/// recently used beyond gn_export.api_snapshot_space (see api()). Returns what it deleted. Not executable by PUBLIC: the EXECUTE grant is the
/// privilege.
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelt out here
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn clean_files(
    keep_days: default!(Option<i32>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(path, String),
        name!(reason, String),
        name!(bytes, i64),
        name!(modified, Option<TimestampWithTimeZone>),
    ),
> {
    TableIterator::new(clean(keep_days).or_raise())
}

pgrx::extension_sql!(
    r#"
REVOKE EXECUTE ON FUNCTION gn_export.run_scheduled() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gn_export.clean_files(integer) FROM PUBLIC;
"#,
    name = "schedule_grants",
    requires = [run_scheduled, clean_files]
);

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn due() {
        let hour = Duration::from_secs(3600);
        assert_eq!(due_age(1, hour), Duration::from_secs(23 * 3600));
        // a daily schedule run 23h30 later regenerates
        assert!(Duration::from_secs(23 * 3600 + 1800) >= due_age(1, hour));
        assert_eq!(due_age(7, Duration::ZERO), Duration::from_secs(7 * 86_400));
    }
}
