//! The GeoPackage writer from the facts generate() gives it to a file, read back with SQLite.

use crate::encode::testing::{dataset, layout, point, view_column, write};
use crate::encode::{Format, Value};
use crate::relation::ColumnType;
use rusqlite::Connection;

/// A feature row as SQLite gives it back: id_synthese, nom_cite, date_min, fid_, the_geom.
type Feature = (i64, Option<String>, Option<String>, i64, Option<Vec<u8>>);

fn types() -> Vec<crate::relation::ViewColumn> {
    vec![
        view_column("id_synthese", "integer", ColumnType::Int4),
        view_column("nom_cite", "character varying(1000)", ColumnType::Text),
        view_column("date_min", "date", ColumnType::Date),
        view_column("fid", "bigint", ColumnType::Int8),
        view_column("the_geom", "geometry(Point,4326)", ColumnType::Geometry),
    ]
}

#[test]
fn a_layer_with_its_rows_index_and_extent() {
    let types = types();
    let layout = layout(&types, Some("the_geom"), Some("id_synthese"));
    let (p1, p2) = (point(6.5, 44.5), point(7.25, 45.0));
    let rows = vec![
        vec![
            Value::Int(1),
            Value::Text("Lynx \"boréal\""),
            Value::Date(9_473), // 2025-12-08
            Value::Int(10),
            Value::Wkb(&p1),
        ],
        vec![
            Value::Int(2),
            Value::Null,
            Value::Null,
            Value::Int(11),
            Value::Null,
        ],
        vec![
            Value::Int(3),
            Value::Text("Aigle"),
            Value::Date(0),
            Value::Int(12),
            Value::Wkb(&p2),
        ],
    ];
    let file = write(
        Format::Gpkg,
        &dataset("id_synthese"),
        &types,
        &layout,
        4326,
        &rows,
    )
    .unwrap();
    let db = Connection::open(file.path()).unwrap();
    let application_id: i64 = db
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(application_id, 0x4750_4B47); // "GPKG"
    let read: Vec<Feature> = db
        .prepare("SELECT id_synthese, nom_cite, date_min, fid_, the_geom FROM faune ORDER BY fid")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(read.len(), 3);
    assert_eq!(read[0].1.as_deref(), Some("Lynx \"boréal\""));
    assert_eq!(read[0].2.as_deref(), Some("2025-12-08"));
    assert_eq!((read[1].1.as_deref(), read[1].4.as_ref()), (None, None));
    assert_eq!(read[2].2.as_deref(), Some("2000-01-01"));
    assert_eq!(read[2].3, 12);
    let g = read[0].4.as_ref().unwrap();
    assert_eq!(&g[..4], b"GP\x00\x03");
    assert_eq!(&g[4..8], &4326i32.to_le_bytes());
    // the R-tree holds the envelope of every non-empty geometry, keyed by fid
    let rtree: Vec<(i64, f64, f64)> = db
        .prepare("SELECT id, minx, maxy FROM rtree_faune_the_geom ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rtree, [(1, 6.5, 44.5), (3, 7.25, 45.0)]);
    let (identifier, srs, min_x, max_y): (String, i64, f64, f64) = db
        .query_row(
            "SELECT identifier, srs_id, min_x, max_y FROM gpkg_contents WHERE table_name = 'faune'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (identifier.as_str(), srs, min_x, max_y),
        ("Faune", 4326, 6.5, 45.0)
    );
    let geometry_type: String = db
        .query_row(
            "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE column_name = 'the_geom'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(geometry_type, "POINT");
    // GDAL's feature count, and the triggers of GeoPackage 1.2 and GDAL that keep the R-tree
    // and the count right when others edit the file
    let count: i64 = db
        .query_row(
            "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'faune'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 3);
    let triggers: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        triggers,
        [
            "rtree_faune_the_geom_delete",
            "rtree_faune_the_geom_insert",
            "rtree_faune_the_geom_update1",
            "rtree_faune_the_geom_update2",
            "rtree_faune_the_geom_update3",
            "rtree_faune_the_geom_update4",
            "trigger_delete_feature_count_faune",
            "trigger_insert_feature_count_faune",
        ]
    );
    let ok: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn a_geometry_postgis_could_not_prepare_names_the_export_and_the_row() {
    let types = types();
    let layout = layout(&types, Some("the_geom"), Some("id_synthese"));
    let rows = vec![vec![
        Value::Int(42),
        Value::Null,
        Value::Null,
        Value::Int(1),
        Value::GeometryError("point outside the projection's domain".into()),
    ]];
    let e = write(
        Format::Gpkg,
        &dataset("id_synthese"),
        &types,
        &layout,
        4326,
        &rows,
    )
    .err()
    .unwrap();
    assert_eq!(e.code, pgrx::PgSqlErrorCode::ERRCODE_DATA_EXCEPTION);
    assert_eq!(
        e.message,
        "export \"Faune\" (id 7), feature id 42: point outside the projection's domain"
    );
}

#[test]
fn a_published_version_keeps_its_time_while_its_content_stays_the_same() {
    use crate::encode::testing::{write_with, Knobs};
    use crate::encode::ContentVersion;
    let types = types();
    let layout = layout(&types, Some("the_geom"), Some("id_synthese"));
    let p = point(6.5, 44.5);
    let row = |name| {
        vec![
            Value::Int(1),
            Value::Text(name),
            Value::Date(9_473),
            Value::Int(10),
            Value::Wkb(&p),
        ]
    };
    let publish = |rows: &[Vec<Value>], previous: Option<ContentVersion>| {
        let d = dataset("id_synthese");
        let knobs = Knobs {
            versioning: Some(previous),
            ..Knobs::default()
        };
        let (file, version) =
            write_with(Format::Gpkg, &d, &types, &layout, 4326, rows, knobs).unwrap();
        (std::fs::read(file.path()).unwrap(), version.unwrap())
    };
    let last_change = |bytes: &[u8]| {
        let f = tempfile_with(bytes);
        let db = Connection::open(&f).unwrap();
        let t: String = db
            .query_row("SELECT last_change FROM gpkg_contents", [], |r| r.get(0))
            .unwrap();
        std::fs::remove_file(&f).unwrap();
        t
    };
    let (first, v1) = publish(&[row("Lynx")], None);
    assert_eq!(last_change(&first), v1.since);
    assert_eq!(v1.since.len(), "2026-12-07T03:00:00.000Z".len());
    // a time that is not now, to tell kept from new
    let old = ContentVersion {
        hash: v1.hash.clone(),
        since: "2020-01-02T03:04:05.678Z".into(),
    };
    let (again, v2) = publish(&[row("Lynx")], Some(old.clone()));
    assert_eq!(v2, old, "same content: the previous version's time is kept");
    let (again2, _) = publish(&[row("Lynx")], Some(old.clone()));
    assert_eq!(again, again2, "same content, same time: the same bytes");
    assert_eq!(last_change(&again), "2020-01-02T03:04:05.678Z");
    let (changed, v3) = publish(&[row("Aigle")], Some(old.clone()));
    assert_ne!(v3.hash, old.hash);
    assert_ne!(v3.since, old.since, "new content: stamped now");
    assert_eq!(last_change(&changed), v3.since);
    // a user's download is no version: stamped now, nothing reported
    let d = dataset("id_synthese");
    let (_, none) = write_with(
        Format::Gpkg,
        &d,
        &types,
        &layout,
        4326,
        &[row("Lynx")],
        Knobs::default(),
    )
    .unwrap();
    assert_eq!(none, None);
}

/// A copy of `bytes` in a file of its own, for SQLite to open.
fn tempfile_with(bytes: &[u8]) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let p = std::env::temp_dir().join(format!(
        "gn_export_gpkg_version_{}_{}.gpkg",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&p, bytes).unwrap();
    p
}
