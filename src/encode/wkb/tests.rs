//! The WKB reader and GeoJSON writer against WKB that PostGIS 3.3 produced.

use super::*;
use crate::encode::hex;

fn gj(wkb_hex: &str, decimals: usize) -> String {
    let mut out = Vec::new();
    write_geojson(&hex(wkb_hex), CoordFormat { decimals }, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

// The WKB below was produced by PostGIS 3.3 (ST_AsBinary / ST_AsEWKB).
#[test]
fn point_2d_iso_and_ewkb_and_big_endian() {
    // POINT(6.123456789 45.987654321)
    let iso = "01010000008de5dc746b7e18405b39f0746bfe4640";
    assert_eq!(
        gj(iso, 9),
        r#"{"type":"Point","coordinates":[6.123456789,45.987654321]}"#
    );
    assert_eq!(
        gj(iso, 6),
        r#"{"type":"Point","coordinates":[6.123457,45.987654]}"#
    );
    // SRID=4326;POINT(1 2) as EWKB
    assert_eq!(
        gj("0101000020e6100000000000000000f03f0000000000000040", 9),
        r#"{"type":"Point","coordinates":[1,2]}"#
    );
    // POINT(1 2) big endian
    assert_eq!(
        gj("00000000013ff00000000000004000000000000000", 9),
        r#"{"type":"Point","coordinates":[1,2]}"#
    );
}

#[test]
fn z_kept_m_dropped() {
    // ISO POINT Z (1 2 3)
    assert_eq!(
        gj(
            "01e9030000000000000000f03f00000000000000400000000000000840",
            9
        ),
        r#"{"type":"Point","coordinates":[1,2,3]}"#
    );
    // ISO POINT M (1 2 3)
    assert_eq!(
        gj(
            "01d1070000000000000000f03f00000000000000400000000000000840",
            9
        ),
        r#"{"type":"Point","coordinates":[1,2]}"#
    );
    // ISO POINT ZM (1 2 3 4)
    assert_eq!(
        gj(
            "01b90b0000000000000000f03f000000000000004000000000000008400000000000001040",
            9
        ),
        r#"{"type":"Point","coordinates":[1,2,3]}"#
    );
}

#[test]
fn empties_are_null_and_empty_parts_left_out() {
    // POINT EMPTY, LINESTRING EMPTY, POLYGON EMPTY, GEOMETRYCOLLECTION EMPTY
    for e in [
        "0101000000000000000000f87f000000000000f87f",
        "010200000000000000",
        "010300000000000000",
        "010700000000000000",
    ] {
        assert_eq!(gj(e, 9), "null", "{e}");
    }
    // MULTIPOINT((1 2),EMPTY): the point survives (GDAL dropped the whole geometry)
    assert_eq!(
        gj("0104000000020000000101000000000000000000f03f00000000000000400101000000000000000000f87f000000000000f87f", 9),
        r#"{"type":"MultiPoint","coordinates":[[1,2]]}"#
    );
    // GEOMETRYCOLLECTION(POINT EMPTY,POINT(1 2))
    assert_eq!(
        gj("0107000000020000000101000000000000000000f87f000000000000f87f0101000000000000000000f03f0000000000000040", 9),
        r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}"#
    );
}

#[test]
fn rings_follow_rfc7946_orientation() {
    // POLYGON((0 0,0 1,1 1,1 0,0 0),(0.2 0.2,0.4 0.2,0.4 0.4,0.2 0.2)): a clockwise exterior
    // and a counterclockwise hole, both turned
    let mut w = vec![1u8, 3, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0];
    for (x, y) in [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)] {
        w.extend_from_slice(&f64::to_le_bytes(x));
        w.extend_from_slice(&f64::to_le_bytes(y));
    }
    w.extend_from_slice(&[4, 0, 0, 0]);
    for (x, y) in [(0.2, 0.2), (0.4, 0.2), (0.4, 0.4), (0.2, 0.2)] {
        w.extend_from_slice(&f64::to_le_bytes(x));
        w.extend_from_slice(&f64::to_le_bytes(y));
    }
    let mut out = Vec::new();
    write_geojson(&w, CoordFormat { decimals: 9 }, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[0.2,0.2],[0.4,0.4],[0.4,0.2],[0.2,0.2]]]}"#
    );
}

#[test]
fn non_finite_coordinates_are_refused() {
    // POINT(Infinity NaN)
    let mut w = vec![1u8, 1, 0, 0, 0];
    w.extend_from_slice(&f64::INFINITY.to_le_bytes());
    w.extend_from_slice(&f64::NAN.to_le_bytes());
    let err = write_geojson(&w, CoordFormat { decimals: 9 }, &mut Vec::new()).unwrap_err();
    assert!(err.0.contains("not a finite number"), "{}", err.0);
}

#[test]
fn lines_polygons_multis_collections() {
    // LINESTRING(0 0,1 1)
    assert_eq!(
        gj(
            "01020000000200000000000000000000000000000000000000000000000000f03f000000000000f03f",
            9
        ),
        r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#
    );
    // POLYGON((0 0,1 0,1 1,0 0))
    assert_eq!(
        gj("0103000000010000000400000000000000000000000000000000000000000000000000f03f0000000000000000000000000000f03f000000000000f03f00000000000000000000000000000000", 9),
        r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#
    );
    // MULTIPOINT((1 2),(3 4))
    assert_eq!(
        gj("0104000000020000000101000000000000000000f03f0000000000000040010100000000000000000008400000000000001040", 9),
        r#"{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}"#
    );
    // GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))
    assert_eq!(
        gj("0107000000020000000101000000000000000000f03f000000000000004001020000000200000000000000000000000000000000000000000000000000f03f000000000000f03f", 9),
        r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"LineString","coordinates":[[0,0],[1,1]]}]}"#
    );
}

#[test]
fn errors_leave_nothing_behind() {
    let mut out = b"keep".to_vec();
    assert!(write_geojson(
        &hex("0101000000ea0bde"),
        CoordFormat { decimals: 9 },
        &mut out
    )
    .is_err());
    assert_eq!(out, b"keep");
    // CIRCULARSTRING(0 0,1 1,2 0)
    let curve = "01080000000300000000000000000000000000000000000000000000000000f03f000000000000f03f00000000000000400000000000000000";
    let err = write_geojson(&hex(curve), CoordFormat { decimals: 9 }, &mut Vec::new()).unwrap_err();
    assert!(err.0.contains("linearised"));
}

#[test]
fn envelopes() {
    // LINESTRING(0 0,1 1)
    let (e, z) = envelope(&hex(
        "01020000000200000000000000000000000000000000000000000000000000f03f000000000000f03f",
    ))
    .unwrap()
    .unwrap();
    assert_eq!((e[..4].to_vec(), z), (vec![0.0, 1.0, 0.0, 1.0], false));
    // POINT Z (1 2 3)
    let (e, z) = envelope(&hex(
        "01e9030000000000000000f03f00000000000000400000000000000840",
    ))
    .unwrap()
    .unwrap();
    assert_eq!((e, z), ([1.0, 1.0, 2.0, 2.0, 3.0, 3.0], true));
    // POINT EMPTY, GEOMETRYCOLLECTION EMPTY
    assert_eq!(
        envelope(&hex("0101000000000000000000f87f000000000000f87f")).unwrap(),
        None
    );
    assert_eq!(envelope(&hex("010700000000000000")).unwrap(), None);
}

#[test]
fn coordinates() {
    let c = |v: f64, d: usize| {
        let mut o = Vec::new();
        write_coord(v, d, &mut o);
        String::from_utf8(o).unwrap()
    };
    assert_eq!(c(45.0, 9), "45");
    assert_eq!(c(-0.0001, 3), "0");
    assert_eq!(c(6.5, 9), "6.5");
    assert_eq!(c(0.1 + 0.2, 9), "0.3");
    assert_eq!(c(-1.23456789012, 9), "-1.23456789");
    assert_eq!(c(700000.123, 0), "700000");
}
