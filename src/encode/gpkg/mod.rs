//! GeoPackage 1.2 files, written with SQLite (rusqlite, bundled): the mandatory tables, the
//! export's SRS from PostGIS's spatial_ref_sys, a typed feature table with GeoPackage binary
//! geometries (header, envelope, ISO WKB) in the export's own SRID with Z kept, an R-tree
//! spatial index with the standard triggers, and the extent in gpkg_contents. The backend
//! decodes rows into batches ([`batch`]) while a thread of its own inserts them with two
//! prepared statements in large transactions ([`inserter`]): SQLite's work runs beside the
//! export's query instead of after each row.

pub mod batch;
pub mod binary;
mod inserter;
mod rtree;
pub mod schema;
#[cfg(test)]
mod tests;

use super::{ContentVersion, Feature, FileJob, FileWriter, Format, Value};
use crate::encode::worker::Worker;
use crate::error::{GnError, GnResult};
use batch::Batch;
use binary::{column_type, geometry_type, gpkg_geometry};
use pgrx::PgSqlErrorCode as Code;
use rusqlite::{Connection, OpenFlags};

pub fn sqlite_error(what: &str, e: rusqlite::Error) -> GnError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
            Code::ERRCODE_DISK_FULL
        }
        _ => Code::ERRCODE_IO_ERROR,
    };
    GnError::new(code, format!("gn_export: GeoPackage {what}: {e}"))
}

/// What the SQLite thread is sent.
enum Message {
    Rows(Batch),
    /// the layer's registration, once every row is in
    Finish(Layer),
}

/// gpkg_contents and gpkg_geometry_columns of the layer, owned for the thread.
struct Layer {
    layer: String,
    identifier: String,
    description: String,
    geom_name: String,
    geom_type: String,
    z: i32,
    srid: i32,
    /// FileJob::versioning, and the file to hash for it
    versioning: Option<Option<ContentVersion>>,
    file: std::fs::File,
}

/// The backend's side: rows decoded into batches for the SQLite thread.
pub struct GeoPackage {
    worker: Worker<Message, Option<ContentVersion>>,
    batch: Batch,
    /// the export, as errors name it
    export: String,
    feature: Feature,
    srid: i32,
    /// the row's columns in the feature table's order (the geometry first)
    order: Vec<usize>,
    geometry: Vec<u8>,
    scratch: Vec<u8>,
    bytes: u64,
    layer: Option<Layer>,
}

/// The registry's constructor: the layer is named after the export's file stem, in the SRID
/// every row was transformed to while decoding. The file's tables are made here (the SRS
/// comes from PostGIS); the rows go in on the SQLite thread.
pub fn create(job: &FileJob) -> GnResult<Box<dyn FileWriter>> {
    // query::plan refused an export without geometry already
    let feature = job.layout.require_feature(Format::Gpkg)?;
    let g = feature.geometry;
    let srid = job.srid;
    let (geom_type, z) = geometry_type(&job.types[g]);
    // the file exists (created exclusively by the caller): SQLite opens it without following
    // any link in its path, and without creating anything
    let db = Connection::open_with_flags(
        job.path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sqlite_error("open", e))?;
    schema::create_core(&db, srid, job.spatial_refs)?;
    let geom_name = job.layout.columns[g].name.clone();
    let mut order = vec![g];
    let mut columns = Vec::new();
    for (i, c) in job
        .layout
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != g)
    {
        let mut name = c.name.clone();
        if name.eq_ignore_ascii_case("fid") {
            name.push('_'); // the GeoPackage's own key takes that name
        }
        columns.push((name, column_type(&job.types[i])));
        order.push(i);
    }
    let insert = schema::create_layer(&db, job.stem, (&geom_name, &geom_type), &columns)?;
    let rtree = schema::rtree_table(job.stem, &geom_name);
    // the same open file, for hashing what SQLite wrote: never reopened by its name
    let file = job.file.try_clone().map_err(|e| {
        GnError::new(
            Code::ERRCODE_IO_ERROR,
            format!("gn_export: GeoPackage: {e}"),
        )
    })?;
    let worker = Worker::spawn("GeoPackage", 4, job.backend.check_interrupts, move |rx| {
        inserter::run(db, &insert, &rtree, rx)
    })?;
    Ok(Box::new(GeoPackage {
        worker,
        batch: Batch::default(),
        export: job.dataset.name.clone(),
        feature,
        srid,
        order,
        geometry: Vec::new(),
        scratch: Vec::new(),
        bytes: 0,
        layer: Some(Layer {
            layer: job.stem.to_string(),
            identifier: job.dataset.label.clone(),
            description: job.dataset.description.clone().unwrap_or_default(),
            geom_name,
            geom_type,
            z,
            srid,
            versioning: job.versioning.clone(),
            file,
        }),
    }))
}

impl GeoPackage {
    fn bad_row(&self, row: &[Value], e: &dyn std::fmt::Display) -> GnError {
        self.feature.row_error(&self.export, row, e)
    }

    fn send(&mut self) -> GnResult<()> {
        let batch = std::mem::take(&mut self.batch);
        self.worker.send(Message::Rows(batch))
    }
}

impl FileWriter for GeoPackage {
    fn row(&mut self, row: &[Value]) -> GnResult<()> {
        let envelope = match &row[self.feature.geometry] {
            Value::GeometryError(e) => return Err(self.bad_row(row, e)),
            Value::Wkb(wkb) => {
                let env = gpkg_geometry(wkb, self.srid, &mut self.geometry)
                    .map_err(|e| self.bad_row(row, &e))?;
                self.bytes += self.geometry.len() as u64;
                Some(env)
            }
            _ => None,
        };
        for &i in &self.order {
            if i != self.feature.geometry {
                self.batch.push(&row[i], &mut self.scratch);
            } else if envelope.is_some() {
                self.batch.push_blob(&self.geometry);
            } else {
                self.batch.push_null();
            }
        }
        self.batch.envelopes.push(envelope.flatten());
        if self.batch.full() {
            self.send()?;
        }
        Ok(())
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }

    fn finish(self: Box<Self>) -> GnResult<Option<ContentVersion>> {
        let mut me = *self;
        me.send()?;
        let layer = me.layer.take().expect("finish runs once");
        me.worker.send(Message::Finish(layer))?;
        me.worker.finish()
    }
}
