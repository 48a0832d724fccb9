//! `gn_export.generate()`: the export written as a file under `gn_export.export_dir`, published
//! atomically: a hidden temporary file in the same directory, fsynced, then renamed over the
//! final name. A failure or a cancel removes the temporary file and leaves any previous file
//! untouched.

use super::{encode_error, encoder, parse_file_format};
use crate::access;
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
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use unicode_normalization::UnicodeNormalization;

/// GeoNature's `removeDisallowedFilenameChars`: NFKD (accents lose their mark), spaces to
/// `_`, then only `[0-9A-Za-z_-]` kept.
pub fn safe_label(label: &str) -> String {
    label
        .nfkd()
        .map(|c| if c == ' ' { '_' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

pub fn file_stem(export: &Export) -> String {
    let s = safe_label(&export.label);
    if s.is_empty() {
        format!("export_{}", export.id)
    } else {
        s
    }
}

/// A file being written: removed on drop unless published.
pub struct Temp {
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    /// writing straight into a device or a pipe (`/dev/null`, a FIFO): nothing to rename
    direct: bool,
}

impl Temp {
    pub fn create(dir: &Path, final_name: &str) -> GnResult<Temp> {
        let path = dir.join(format!(".{final_name}.{}.tmp", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| io_error(&format!("cannot create {}", path.display()), e))?;
        // like COPY TO a file: readable by all (PostgreSQL's umask would make it owner-only),
        // so that the web server publishing export_dir can serve it
        let _ = file.set_permissions(fs::Permissions::from_mode(0o644));
        Ok(Temp {
            path,
            writer: Some(BufWriter::with_capacity(1 << 18, file)),
            direct: false,
        })
    }

    /// For a target that exists and is not a regular file (a device or a FIFO), which can
    /// neither be replaced atomically nor needs to be: write into it as core COPY does.
    pub fn special(path: &Path) -> GnResult<Option<Temp>> {
        match fs::metadata(path) {
            Ok(m) if !m.is_file() && !m.is_dir() => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| io_error(&format!("cannot open {}", path.display()), e))?;
                Ok(Some(Temp {
                    path: PathBuf::new(),
                    writer: Some(BufWriter::with_capacity(1 << 18, file)),
                    direct: true,
                }))
            }
            _ => Ok(None),
        }
    }

    /// Closes our handle so that another writer (SQLite) can fill the file at `path()`; it is
    /// still published, or removed, as any other.
    pub fn hand_over(&mut self) -> GnResult<&Path> {
        if let Some(w) = self.writer.take() {
            w.into_inner().map_err(|e| {
                io_error(
                    &format!("cannot write {}", self.path.display()),
                    e.into_error(),
                )
            })?;
        }
        Ok(&self.path)
    }

    pub fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
        let w = self.writer.as_mut().expect("open until published");
        w.write_all(bytes)
            .map_err(|e| io_error(&format!("cannot write {}", self.path.display()), e))
    }

    pub fn publish(mut self, to: &Path) -> GnResult<()> {
        let file = match self.writer.take() {
            Some(w) => w.into_inner().map_err(|e| {
                io_error(
                    &format!("cannot write {}", self.path.display()),
                    e.into_error(),
                )
            })?,
            // handed over to another writer: reopen it to fsync
            None => File::open(&self.path)
                .map_err(|e| io_error(&format!("cannot open {}", self.path.display()), e))?,
        };
        if self.direct {
            return Ok(());
        }
        file.sync_all()
            .map_err(|e| io_error(&format!("cannot fsync {}", self.path.display()), e))?;
        drop(file);
        fs::rename(&self.path, to)
            .map_err(|e| io_error(&format!("cannot rename to {}", to.display()), e))?;
        if let Some(dir) = to.parent() {
            // the rename itself must survive a crash
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        self.writer.take();
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn io_error(what: &str, e: std::io::Error) -> GnError {
    let code = match e.raw_os_error() {
        Some(28) => Code::ERRCODE_DISK_FULL,
        _ => Code::ERRCODE_IO_ERROR,
    };
    GnError::new(code, format!("gn_export: {what}: {e}"))
}

/// `export_dir`, checked: set, absolute, an existing writable directory.
pub fn export_dir() -> GnResult<PathBuf> {
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
    match fs::metadata(&p) {
        Ok(m) if m.is_dir() => Ok(p),
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

fn subdir(root: &Path, name: &str) -> GnResult<PathBuf> {
    let d = root.join(name);
    if !d.is_dir() {
        fs::create_dir_all(&d)
            .map_err(|e| io_error(&format!("cannot create {}", d.display()), e))?;
        let _ = fs::set_permissions(&d, fs::Permissions::from_mode(0o755));
    }
    Ok(d)
}

/// Writing files is a server privilege, as for COPY TO a file.
pub fn check_privilege() -> GnResult<()> {
    // SAFETY: reads the current user id and checks role membership in the catalogs.
    let allowed = unsafe {
        let user = pg_sys::GetUserId();
        pg_sys::superuser()
            || pg_sys::has_privs_of_role(
                user,
                pg_sys::Oid::from(pg_sys::ROLE_PG_WRITE_SERVER_FILES),
            )
    };
    if allowed {
        Ok(())
    } else {
        Err(GnError::new(
            Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "gn_export.generate() writes files on the server: only superusers and members of pg_write_server_files may",
        )
        .hint("GRANT pg_write_server_files TO the role that generates exports, as for COPY ... TO 'file'."))
    }
}

/// The outcome of one generation.
pub struct Generation {
    pub id_export: i32,
    pub format: Format,
    pub path: PathBuf,
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

fn url_for(root: &Path, path: &Path) -> Option<String> {
    let base = settings::base_url()?;
    let rel = path.strip_prefix(root).ok()?;
    Some(format!(
        "{}/{}",
        base.trim_end_matches('/'),
        rel.to_string_lossy()
    ))
}

fn age(p: &Path) -> Option<Duration> {
    let m = fs::metadata(p).and_then(|m| m.modified()).ok()?;
    Some(
        SystemTime::now()
            .duration_since(m)
            .unwrap_or(Duration::ZERO),
    )
}

/// The newest existing file of this export and format, if younger than `max_age`.
fn newer_file(dir: &Path, suffix: &str, max_age: Duration) -> Option<PathBuf> {
    fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            !n.starts_with('.') && n.ends_with(suffix)
        })
        .filter_map(|e| Some((age(&e.path())?, e.path())))
        .filter(|(a, _)| *a < max_age)
        .min_by_key(|(a, _)| *a)
        .map(|(_, p)| p)
}

/// Where a generation writes: the directory, the file name, and the suffix its files share.
pub struct Target {
    pub root: PathBuf,
    pub dir: PathBuf,
    pub name: String,
    suffix: String,
    user: bool,
}

impl Target {
    pub fn new(export: &Export, format: Format, user: bool) -> GnResult<Target> {
        let root = export_dir()?;
        let stem = file_stem(export);
        let ext = format.extension();
        if user {
            let stamp =
                Spi::get_one::<String>("SELECT to_char(now(), 'YYYY_MM_DD_HH24\"h\"MI\"m\"SS')")?
                    .unwrap_or_default();
            Ok(Target {
                dir: subdir(&root, "usr_generated")?,
                name: format!("{stamp}_{stem}.{ext}"),
                suffix: format!("_{stem}.{ext}"),
                root,
                user,
            })
        } else {
            Ok(Target {
                dir: subdir(&root, "schedules")?,
                name: format!("{stem}.{ext}"),
                suffix: format!("{stem}.{ext}"),
                root,
                user,
            })
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// The current file when it is younger than `max_age`.
    pub fn fresh(&self, max_age: Duration) -> Option<PathBuf> {
        if self.user {
            newer_file(&self.dir, &self.suffix, max_age)
        } else {
            Some(self.path()).filter(|p| age(p).is_some_and(|a| a < max_age))
        }
    }
}

/// Plans, encodes and publishes the file; rows and bytes as it goes to pg_stat_progress_copy.
fn write_file(export: &Export, format: Format, target: &Target) -> GnResult<(i64, i64)> {
    let plan = query::plan(export, format, None)?;
    let progress = Progress::start(plan.relid, true);
    if format == Format::Gpkg {
        let mut temp = Temp::create(&target.dir, &target.name)?;
        let path = temp.hand_over()?.to_path_buf();
        let (rows, _) = super::gpkg::write(export, &file_stem(export), &plan, &path, |r, b| {
            progress.update(r, b)
        })?;
        temp.publish(&target.path())?;
        let bytes = fs::metadata(target.path())
            .map(|m| m.len() as i64)
            .unwrap_or(0);
        progress.update(rows, bytes);
        return Ok((rows, bytes));
    }
    let mut enc = encoder(format, &plan)?;
    let mut temp = Temp::create(&target.dir, &target.name)?;
    let mut buf = Vec::with_capacity(1 << 17);
    let (mut rows, mut bytes) = (0i64, 0i64);
    enc.header(&mut buf);
    let label = export.name();
    let enc_ref: &mut dyn Encoder = enc.as_mut();
    source::run_all(&plan.sql, &plan.params, plan.decoding.clone(), |row| {
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
    temp.publish(&target.path())?;
    progress.update(rows, bytes);
    Ok((rows, bytes))
}

/// One generation, from the caller's checks to the history, the notifications and the result.
///
/// Errors of the caller (privilege, unknown export, access, export_dir) raise. Errors of the
/// export itself (its view fails, a value cannot be encoded, the disk is full) are caught in a
/// subtransaction: no file is published, and the result, the history row and the user's
/// notification say 'failed' with the error. Cancellation is never caught.
pub fn generate_file(
    id_export: i32,
    format: Format,
    id_role: Option<i32>,
    skip_newer_than: Option<Duration>,
    schedule: Option<i32>,
) -> GnResult<Generation> {
    check_privilege()?;
    let export = match id_role {
        Some(_) => access::require_read(id_export, id_role, None)?,
        None => export::load(id_export)?,
    };
    let target = Target::new(&export, format, id_role.is_some())?;
    let started_at = now();
    let mut g = Generation {
        id_export,
        format,
        path: target.path(),
        url: None,
        rows: 0,
        bytes: 0,
        started_at,
        finished_at: started_at,
        status: "done",
        error: None,
        sqlstate: None,
    };
    if let Some(p) = skip_newer_than.and_then(|max| target.fresh(max)) {
        g.bytes = fs::metadata(&p).map(|m| m.len() as i64).unwrap_or(0);
        g.path = p;
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
    if g.status != "failed" {
        g.url = url_for(&target.root, &g.path);
    }
    history::record(&history::Run {
        id_export,
        label: export.label.clone(),
        format: format.name().into(),
        id_role,
        id_export_schedule: schedule,
        status: g.status.into(),
        rows: Some(g.rows),
        bytes: Some(g.bytes),
        path: Some(g.path.to_string_lossy().into_owned()),
        url: g.url.clone(),
        error: g.error.clone(),
        sqlstate: g.sqlstate.clone(),
        started_at: Some(g.started_at),
    })?;
    if let (Some(role), true) = (id_role, g.status != "skipped") {
        // the file is published: a notification that cannot be written (say the caller may not
        // insert into gn_notifications) is a warning, not a reason to fail
        let sent = try_in_subtransaction(|| {
            notify::notify_user(&export, role, g.url.as_deref(), g.error.as_deref())
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
        "path": g.path.strip_prefix(&target.root).map(|p| p.to_string_lossy().into_owned()).ok(),
        "url": g.url,
        "id_role": id_role,
        "id_export_schedule": schedule,
        "error": g.error,
    }))?;
    Ok(g)
}

fn interval_duration(i: Option<pgrx::datum::Interval>) -> GnResult<Option<Duration>> {
    let Some(i) = i else { return Ok(None) };
    let secs = Spi::get_one_with_args::<f64>("SELECT extract(epoch FROM $1)::float8", &[i.into()])?
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
/// The file is published atomically (temporary file, fsync, rename): a failure or a cancel
/// never leaves a partial file and never damages the previous one. With skip_newer_than, a
/// file of this export and format younger than that is kept and reported as 'skipped'.
/// Superusers and members of pg_write_server_files only, as for COPY TO a file.
#[pg_extern(volatile, parallel_unsafe)]
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
    set(&mut t, "path", g.path.to_string_lossy().into_owned());
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
CREATE TYPE gn_export.generation AS (
    id_export   integer,
    format      text,
    path        text,
    url         text,
    rows        bigint,
    bytes       bigint,
    started_at  timestamptz,
    finished_at timestamptz,
    status      text,
    error       text,
    sqlstate    text
);
COMMENT ON TYPE gn_export.generation IS 'The outcome of gn_export.generate(): status is done, skipped or failed.';
"#,
    name = "generation_type",
    bootstrap
);

pgrx::extension_sql!(
    r#"
REVOKE EXECUTE ON FUNCTION gn_export.generate(integer, text, integer, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gn_export.generate(integer, text, integer, interval) TO pg_write_server_files;
"#,
    name = "generate_grants",
    requires = [generate]
);

#[cfg(test)]
mod unit {
    use super::safe_label;

    #[test]
    fn labels_made_safe_like_geonature() {
        assert_eq!(safe_label("Synthese SINP"), "Synthese_SINP");
        assert_eq!(safe_label("Jeux de données"), "Jeux_de_donnees");
        assert_eq!(
            safe_label("Synthèse (données floutées) / 2024"),
            "Synthese_donnees_floutees__2024"
        );
        assert_eq!(safe_label("a-b_c.d"), "a-b_cd");
        assert_eq!(safe_label("漢字"), "");
    }
}
