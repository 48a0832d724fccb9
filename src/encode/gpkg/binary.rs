//! GeoPackage values: column types, SQLite values of decoded rows, and the GeoPackage binary
//! geometry (header, envelope, ISO WKB in the core's types). Pure, unit-tested.

use crate::encode::datetime;
use crate::encode::value::write_text;
use crate::encode::wkb::{envelope, WkbError};
use crate::encode::Value;
use crate::relation::{ColumnType, ViewColumn};
use rusqlite::types::ValueRef;
/// The GeoPackage type of a column (GeoPackage 1.2 §1.1.1.1.3, "Data Types"): integers by size
/// (SMALLINT, MEDIUMINT, INTEGER), floats (FLOAT, DOUBLE), numeric keeps its exact digits as
/// TEXT, booleans are BOOLEAN, dates DATE and DATETIME, JSON and arrays TEXT, bytea BLOB.
pub fn column_type(c: &ViewColumn) -> &'static str {
    match c.ty {
        _ if c.array => "TEXT",
        ColumnType::Int2 => "SMALLINT",
        ColumnType::Int4 => "MEDIUMINT",
        ColumnType::Int8 => "INTEGER",
        ColumnType::Float4 => "FLOAT",
        ColumnType::Float8 => "DOUBLE",
        ColumnType::Bool => "BOOLEAN",
        ColumnType::Date => "DATE",
        ColumnType::Timestamp | ColumnType::TimestampTz => "DATETIME",
        ColumnType::Bytea => "BLOB",
        _ => "TEXT",
    }
}

/// Text that `write` renders into `scratch`, or NULL when it renders nothing.
fn gpkg_text<'a>(
    scratch: &'a mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> bool,
) -> ValueRef<'a> {
    scratch.clear();
    if write(scratch) {
        ValueRef::Text(scratch)
    } else {
        ValueRef::Null
    }
}

/// The SQLite value of a decoded value, borrowed from the row or rendered into `scratch`
/// (bound at once, so one buffer serves every column).
pub fn gpkg_value<'a>(v: &'a Value, scratch: &'a mut Vec<u8>) -> ValueRef<'a> {
    match v {
        Value::Null => ValueRef::Null,
        Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
        Value::Int(i) => ValueRef::Integer(*i),
        Value::Float8(f) if f.is_finite() => ValueRef::Real(*f),
        Value::Float4(f) if f.is_finite() => ValueRef::Real(f64::from(*f)),
        // SQLite turns NaN into NULL itself and GDAL reads ±Infinity back as 0: NULL for all
        // three, never text in a numeric column
        Value::Float8(_) | Value::Float4(_) => ValueRef::Null,
        // DATE and DATETIME as GDAL reads them without a warning; what ISO 8601's four-digit
        // years cannot hold (infinities, BC, past 9999) is NULL
        Value::Date(d) => gpkg_text(scratch, |o| datetime::write_gpkg_date(*d, o)),
        Value::Timestamp(ts) => {
            gpkg_text(scratch, |o| datetime::write_gpkg_datetime(*ts, false, o))
        }
        Value::TimestampTz(local, east) => gpkg_text(scratch, |o| {
            datetime::write_gpkg_datetime(local - i64::from(*east) * 1_000_000, true, o)
        }),
        Value::Bytea(b) => ValueRef::Blob(b),
        Value::Text(s) | Value::Json(s) | Value::Numeric(s) => ValueRef::Text(s.as_bytes()),
        other => gpkg_text(scratch, |o| {
            write_text(other, o);
            true
        }),
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
pub fn gpkg_geometry(
    wkb: &[u8],
    srs_id: i32,
    out: &mut Vec<u8>,
) -> Result<Option<[f64; 4]>, WkbError> {
    let env = envelope(wkb)?;
    out.clear();
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
    Ok(env.map(|(e, _)| [e[0], e[1], e[2], e[3]]))
}

/// GeoPackage geometry_type_name and z flag from the column's PostGIS type.
pub fn geometry_type(c: &ViewColumn) -> (String, i32) {
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

#[cfg(test)]
mod unit {
    #[test]
    fn values_borrow_or_render() {
        let mut scratch = Vec::new();
        assert_eq!(
            gpkg_value(&Value::Text("é"), &mut scratch),
            ValueRef::Text("é".as_bytes())
        );
        assert_eq!(
            gpkg_value(&Value::Float8(f64::NAN), &mut scratch),
            ValueRef::Null
        );
        assert_eq!(
            gpkg_value(&Value::Bool(true), &mut scratch),
            ValueRef::Integer(1)
        );
        assert_eq!(
            gpkg_value(&Value::Date(0), &mut scratch),
            ValueRef::Text(b"2000-01-01")
        );
        assert_eq!(
            gpkg_value(&Value::Date(i32::MAX), &mut scratch),
            ValueRef::Null
        );
        assert_eq!(
            gpkg_value(&Value::Array(vec![Value::Int(1)]), &mut scratch),
            ValueRef::Text(b"[1]")
        );
    }

    use super::*;
    use crate::encode::hex;

    fn col(t: &str) -> ViewColumn {
        ViewColumn::of("g", t, ColumnType::Geometry)
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
        let mut g = Vec::new();
        let e = gpkg_geometry(
            &hex("0101000000000000000000f03f0000000000000040"),
            2154,
            &mut g,
        )
        .unwrap();
        assert_eq!(&g[..4], b"GP\x00\x03");
        assert_eq!(&g[4..8], &2154i32.to_le_bytes());
        assert_eq!(e, Some([1.0, 1.0, 2.0, 2.0]));
        assert_eq!(g.len(), 8 + 32 + 21);
        // POINT EMPTY: the empty flag, no envelope
        let e = gpkg_geometry(
            &hex("0101000000000000000000f87f000000000000f87f"),
            4326,
            &mut g,
        )
        .unwrap();
        assert_eq!(g[3], 0b0001_0001);
        assert_eq!((g.len(), e), (8 + 21, None));
    }
}
