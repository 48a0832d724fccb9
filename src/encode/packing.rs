//! A format as callers name it: the encoding from the registry, and how its bytes are packed
//! after encoding (`csv`, `csv.gz`). Names, extensions and media types of the packed forms
//! derive from the registry's.

use super::format::{names, Format, Output};
use crate::error::{GnError, GnResult};
pub use crate::sink::compress::Compression;
use pgrx::PgSqlErrorCode as Code;

/// The suffix that asks for gzip, on a format's name and on its files' names.
const GZIP_SUFFIX: &str = ".gz";

/// A format as callers name it: the encoding, and how its bytes are packed (`csv.gz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileFormat {
    pub format: Format,
    pub compression: Compression,
}

impl From<Format> for FileFormat {
    fn from(format: Format) -> FileFormat {
        FileFormat {
            format,
            compression: Compression::None,
        }
    }
}

impl FileFormat {
    /// A format's name or alias, optionally followed by `.gz` for a byte-stream format.
    pub fn parse(name: &str) -> Option<FileFormat> {
        match strip_gzip(name) {
            Some(base) => Format::parse(base)
                .filter(|f| f.streams())
                .map(|format| FileFormat {
                    format,
                    compression: Compression::Gzip,
                }),
            None => Format::parse(name).map(FileFormat::from),
        }
    }

    /// Parses a format name for a file or a byte stream (`run_bytes()`): anything
    /// [`Format::parse_for`] takes, and every byte-stream format followed by `.gz`.
    pub fn parse_for(name: &str, streamed: bool) -> GnResult<FileFormat> {
        if let Some(base) = strip_gzip(name) {
            if let Some(f) = Format::parse(base).filter(|f| !f.streams()) {
                return Err(GnError::new(
                    Code::ERRCODE_INVALID_PARAMETER_VALUE,
                    format!(
                        "{name}: {} is a file format of its own; gzip applies to text formats",
                        f.name()
                    ),
                )
                .hint(format!(
                    "Use '{}', or one of {} followed by .gz.",
                    f.name(),
                    names(|s| matches!(s.output, Output::Text(_)))
                )));
            }
        }
        match (strip_gzip(name), FileFormat::parse(name)) {
            (Some(_), Some(f)) => Ok(f),
            (Some(_), None) => Err(GnError::new(
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("unknown format \"{name}\""),
            )
            .hint(format!(
                "Use one of {} followed by .gz.",
                names(|s| matches!(s.output, Output::Text(_)))
            ))),
            (None, _) => Format::parse_for(name, streamed).map(FileFormat::from),
        }
    }

    /// The format of a file name made by gn_export, and the stem before its extension.
    pub fn of_file_name(name: &str) -> Option<(&str, FileFormat)> {
        match name.strip_suffix(GZIP_SUFFIX) {
            Some(base) => {
                Format::of_file_name(base)
                    .filter(|(_, f)| f.streams())
                    .map(|(stem, format)| {
                        (
                            stem,
                            FileFormat {
                                format,
                                compression: Compression::Gzip,
                            },
                        )
                    })
            }
            None => Format::of_file_name(name).map(|(stem, f)| (stem, f.into())),
        }
    }

    /// The canonical name: `csv`, `csv.gz`.
    pub fn name(self) -> String {
        self.with_suffix(self.format.name())
    }

    /// The file name extension, without the first dot: `csv`, `csv.gz`.
    pub fn extension(self) -> String {
        self.with_suffix(self.format.extension())
    }

    pub fn media_type(self) -> &'static str {
        match self.compression {
            Compression::None => self.format.spec().media_type,
            Compression::Gzip => "application/gzip",
        }
    }

    /// A name or extension of the format as packed: `base` with `.gz` for gzip.
    pub fn with_suffix(self, base: &str) -> String {
        match self.compression {
            Compression::None => base.to_string(),
            Compression::Gzip => format!("{base}{GZIP_SUFFIX}"),
        }
    }
}

/// The name before a `.gz` suffix, in any case.
fn strip_gzip(name: &str) -> Option<&str> {
    let cut = name.len().checked_sub(GZIP_SUFFIX.len())?;
    (name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(GZIP_SUFFIX))
        .then(|| &name[..cut])
}
