//! Files under `export_dir`, reached only through directory handles.
//!
//! The web server's system user may write in `export_dir` (GeoNature serves it). So every
//! subdirectory is opened without following a symbolic link, and every create, rename, stat
//! and unlink is made relative to that handle: a link planted in the tree is never followed.
//! Temporary files get a random name and are created exclusively (`O_EXCL | O_NOFOLLOW`), then
//! renamed over the final name, which replaces a planted link rather than writing through it.

use crate::error::{io_error, GnError, GnResult};
use pgrx::PgSqlErrorCode as Code;
use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

/// Longest part of a final name kept in a temporary name: `.` + it + `.` + the writer
/// (`<pid>-<server start>`, at most 24 bytes) + `.` + 32 hex + `.tmp` stays within the 255
/// bytes file systems allow.
const TEMP_NAME_PART: usize = 176;

fn errno(what: &str, e: Errno) -> GnError {
    io_error(what, std::io::Error::from(e))
}

/// An open directory.
#[derive(Clone)]
pub struct Dir {
    fd: Rc<OwnedFd>,
    /// its path with every link resolved, for messages and for SQLite
    path: PathBuf,
    /// whether others may read what is made here: export files are published (`0755`
    /// directories, `0644` files), the API's snapshots are the server's alone (`0700`, `0600`)
    public: bool,
}

/// A regular file found in a directory.
pub struct Entry {
    pub name: String,
    pub bytes: u64,
    /// what the file takes on disk (its blocks), at least its size in a sparse-free file system
    pub allocated: u64,
    pub modified: SystemTime,
}

impl Entry {
    pub fn age(&self) -> Duration {
        SystemTime::now()
            .duration_since(self.modified)
            .unwrap_or(Duration::ZERO)
    }
}

impl Dir {
    /// A directory a privileged user chose (`export_dir`, set by a superuser, or the directory
    /// of a `COPY ... TO 'file'`): links in its own path are followed, as the system does.
    pub fn open(path: &Path) -> GnResult<Dir> {
        let canonical = std::fs::canonicalize(path)
            .map_err(|e| io_error(&format!("cannot open directory {}", path.display()), e))?;
        let fd = rfs::open(
            &canonical,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| errno(&format!("cannot open directory {}", path.display()), e))?;
        Ok(Dir {
            fd: Rc::new(fd),
            path: canonical,
            public: true,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A subdirectory of ours (`schedules`, `usr_generated`), made `0755` if missing. A
    /// symbolic link in its place is refused.
    pub fn subdir(&self, name: &str) -> GnResult<Dir> {
        self.subdir_for(name, self.public)
    }

    /// A subdirectory of ours that only the server may read (`0700`), and whose files are
    /// `0600`.
    pub fn private_subdir(&self, name: &str) -> GnResult<Dir> {
        self.subdir_for(name, false)
    }

    fn subdir_for(&self, name: &str, public: bool) -> GnResult<Dir> {
        let path = self.path.join(name);
        let mode = if public { 0o755 } else { 0o700 };
        let created = match rfs::mkdirat(&*self.fd, name, Mode::from_raw_mode(mode)) {
            Ok(()) => true,
            Err(Errno::EXIST) => false,
            Err(e) => return Err(errno(&format!("cannot create {}", path.display()), e)),
        };
        let fd = rfs::openat(
            &*self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::LOOP | Errno::NOTDIR => GnError::new(
                Code::ERRCODE_CONFIG_FILE_ERROR,
                format!(
                    "gn_export: {} is a symbolic link or not a directory: files are never written through links",
                    path.display()
                ),
            )
            .hint("Remove it: gn_export creates its own directories under gn_export.export_dir."),
            e => errno(&format!("cannot open directory {}", path.display()), e),
        })?;
        if created {
            // the server's umask made it owner-only: the web server must be able to read it
            let _ = rfs::fchmod(&fd, Mode::from_raw_mode(mode));
        }
        Ok(Dir {
            fd: Rc::new(fd),
            path,
            public,
        })
    }

    /// A fresh temporary file for `final_name`, created exclusively under a random name.
    pub fn create_temp(&self, final_name: &str) -> GnResult<Temp> {
        let part = &final_name[..final_name.floor_char_boundary(TEMP_NAME_PART)];
        let name = format!(
            ".{part}.{}.{}.tmp",
            crate::sink::names::temp_writer(),
            random_hex()?
        );
        let fd = rfs::openat(
            &*self.fd,
            name.as_str(),
            // read-write: an API snapshot is read back through the descriptor it was written with
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| {
            errno(
                &format!("cannot create {}", self.path.join(&name).display()),
                e,
            )
        })?;
        if self.public {
            // like COPY TO a file: readable by all (the server's umask makes it owner-only),
            // so that the web server publishing export_dir can serve it
            let _ = rfs::fchmod(&fd, Mode::from_raw_mode(0o644));
        }
        Ok(Temp {
            dir: self.clone(),
            name,
            writer: Some(BufWriter::with_capacity(1 << 18, File::from(fd))),
        })
    }

    /// The regular file `name`, if there is one (a link is not).
    pub fn file(&self, name: &str) -> Option<Entry> {
        let st = rfs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return None;
        }
        Some(Entry {
            name: name.to_string(),
            bytes: st.st_size as u64,
            allocated: (st.st_blocks as u64).saturating_mul(512),
            modified: SystemTime::UNIX_EPOCH
                + Duration::new(st.st_mtime as u64, st.st_mtime_nsec as u32),
        })
    }

    /// The regular file `name` opened for reading, if there is one (never through a link).
    pub fn open_file(&self, name: &str) -> GnResult<Option<File>> {
        match rfs::openat(
            &*self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Some(File::from(fd))),
            Err(Errno::NOENT | Errno::LOOP) => Ok(None),
            Err(e) => Err(errno(
                &format!("cannot open {}", self.path.join(name).display()),
                e,
            )),
        }
    }

    /// The regular files of the directory (links and subdirectories left out).
    pub fn files(&self) -> GnResult<Vec<Entry>> {
        let dup = rfs::openat(
            &*self.fd,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| errno(&format!("cannot read {}", self.path.display()), e))?;
        let dir = rfs::Dir::read_from(&dup)
            .map_err(|e| errno(&format!("cannot read {}", self.path.display()), e))?;
        let mut out = Vec::new();
        for entry in dir {
            let entry =
                entry.map_err(|e| errno(&format!("cannot read {}", self.path.display()), e))?;
            let Ok(name) = entry.file_name().to_str() else {
                continue; // not one of ours: our names are ASCII
            };
            if let Some(f) = self.file(name) {
                out.push(f);
            }
        }
        Ok(out)
    }

    pub fn remove(&self, name: &str) -> GnResult<()> {
        rfs::unlinkat(&*self.fd, name, AtFlags::empty()).map_err(|e| {
            errno(
                &format!("cannot remove {}", self.path.join(name).display()),
                e,
            )
        })
    }

    /// Removes `name`; false if it was already gone (another session removed it first).
    pub fn remove_if_present(&self, name: &str) -> GnResult<bool> {
        match rfs::unlinkat(&*self.fd, name, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(errno(
                &format!("cannot remove {}", self.path.join(name).display()),
                e,
            )),
        }
    }

    /// Removes the temporary files that backends of this server left when they ended (killed
    /// while writing): every generation does it in its directory, so a hot standby, where
    /// clean_files() does not run, is cleaned too. Best effort: what cannot be read is left.
    pub fn remove_abandoned_temps(&self) {
        for f in self.files().unwrap_or_default() {
            if super::names::is_abandoned_temp(&f.name) {
                let _ = self.remove_if_present(&f.name);
            }
        }
    }

    fn rename(&self, from: &str, to: &str, durable: bool) -> GnResult<()> {
        rfs::renameat(&*self.fd, from, &*self.fd, to).map_err(|e| {
            errno(
                &format!("cannot rename to {}", self.path.join(to).display()),
                e,
            )
        })?;
        if durable {
            // the rename itself must survive a crash
            let _ = rfs::fsync(&*self.fd);
        }
        Ok(())
    }
}

/// 128 random bits from PostgreSQL's strong random source, in hex.
pub fn random_hex() -> GnResult<String> {
    let mut bytes = [0u8; 16];
    // SAFETY: fills the 16 bytes of a local buffer.
    let ok = unsafe { pgrx::pg_sys::pg_strong_random(bytes.as_mut_ptr().cast(), bytes.len()) };
    if !ok {
        return Err(GnError::new(
            Code::ERRCODE_INTERNAL_ERROR,
            "gn_export: could not generate a random file name",
        ));
    }
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A temporary file being written: removed on drop unless published.
pub struct Temp {
    dir: Dir,
    name: String,
    writer: Option<BufWriter<File>>,
}

impl Temp {
    fn file(&mut self) -> GnResult<&mut BufWriter<File>> {
        let path = self.dir.path.join(&self.name);
        self.writer.as_mut().ok_or_else(|| {
            GnError::new(
                Code::ERRCODE_INTERNAL_ERROR,
                format!("gn_export: {} is already published", path.display()),
            )
        })
    }

    /// Another descriptor of the file, to read it back once published (flushed).
    pub fn reader(&mut self) -> GnResult<File> {
        let path = self.dir.path.join(&self.name);
        self.file()?
            .get_ref()
            .try_clone()
            .map_err(|e| io_error(&format!("cannot reopen {}", path.display()), e))
    }

    pub fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
        let path = self.dir.path.join(&self.name);
        self.file()?
            .write_all(bytes)
            .map_err(|e| io_error(&format!("cannot write {}", path.display()), e))
    }

    /// The path at which another writer (SQLite) fills this file. That writer must open it
    /// without following links (the name could be replaced meanwhile): `publish` checks that
    /// the file at the name is still the one created here.
    pub fn path_for_writer(&mut self) -> GnResult<PathBuf> {
        let path = self.dir.path.join(&self.name);
        self.file()?
            .flush()
            .map_err(|e| io_error(&format!("cannot write {}", path.display()), e))?;
        Ok(path)
    }

    /// The file itself (a duplicate of its descriptor) for a writer that takes one (a zip):
    /// safer than the path, which another writer (SQLite) needs.
    pub fn file_for_writer(&mut self) -> GnResult<File> {
        let path = self.dir.path.join(&self.name);
        let what = format!("cannot write {}", path.display());
        let w = self.file()?;
        w.flush().map_err(|e| io_error(&what, e))?;
        w.get_ref().try_clone().map_err(|e| io_error(&what, e))
    }

    /// Flushes, fsyncs and renames the file over `final_name` in its directory.
    pub fn publish(self, final_name: &str) -> GnResult<u64> {
        self.publish_as(final_name, true)
    }

    /// Flushes and renames the file over `final_name`, without waiting for the disk: for files
    /// that a crash may lose (the API's snapshots).
    pub fn publish_volatile(self, final_name: &str) -> GnResult<u64> {
        self.publish_as(final_name, false)
    }

    fn publish_as(self, final_name: &str, durable: bool) -> GnResult<u64> {
        let sealed = self.seal(durable)?;
        let size = sealed.size;
        sealed.rename_to(final_name, durable)?;
        Ok(size)
    }

    /// Flushes and fsyncs the file, and checks it is still the one at its name, without
    /// renaming it: the file is complete and waits for [`Sealed::rename_to`] (at commit).
    pub fn seal(mut self, durable: bool) -> GnResult<Sealed> {
        let path = self.dir.path.join(&self.name);
        let writer = self
            .writer
            .take()
            .expect("a temporary file is published once");
        let file = writer
            .into_inner()
            .map_err(|e| io_error(&format!("cannot write {}", path.display()), e.into_error()))?;
        if durable {
            file.sync_all()
                .map_err(|e| io_error(&format!("cannot fsync {}", path.display()), e))?;
        }
        let ours = rfs::fstat(file.as_fd()).map_err(|e| errno("cannot stat", e))?;
        let there = rfs::statat(&*self.dir.fd, self.name.as_str(), AtFlags::SYMLINK_NOFOLLOW);
        if !matches!(there, Ok(st) if st.st_dev == ours.st_dev && st.st_ino == ours.st_ino) {
            return Err(GnError::new(
                Code::ERRCODE_IO_ERROR,
                format!("gn_export: {} was replaced while it was written", path.display()),
            )
            .hint("Something else writes in gn_export.export_dir: only the web server should, and only to read."));
        }
        Ok(Sealed {
            dir: self.dir.clone(),
            name: std::mem::take(&mut self.name),
            size: ours.st_size as u64,
            file,
        })
    }
}

/// A complete temporary file, not yet under its final name: removed on drop unless renamed.
pub struct Sealed {
    dir: Dir,
    name: String,
    pub size: u64,
    /// kept open to check, right before the rename, that the name still holds this file
    file: File,
}

impl Sealed {
    /// Renames the file over `final_name` in its directory (and waits for the directory to
    /// reach the disk when `durable`), once it has checked that the temporary name still holds
    /// the file written (the web server's user may write in export_dir, and a rename at commit
    /// comes a while after the writing). Makes no PostgreSQL call: it may run after a commit.
    pub fn rename_to(mut self, final_name: &str, durable: bool) -> GnResult<()> {
        let path = self.dir.path.join(&self.name);
        let ours = rfs::fstat(self.file.as_fd()).map_err(|e| errno("cannot stat", e))?;
        let there = rfs::statat(&*self.dir.fd, self.name.as_str(), AtFlags::SYMLINK_NOFOLLOW);
        if !matches!(there, Ok(st) if st.st_dev == ours.st_dev && st.st_ino == ours.st_ino) {
            return Err(GnError::new(
                Code::ERRCODE_IO_ERROR,
                format!(
                    "gn_export: {} was replaced before it was published",
                    path.display()
                ),
            ));
        }
        self.dir.rename(&self.name, final_name, durable)?;
        self.name.clear();
        Ok(())
    }

    pub fn dir(&self) -> &Dir {
        &self.dir
    }
}

impl Drop for Sealed {
    fn drop(&mut self) {
        if !self.name.is_empty() {
            let _ = rfs::unlinkat(&*self.dir.fd, self.name.as_str(), AtFlags::empty());
        }
    }
}

/// A temporary file takes encoded bytes as they come.
impl super::ByteSink for Temp {
    fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
        Temp::write(self, bytes)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        self.writer.take();
        if !self.name.is_empty() {
            let _ = rfs::unlinkat(&*self.dir.fd, self.name.as_str(), AtFlags::empty());
        }
    }
}
