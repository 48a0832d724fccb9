//! Where a COPY's bytes go: the client, in CopyData messages of the COPY protocol, or a server
//! file (a privilege, as for core COPY), written through a temporary file renamed at the end,
//! or a device or FIFO written in place.

use crate::access::require_server_write;
use crate::error::io_error;
use crate::error::{GnError, GnResult};
use crate::sink::dir::{Dir, Temp};
use crate::sink::ByteSink;
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode as Code;
use std::ffi::{c_char, CStr};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

pub enum Destination {
    /// the message buffer, reused for every CopyData message
    Client(Box<pg_sys::StringInfoData>),
    /// a regular file, written to a temporary file and renamed over this name in its directory
    File(Temp, String),
    /// a device or a FIFO (`/dev/null`, a named pipe), written in place as core COPY does
    Device(BufWriter<File>),
}

impl Destination {
    /// The destination of a COPY statement: STDOUT (a client connection is needed) or a file.
    ///
    /// # Safety
    /// `copy` must be a valid CopyStmt.
    pub unsafe fn open(copy: *mut pg_sys::CopyStmt, format: &str) -> GnResult<Destination> {
        // SAFETY: a valid CopyStmt's filename is NULL (STDOUT) or a NUL-terminated string.
        let filename = unsafe { (*copy).filename };
        if filename.is_null() {
            return Destination::client(format);
        }
        require_server_write("COPY to a file")?;
        // SAFETY: as above.
        let name = unsafe { CStr::from_ptr(filename) }
            .to_string_lossy()
            .into_owned();
        file(Path::new(&name))
    }

    fn client(format: &str) -> GnResult<Destination> {
        // SAFETY: reads a backend global set at connection start.
        if unsafe { pg_sys::whereToSendOutput } != pg_sys::CommandDest::DestRemote {
            return Err(GnError::new(
                Code::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("COPY TO STDOUT with FORMAT {format} needs a client connection"),
            ));
        }
        let mut buf: Box<pg_sys::StringInfoData> = Box::new(pg_sys::StringInfoData {
            data: std::ptr::null_mut(),
            len: 0,
            maxlen: 0,
            cursor: 0,
        });
        // SAFETY: initialises the buffer we own, in the current memory context.
        unsafe { pg_sys::initStringInfo(buf.as_mut()) };
        Ok(Destination::Client(buf))
    }

    /// A server file (progress type FILE) rather than the client (CALLBACK).
    pub fn is_file(&self) -> bool {
        !matches!(self, Destination::Client(_))
    }

    /// Tells the client a COPY of `natts` text columns begins (CopyOutResponse).
    pub fn begin(&mut self, natts: usize) {
        if let Destination::Client(_) = self {
            let natts = natts.min(u16::MAX as usize) as u16;
            // SAFETY: builds and sends one protocol message in a buffer of its own, as
            // core COPY's SendCopyBegin does.
            unsafe {
                let mut buf = pg_sys::StringInfoData {
                    data: std::ptr::null_mut(),
                    len: 0,
                    maxlen: 0,
                    cursor: 0,
                };
                pg_sys::pq_beginmessage(&mut buf, b'H' as c_char);
                pg_sys::pq_sendbyte(&mut buf, 0);
                pg_sys::pq_sendint16(&mut buf, natts);
                for _ in 0..natts {
                    pg_sys::pq_sendint16(&mut buf, 0);
                }
                pg_sys::pq_endmessage(&mut buf);
            }
        }
    }

    /// Ends the COPY: CopyDone to the client, or the file published.
    pub fn finish(self) -> GnResult<()> {
        match self {
            Destination::Client(buf) => {
                // SAFETY: frees the buffer initStringInfo allocated, then sends CopyDone.
                unsafe {
                    pg_sys::pfree(buf.data.cast());
                    pg_sys::pq_putemptymessage(b'c' as c_char);
                }
            }
            Destination::File(t, name) => {
                t.publish(&name)?;
            }
            Destination::Device(w) => {
                w.into_inner()
                    .map_err(|e| io_error("cannot write to the COPY target", e.into_error()))?;
            }
        }
        Ok(())
    }
}

impl ByteSink for Destination {
    fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
        match self {
            Destination::Client(buf) => {
                // a block is FLUSH_AT plus one row, and a row may be large: messages of at most
                // 64 MiB, whose length always fits pq_sendbytes' int
                for part in bytes.chunks(64 << 20) {
                    // SAFETY: `buf` was initialised by initStringInfo; the *_reuse calls keep
                    // its allocation from one CopyData message to the next; `part` is at most
                    // 64 MiB.
                    unsafe {
                        pg_sys::pq_beginmessage_reuse(buf.as_mut(), b'd' as c_char);
                        pg_sys::pq_sendbytes(buf.as_mut(), part.as_ptr().cast(), part.len() as i32);
                        pg_sys::pq_endmessage_reuse(buf.as_mut());
                    }
                }
                Ok(())
            }
            Destination::File(t, _) => t.write(bytes),
            Destination::Device(w) => w
                .write_all(bytes)
                .map_err(|e| io_error("cannot write to the COPY target", e)),
        }
    }
}

/// Where `COPY ... TO 'path'` writes: a device or a FIFO in place, anything else through a
/// temporary file in the same directory, renamed over the name at the end. Like core COPY, the
/// path is the privileged caller's choice, so links in it are followed.
fn file(path: &Path) -> GnResult<Destination> {
    if !path.is_absolute() {
        return Err(GnError::new(
            Code::ERRCODE_INVALID_NAME,
            "relative path not allowed for COPY to file",
        ));
    }
    if let Ok(m) = std::fs::metadata(path) {
        if !m.is_file() && !m.is_dir() {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| io_error(&format!("cannot open {}", path.display()), e))?;
            return Ok(Destination::Device(BufWriter::with_capacity(1 << 18, file)));
        }
    }
    let dir = Dir::open(path.parent().unwrap_or(Path::new("/")))?;
    let name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Destination::File(dir.create_temp(&name)?, name))
}
