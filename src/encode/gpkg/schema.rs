//! The GeoPackage's tables: the mandatory ones with the export's SRS from PostGIS, the feature
//! table and its R-tree, and, once the rows are in, the layer's registration (contents with
//! its extent, geometry column, the R-tree extension and its standard triggers, GDAL's feature
//! count).

use super::sqlite_error;
use crate::error::GnResult;
use crate::relation::SpatialRef;
use crate::spi::ident as q;
use rusqlite::Connection;

/// A `gpkg_spatial_ref_sys` row of an SRS as PostGIS defines it: name, organization, its id
/// there, definition (NONE, the SRID, `undefined` for what PostGIS leaves out).
fn srs(r: &SpatialRef) -> (String, String, i32, String) {
    (
        format!("EPSG:{}", r.srid),
        r.auth_name.clone().unwrap_or_else(|| "NONE".into()),
        r.auth_srid.unwrap_or(r.srid),
        r.srtext.clone().unwrap_or_else(|| "undefined".into()),
    )
}

/// The mandatory tables (GeoPackage 1.2 §1.1), with the undefined SRSs, EPSG:4326 and the
/// layer's own SRS.
pub fn create_core(db: &Connection, srid: i32, spatial_refs: &[SpatialRef]) -> GnResult<()> {
    db.execute_batch(
        "PRAGMA page_size = 65536;          -- rows of 70 columns: dozens per page, not two
         PRAGMA application_id = 1196444487; -- 'GPKG'
         PRAGMA user_version = 10200;        -- 1.2.0
         PRAGMA journal_mode = OFF;
         PRAGMA synchronous = OFF;
         PRAGMA cache_size = -98304;         -- 96 MiB: R-tree pages are not read back
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
    .map_err(|e| sqlite_error("schema", e))?;
    // the spec wants -1, 0 and EPSG:4326 always, then the export's own SRS
    let mut srs_ids = vec![4326];
    if srid > 0 && srid != 4326 {
        srs_ids.push(srid);
    }
    for id in srs_ids {
        let known = spatial_refs.iter().find(|r| r.srid == id);
        let (name, org, org_id, definition) = srs(known.unwrap_or(&SpatialRef {
            srid: id,
            auth_name: None,
            auth_srid: None,
            srtext: None,
        }));
        db.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            rusqlite::params![name, id, org, org_id, definition],
        )
        .map_err(|e| sqlite_error("srs", e))?;
    }
    Ok(())
}

/// The feature table (`fid`, the geometry, then the typed columns) and its R-tree; returns
/// the INSERT of a row, whose parameters are the geometry then the columns in `columns` order.
pub fn create_layer(
    db: &Connection,
    layer: &str,
    geometry: (&str, &str),
    columns: &[(String, &str)],
) -> GnResult<String> {
    let (geom_name, geom_type) = geometry;
    let mut defs = vec![
        "fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL".to_string(),
        format!("{} {geom_type}", q(geom_name)),
    ];
    let mut names = vec![q(geom_name)];
    for (name, typ) in columns {
        defs.push(format!("{} {typ}", q(name)));
        names.push(q(name));
    }
    db.execute_batch(&format!(
        "CREATE TABLE {} ({});
         CREATE VIRTUAL TABLE {} USING rtree(id, minx, maxx, miny, maxy);",
        q(layer),
        defs.join(", "),
        rtree_table(layer, geom_name)
    ))
    .map_err(|e| sqlite_error("table", e))?;
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    Ok(format!(
        "INSERT INTO {} ({}) VALUES ({})",
        q(layer),
        names.join(", "),
        placeholders.join(", ")
    ))
}

pub fn rtree_table(layer: &str, geom_name: &str) -> String {
    q(&format!("rtree_{layer}_{geom_name}"))
}

/// The layer's `last_change` until [`stamp`] sets it: the same 24 characters as a real time, so
/// that stamping rewrites the value in place and the rest of the file stays as it was.
const UNSTAMPED: &str = "0000-00-00T00:00:00.000Z";

/// Sets the layer's `last_change` (ISO 8601, UTC, milliseconds), or the time now.
pub fn stamp(db: &Connection, layer: &str, at: Option<&str>) -> GnResult<String> {
    db.query_row(
        "UPDATE gpkg_contents SET last_change = coalesce(?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
          WHERE table_name = ?1 RETURNING last_change",
        rusqlite::params![layer, at],
        |r| r.get(0),
    )
    .map_err(|e| sqlite_error("last_change", e))
}

/// What gpkg_contents and gpkg_geometry_columns say of the layer.
pub struct LayerInfo<'a> {
    pub layer: &'a str,
    pub identifier: &'a str,
    pub description: &'a str,
    pub geom_name: &'a str,
    pub geom_type: &'a str,
    pub z: i32,
    pub srid: i32,
    /// [min x, max x, min y, max y]
    pub extent: [f64; 4],
    /// rows in the feature table
    pub features: i64,
}

/// Registers the filled layer: its contents row with the extent, its geometry column, the
/// R-tree extension and the standard triggers that keep the index right when others edit the
/// file later (GDAL and QGIS provide the ST_* functions they call; our own rows were indexed
/// as they came), and GDAL's feature count (`gpkg_ogr_contents`, kept by two triggers), which
/// GDAL and QGIS read instead of counting millions of rows at every open.
pub fn register_layer(db: &Connection, l: &LayerInfo) -> GnResult<()> {
    let e = l.extent;
    db.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        rusqlite::params![l.layer, l.identifier, l.description, UNSTAMPED, e[0], e[2], e[1], e[3], l.srid],
    )
    .map_err(|e| sqlite_error("contents", e))?;
    db.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, ?3, ?4, ?5, 0)",
        rusqlite::params![l.layer, l.geom_name, l.geom_type, l.srid, l.z],
    )
    .map_err(|e| sqlite_error("geometry columns", e))?;
    db.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, ?2, 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        rusqlite::params![l.layer, l.geom_name],
    )
    .map_err(|e| sqlite_error("extensions", e))?;
    db.execute_batch(&rtree_triggers(l.layer, l.geom_name, "fid"))
        .map_err(|e| sqlite_error("R-tree triggers", e))?;
    db.execute_batch(
        "CREATE TABLE gpkg_ogr_contents (table_name TEXT NOT NULL PRIMARY KEY, feature_count INTEGER DEFAULT NULL)",
    )
    .map_err(|e| sqlite_error("feature count", e))?;
    db.execute(
        "INSERT INTO gpkg_ogr_contents VALUES (?1, ?2)",
        rusqlite::params![l.layer, l.features],
    )
    .map_err(|e| sqlite_error("feature count", e))?;
    db.execute_batch(&count_triggers(l.layer))
        .map_err(|e| sqlite_error("feature count triggers", e))
}

/// GDAL's triggers that keep `gpkg_ogr_contents` right when others add or remove features.
fn count_triggers(t: &str) -> String {
    let literal = format!("'{}'", t.replace('\'', "''"));
    let tq = q(t);
    format!(
        "CREATE TRIGGER {ins} AFTER INSERT ON {tq} BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1
           WHERE lower(table_name) = lower({literal}); END;
         CREATE TRIGGER {del} AFTER DELETE ON {tq} BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1
           WHERE lower(table_name) = lower({literal}); END;",
        ins = q(&format!("trigger_insert_feature_count_{t}")),
        del = q(&format!("trigger_delete_feature_count_{t}")),
    )
}

/// The R-tree's triggers of GeoPackage 1.2, as GDAL 3.6 writes them (its validate_gpkg.py
/// requires update1 to update4 by name; GeoPackage 1.4's update5 to update7 would fail it).
fn rtree_triggers(t: &str, c: &str, i: &str) -> String {
    let name = |s: &str| q(&format!("rtree_{t}_{c}_{s}"));
    let (tq, cq, iq, r) = (q(t), q(c), q(i), rtree_table(t, c));
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
