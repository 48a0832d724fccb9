//! GeoPackage 1.2 files, written with SQLite (rusqlite, bundled): the mandatory tables, the
//! export's SRS from PostGIS's spatial_ref_sys, a typed feature table with GeoPackage binary
//! geometries (header, envelope, ISO WKB) in the export's own SRID with Z kept, an R-tree
//! spatial index with the standard triggers, and the extent in gpkg_contents. Rows are inserted
//! with one prepared statement in large transactions, streaming from the query.

use crate::catalog::export::Export;
use crate::encode::datetime;
use crate::encode::value::write_text;
use crate::encode::wkb::{envelope, WkbError};
use crate::encode::Value;
use crate::error::{GnError, GnResult};
use crate::query::columns::{Category, ViewColumn};
use crate::query::Plan;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Rows per SQLite transaction.
const TRANSACTION_ROWS: i64 = 50_000;

fn sqlite_error(what: &str, e: rusqlite::Error) -> GnError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
            Code::ERRCODE_DISK_FULL
        }
        _ => Code::ERRCODE_IO_ERROR,
    };
    GnError::new(code, format!("gn_export: GeoPackage {what}: {e}"))
}

/// The GeoPackage type of a column (GeoPackage 1.2 §1.1.1.1.3, "Data Types"): integers by size
/// (SMALLINT, MEDIUMINT, INTEGER), floats (FLOAT, DOUBLE), numeric keeps its exact digits as
/// TEXT, booleans are BOOLEAN, dates DATE and DATETIME, JSON and arrays TEXT, bytea BLOB.
pub fn column_type(c: &ViewColumn) -> &'static str {
    match c.category {
        Category::Integer if c.type_name == "smallint" => "SMALLINT",
        Category::Integer if c.type_name == "integer" => "MEDIUMINT",
        Category::Integer => "INTEGER",
        Category::Float if c.type_name == "real" => "FLOAT",
        Category::Float => "DOUBLE",
        Category::Bool => "BOOLEAN",
        Category::Date => "DATE",
        Category::Timestamp | Category::TimestampTz => "DATETIME",
        Category::Other if c.type_name == "bytea" => "BLOB",
        _ => "TEXT",
    }
}

fn gpkg_text(write: impl FnOnce(&mut Vec<u8>) -> bool) -> Sql {
    let mut out = Vec::with_capacity(24);
    if write(&mut out) {
        Sql::Text(String::from_utf8(out).unwrap_or_default())
    } else {
        Sql::Null
    }
}

fn sql_value(v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        Value::Int(i) => Sql::Integer(*i),
        Value::Float8(f) if f.is_finite() => Sql::Real(*f),
        Value::Float4(f) if f.is_finite() => Sql::Real(f64::from(*f)),
        // SQLite turns NaN into NULL itself and GDAL reads ±Infinity back as 0: NULL for all
        // three, never text in a numeric column
        Value::Float8(_) | Value::Float4(_) => Sql::Null,
        // DATE and DATETIME as GDAL reads them without a warning; what ISO 8601's four-digit
        // years cannot hold (infinities, BC, past 9999) is NULL
        Value::Date(d) => gpkg_text(|o| datetime::write_gpkg_date(*d, o)),
        Value::Timestamp(ts) => gpkg_text(|o| datetime::write_gpkg_datetime(*ts, false, o)),
        Value::TimestampTz(local, east) => gpkg_text(|o| {
            datetime::write_gpkg_datetime(local - i64::from(*east) * 1_000_000, true, o)
        }),
        Value::Bytea(b) => Sql::Blob(b.to_vec()),
        Value::Text(s) | Value::Json(s) | Value::Numeric(s) => Sql::Text(s.to_string()),
        other => {
            let mut out = Vec::new();
            write_text(other, &mut out);
            Sql::Text(String::from_utf8_lossy(&out).into_owned())
        }
    }
}

/// Rewrites, in ISO WKB, the types GeoPackage's core lacks into the ones with the same layout:
/// a polyhedral surface or a TIN is a multipolygon, a triangle a polygon.
pub fn core_types(wkb: &mut [u8]) -> Result<(), WkbError> {
    fn walk(b: &mut [u8], pos: &mut usize) -> Result<(), WkbError> {
        let trunc = || WkbError("truncated WKB".into());
        let le = *b.get(*pos).ok_or_else(trunc)? == 1;
        let get = |b: &[u8], at: usize| -> Result<u32, WkbError> {
            let v: [u8; 4] = b
                .get(at..at + 4)
                .ok_or_else(trunc)?
                .try_into()
                .expect("4 bytes");
            Ok(if le {
                u32::from_le_bytes(v)
            } else {
                u32::from_be_bytes(v)
            })
        };
        let raw = get(b, *pos + 1)?;
        let (dims, t) = (raw / 1000, raw % 1000);
        let new = match t {
            15 | 16 => 6,
            17 => 3,
            t => t,
        };
        if new != t {
            let v = dims * 1000 + new;
            let bytes = if le { v.to_le_bytes() } else { v.to_be_bytes() };
            b[*pos + 1..*pos + 5].copy_from_slice(&bytes);
        }
        *pos += 5;
        let coord = 8 * match dims {
            1 | 2 => 3,
            3 => 4,
            _ => 2,
        };
        let n = get(b, *pos)? as usize;
        match new {
            1 => *pos += coord, // a point has no count: `n` above was its x
            2 => *pos += 4 + n * coord,
            3 => {
                *pos += 4;
                for _ in 0..n {
                    let m = get(b, *pos)? as usize;
                    *pos += 4 + m * coord;
                }
            }
            4..=7 => {
                *pos += 4;
                for _ in 0..n {
                    walk(b, pos)?;
                }
            }
            t => return Err(WkbError(format!("WKB type {t} has no GeoPackage form"))),
        }
        if *pos > b.len() {
            return Err(trunc());
        }
        Ok(())
    }
    walk(wkb, &mut 0)
}

/// GeoPackage binary geometry: magic, version, flags (little endian, envelope xy or xyz, empty),
/// srs_id, envelope, then the ISO WKB PostGIS made. Returns the xy envelope for the R-tree.
pub fn gpkg_geometry(wkb: &[u8], srs_id: i32) -> Result<(Vec<u8>, Option<[f64; 4]>), WkbError> {
    let env = envelope(wkb)?;
    let mut out = Vec::with_capacity(wkb.len() + 56);
    out.extend_from_slice(b"GP");
    out.push(0);
    let flags: u8 = match env {
        None => 0b0001_0001,             // empty, no envelope, little endian
        Some((_, false)) => 0b0000_0011, // envelope [minx, maxx, miny, maxy]
        Some((_, true)) => 0b0000_0101,  // envelope [minx, maxx, miny, maxy, minz, maxz]
    };
    out.push(flags);
    out.extend_from_slice(&srs_id.to_le_bytes());
    if let Some((e, z)) = env {
        for v in &e[..if z { 6 } else { 4 }] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    let start = out.len();
    out.extend_from_slice(wkb);
    core_types(&mut out[start..])?;
    Ok((out, env.map(|(e, _)| [e[0], e[1], e[2], e[3]])))
}

fn q(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The SRS definition PostGIS has for `srid`, from PostGIS's own `spatial_ref_sys` (found
/// through its extension's schema: a relation of that name in the caller's path is not it).
fn srs(srid: i32) -> GnResult<(String, String, i32, String)> {
    let pg = crate::query::columns::postgis_schema()?;
    let row = Spi::get_three_with_args::<String, i32, String>(
        &format!(
            "SELECT coalesce(auth_name, 'NONE')::text, coalesce(auth_srid, $1), coalesce(srtext, 'undefined')
               FROM {pg}.spatial_ref_sys WHERE srid = $1"
        ),
        &[srid.into()],
    );
    let (org, id, def) = match row {
        Ok((Some(o), Some(i), Some(d))) => (o, i, d),
        _ => ("NONE".into(), srid, "undefined".into()),
    };
    Ok((format!("EPSG:{srid}"), org, id, def))
}

/// Writes the GeoPackage at `path` (a fresh file) from the planned query.
pub fn write(
    export: &Export,
    layer: &str,
    plan: &Plan,
    path: &Path,
    mut on_progress: impl FnMut(i64, i64),
) -> GnResult<(i64, i64)> {
    let feature = plan.feature.ok_or_else(|| {
        GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{} has no geometry: gpkg needs one", export.name()),
        )
    })?;
    let geom_index = feature.geometry;
    // the layer's SRS: every row was transformed to it while decoding
    let srid = plan.decoding.feature_srid.target;
    let geom_col = &plan.types[geom_index];
    let (type_name, z) = geometry_type(geom_col);
    let (srs_name, org, org_id, definition) = srs(srid)?;

    // the file exists (created exclusively by the caller): SQLite opens it without following
    // any link in its path, and without creating anything
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sqlite_error("open", e))?;
    let err = |what: &'static str| move |e: rusqlite::Error| sqlite_error(what, e);
    db.execute_batch(
        "PRAGMA application_id = 1196444487; -- 'GPKG'
         PRAGMA user_version = 10200;        -- 1.2.0
         PRAGMA journal_mode = OFF;
         PRAGMA synchronous = OFF;
         CREATE TABLE gpkg_spatial_ref_sys (
           srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
           organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
         CREATE TABLE gpkg_contents (
           table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
           description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
           min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
           srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (
           table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
           srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
           CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
           CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
           CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
         CREATE TABLE gpkg_extensions (
           table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
           scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));",
    )
    .map_err(err("schema"))?;
    // the spec wants -1, 0 and EPSG:4326 always, then the export's own SRS
    let mut srs_ids = vec![4326];
    if srid > 0 && srid != 4326 {
        srs_ids.push(srid);
    }
    for id in srs_ids {
        let (name, org, org_id, definition) = if id == srid {
            (srs_name.clone(), org.clone(), org_id, definition.clone())
        } else {
            srs(id)?
        };
        db.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            rusqlite::params![name, id, org, org_id, definition],
        )
        .map_err(err("srs"))?;
    }

    // the feature table: fid, the geometry, then the other columns with their types
    let geom_name = &plan.columns[geom_index].name;
    let mut cols = vec![
        format!("fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"),
        format!("{} {}", q(geom_name), type_name),
    ];
    let mut names = vec![q(geom_name)];
    let mut order = vec![geom_index];
    for (i, c) in plan.columns.iter().enumerate() {
        if i == geom_index {
            continue;
        }
        let mut name = c.name.clone();
        if name.eq_ignore_ascii_case("fid") {
            name = format!("{name}_"); // the GeoPackage's own key takes that name
        }
        cols.push(format!("{} {}", q(&name), column_type(&plan.types[i])));
        names.push(q(&name));
        order.push(i);
    }
    let t = q(layer);
    db.execute_batch(&format!("CREATE TABLE {t} ({});", cols.join(", ")))
        .map_err(err("table"))?;
    let rtree = q(&format!("rtree_{layer}_{geom_name}"));
    db.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy);"
    ))
    .map_err(err("R-tree"))?;

    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let insert = format!(
        "INSERT INTO {t} ({}) VALUES ({})",
        names.join(", "),
        placeholders.join(", ")
    );
    let insert_rtree = format!("INSERT INTO {rtree} VALUES (?1, ?2, ?3, ?4, ?5)");
    let (mut rows, mut bytes) = (0i64, 0i64);
    let mut extent: Option<[f64; 4]> = None;
    db.execute_batch("BEGIN").map_err(err("begin"))?;
    {
        let mut ins = db.prepare(&insert).map_err(err("prepare"))?;
        let mut ins_rtree = db.prepare(&insert_rtree).map_err(err("prepare"))?;
        let mut values: Vec<Sql> = Vec::with_capacity(order.len());
        crate::source::run_all(plan, |row| {
            values.clear();
            let mut env = None;
            for &i in &order {
                if i == geom_index {
                    let bad_row = |e: &dyn std::fmt::Display| {
                        GnError::new(
                            Code::ERRCODE_DATA_EXCEPTION,
                            format!("{}, {}: {e}", export.name(), feature.row_name(row)),
                        )
                    };
                    match &row[i] {
                        Value::GeometryError(e) => return Err(bad_row(e)),
                        Value::Wkb(wkb) => {
                            let (g, e) = gpkg_geometry(wkb, srid).map_err(|e| bad_row(&e))?;
                            bytes += g.len() as i64;
                            env = e;
                            values.push(Sql::Blob(g));
                        }
                        _ => values.push(Sql::Null),
                    }
                } else {
                    values.push(sql_value(&row[i]));
                }
            }
            ins.execute(rusqlite::params_from_iter(values.iter()))
                .map_err(err("insert"))?;
            if let Some(e) = env {
                let fid = db.last_insert_rowid();
                ins_rtree
                    .execute(rusqlite::params![fid, e[0], e[1], e[2], e[3]])
                    .map_err(err("R-tree insert"))?;
                extent = Some(match extent {
                    None => e,
                    Some(x) => [
                        x[0].min(e[0]),
                        x[1].max(e[1]),
                        x[2].min(e[2]),
                        x[3].max(e[3]),
                    ],
                });
            }
            rows += 1;
            if rows % TRANSACTION_ROWS == 0 {
                db.execute_batch("COMMIT; BEGIN").map_err(err("commit"))?;
            }
            if rows % 256 == 0 {
                on_progress(rows, bytes);
            }
            Ok(())
        })?;
    }
    db.execute_batch("COMMIT").map_err(err("commit"))?;

    let e = extent.unwrap_or([0.0; 4]);
    db.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![layer, export.label, export.description.clone().unwrap_or_default(), e[0], e[2], e[1], e[3], srid],
    )
    .map_err(err("contents"))?;
    db.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, ?3, ?4, ?5, 0)",
        rusqlite::params![layer, geom_name, type_name, srid, z],
    )
    .map_err(err("geometry columns"))?;
    db.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, ?2, 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        rusqlite::params![layer, geom_name],
    )
    .map_err(err("extensions"))?;
    // the standard triggers keep the index right when others edit the file later (GDAL and
    // QGIS provide the ST_* functions they call); our own rows were indexed as they came
    db.execute_batch(&rtree_triggers(layer, geom_name, "fid"))
        .map_err(err("R-tree triggers"))?;
    db.close().map_err(|(_, e)| sqlite_error("close", e))?;
    Ok((rows, bytes))
}

/// GeoPackage geometry_type_name and z flag from the column's PostGIS type.
fn geometry_type(c: &ViewColumn) -> (String, i32) {
    // format_type gives geometry(PointZ,2154), geometry(Geometry,4326) or plain geometry
    let inner = c
        .type_name
        .split_once('(')
        .map(|(_, r)| r.trim_end_matches(')'))
        .unwrap_or("");
    let ty = inner.split(',').next().unwrap_or("").to_ascii_uppercase();
    let (base, z) = match ty.strip_suffix("ZM").or_else(|| {
        ty.strip_suffix('M')
            .filter(|b| !b.is_empty() && *b != "GEOMETRYZ")
    }) {
        Some(b) => (b.to_string(), ty.ends_with("ZM")),
        None => match ty.strip_suffix('Z') {
            Some(b) => (b.to_string(), true),
            None => (ty.clone(), false),
        },
    };
    // curves arrive linearised, and GeoPackage's core has no TIN, polyhedral surface or triangle
    let base = match base.as_str() {
        "" => "GEOMETRY",
        "CIRCULARSTRING" | "COMPOUNDCURVE" => "LINESTRING",
        "CURVEPOLYGON" | "TRIANGLE" => "POLYGON",
        "MULTICURVE" => "MULTILINESTRING",
        "MULTISURFACE" | "POLYHEDRALSURFACE" | "TIN" => "MULTIPOLYGON",
        b => b,
    }
    .to_string();
    // z: 0 prohibited, 1 mandatory, 2 optional (an unconstrained column may hold either)
    let zflag = if z {
        1
    } else if inner.is_empty() || base == "GEOMETRY" {
        2
    } else {
        0
    };
    (base, zflag)
}

fn rtree_triggers(t: &str, c: &str, i: &str) -> String {
    let name = |s: &str| q(&format!("rtree_{t}_{c}_{s}"));
    let (tq, cq, iq, r) = (q(t), q(c), q(i), q(&format!("rtree_{t}_{c}")));
    format!(
        "CREATE TRIGGER {ins} AFTER INSERT ON {tq} WHEN (new.{cq} NOT NULL AND NOT ST_IsEmpty(NEW.{cq}))
         BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.{iq}, ST_MinX(NEW.{cq}), ST_MaxX(NEW.{cq}), ST_MinY(NEW.{cq}), ST_MaxY(NEW.{cq})); END;
         CREATE TRIGGER {u1} AFTER UPDATE OF {cq} ON {tq} WHEN OLD.{iq} = NEW.{iq} AND (NEW.{cq} NOTNULL AND NOT ST_IsEmpty(NEW.{cq}))
         BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.{iq}, ST_MinX(NEW.{cq}), ST_MaxX(NEW.{cq}), ST_MinY(NEW.{cq}), ST_MaxY(NEW.{cq})); END;
         CREATE TRIGGER {u2} AFTER UPDATE OF {cq} ON {tq} WHEN OLD.{iq} = NEW.{iq} AND (NEW.{cq} ISNULL OR ST_IsEmpty(NEW.{cq}))
         BEGIN DELETE FROM {r} WHERE id = OLD.{iq}; END;
         CREATE TRIGGER {u3} AFTER UPDATE ON {tq} WHEN OLD.{iq} != NEW.{iq} AND (NEW.{cq} NOTNULL AND NOT ST_IsEmpty(NEW.{cq}))
         BEGIN DELETE FROM {r} WHERE id = OLD.{iq};
               INSERT OR REPLACE INTO {r} VALUES (NEW.{iq}, ST_MinX(NEW.{cq}), ST_MaxX(NEW.{cq}), ST_MinY(NEW.{cq}), ST_MaxY(NEW.{cq})); END;
         CREATE TRIGGER {u4} AFTER UPDATE ON {tq} WHEN OLD.{iq} != NEW.{iq} AND (NEW.{cq} ISNULL OR ST_IsEmpty(NEW.{cq}))
         BEGIN DELETE FROM {r} WHERE id IN (OLD.{iq}, NEW.{iq}); END;
         CREATE TRIGGER {del} AFTER DELETE ON {tq} WHEN old.{cq} NOT NULL
         BEGIN DELETE FROM {r} WHERE id = OLD.{iq}; END;",
        ins = name("insert"),
        u1 = name("update1"),
        u2 = name("update2"),
        u3 = name("update3"),
        u4 = name("update4"),
        del = name("delete"),
    )
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::encode::hex;

    fn col(t: &str) -> ViewColumn {
        ViewColumn {
            name: "g".into(),
            type_name: t.into(),
            category: Category::Geometry,
            srid: None,
        }
    }

    #[test]
    fn geometry_types() {
        assert_eq!(
            geometry_type(&col("geometry(Point,2154)")),
            ("POINT".into(), 0)
        );
        assert_eq!(
            geometry_type(&col("geometry(PointZ,2154)")),
            ("POINT".into(), 1)
        );
        assert_eq!(
            geometry_type(&col("geometry(MultiPolygonZM,4326)")),
            ("MULTIPOLYGON".into(), 1)
        );
        assert_eq!(
            geometry_type(&col("geometry(Geometry,4326)")),
            ("GEOMETRY".into(), 2)
        );
        assert_eq!(geometry_type(&col("geometry")), ("GEOMETRY".into(), 2));
    }

    #[test]
    fn tin_and_triangles_become_core_types() {
        // TIN(((0 0,0 1,1 0,0 0))) as ISO WKB, little endian
        let mut w = vec![
            1u8, 16, 0, 0, 0, 1, 0, 0, 0, 1, 17, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0,
        ];
        for (x, y) in [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (0.0, 0.0)] {
            w.extend_from_slice(&f64::to_le_bytes(x));
            w.extend_from_slice(&f64::to_le_bytes(y));
        }
        core_types(&mut w).unwrap();
        assert_eq!((w[1], w[10]), (6, 3));
        // POINT(1 2) untouched
        let mut p = hex("0101000000000000000000f03f0000000000000040");
        core_types(&mut p).unwrap();
        assert_eq!(p, hex("0101000000000000000000f03f0000000000000040"));
    }

    #[test]
    fn binary_geometry() {
        // POINT(1 2)
        let (g, e) =
            gpkg_geometry(&hex("0101000000000000000000f03f0000000000000040"), 2154).unwrap();
        assert_eq!(&g[..4], b"GP\x00\x03");
        assert_eq!(&g[4..8], &2154i32.to_le_bytes());
        assert_eq!(e, Some([1.0, 1.0, 2.0, 2.0]));
        assert_eq!(g.len(), 8 + 32 + 21);
        // POINT EMPTY: the empty flag, no envelope
        let (g, e) =
            gpkg_geometry(&hex("0101000000000000000000f87f000000000000f87f"), 4326).unwrap();
        assert_eq!(g[3], 0b0001_0001);
        assert_eq!((g.len(), e), (8 + 21, None));
    }
}
