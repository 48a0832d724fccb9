//! (E)WKB to GeoJSON geometry, straight from the bytes: no intermediate geometry objects, Z
//! kept, M dropped, coordinates rounded to a number of decimals. Curves are linearised in SQL
//! before they get here; PolyhedralSurface and TIN are written as MultiPolygons, Triangle as
//! a Polygon (GeoJSON has none of these).

use std::fmt::Write as _;
use std::io::Write as _;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WkbError(pub String);

impl std::fmt::Display for WkbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], WkbError> {
        let s = self
            .b
            .get(self.pos..self.pos + N)
            .ok_or_else(|| WkbError(format!("truncated WKB at byte {}", self.pos)))?;
        self.pos += N;
        Ok(s.try_into().expect("slice of N bytes"))
    }
    fn u8(&mut self) -> Result<u8, WkbError> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self, le: bool) -> Result<u32, WkbError> {
        let b = self.take::<4>()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }
    fn f64(&mut self, le: bool) -> Result<f64, WkbError> {
        let b = self.take::<8>()?;
        Ok(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }
}

/// How coordinates are written.
#[derive(Debug, Clone, Copy)]
pub struct CoordFormat {
    pub decimals: usize,
}

/// Writes `v` with at most `decimals` decimals, without trailing zeros (`6.5`, `45`, `-0.001`).
pub fn write_coord(v: f64, decimals: usize, out: &mut Vec<u8>) {
    if !v.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let i = v as i64;
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
        return;
    }
    let mut s = String::with_capacity(24);
    let _ = write!(s, "{:.*}", decimals, v);
    let t = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    let t = if t == "-0" { "0" } else { t };
    out.extend_from_slice(t.as_bytes());
}

#[derive(Clone, Copy)]
struct Dims {
    z: bool,
    m: bool,
}

fn header(r: &mut Reader) -> Result<(bool, u32, Dims), WkbError> {
    let le = match r.u8()? {
        0 => false,
        1 => true,
        o => return Err(WkbError(format!("bad WKB byte order {o}"))),
    };
    let raw = r.u32(le)?;
    // EWKB flags in the high bits, or ISO WKB's thousands
    let (mut z, mut m) = (raw & 0x8000_0000 != 0, raw & 0x4000_0000 != 0);
    if raw & 0x2000_0000 != 0 {
        r.u32(le)?; // SRID
    }
    let mut t = raw & 0x0FFF_FFFF;
    match t / 1000 {
        1 => z = true,
        2 => m = true,
        3 => (z, m) = (true, true),
        _ => {}
    }
    t %= 1000;
    Ok((le, t, Dims { z, m }))
}

fn coord(
    r: &mut Reader,
    le: bool,
    d: Dims,
    f: CoordFormat,
    out: &mut Vec<u8>,
) -> Result<bool, WkbError> {
    let x = r.f64(le)?;
    let y = r.f64(le)?;
    let z = if d.z { Some(r.f64(le)?) } else { None };
    if d.m {
        r.f64(le)?; // M has no place in GeoJSON
    }
    if x.is_nan() && y.is_nan() {
        return Ok(false); // WKB's empty point
    }
    out.push(b'[');
    write_coord(x, f.decimals, out);
    out.push(b',');
    write_coord(y, f.decimals, out);
    if let Some(z) = z {
        out.push(b',');
        write_coord(z, f.decimals, out);
    }
    out.push(b']');
    Ok(true)
}

fn points(
    r: &mut Reader,
    le: bool,
    d: Dims,
    f: CoordFormat,
    out: &mut Vec<u8>,
) -> Result<(), WkbError> {
    let n = r.u32(le)?;
    out.push(b'[');
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        coord(r, le, d, f, out)?;
    }
    out.push(b']');
    Ok(())
}

fn rings(
    r: &mut Reader,
    le: bool,
    d: Dims,
    f: CoordFormat,
    out: &mut Vec<u8>,
) -> Result<(), WkbError> {
    let n = r.u32(le)?;
    out.push(b'[');
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        points(r, le, d, f, out)?;
    }
    out.push(b']');
    Ok(())
}

/// The coordinates of one member of a multi-geometry (each member has its own WKB header).
fn member(
    r: &mut Reader,
    expect: &[u32],
    f: CoordFormat,
    out: &mut Vec<u8>,
) -> Result<(), WkbError> {
    let (le, t, d) = header(r)?;
    if !expect.contains(&t) {
        return Err(WkbError(format!(
            "unexpected WKB type {t} inside a multi-geometry"
        )));
    }
    match t {
        1 => {
            let mut tmp = Vec::new();
            if coord(r, le, d, f, &mut tmp)? {
                out.extend_from_slice(&tmp);
            } else {
                out.extend_from_slice(b"[]");
            }
            Ok(())
        }
        2 => points(r, le, d, f, out),
        _ => rings(r, le, d, f, out),
    }
}

fn geometry(r: &mut Reader, f: CoordFormat, out: &mut Vec<u8>) -> Result<(), WkbError> {
    let (le, t, d) = header(r)?;
    let (name, key): (&[u8], &[u8]) = match t {
        1 => (b"Point", b"coordinates"),
        2 => (b"LineString", b"coordinates"),
        3 | 17 => (b"Polygon", b"coordinates"),
        4 => (b"MultiPoint", b"coordinates"),
        5 => (b"MultiLineString", b"coordinates"),
        6 | 15 | 16 => (b"MultiPolygon", b"coordinates"),
        7 => (b"GeometryCollection", b"geometries"),
        8..=14 => {
            return Err(WkbError(format!(
                "curved geometry (WKB type {t}) must be linearised before GeoJSON"
            )))
        }
        _ => return Err(WkbError(format!("unknown WKB geometry type {t}"))),
    };
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(name);
    out.extend_from_slice(b"\",\"");
    out.extend_from_slice(key);
    out.extend_from_slice(b"\":");
    match t {
        1 => {
            let mut tmp = Vec::new();
            if coord(r, le, d, f, &mut tmp)? {
                out.extend_from_slice(&tmp);
            } else {
                out.extend_from_slice(b"[]");
            }
        }
        2 => points(r, le, d, f, out)?,
        3 | 17 => rings(r, le, d, f, out)?,
        4 | 5 | 6 | 15 | 16 => {
            let expect: &[u32] = match t {
                4 => &[1],
                5 => &[2],
                _ => &[3, 17],
            };
            let n = r.u32(le)?;
            out.push(b'[');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                member(r, expect, f, out)?;
            }
            out.push(b']');
        }
        _ => {
            let n = r.u32(le)?;
            out.push(b'[');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                geometry(r, f, out)?;
            }
            out.push(b']');
        }
    }
    out.push(b'}');
    Ok(())
}

/// Appends the GeoJSON geometry object of one (E)WKB value.
pub fn write_geojson(wkb: &[u8], f: CoordFormat, out: &mut Vec<u8>) -> Result<(), WkbError> {
    let start = out.len();
    let mut r = Reader { b: wkb, pos: 0 };
    let res = geometry(&mut r, f, out);
    if res.is_err() {
        out.truncate(start);
    }
    res
}

/// The bounding box of a WKB geometry: `[minx, maxx, miny, maxy, minz, maxz]` (z only when the
/// geometry has Z) and whether it has Z; None for an empty geometry.
pub fn envelope(wkb: &[u8]) -> Result<Option<([f64; 6], bool)>, WkbError> {
    fn walk(
        r: &mut Reader,
        env: &mut [f64; 6],
        any: &mut bool,
        has_z: &mut bool,
    ) -> Result<(), WkbError> {
        let (le, t, d) = header(r)?;
        *has_z |= d.z;
        let point = |r: &mut Reader, env: &mut [f64; 6], any: &mut bool| -> Result<(), WkbError> {
            let x = r.f64(le)?;
            let y = r.f64(le)?;
            let z = if d.z { Some(r.f64(le)?) } else { None };
            if d.m {
                r.f64(le)?;
            }
            if x.is_nan() || y.is_nan() {
                return Ok(());
            }
            if !*any {
                *env = [x, x, y, y, z.unwrap_or(0.0), z.unwrap_or(0.0)];
                *any = true;
            }
            env[0] = env[0].min(x);
            env[1] = env[1].max(x);
            env[2] = env[2].min(y);
            env[3] = env[3].max(y);
            if let Some(z) = z {
                env[4] = env[4].min(z);
                env[5] = env[5].max(z);
            }
            Ok(())
        };
        match t {
            1 => point(r, env, any),
            2 | 8 => {
                for _ in 0..r.u32(le)? {
                    point(r, env, any)?;
                }
                Ok(())
            }
            3 | 17 => {
                for _ in 0..r.u32(le)? {
                    for _ in 0..r.u32(le)? {
                        point(r, env, any)?;
                    }
                }
                Ok(())
            }
            4..=7 | 9..=16 => {
                for _ in 0..r.u32(le)? {
                    walk(r, env, any, has_z)?;
                }
                Ok(())
            }
            _ => Err(WkbError(format!("unknown WKB geometry type {t}"))),
        }
    }
    let mut r = Reader { b: wkb, pos: 0 };
    let (mut env, mut any, mut has_z) = ([0.0; 6], false, false);
    walk(&mut r, &mut env, &mut any, &mut has_z)?;
    Ok(any.then_some((env, has_z)))
}

/// For messages: the first bytes of a WKB value in hex.
pub fn hex_prefix(wkb: &[u8]) -> String {
    let mut s = Vec::new();
    for b in wkb.iter().take(16) {
        let _ = write!(s, "{b:02x}");
    }
    String::from_utf8(s).unwrap_or_default()
}

#[cfg(test)]
mod unit {
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
    fn empties() {
        // POINT EMPTY
        assert_eq!(
            gj("0101000000000000000000f87f000000000000f87f", 9),
            r#"{"type":"Point","coordinates":[]}"#
        );
        // LINESTRING EMPTY, POLYGON EMPTY, GEOMETRYCOLLECTION EMPTY
        assert_eq!(
            gj("010200000000000000", 9),
            r#"{"type":"LineString","coordinates":[]}"#
        );
        assert_eq!(
            gj("010300000000000000", 9),
            r#"{"type":"Polygon","coordinates":[]}"#
        );
        assert_eq!(
            gj("010700000000000000", 9),
            r#"{"type":"GeometryCollection","geometries":[]}"#
        );
    }

    #[test]
    fn lines_polygons_multis_collections() {
        // LINESTRING(0 0,1 1)
        assert_eq!(
            gj("01020000000200000000000000000000000000000000000000000000000000f03f000000000000f03f", 9),
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
        let err =
            write_geojson(&hex(curve), CoordFormat { decimals: 9 }, &mut Vec::new()).unwrap_err();
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
}
