//! The GeoParquet writer from the facts generate() gives it to a file, read back with the
//! parquet crate's own reader.

use crate::encode::testing::{dataset, layout, point, view_column, write, write_with, Knobs};
use crate::encode::{Format, Value};
use crate::relation::ColumnType;
use crate::settings::GeoParquetVersion;
use parquet::basic::LogicalType;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

#[test]
fn rows_geometry_covering_and_geo_metadata() {
    let types = vec![
        view_column("id_synthese", "integer", ColumnType::Int4),
        view_column("nom_cite", "text", ColumnType::Text),
        view_column("date_min", "date", ColumnType::Date),
        view_column("the_geom", "geometry(Point,4326)", ColumnType::Geometry),
    ];
    let layout = layout(&types, Some("the_geom"), Some("id_synthese"));
    let (p1, p2) = (point(6.5, 44.5), point(7.25, 45.0));
    let rows = vec![
        vec![
            Value::Int(1),
            Value::Text("Lynx boréal"),
            Value::Date(9_473),
            Value::Wkb(&p1),
        ],
        vec![Value::Int(2), Value::Null, Value::Null, Value::Null],
        vec![
            Value::Int(3),
            Value::Text("Aigle"),
            Value::Date(0),
            Value::Wkb(&p2),
        ],
    ];
    let file = write(
        Format::Parquet,
        &dataset("id_synthese"),
        &types,
        &layout,
        4326,
        &rows,
    )
    .unwrap();
    let reader = SerializedFileReader::new(std::fs::File::open(file.path()).unwrap()).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 3);
    let geo = geo_of(&reader);
    assert_eq!(geo["primary_column"], "the_geom");
    let column = &geo["columns"]["the_geom"];
    assert_eq!(column["encoding"], "WKB");
    assert_eq!(column["geometry_types"], serde_json::json!(["Point"]));
    assert_eq!(column["bbox"], serde_json::json!([6.5, 44.5, 7.25, 45.0]));
    // EPSG:4326 rows: no crs key, which means OGC:CRS84
    assert!(column.get("crs").is_none());
    assert_eq!(
        column["covering"]["bbox"]["xmin"],
        serde_json::json!(["bbox", "xmin"])
    );

    let read: Vec<Vec<(String, Field)>> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| {
            r.unwrap()
                .get_column_iter()
                .map(|(n, f)| (n.clone(), f.clone()))
                .collect()
        })
        .collect();
    assert_eq!(read.len(), 3);
    let names: Vec<&str> = read[0].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["id_synthese", "nom_cite", "date_min", "the_geom", "bbox"]
    );
    assert_eq!(read[0][0].1, Field::Int(1));
    assert_eq!(read[0][1].1, Field::Str("Lynx boréal".into()));
    // Parquet's DATE counts days from 1970-01-01
    assert_eq!(read[0][2].1, Field::Date(9_473 + 10_957));
    match &read[0][3].1 {
        Field::Bytes(b) => assert_eq!(b.data(), p1.as_slice()),
        f => panic!("the geometry as {f:?}"),
    }
    assert_eq!(read[1][1].1, Field::Null);
    assert_eq!(read[1][3].1, Field::Null);
    assert_eq!(read[1][4].1, Field::Null);
    match &read[2][4].1 {
        Field::Group(b) => {
            let bbox: Vec<(String, Field)> = b
                .get_column_iter()
                .map(|(n, f)| (n.clone(), f.clone()))
                .collect();
            assert_eq!(
                bbox,
                [
                    ("xmin".to_string(), Field::Double(7.25)),
                    ("ymin".to_string(), Field::Double(45.0)),
                    ("xmax".to_string(), Field::Double(7.25)),
                    ("ymax".to_string(), Field::Double(45.0)),
                ]
            );
        }
        f => panic!("the covering as {f:?}"),
    }
}

#[test]
fn a_value_its_column_cannot_take_names_the_export_the_row_and_the_column() {
    let types = vec![
        view_column("id_synthese", "integer", ColumnType::Int4),
        view_column("the_geom", "geometry(Point,4326)", ColumnType::Geometry),
    ];
    let layout = layout(&types, Some("the_geom"), Some("id_synthese"));
    let rows = vec![vec![Value::Text("not an integer"), Value::Null]];
    let e = write(
        Format::Parquet,
        &dataset("id_synthese"),
        &types,
        &layout,
        4326,
        &rows,
    )
    .err()
    .unwrap();
    assert_eq!(e.code, pgrx::PgSqlErrorCode::ERRCODE_DATA_EXCEPTION);
    assert!(
        e.message
            .starts_with("export \"Faune\" (id 7), feature id not an integer: column id_synthese:"),
        "{}",
        e.message
    );
}

/// The geo metadata of a file written by [`write_with`].
fn geo_of(reader: &SerializedFileReader<std::fs::File>) -> serde_json::Value {
    let geo = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .iter()
        .find(|kv| kv.key == "geo")
        .and_then(|kv| kv.value.clone())
        .unwrap();
    serde_json::from_str(&geo).unwrap()
}

#[test]
fn version_2_0_native_geometry_type_statistics_and_no_covering() {
    let types = vec![
        view_column("id_synthese", "integer", ColumnType::Int4),
        view_column("the_geom", "geometry(Point,4326)", ColumnType::Geometry),
    ];
    let layout = layout(&types, Some("the_geom"), Some("id_synthese"));
    let (p1, p2) = (point(6.5, 44.5), point(7.25, 45.0));
    let rows = vec![
        vec![Value::Int(1), Value::Wkb(&p1)],
        vec![Value::Int(2), Value::Null],
        vec![Value::Int(3), Value::Wkb(&p2)],
    ];
    let knobs = Knobs {
        geoparquet_version: GeoParquetVersion::V2_0,
        ..Knobs::default()
    };
    let (file, _) = write_with(
        Format::Parquet,
        &dataset("id_synthese"),
        &types,
        &layout,
        4326,
        &rows,
        knobs,
    )
    .unwrap();
    let reader = SerializedFileReader::new(std::fs::File::open(file.path()).unwrap()).unwrap();
    let geo = geo_of(&reader);
    assert_eq!(geo["version"], "2.0.0");
    let column = &geo["columns"]["the_geom"];
    assert_eq!(column["geometry_types"], serde_json::json!(["Point"]));
    assert_eq!(column["bbox"], serde_json::json!([6.5, 44.5, 7.25, 45.0]));
    assert!(column.get("covering").is_none());
    assert!(column.get("crs").is_none());
    // two columns: no covering column
    let schema = reader.metadata().file_metadata().schema_descr();
    assert_eq!(schema.num_columns(), 2);
    // EPSG:4326: Parquet's GEOMETRY without crs, which is OGC:CRS84 there too
    assert_eq!(
        schema.column(1).logical_type_ref(),
        Some(&LogicalType::geometry(None))
    );
    let chunk = reader.metadata().row_group(0).column(1);
    let stats = chunk.geo_statistics().expect("geospatial statistics");
    let b = stats.bounding_box().unwrap();
    assert_eq!(
        (b.get_xmin(), b.get_ymin(), b.get_xmax(), b.get_ymax()),
        (6.5, 44.5, 7.25, 45.0)
    );
    assert_eq!(stats.geospatial_types(), Some(&vec![1]));
}

#[test]
fn version_2_0_refuses_an_unknown_crs() {
    let types = vec![
        view_column("id_synthese", "integer", ColumnType::Int4),
        view_column("the_geom", "geometry", ColumnType::Geometry),
    ];
    let layout = layout(&types, Some("the_geom"), Some("id_synthese"));
    let knobs = Knobs {
        geoparquet_version: GeoParquetVersion::V2_0,
        ..Knobs::default()
    };
    let e = write_with(
        Format::Parquet,
        &dataset("id_synthese"),
        &types,
        &layout,
        0,
        &[],
        knobs,
    )
    .err()
    .unwrap();
    assert_eq!(
        e.code,
        pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
    );
    assert!(e.message.contains("GeoParquet 2.0"), "{}", e.message);
}
