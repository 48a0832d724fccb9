//! Where a generation's file goes: `gn_export.export_dir`, checked, and the file's directory
//! and exact name for an export and a format.

use super::names::{self, after_stamp, STAMP_LEN};
use crate::encode::format::FileFormat;
use crate::error::{GnError, GnResult};
use crate::export::Export;
use crate::settings;
use crate::sink::dir::{Dir, Entry};
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

/// Reserves a file's name until the transaction ends (an advisory lock on the whole server,
/// as export_dir may be shared): its rename, at commit, happens before the lock goes, so files
/// are renamed in the order their runs commit and the file is the one the newest record
/// describes. Waits for another generation of the same name (as lock_timeout and
/// statement_timeout allow) or, with `wait` false, says false.
fn reserve(dir: &Dir, name: &str, wait: bool) -> bool {
    let key = crate::lock::key_of(&dir.path().join(name).to_string_lossy());
    match crate::lock::exclusive(
        crate::lock::Scope::Server,
        crate::lock::FILE_NAME,
        key,
        wait,
    ) {
        Some(held) => {
            held.until_transaction_end();
            true
        }
        None => false,
    }
}

/// A user file's name, GeoNature's `<YYYY_MM_DD_HHhMMmSS>_<stem>.<ext>` stamped by the clock
/// (not the transaction's start), that no file has, that this transaction does not publish
/// already, and that no other running generation has reserved (an advisory lock held until
/// its transaction ends); else the same at the next second, and so on: two generations never
/// share a file.
fn free_user_name(dir: &Dir, stem_ext: &str) -> GnResult<String> {
    for ahead in 0..3600 {
        let stamp = crate::spi::one::<String>(
            "SELECT pg_catalog.to_char(pg_catalog.clock_timestamp()
                        OPERATOR(pg_catalog.+) pg_catalog.make_interval(secs => $1::double precision),
                    'YYYY_MM_DD_HH24\"h\"MI\"m\"SS_')",
            &[ahead.into()],
        )?
        .unwrap_or_default();
        debug_assert_eq!(stamp.len(), STAMP_LEN);
        let name = format!("{stamp}{stem_ext}");
        if dir.file(&name).is_some() || crate::sink::commit::is_pending(dir, &name) {
            continue;
        }
        if reserve(dir, &name, false) {
            return Ok(name);
        }
    }
    Err(GnError::new(
        Code::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        format!(
            "gn_export: no free name for a user file ending in {stem_ext} within the next hour"
        ),
    )
    .hint("Too many generations of this export at once: retry later."))
}

/// Where a generation writes: `<export_dir>/schedules/<stem>.<format>` for administrative and
/// scheduled runs, `<export_dir>/usr_generated/<stamp><stem>.<ext>` for a user's.
pub struct Target {
    pub dir: Dir,
    /// `schedules` or `usr_generated`
    pub sub: &'static str,
    pub name: String,
    /// the export's file stem (also the GeoPackage layer's name)
    pub stem: String,
    /// `<stem>.<ext>`: the whole name of a schedule file, the end of a user file's
    stem_ext: String,
    user: bool,
}

impl Target {
    /// Whether the file is a user's download (usr_generated/), not a published one.
    pub fn is_user(&self) -> bool {
        self.user
    }

    /// The target of a generation; for a schedule file, waits for another generation of it.
    pub fn new(export: &Export, format: FileFormat, user: bool) -> GnResult<Target> {
        Target::reserved(export, format, user, true)?.ok_or_else(|| {
            GnError::new(
                Code::ERRCODE_INTERNAL_ERROR,
                "gn_export: a waiting reservation returned without its lock",
            )
        })
    }

    /// The target of a schedule's run, or None while another generation of the file runs.
    pub fn for_schedule(export: &Export, format: FileFormat) -> GnResult<Option<Target>> {
        Target::reserved(export, format, false, false)
    }

    fn reserved(
        export: &Export,
        format: FileFormat,
        user: bool,
        wait: bool,
    ) -> GnResult<Option<Target>> {
        let root = export_dir()?;
        let stem = names::stem(export.id, &export.label)?;
        let stem_ext = if user {
            names::user_name_tail(&stem, format)
        } else {
            names::published_name(&stem, format)
        };
        if user {
            let dir = root.subdir("usr_generated")?;
            let name = free_user_name(&dir, &stem_ext)?;
            Ok(Some(Target {
                dir,
                sub: "usr_generated",
                name,
                stem,
                stem_ext,
                user,
            }))
        } else {
            // one generation of a schedule file at a time, renamed in commit order
            let dir = root.subdir("schedules")?;
            if !reserve(&dir, &stem_ext, wait) {
                return Ok(None);
            }
            Ok(Some(Target {
                dir,
                sub: "schedules",
                name: stem_ext.clone(),
                stem,
                stem_ext,
                user,
            }))
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join(&self.name)
    }

    /// The download URL of a file of this target's directory.
    pub fn url(&self, name: &str) -> Option<String> {
        let base = settings::base_url()?;
        Some(format!(
            "{}/{}/{name}",
            base.trim_end_matches('/'),
            self.sub
        ))
    }

    /// The newest file of this export and format younger than `max_age`, found by its exact
    /// name: `<stem>.<ext>`, or a stamp followed by exactly that for user files.
    pub fn fresh(&self, max_age: Duration) -> GnResult<Option<Entry>> {
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
