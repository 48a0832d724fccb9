//! Encoders: one trait, one module per format. They turn decoded rows into bytes and know
//! nothing of PostgreSQL, so they are unit-tested without a database.

pub mod csv;
pub mod datetime;
pub mod dsw;
pub mod dwca;
pub mod format;
pub mod geojson;
pub mod geoparquet;
pub mod gpkg;
pub mod json;
pub mod packing;
pub mod pump;
#[cfg(test)]
pub mod testing;
pub mod tsv;
pub mod value;
pub mod wkb;
pub mod worker;

pub use format::Format;
pub use value::Value;

use crate::error::{GnError, GnResult};
use crate::relation::{SpatialRef, ViewColumn};
use crate::settings::GeoParquetVersion;
use std::path::Path;

/// A byte-stream format: header, then one piece per row, then footer; concatenated, the file.
pub trait Encoder {
    fn header(&mut self, out: &mut Vec<u8>);
    fn row(&mut self, values: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError>;
    fn footer(&mut self, out: &mut Vec<u8>);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(pub String);

/// What a byte-stream encoder is told about the rows: their columns and, for a format made of
/// features, where the feature's geometry and id are.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub columns: Vec<Column>,
    pub feature: Option<Feature>,
    /// `gn_export.csv_separator` as the statement found it (encoders read no setting; the CSV
    /// encoder checks it)
    pub csv_separator: String,
}

impl Layout {
    /// The feature, or the error of a feature format given rows without a geometry.
    pub fn require_feature(&self, format: Format) -> GnResult<Feature> {
        self.feature.ok_or_else(|| {
            crate::error::GnError::new(
                pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("{} needs a geometry column", format.name()),
            )
        })
    }
}

/// What a container writer is told of the export it writes: facts, not the catalog's row.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// how messages name the export: `export "label" (id N)`
    pub name: String,
    pub label: String,
    pub description: Option<String>,
    pub licence_name: Option<String>,
    pub licence_url: Option<String>,
    /// the view's key column
    pub key: String,
    /// a Darwin Core Archive's metadata: its package id (a UUID stable for the database and the
    /// export; the writer adds the data's version), the generation's date (when the rows carry
    /// none), and who publishes it
    pub package_id: String,
    pub pub_date: String,
    pub organization: String,
    pub email: Option<String>,
}

/// What a container writer may ask of the backend that runs it. generate() gives the server's
/// own; writers name no server symbol themselves, so that plain `cargo test`s run them.
#[derive(Clone, Copy)]
pub struct Backend {
    /// raises the pending cancel, if any: called while a writer waits for its thread
    pub check_interrupts: fn(),
    /// sends a WARNING to the client
    pub warning: fn(&str),
}

/// A version of a published file's content: a hash of its bytes but the time it is stamped
/// with, and that time (ISO 8601, UTC, milliseconds: `2026-12-07T03:00:00.000Z`), when this
/// content was first published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentVersion {
    pub hash: String,
    pub since: String,
}

/// A container file to write: where, of which dataset, with which columns.
pub struct FileJob<'a> {
    pub dataset: &'a Dataset,
    /// the columns in row order, and the feature
    pub layout: &'a Layout,
    /// the columns' types, in the same order
    pub types: &'a [ViewColumn],
    /// the SRID every feature geometry was transformed to while decoding
    pub srid: i32,
    /// the definitions of EPSG:4326 and of that SRID (`relation::spatial_ref`)
    pub spatial_refs: &'a [SpatialRef],
    /// the export's file stem: the name of a GeoPackage's layer
    pub stem: &'a str,
    /// a fresh, empty file created exclusively for the writer, by its path (for SQLite)...
    pub path: &'a Path,
    /// ... and as an open file (for writers that take one: never reopened by its name)
    pub file: &'a std::fs::File,
    /// whether the rows come ordered by the export's key (`Dataset::key`): then equal keys
    /// are next to each other, and a writer can tell a repeated one as it streams
    pub rows_in_key_order: bool,
    /// Some for a published file, a version of the export: the version published before under
    /// the same name, if any. A writer that stamps its file with a time keeps that version's
    /// time when its content is the same, so that unchanged data gives the same bytes.
    pub versioning: Option<Option<ContentVersion>>,
    /// the zstd level of a format that compresses with it (GeoParquet), 1 to 22
    pub zstd_level: i32,
    /// the GeoParquet specification a GeoParquet file follows
    pub geoparquet_version: GeoParquetVersion,
    pub backend: Backend,
}

/// A container format (not a byte stream): created at a path, given the rows, then finished.
/// It raises its own errors, naming the export and the row.
pub trait FileWriter {
    fn row(&mut self, values: &[Value]) -> GnResult<()>;
    /// Bytes of content so far, for progress reports (the file's final size may differ).
    fn bytes(&self) -> u64;
    /// Completes and closes the file; the version of its content when the writer stamps the
    /// file with a time and the job asked for versioning.
    fn finish(self: Box<Self>) -> GnResult<Option<ContentVersion>>;
}

/// What an encoder is told about a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// a geometry or geography column
    pub geometry: bool,
}

/// Where the GeoJSON encoders find the feature geometry and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub geometry: usize,
    pub id: Option<usize>,
    pub decimals: usize,
}

impl Feature {
    /// How an error names a row: its feature id, when the export has one.
    pub fn row_name(&self, values: &[Value]) -> String {
        let mut t = Vec::new();
        match self.id.and_then(|i| values.get(i)) {
            Some(v) if value::write_text(v, &mut t) => {
                format!("feature id {}", String::from_utf8_lossy(&t))
            }
            _ => "a feature without id".to_string(),
        }
    }

    /// The error (22000) of a row a writer cannot take, naming the export and the row.
    pub fn row_error(&self, export: &str, values: &[Value], e: &dyn std::fmt::Display) -> GnError {
        GnError::new(
            pgrx::PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("{export}, {}: {e}", self.row_name(values)),
        )
    }
}

/// Test helper: plain (non-geometry) columns of these names.
#[cfg(test)]
pub fn columns(names: &[&str]) -> Vec<Column> {
    names
        .iter()
        .map(|n| Column {
            name: n.to_string(),
            geometry: false,
        })
        .collect()
}

/// Test helper: the whole output of an encoder for these rows.
#[cfg(test)]
pub fn encode_all(e: &mut dyn Encoder, rows: &[&[Value]]) -> String {
    let mut out = Vec::new();
    e.header(&mut out);
    for r in rows {
        e.row(r, &mut out).unwrap();
    }
    e.footer(&mut out);
    String::from_utf8(out).unwrap()
}

/// Test helper: bytes from a hex string (WKB test vectors).
#[cfg(test)]
pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
