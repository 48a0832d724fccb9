//! GeoPackage 1.2 files, written with SQLite (rusqlite, bundled): the mandatory tables, the
//! export's SRS from PostGIS's spatial_ref_sys, a typed feature table with GeoPackage binary
//! geometries (header, envelope, ISO WKB) in the export's own SRID with Z kept, an R-tree
//! spatial index with the standard triggers, and the extent in gpkg_contents. Rows are inserted
//! with one prepared statement in large transactions, as they come from the query.

pub mod binary;
pub mod schema;

use super::{Feature, FileJob, FileWriter, Value};
use crate::error::{GnError, GnResult};
use binary::{column_type, geometry_type, gpkg_geometry, sql_value};
use pgrx::PgSqlErrorCode as Code;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OpenFlags};

/// Rows per SQLite transaction.
const TRANSACTION_ROWS: i64 = 50_000;

pub fn sqlite_error(what: &str, e: rusqlite::Error) -> GnError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
            Code::ERRCODE_DISK_FULL
        }
        _ => Code::ERRCODE_IO_ERROR,
    };
    GnError::new(code, format!("gn_export: GeoPackage {what}: {e}"))
}

pub struct GeoPackage {
    db: Connection,
    /// the export, as errors name it
    export: String,
    feature: Feature,
    srid: i32,
    /// the row's columns in the feature table's order (the geometry first)
    order: Vec<usize>,
    insert: String,
    insert_rtree: String,
    values: Vec<Sql>,
    rows: i64,
    bytes: u64,
    /// [min x, max x, min y, max y] of every geometry so far
    extent: Option<[f64; 4]>,
    layer: String,
    identifier: String,
    description: String,
    geom_name: String,
    geom_type: String,
    z: i32,
}

/// The registry's constructor: the layer is named after the export's file stem, in the SRID
/// every row was transformed to while decoding.
pub fn create(job: &FileJob) -> GnResult<Box<dyn FileWriter>> {
    let plan = job.plan;
    let feature = plan.layout.feature.ok_or_else(|| {
        GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{} has no geometry: gpkg needs one", job.export.name()),
        )
    })?;
    let g = feature.geometry;
    let srid = plan.decoding.feature_srid.target;
    let (geom_type, z) = geometry_type(&plan.types[g]);
    // the file exists (created exclusively by the caller): SQLite opens it without following
    // any link in its path, and without creating anything
    let db = Connection::open_with_flags(
        job.path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sqlite_error("open", e))?;
    schema::create_core(&db, srid)?;
    let geom_name = plan.layout.columns[g].name.clone();
    let mut order = vec![g];
    let mut columns = Vec::new();
    for (i, c) in plan
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
        columns.push((name, column_type(&plan.types[i])));
        order.push(i);
    }
    let insert = schema::create_layer(&db, job.stem, (&geom_name, &geom_type), &columns)?;
    db.execute_batch("BEGIN")
        .map_err(|e| sqlite_error("begin", e))?;
    Ok(Box::new(GeoPackage {
        db,
        export: job.export.name(),
        feature,
        srid,
        insert,
        insert_rtree: format!(
            "INSERT INTO {} VALUES (?1, ?2, ?3, ?4, ?5)",
            schema::rtree_table(job.stem, &geom_name)
        ),
        values: Vec::with_capacity(order.len()),
        order,
        rows: 0,
        bytes: 0,
        extent: None,
        layer: job.stem.to_string(),
        identifier: job.export.label.clone(),
        description: job.export.description.clone().unwrap_or_default(),
        geom_name,
        geom_type,
        z,
    }))
}

impl GeoPackage {
    /// The row's values in table order; returns the geometry's xy envelope.
    fn bind(&mut self, row: &[Value]) -> GnResult<Option<[f64; 4]>> {
        self.values.clear();
        let mut env = None;
        for &i in &self.order {
            if i != self.feature.geometry {
                self.values.push(sql_value(&row[i]));
                continue;
            }
            let bad_row = |e: &dyn std::fmt::Display| {
                GnError::new(
                    Code::ERRCODE_DATA_EXCEPTION,
                    format!("{}, {}: {e}", self.export, self.feature.row_name(row)),
                )
            };
            match &row[i] {
                Value::GeometryError(e) => return Err(bad_row(e)),
                Value::Wkb(wkb) => {
                    let (g, e) = gpkg_geometry(wkb, self.srid).map_err(|e| bad_row(&e))?;
                    self.bytes += g.len() as u64;
                    env = e;
                    self.values.push(Sql::Blob(g));
                }
                _ => self.values.push(Sql::Null),
            }
        }
        Ok(env)
    }
}

impl FileWriter for GeoPackage {
    fn row(&mut self, row: &[Value]) -> GnResult<()> {
        let env = self.bind(row)?;
        let err = |what: &'static str| move |e: rusqlite::Error| sqlite_error(what, e);
        self.db
            .prepare_cached(&self.insert)
            .and_then(|mut s| s.execute(rusqlite::params_from_iter(self.values.iter())))
            .map_err(err("insert"))?;
        if let Some(e) = env {
            let fid = self.db.last_insert_rowid();
            self.db
                .prepare_cached(&self.insert_rtree)
                .and_then(|mut s| s.execute(rusqlite::params![fid, e[0], e[1], e[2], e[3]]))
                .map_err(err("R-tree insert"))?;
            self.extent = Some(match self.extent {
                None => e,
                Some(x) => [
                    x[0].min(e[0]),
                    x[1].max(e[1]),
                    x[2].min(e[2]),
                    x[3].max(e[3]),
                ],
            });
        }
        self.rows += 1;
        if self.rows % TRANSACTION_ROWS == 0 {
            self.db
                .execute_batch("COMMIT; BEGIN")
                .map_err(err("commit"))?;
        }
        Ok(())
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }

    fn finish(self: Box<Self>) -> GnResult<()> {
        let me = *self;
        me.db
            .execute_batch("COMMIT")
            .map_err(|e| sqlite_error("commit", e))?;
        schema::register_layer(
            &me.db,
            &schema::LayerInfo {
                layer: &me.layer,
                identifier: &me.identifier,
                description: &me.description,
                geom_name: &me.geom_name,
                geom_type: &me.geom_type,
                z: me.z,
                srid: me.srid,
                extent: me.extent.unwrap_or([0.0; 4]),
            },
        )?;
        me.db.close().map_err(|(_, e)| sqlite_error("close", e))
    }
}
