//! GeoParquet files, written with the `parquet` crate's column writers (no Arrow): one typed
//! column per view column ([`column`]), the feature geometry as ISO WKB in the export's own
//! SRID (as the GeoPackage: GeoParquet allows any CRS), and the `geo` metadata (version,
//! primary column, encoding, the geometry types and bbox seen in the data, the CRS as PROJJSON
//! made by PROJ, [`crs`]).
//!
//! Two versions of the specification (`gn_export.geoparquet_version`): 1.1 writes the WKB as
//! plain bytes with a bbox covering column (`bbox`: xmin, ymin, xmax, ymax per row, whose
//! row-group statistics let readers skip what lies outside their window); 2.0 annotates the
//! column with Parquet's GEOMETRY logical type (its CRS inline as PROJJSON), and the crate's
//! `geospatial` feature writes each row group's geospatial statistics (bbox and types), which
//! take the covering's place. Rows are buffered column by column up to a row group of
//! [`ROW_GROUP_ROWS`], which a thread of its own encodes, compresses (zstd) and writes while
//! the next one fills: memory stays at a few row groups.

pub mod column;
pub mod crs;
#[cfg(test)]
mod tests;

use super::gpkg::binary::core_types;
use super::wkb::{envelope, geometry_kind};
use super::{ContentVersion, Feature, FileJob, FileWriter, Format, Value};
use crate::encode::worker::{Inbox, Worker};
use crate::error::io_error;
use crate::error::{GnError, GnResult};
use crate::settings::GeoParquetVersion;
use column::{kind_of, Column, Kind};
use crs::Crs;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, Type};
use pgrx::PgSqlErrorCode as Code;
use serde_json::{json, Map};
use std::collections::BTreeSet;
use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Rows of a row group: GeoParquet's distribution guide asks for 50,000 to 150,000, so that a
/// reader skips whole groups by their statistics without reading too many footers.
const ROW_GROUP_ROWS: usize = 100_000;
/// Bytes of values buffered before a row group is written, whatever its rows: memory stays at
/// about a group (and the one the encoding thread writes) however wide the rows.
const ROW_GROUP_BYTES: usize = 128 << 20;

/// What the encoding thread is sent.
enum Message {
    /// a row group's columns, the covering's four leaves last
    Group(Vec<Column>),
    /// the `geo` metadata, once every row group is written
    Finish(String),
}

pub struct GeoParquet {
    worker: Worker<Message, ()>,
    /// each column's kind and whether it is a list, to start the next row group
    kinds: Vec<(Kind, bool)>,
    columns: Vec<Column>,
    names: Vec<String>,
    /// GeoParquet 1.1's covering column: its name and its xmin, ymin, xmax, ymax leaves
    covering: Option<(String, [Column; 4])>,
    version: GeoParquetVersion,
    /// the export, as errors name it
    export: String,
    feature: Feature,
    crs: Crs,
    /// geometry types seen (ISO code, Z)
    types: BTreeSet<(u32, bool)>,
    /// the row's feature geometry, as written
    geometry: Vec<u8>,
    /// [min x, min y, max x, max y] of every geometry so far
    bbox: Option<[f64; 4]>,
    rows_in_group: usize,
    /// bytes of the row groups written so far, counted by the thread
    written: Arc<AtomicU64>,
}

fn parquet_error(export: &str, e: ParquetError) -> GnError {
    match e {
        ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(io) => io_error(&format!("{export}: GeoParquet"), *io),
            Err(other) => GnError::new(
                Code::ERRCODE_IO_ERROR,
                format!("{export}: GeoParquet: {other}"),
            ),
        },
        other => GnError::new(
            Code::ERRCODE_IO_ERROR,
            format!("{export}: GeoParquet: {other}"),
        ),
    }
}

/// The registry's constructor: the schema from the view's columns, the file by the job's
/// descriptor (never reopened by its name).
pub fn create(job: &FileJob) -> GnResult<Box<dyn FileWriter>> {
    let export = job.dataset.name.clone();
    // query::plan refused an export without geometry already
    let feature = job.layout.require_feature(Format::Parquet)?;
    let known = job.spatial_refs.iter().find(|r| r.srid == job.srid);
    let crs = crs::of_srid(job.srid, known, &export)?;
    let pq = |e| parquet_error(&export, e);
    let mut fields = Vec::new();
    let mut kinds = Vec::new();
    let mut names = Vec::new();
    let version = job.geoparquet_version;
    for (i, c) in job.layout.columns.iter().enumerate() {
        let (kind, list) = kind_of(&job.types[i], i == feature.geometry);
        fields.push(
            match version {
                GeoParquetVersion::V2_0 if i == feature.geometry => {
                    column::geometry_field(&c.name, crs.parquet_crs(job.srid, &export)?)
                }
                _ => column::field(&c.name, kind, list),
            }
            .map_err(pq)?,
        );
        kinds.push((kind, list));
        names.push(c.name.clone());
    }
    let covering = match version {
        GeoParquetVersion::V1_1 => {
            let name = covering_name(&names);
            fields.push(column::bbox_field(&name).map_err(pq)?);
            Some((name, covering_leaves()))
        }
        GeoParquetVersion::V2_0 => None,
    };
    let schema = Type::group_type_builder("schema")
        .with_fields(fields)
        .build()
        .map_err(pq)?;
    let geometry = ColumnPath::from(names[feature.geometry].as_str());
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(job.zstd_level).map_err(pq)?,
        ))
        .set_created_by(format!("gn_export {}", env!("CARGO_PKG_VERSION")))
        // every geometry differs: a dictionary would only cost time
        .set_column_dictionary_enabled(geometry, false)
        .build();
    let file = job
        .file
        .try_clone()
        .map_err(|e| io_error("GeoParquet", e))?;
    let writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).map_err(pq)?;
    let written = Arc::new(AtomicU64::new(0));
    let counter = written.clone();
    let name = export.clone();
    let worker = Worker::spawn("GeoParquet", 1, job.backend.check_interrupts, move |rx| {
        encode_groups(writer, rx, &counter, &name)
    })?;
    Ok(Box::new(GeoParquet {
        worker,
        columns: kinds.iter().map(|&(k, l)| Column::new(k, l)).collect(),
        kinds,
        names,
        covering,
        version,
        export,
        feature,
        crs,
        types: BTreeSet::new(),
        geometry: Vec::new(),
        bbox: None,
        rows_in_group: 0,
        written,
    }))
}

/// The covering box of an empty geometry: inverted (GEOS's convention), so that no window
/// intersects it and the statistics of xmin's minimum and xmax's maximum are left alone; a
/// covering must be present exactly where the geometry is.
const EMPTY_BOX: [f64; 4] = [
    f64::INFINITY,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NEG_INFINITY,
];

impl GeoParquet {
    fn bad_row(&self, row: &[Value], e: &dyn std::fmt::Display) -> GnError {
        self.feature.row_error(&self.export, row, e)
    }

    /// The row's feature geometry as GeoParquet's WKB (ISO, the seven simple types) into
    /// `self.geometry`, its type and extent recorded for the `geo` metadata; returns its
    /// covering box [xmin, ymin, xmax, ymax], None when the geometry is NULL.
    fn geometry(&mut self, row: &[Value]) -> GnResult<Option<[f64; 4]>> {
        let wkb = match &row[self.feature.geometry] {
            Value::Wkb(w) => w,
            Value::GeometryError(e) => return Err(self.bad_row(row, e)),
            _ => return Ok(None),
        };
        self.geometry.clear();
        self.geometry.extend_from_slice(wkb);
        core_types(&mut self.geometry).map_err(|e| self.bad_row(row, &e))?;
        let kind = geometry_kind(&self.geometry).map_err(|e| self.bad_row(row, &e))?;
        self.types.insert(kind);
        let Some((e, _)) = envelope(&self.geometry).map_err(|e| self.bad_row(row, &e))? else {
            return Ok(Some(EMPTY_BOX));
        };
        let b = [e[0], e[2], e[1], e[3]];
        self.bbox = Some(match self.bbox {
            None => b,
            Some(x) => [
                x[0].min(b[0]),
                x[1].min(b[1]),
                x[2].max(b[2]),
                x[3].max(b[3]),
            ],
        });
        Ok(Some(b))
    }

    /// Hands the row group to the encoding thread and starts the next one.
    fn write_group(&mut self) -> GnResult<()> {
        if self.rows_in_group == 0 {
            return Ok(());
        }
        let fresh = self.kinds.iter().map(|&(k, l)| Column::new(k, l)).collect();
        let mut group = std::mem::replace(&mut self.columns, fresh);
        if let Some((_, leaves)) = &mut self.covering {
            group.extend(std::mem::replace(leaves, covering_leaves()));
        }
        self.rows_in_group = 0;
        self.worker.send(Message::Group(group))
    }

    /// The `geo` file metadata of the file's GeoParquet version.
    fn geo_metadata(&self) -> String {
        let types: Vec<String> = self
            .types
            .iter()
            .map(|&(t, z)| format!("{}{}", type_name(t), if z { " Z" } else { "" }))
            .collect();
        let mut column = Map::new();
        column.insert("encoding".into(), json!("WKB"));
        column.insert("geometry_types".into(), json!(types));
        if let Some(b) = self.bbox {
            column.insert("bbox".into(), json!(b));
        }
        match &self.crs {
            Crs::Default => {}
            Crs::Unknown => {
                column.insert("crs".into(), serde_json::Value::Null);
            }
            Crs::Projjson(p) => {
                column.insert("crs".into(), p.clone());
            }
        }
        if let Some((b, _)) = &self.covering {
            column.insert(
                "covering".into(),
                json!({ "bbox": {
                    "xmin": [b, "xmin"], "ymin": [b, "ymin"], "xmax": [b, "xmax"], "ymax": [b, "ymax"]
                }}),
            );
        }
        let primary = &self.names[self.feature.geometry];
        let version = match self.version {
            GeoParquetVersion::V1_1 => "1.1.0",
            GeoParquetVersion::V2_0 => "2.0.0",
        };
        json!({
            "version": version,
            "primary_column": primary,
            "columns": { primary: column },
        })
        .to_string()
    }
}

/// The covering's four leaves, empty.
fn covering_leaves() -> [Column; 4] {
    std::array::from_fn(|_| Column::new(Kind::Float64, false))
}

/// `bbox`, or with underscores until no view column has that name.
fn covering_name(names: &[String]) -> String {
    let mut name = String::from("bbox");
    while names.iter().any(|n| n == &name) {
        name.push('_');
    }
    name
}

/// GeoParquet's name of an ISO WKB type (after [`core_types`]: the seven simple types).
fn type_name(t: u32) -> &'static str {
    match t {
        1 => "Point",
        2 => "LineString",
        3 => "Polygon",
        4 => "MultiPoint",
        5 => "MultiLineString",
        6 => "MultiPolygon",
        _ => "GeometryCollection",
    }
}

impl FileWriter for GeoParquet {
    fn row(&mut self, row: &[Value]) -> GnResult<()> {
        let bbox = self.geometry(row)?;
        if let Some((_, leaves)) = &mut self.covering {
            for (i, leaf) in leaves.iter_mut().enumerate() {
                let v = bbox.map_or(Value::Null, |b| Value::Float8(b[i]));
                leaf.push(&v).expect("a float column takes floats and NULL");
            }
        }
        let mut buffered = 0;
        for i in 0..self.columns.len() {
            let pushed = match (bbox, i == self.feature.geometry) {
                (Some(_), true) => self.columns[i].push(&Value::Wkb(&self.geometry)),
                (None, true) => self.columns[i].push(&Value::Null),
                _ => self.columns[i].push(&row[i]),
            };
            if let Err(e) = pushed {
                let e = format!("column {}: {e}", self.names[i]);
                return Err(self.bad_row(row, &e));
            }
            buffered += self.columns[i].bytes;
        }
        self.rows_in_group += 1;
        if self.rows_in_group >= ROW_GROUP_ROWS || buffered >= ROW_GROUP_BYTES {
            self.write_group()?;
        }
        Ok(())
    }

    fn bytes(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    fn finish(self: Box<Self>) -> GnResult<Option<ContentVersion>> {
        let mut me = *self;
        me.write_group()?;
        let geo = me.geo_metadata();
        me.worker.send(Message::Finish(geo))?;
        me.worker.finish()?;
        // no clock in a GeoParquet file: nothing to keep from a version
        Ok(None)
    }
}

/// The encoding thread: each row group's columns encoded, compressed and written in schema
/// order, then the footer with the `geo` metadata.
fn encode_groups(
    mut writer: SerializedFileWriter<File>,
    rx: Inbox<Message>,
    written: &AtomicU64,
    export: &str,
) -> GnResult<()> {
    let pq = |e| parquet_error(export, e);
    for message in rx {
        match message {
            Message::Group(mut columns) => {
                let mut group = writer.next_row_group().map_err(pq)?;
                for c in &mut columns {
                    let mut w = group.next_column().map_err(pq)?.ok_or_else(|| {
                        pq(ParquetError::General("more columns than the schema".into()))
                    })?;
                    c.write(w.untyped()).map_err(pq)?;
                    w.close().map_err(pq)?;
                }
                let meta = group.close().map_err(pq)?;
                written.fetch_add(meta.compressed_size() as u64, Ordering::Relaxed);
            }
            Message::Finish(geo) => {
                writer.append_key_value_metadata(KeyValue::new("geo".into(), geo));
                writer.close().map_err(pq)?;
                return Ok(());
            }
        }
    }
    // the backend dropped its side: the file is abandoned
    Ok(())
}
