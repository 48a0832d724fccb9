//! `gn_export.generate()`: the export written as a file under `gn_export.export_dir`, published
//! atomically: a hidden temporary file in the same directory, fsynced, then renamed over the
//! final name. A failure or a cancel removes the temporary file and leaves any previous file
//! untouched.

use super::dir::Dir;
use super::names::{self, after_stamp, STAMP_LEN};
use super::{encode_error, encoder, parse_file_format};
use crate::access;
use crate::access::definer::current_user_name;
use crate::catalog::export::{self, Export};
use crate::encode::{Encoder, Format};
use crate::error::{GnError, GnResult, OrRaise};
use crate::query;
use crate::settings;
use crate::source;
use crate::subxact::{sqlstate_text, try_in_subtransaction};
use crate::{history, notify, progress::Progress};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use std::path::PathBuf;
use std::time::Duration;

/// `export_dir`, checked: set, absolute, an existing directory, opened.
pub fn export_dir() -> GnResult<Dir> {
    let dir = settings::export_dir().ok_or_else(|| {
        GnError::new(Code::ERRCODE_CONFIG_FILE_ERROR, "gn_export.export_dir is not set")
            .hint("A superuser sets it, e.g. ALTER SYSTEM SET gn_export.export_dir = '/srv/geonature/media/exports'; SELECT pg_reload_conf();")
    })?;
    let p = PathBuf::from(&dir);
    if !p.is_absolute() {
        return Err(GnError::new(
            Code::ERRCODE_CONFIG_FILE_ERROR,
            format!("gn_export.export_dir \"{dir}\" is not an absolute path"),
        ));
    }
    match std::fs::metadata(&p) {
        Ok(m) if m.is_dir() => Dir::open(&p),
        Ok(_) => Err(GnError::new(
            Code::ERRCODE_CONFIG_FILE_ERROR,
            format!("gn_export.export_dir \"{dir}\" is not a directory"),
        )),
        Err(e) => Err(GnError::new(
            Code::ERRCODE_CONFIG_FILE_ERROR,
            format!("gn_export.export_dir \"{dir}\" is not usable: {e}"),
        )
        .hint("Create it and give it to the PostgreSQL server's system user.")),
    }
}

/// The outcome of one generation.
pub struct Generation {
    pub id_export: i32,
    pub format: Format,
    /// None when the generation failed: no file was published
    pub path: Option<PathBuf>,
    pub url: Option<String>,
    pub rows: i64,
    pub bytes: i64,
    pub started_at: pgrx::datum::TimestampWithTimeZone,
    pub finished_at: pgrx::datum::TimestampWithTimeZone,
    pub status: &'static str,
    pub error: Option<String>,
    pub sqlstate: Option<String>,
}

fn now() -> pgrx::datum::TimestampWithTimeZone {
    Spi::get_one::<pgrx::datum::TimestampWithTimeZone>("SELECT clock_timestamp()")
        .ok()
        .flatten()
        .expect("clock_timestamp() is never NULL")
}

/// Where a generation writes: `<export_dir>/schedules/<stem>.<ext>` for administrative and
/// scheduled runs, `<export_dir>/usr_generated/<stamp><stem>.<ext>` for a user's.
pub struct Target {
    pub dir: Dir,
    /// `schedules` or `usr_generated`
    sub: &'static str,
    pub name: String,
    /// the export's file stem (also the GeoPackage layer's name)
    pub stem: String,
    /// `<stem>.<ext>`: the whole name of a schedule file, the end of a user file's
    stem_ext: String,
    user: bool,
}

impl Target {
    pub fn new(export: &Export, format: Format, user: bool) -> GnResult<Target> {
        let root = export_dir()?;
        let stem = names::stem(export.id, &export.label)?;
        let stem_ext = format!("{stem}.{}", format.extension());
        if user {
            let stamp = Spi::get_one::<String>(
                "SELECT pg_catalog.to_char(pg_catalog.now(), 'YYYY_MM_DD_HH24\"h\"MI\"m\"SS_')",
            )?
            .unwrap_or_default();
            debug_assert_eq!(stamp.len(), STAMP_LEN);
            Ok(Target {
                dir: root.subdir("usr_generated")?,
                sub: "usr_generated",
                name: format!("{stamp}{stem_ext}"),
                stem,
                stem_ext,
                user,
            })
        } else {
            Ok(Target {
                dir: root.subdir("schedules")?,
                sub: "schedules",
                name: stem_ext.clone(),
                stem,
                stem_ext,
                user,
            })
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join(&self.name)
    }

    /// The download URL of a file of this target's directory.
    fn url(&self, name: &str) -> Option<String> {
        let base = settings::base_url()?;
        Some(format!(
            "{}/{}/{name}",
            base.trim_end_matches('/'),
            self.sub
        ))
    }

    /// The newest file of this export and format younger than `max_age`, found by its exact
    /// name: `<stem>.<ext>`, or a stamp followed by exactly that for user files.
    pub fn fresh(&self, max_age: Duration) -> GnResult<Option<super::dir::Entry>> {
        if !self.user {
            return Ok(self.dir.file(&self.name).filter(|f| f.age() < max_age));
        }
        Ok(self
            .dir
            .files()?
            .into_iter()
            .filter(|f| after_stamp(&f.name) == Some(self.stem_ext.as_str()))
            .filter(|f| f.age() < max_age)
            .min_by_key(|f| f.age()))
    }
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

/// Plans, encodes and publishes the file; rows and bytes as it goes to pg_stat_progress_copy.
fn write_file(export: &Export, format: Format, target: &Target) -> GnResult<(i64, i64)> {
    let plan = query::plan(export, format, None)?;
    let progress = Progress::start(plan.relid, true);
    let mut temp = target.dir.create_temp(&target.name)?;
    if format == Format::Gpkg {
        let path = temp.path_for_writer()?;
        let (rows, _) = super::gpkg::write(export, &target.stem, &plan, &path, |r, b| {
            progress.update(r, b)
        })?;
        let bytes = temp.publish(&target.name)? as i64;
        progress.update(rows, bytes);
        return Ok((rows, bytes));
    }
    let mut enc = encoder(format, &plan)?;
    let mut buf = Vec::with_capacity(1 << 17);
    let (mut rows, mut bytes) = (0i64, 0i64);
    enc.header(&mut buf);
    let label = export.name();
    let enc_ref: &mut dyn Encoder = enc.as_mut();
    source::run_all(&plan, |row| {
        enc_ref
            .row(row, &mut buf)
            .map_err(|e| encode_error(&label, e))?;
        rows += 1;
        if buf.len() >= 1 << 16 {
            bytes += buf.len() as i64;
            temp.write(&buf)?;
            buf.clear();
        }
        if rows % 256 == 0 {
            progress.update(rows, bytes + buf.len() as i64);
        }
        Ok(())
    })?;
    enc.footer(&mut buf);
    bytes += buf.len() as i64;
    temp.write(&buf)?;
    temp.publish(&target.name)?;
    progress.update(rows, bytes);
    Ok((rows, bytes))
}

/// One generation, from the caller's checks to the history, the notifications and the result.
///
/// Errors of the caller (unknown export, access, export_dir) raise. Errors of the export itself
/// (its view fails, a value cannot be encoded, the disk is full) are caught in a
/// subtransaction: no file is published, and the result, the history row and the user's
/// notification say 'failed' with the error. Cancellation is never caught.
pub fn generate_file(
    id_export: i32,
    format: Format,
    id_role: Option<i32>,
    skip_newer_than: Option<Duration>,
    schedule: Option<i32>,
) -> GnResult<Generation> {
    let export = match id_role {
        Some(_) => access::require_read(id_export, id_role, None)?,
        None => export::load(id_export)?,
    };
    let target = Target::new(&export, format, id_role.is_some())?;
    let started_at = now();
    let mut g = Generation {
        id_export,
        format,
        path: Some(target.path()),
        url: None,
        rows: 0,
        bytes: 0,
        started_at,
        finished_at: started_at,
        status: "done",
        error: None,
        sqlstate: None,
    };
    let mut published = target.name.clone();
    if let Some(f) = skip_newer_than
        .map(|max| target.fresh(max))
        .transpose()?
        .flatten()
    {
        g.bytes = f.bytes as i64;
        g.path = Some(target.dir.path().join(&f.name));
        published = f.name;
        g.status = "skipped";
    } else {
        match try_in_subtransaction(|| write_file(&export, format, &target)) {
            Ok(Ok((rows, bytes))) => (g.rows, g.bytes) = (rows, bytes),
            Ok(Err(e)) => {
                g.status = "failed";
                g.sqlstate = Some(sqlstate_text(e.code));
                g.error = Some(e.message);
            }
            Err(caught) => {
                g.status = "failed";
                g.sqlstate = Some(sqlstate_text(caught.code));
                g.error = Some(caught.message);
            }
        }
    }
    g.finished_at = now();
    if g.status == "failed" {
        g.path = None;
    } else {
        g.url = target.url(&published);
    }
    history::record(&history::Run {
        id_export,
        label: export.label.clone(),
        format: format.name().into(),
        id_role,
        id_export_schedule: schedule,
        requested_by: current_user_name(),
        status: g.status.into(),
        rows: Some(g.rows),
        bytes: Some(g.bytes),
        path: g.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
        url: g.url.clone(),
        error: g.error.clone(),
        sqlstate: g.sqlstate.clone(),
        started_at: Some(g.started_at),
    })?;
    if let (Some(role), true) = (id_role, g.status != "skipped") {
        // the file is published: a notification that cannot be written (say the caller may not
        // insert into gn_notifications) is a warning, not a reason to fail
        // the user learns what failed, not where the server keeps its files
        let error = g.error.as_deref().map(|e| without_paths(e, &target));
        let sent = try_in_subtransaction(|| {
            notify::notify_user(&export, role, g.url.as_deref(), error.as_deref())
        });
        let problem = match sent {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.message),
            Err(c) => Some(c.message),
        };
        if let Some(p) = problem {
            pgrx::warning!(
                "gn_export: user {role} was not notified of {}: {p}",
                export.name()
            );
        }
    }
    notify::announce(serde_json::json!({
        "id_export": id_export,
        "label": export.label,
        "format": format.name(),
        "status": g.status,
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

fn interval_duration(i: Option<pgrx::datum::Interval>) -> GnResult<Option<Duration>> {
    let Some(i) = i else { return Ok(None) };
    let secs =
        Spi::get_one_with_args::<f64>("SELECT pg_catalog.date_part('epoch', $1)", &[i.into()])?
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
/// With id_role: access-checked, written to `<export_dir>/usr_generated/<YYYY_MM_DD_HHhMMmSS>_<label>.<ext>`.
/// Without: administrative or scheduled, written to `<export_dir>/schedules/<label>.<ext>`.
/// `<label>` is the label made safe as GeoNature does, cut to 200 bytes, plus `_<id>` where an
/// older export already has that name; files are found again only by their exact name.
/// The file is published atomically (temporary file, fsync, rename): a failure or a cancel
/// never leaves a partial file and never damages the previous one. With skip_newer_than, a
/// file of this export and format younger than that is kept and reported as 'skipped'.
/// The export's query runs as its definer (see README, Security). Not executable by PUBLIC:
/// the EXECUTE grant is the privilege to write files (always inside export_dir, under names
/// gn_export makes); errors: P0002 unknown export, 22023 bad format, 42501 access refused,
/// F0000 export_dir unset or unusable.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn generate(
    id_export: i32,
    format: default!(Option<&str>, "'csv'"),
    id_role: default!(Option<i32>, "NULL"),
    skip_newer_than: default!(Option<pgrx::datum::Interval>, "NULL"),
) -> pgrx::composite_type!('static, "generation") {
    let format = parse_file_format(format).or_raise();
    let skip = interval_duration(skip_newer_than).or_raise();
    let g = generate_file(id_export, format, id_role, skip, None).or_raise();
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
    set(&mut t, "format", g.format.name().to_string());
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
    set(&mut t, "status", g.status.to_string());
    set(&mut t, "error", g.error);
    set(&mut t, "sqlstate", g.sqlstate);
    t
}

pgrx::extension_sql!(
    r#"
REVOKE EXECUTE ON FUNCTION gn_export.generate(integer, text, integer, interval) FROM PUBLIC;
"#,
    name = "generate_grants",
    requires = [generate]
);
