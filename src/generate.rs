//! One generation, from the caller's checks to the file, the history, the notifications and the
//! result: `gn_export.generate()` and each due schedule. The file is published atomically: a
//! hidden temporary file in the same directory, fsynced, then renamed over the final name; a
//! failure or a cancel removes the temporary file and leaves any previous file untouched.

use crate::access;
use crate::catalog::export;
use crate::encode::format::{FileFormat, Output, SpatialOrder};
use crate::encode::pump::Pump;
use crate::encode::{Backend, ContentVersion, Dataset, FileJob};
use crate::error::{GnError, GnResult, OrRaise};
use crate::export::Export;
use crate::files::target::Target;
use crate::history::{self, Status};
use crate::identity::current_user_name;
use crate::notify;
use crate::progress::Progress;
use crate::query;
use crate::settings;
use crate::sink::compress::Packer;
use crate::source;
use crate::subxact::{sqlstate_text, try_work};
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use std::path::PathBuf;
use std::time::Duration;

/// The outcome of one generation.
pub struct Generation {
    pub id_export: i32,
    pub format: FileFormat,
    /// None when the generation failed: no file was published
    pub path: Option<PathBuf>,
    pub url: Option<String>,
    pub rows: i64,
    pub bytes: i64,
    pub started_at: TimestampWithTimeZone,
    pub finished_at: TimestampWithTimeZone,
    pub status: Status,
    pub error: Option<String>,
    pub sqlstate: Option<String>,
    /// the published content's version (a GeoPackage's), recorded for the next generation
    pub version: Option<ContentVersion>,
    /// whether the run history, the user's notification and the `gn_export` channel were
    /// written (not on a hot standby)
    pub recorded: bool,
}

fn now() -> TimestampWithTimeZone {
    crate::spi::one::<TimestampWithTimeZone>("SELECT clock_timestamp()", &[])
        .ok()
        .flatten()
        .expect("clock_timestamp() is never NULL")
}

/// What a container writer asks of this backend.
const SERVER: Backend = Backend {
    check_interrupts: || {
        pgrx::check_for_interrupts!();
    },
    warning: |message| pgrx::warning!("{message}"),
};

/// What write_file() published.
struct Written {
    rows: i64,
    bytes: i64,
    version: Option<ContentVersion>,
}

/// Plans, encodes and publishes the file; rows and bytes as it goes to pg_stat_progress_copy.
fn write_file(export: &Export, format: FileFormat, target: &Target) -> GnResult<Written> {
    let plan = query::plan(
        export,
        crate::catalog::relation(export)?,
        format.format,
        None,
    )?;
    // a file published under a stable name (schedules/) is a version of the export: the same
    // data must give the same bytes, so that portals and GBIF see a new version only when the
    // data changed. A user's download (usr_generated/) keeps the faster order of the plan, and
    // so does every file where gn_export.stable_files is off (a large view to sort).
    let stable = !target.is_user() && settings::stable_files();
    // a GeoPackage always reads its rows in spatial order, for its packed R-tree, and a
    // published GeoParquet does, for its row groups: an order as stable as the key's
    let spatial = match format.format.features().map(|f| f.spatial_order) {
        Some(SpatialOrder::Always) => true,
        Some(SpatialOrder::Published) => stable,
        Some(SpatialOrder::Never) | None => false,
    };
    let plan = if spatial {
        plan.in_spatial_order()
    } else if stable {
        plan.in_key_order()
    } else {
        plan
    };
    let in_key_order = stable && !spatial;
    let progress = Progress::start(plan.relid, true);
    target.dir.remove_abandoned_temps();
    let mut temp = target.dir.create_temp(&target.name)?;
    let (rows, version) = match format.format.spec().output {
        Output::Text(make) => {
            let packed = Packer::new(format.compression, temp);
            let mut pump = Pump::start(
                make(&plan.layout)?,
                packed,
                export.name(),
                Some(progress.reporter()),
            )?;
            source::run_all(&plan.statement(), |row| pump.row(row))?;
            let (packed, stats) = pump.finish()?;
            temp = packed.finish()?;
            (stats.rows as i64, None)
        }
        Output::Container(make) => {
            let path = temp.path_for_writer()?;
            let file = temp.file_for_writer()?;
            let dataset = dataset(export)?;
            let srid = plan.decoding.feature_srid.target;
            // the SRSs a file of features declares: EPSG:4326 always, and its own
            let mut srids = vec![4326, srid];
            srids.retain(|s| *s > 0 && plan.layout.feature.is_some());
            srids.dedup();
            let spatial_refs = srids
                .into_iter()
                .map(crate::relation::spatial_ref)
                .collect::<GnResult<Vec<_>>>()?;
            let job = FileJob {
                dataset: &dataset,
                layout: &plan.layout,
                types: &plan.types,
                srid,
                spatial_refs: &spatial_refs,
                stem: &target.stem,
                path: &path,
                file: &file,
                rows_in_key_order: in_key_order,
                versioning: stable
                    .then(|| history::last_version(export.id, &target.path().to_string_lossy()))
                    .transpose()?,
                zstd_level: settings::parquet_zstd_level(),
                geoparquet_version: settings::geoparquet_version(),
                backend: SERVER,
            };
            let mut writer = make(&job)?;
            let mut rows = 0i64;
            source::run_all(&plan.statement(), |row| {
                writer.row(row)?;
                rows += 1;
                if rows % 256 == 0 {
                    progress.update(rows, writer.bytes() as i64);
                }
                Ok(())
            })?;
            let version = writer.finish()?;
            (rows, version)
        }
    };
    // published when the run's record commits; at once where nothing records it (a standby)
    let sealed = temp.seal(true)?;
    let bytes = sealed.size as i64;
    crate::sink::commit::publish(sealed, &target.name, crate::access::read_only_transaction())?;
    Ok(Written {
        rows,
        bytes,
        version,
    })
}

/// An error message for a user: the server's directories replaced by what they are.
fn without_paths(message: &str, target: &Target) -> String {
    let mut m = message.replace(
        &target.dir.path().to_string_lossy().into_owned(),
        target.sub,
    );
    if let Some(dir) = settings::export_dir() {
        m = m.replace(&dir, "export_dir");
    }
    m
}

/// Generates an export's file, or reports the young one kept. Errors of the caller (unknown
/// export, access, export_dir) raise; with id_role, access is checked as can_read() does.
pub fn generate_file(
    id_export: i32,
    format: FileFormat,
    id_role: Option<i32>,
    skip_newer_than: Option<Duration>,
) -> GnResult<Generation> {
    let export = match id_role {
        Some(_) => access::require_read(export::load(id_export)?, id_role, None)?,
        None => export::load(id_export)?,
    };
    let target = Target::new(&export, format, id_role.is_some())?;
    if let Some(f) = skip_newer_than
        .map(|max| target.fresh(max))
        .transpose()?
        .flatten()
    {
        let at = now();
        let g = Generation {
            id_export,
            format,
            path: Some(target.dir.path().join(&f.name)),
            url: target.url(&f.name),
            rows: 0,
            bytes: f.bytes as i64,
            started_at: at,
            finished_at: at,
            status: Status::Skipped,
            error: None,
            sqlstate: None,
            version: None,
            recorded: false,
        };
        return conclude(&export, &target, id_role, None, g, &f.name);
    }
    generate_at(&export, &target, format, id_role, None)
}

/// Writes the file at its target, then records the outcome. Errors of the export itself (its
/// view fails, a value cannot be encoded, the disk is full) are caught in a subtransaction: no
/// file is published, and the result, the history row and the user's notification say
/// 'failed' with the error. Cancellation is never caught.
pub fn generate_at(
    export: &Export,
    target: &Target,
    format: FileFormat,
    id_role: Option<i32>,
    schedule: Option<i32>,
) -> GnResult<Generation> {
    let started_at = now();
    let mut g = Generation {
        id_export: export.id,
        format,
        path: Some(target.path()),
        url: target.url(&target.name),
        rows: 0,
        bytes: 0,
        started_at,
        finished_at: started_at,
        status: Status::Done,
        error: None,
        sqlstate: None,
        version: None,
        recorded: false,
    };
    if crate::access::read_only_transaction() {
        // a READ ONLY transaction on a primary could publish a file that no history row, no
        // notification and no NOTIFY ever tells the administrators about
        if !crate::access::on_standby() {
            return Err(GnError::new(
                Code::ERRCODE_READ_ONLY_SQL_TRANSACTION,
                format!(
                    "{}: generate() cannot run in a read-only transaction on a primary: it records every file it publishes",
                    export.name()
                ),
            )
            .hint("Call it outside BEGIN READ ONLY (or SET TRANSACTION READ WRITE). Only a hot standby generates without a record."));
        }
        // nothing to record the failure in: the error is the caller's. And no subtransaction:
        // on a hot standby, a recovery conflict inside one ends the whole session (FATAL)
        // instead of the statement, and would leave the temporary file behind.
        let w = write_file(export, format, target)?;
        (g.rows, g.bytes) = (w.rows, w.bytes);
        g.finished_at = now();
        return conclude(export, target, id_role, schedule, g, &target.name);
    }
    let failure = match try_work(|| write_file(export, format, target)) {
        Ok(w) => {
            (g.rows, g.bytes, g.version) = (w.rows, w.bytes, w.version);
            None
        }
        Err(e) => Some((e.code, e.message)),
    };
    if let Some((code, message)) = failure {
        g.status = Status::Failed;
        g.sqlstate = Some(sqlstate_text(code));
        g.error = Some(message);
        g.path = None;
        g.url = None;
    }
    g.finished_at = now();
    conclude(export, target, id_role, schedule, g, &target.name)
}

/// The history row, the user's notification and the `gn_export` channel's message; none of
/// them in a read-only transaction (always so on a hot standby), which cannot write them: a
/// NOTICE says so, the server's log keeps who wrote which file, and `recorded` is false.
fn conclude(
    export: &Export,
    target: &Target,
    id_role: Option<i32>,
    schedule: Option<i32>,
    mut g: Generation,
    published: &str,
) -> GnResult<Generation> {
    if crate::access::read_only_transaction() {
        let place = if crate::access::on_standby() {
            "on a hot standby"
        } else {
            "in a read-only transaction"
        };
        let what = format!(
            "gn_export: {} {} {place}: its run history, the user's notification and the gn_export channel's message are not written",
            export.name(),
            g.status.as_str(),
        );
        pgrx::notice!("{what}");
        // the server's log keeps what the history cannot: who wrote which file
        pgrx::log!(
            "{what} (file {}, {} bytes, id_role {:?}, requested by {})",
            target.path().display(),
            g.bytes,
            id_role,
            current_user_name()
        );
        return Ok(g);
    }
    g.recorded = true;
    history::record(&history::Run {
        id_export: g.id_export,
        label: export.label.clone(),
        format: g.format.name(),
        id_role,
        id_export_schedule: schedule,
        requested_by: current_user_name(),
        status: g.status,
        rows: Some(g.rows),
        bytes: Some(g.bytes),
        path: g.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
        url: g.url.clone(),
        error: g.error.clone(),
        sqlstate: g.sqlstate.clone(),
        started_at: Some(g.started_at),
        version: g.version.clone(),
    })?;
    if let (Some(role), true) = (id_role, g.status != Status::Skipped) {
        tell_user(export, target, role, &g);
    }
    notify::announce(serde_json::json!({
        "id_export": g.id_export,
        "label": export.label,
        "format": g.format.name(),
        "status": g.status.as_str(),
        "rows": g.rows,
        "bytes": g.bytes,
        "path": g.path.as_ref().map(|_| format!("{}/{published}", target.sub)),
        "url": g.url,
        "id_role": id_role,
        "id_export_schedule": schedule,
        "error": g.error,
    }))?;
    Ok(g)
}

/// The user's notification. The file is published: a notification that cannot be written (say
/// the caller may not insert into gn_notifications) is a warning, not a reason to fail. The
/// user learns what failed, not where the server keeps its files.
fn tell_user(export: &Export, target: &Target, role: i32, g: &Generation) {
    let error = g.error.as_deref().map(|e| without_paths(e, target));
    let sent = try_work(|| notify::notify_user(export, role, g.url.as_deref(), error.as_deref()));
    if let Err(p) = sent.map_err(|e| e.message) {
        pgrx::warning!(
            "gn_export: user {role} was not notified of {}: {p}",
            export.name()
        );
    }
}

fn interval_duration(i: Option<pgrx::datum::Interval>) -> GnResult<Option<Duration>> {
    let Some(i) = i else { return Ok(None) };
    let secs = crate::spi::one::<f64>("SELECT pg_catalog.date_part('epoch', $1)", &[i.into()])?
        .unwrap_or(0.0);
    if secs < 0.0 || !secs.is_finite() {
        return Err(GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            "skip_newer_than must be a positive interval",
        ));
    }
    Ok(Some(Duration::from_secs_f64(secs)))
}

/// Writes an export as a file on the server, like GeoNature's `geonature exports generate`.
/// Formats: every format of `gn_export.formats()`, byte streams and containers (gpkg).
/// With id_role: access-checked, written to `<export_dir>/usr_generated/<YYYY_MM_DD_HHhMMmSS>_<label>.<ext>`.
/// Without: administrative or scheduled, written to `<export_dir>/schedules/<label>.<format>`.
/// `<label>` is the label made safe as GeoNature does, cut to 200 bytes, plus `_<id>` where an
/// older export already has that name; files are found again only by their exact name.
/// The file is published atomically (temporary file, fsync, rename): a failure or a cancel
/// never leaves a partial file and never damages the previous one. With skip_newer_than, a
/// file of this export and format younger than that is kept and reported as 'skipped'.
/// The export's query runs as its definer (see docs/security.md). Not executable by PUBLIC:
/// the EXECUTE grant is the privilege to write files (always inside export_dir, under names
/// gn_export makes); errors: P0002 unknown export, 22023 bad format, 42501 access refused,
/// F0000 export_dir unset or unusable. On a hot standby the file is written on the standby's
/// disk, and the run history, the notification and the NOTIFY are not (a NOTICE says so;
/// `recorded` is false).
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn generate(
    id_export: i32,
    format: default!(Option<&str>, "'csv'"),
    id_role: default!(Option<i32>, "NULL"),
    skip_newer_than: default!(Option<pgrx::datum::Interval>, "NULL"),
) -> pgrx::composite_type!('static, "generation") {
    let format = FileFormat::parse_for(format.unwrap_or("csv"), false).or_raise();
    let skip = interval_duration(skip_newer_than).or_raise();
    let g = generate_file(id_export, format, id_role, skip).or_raise();
    let mut t = PgHeapTuple::new_composite_type("gn_export.generation")
        .expect("gn_export.generation exists");
    fn set<T: IntoDatum>(t: &mut PgHeapTuple<'_, AllocatedByRust>, name: &str, v: T) {
        t.set_by_name(name, v).unwrap_or_else(|e| {
            GnError::new(
                Code::ERRCODE_INTERNAL_ERROR,
                format!("gn_export.generation.{name}: {e}"),
            )
            .raise()
        });
    }
    set(&mut t, "id_export", g.id_export);
    set(&mut t, "format", g.format.name());
    set(
        &mut t,
        "path",
        g.path.map(|p| p.to_string_lossy().into_owned()),
    );
    set(&mut t, "url", g.url);
    set(&mut t, "rows", g.rows);
    set(&mut t, "bytes", g.bytes);
    set(&mut t, "started_at", g.started_at);
    set(&mut t, "finished_at", g.finished_at);
    set(&mut t, "status", g.status.as_str().to_string());
    set(&mut t, "error", g.error);
    set(&mut t, "sqlstate", g.sqlstate);
    // the type of a database still at 0.1.0 (this library installed, ALTER EXTENSION UPDATE
    // not run yet) has no `recorded`: its result goes without it
    let _ = t.set_by_name("recorded", g.recorded);
    t
}

pgrx::extension_sql!(
    r#"
REVOKE EXECUTE ON FUNCTION gn_export.generate(integer, text, integer, interval) FROM PUBLIC;
"#,
    name = "generate_grants",
    requires = [generate]
);

/// What a container writer is told of the export (see `encode::Dataset`): a Darwin Core
/// Archive's package id is a UUID stable for this database and export (md5 of both), to which
/// the writer adds the version of the data.
fn dataset(e: &Export) -> GnResult<Dataset> {
    let (package, date) = crate::spi::two::<String, String>(
        "SELECT pg_catalog.md5(pg_catalog.current_database() || '/gn_export/' || $1)::uuid::text,
                pg_catalog.to_char(pg_catalog.now(), 'YYYY-MM-DD')",
        &[e.id.into()],
    )?;
    let organization = settings::dwca_organization().unwrap_or_else(|| {
        crate::spi::one::<String>("SELECT pg_catalog.current_database()::text", &[])
            .ok()
            .flatten()
            .unwrap_or_default()
    });
    Ok(Dataset {
        name: e.name(),
        label: e.label.clone(),
        description: e.description.clone(),
        licence_name: e.licence_name.clone(),
        licence_url: e.licence_url.clone(),
        key: e.view_pk_column.clone(),
        package_id: package.unwrap_or_default(),
        pub_date: date.unwrap_or_default(),
        organization,
        email: settings::dwca_email(),
    })
}
