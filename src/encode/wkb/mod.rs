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

/// Writes `v`, a finite number, with at most `decimals` decimals, without trailing zeros
/// (`6.5`, `45`, `-0.001`).
pub fn write_coord(v: f64, decimals: usize, out: &mut Vec<u8>) {
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

/// The coordinates of a point list, left in the WKB bytes: read on demand, in either
/// direction, so that a ring is written in the orientation RFC 7946 wants without a copy.
#[derive(Clone, Copy)]
struct Coords<'a> {
    bytes: &'a [u8],
    le: bool,
    d: Dims,
    n: usize,
}

impl<'a> Coords<'a> {
    fn read(r: &mut Reader<'a>, le: bool, d: Dims, n: usize) -> Result<Coords<'a>, WkbError> {
        let stride = 8 * (2 + d.z as usize + d.m as usize);
        let len = n
            .checked_mul(stride)
            .filter(|l| r.pos + l <= r.b.len())
            .ok_or_else(|| WkbError(format!("truncated WKB at byte {}", r.pos)))?;
        let bytes = &r.b[r.pos..r.pos + len];
        r.pos += len;
        Ok(Coords { bytes, le, d, n })
    }

    fn f64_at(&self, off: usize) -> f64 {
        let b: [u8; 8] = self.bytes[off..off + 8].try_into().expect("8 bytes");
        if self.le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        }
    }

    /// x, y and z of coordinate `i`.
    fn get(&self, i: usize) -> (f64, f64, Option<f64>) {
        let stride = 8 * (2 + self.d.z as usize + self.d.m as usize);
        let o = i * stride;
        let z = self.d.z.then(|| self.f64_at(o + 16));
        (self.f64_at(o), self.f64_at(o + 8), z)
    }

    /// Twice the signed area of the ring (shoelace): positive when counterclockwise.
    fn signed_area2(&self) -> f64 {
        (0..self.n)
            .map(|i| {
                let (x0, y0, _) = self.get(i);
                let (x1, y1, _) = self.get((i + 1) % self.n);
                x0 * y1 - x1 * y0
            })
            .sum()
    }
}

/// A geometry parsed down to its point lists; the coordinates stay in the WKB.
enum Geom<'a> {
    /// no coordinate: WKB's empty point (NaN NaN)
    Point(Coords<'a>),
    Line(Coords<'a>),
    /// rings, the exterior first
    Polygon(Vec<Coords<'a>>),
    Multi(&'static str, Vec<Geom<'a>>),
    Collection(Vec<Geom<'a>>),
}

fn parse<'a>(r: &mut Reader<'a>, inside: Option<&[u32]>) -> Result<Geom<'a>, WkbError> {
    let (le, t, d) = header(r)?;
    if let Some(expect) = inside {
        if !expect.contains(&t) {
            return Err(WkbError(format!(
                "unexpected WKB type {t} inside a multi-geometry"
            )));
        }
    }
    let count = |r: &mut Reader| r.u32(le).map(|n| n as usize);
    Ok(match t {
        1 => {
            let c = Coords::read(r, le, d, 1)?;
            let (x, y, _) = c.get(0);
            if x.is_nan() && y.is_nan() {
                Geom::Point(Coords { n: 0, ..c })
            } else {
                Geom::Point(c)
            }
        }
        2 => {
            let n = count(r)?;
            Geom::Line(Coords::read(r, le, d, n)?)
        }
        3 | 17 => {
            let n = count(r)?;
            let mut rings = Vec::with_capacity(n.min(64));
            for _ in 0..n {
                let m = count(r)?;
                rings.push(Coords::read(r, le, d, m)?);
            }
            Geom::Polygon(rings)
        }
        4 | 5 | 6 | 15 | 16 => {
            let (name, expect): (&'static str, &[u32]) = match t {
                4 => ("MultiPoint", &[1]),
                5 => ("MultiLineString", &[2]),
                _ => ("MultiPolygon", &[3, 17]),
            };
            let n = count(r)?;
            let mut parts = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                parts.push(parse(r, Some(expect))?);
            }
            Geom::Multi(name, parts)
        }
        7 => {
            let n = count(r)?;
            let mut parts = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                parts.push(parse(r, None)?);
            }
            Geom::Collection(parts)
        }
        8..=14 => {
            return Err(WkbError(format!(
                "curved geometry (WKB type {t}) must be linearised before GeoJSON"
            )))
        }
        _ => return Err(WkbError(format!("unknown WKB geometry type {t}"))),
    })
}

impl Geom<'_> {
    /// Whether nothing of it would be written: RFC 7946 has no empty position, ring or part.
    fn is_empty(&self) -> bool {
        match self {
            Geom::Point(c) | Geom::Line(c) => c.n == 0,
            Geom::Polygon(rings) => rings.first().is_none_or(|e| e.n == 0),
            Geom::Multi(_, parts) | Geom::Collection(parts) => parts.iter().all(Geom::is_empty),
        }
    }

    fn write(&self, f: CoordFormat, out: &mut Vec<u8>) -> Result<(), WkbError> {
        let (name, key): (&str, &[u8]) = match self {
            Geom::Point(_) => ("Point", b"coordinates"),
            Geom::Line(_) => ("LineString", b"coordinates"),
            Geom::Polygon(_) => ("Polygon", b"coordinates"),
            Geom::Multi(name, _) => (name, b"coordinates"),
            Geom::Collection(_) => ("GeometryCollection", b"geometries"),
        };
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\",\"");
        out.extend_from_slice(key);
        out.extend_from_slice(b"\":");
        match self {
            Geom::Collection(parts) => {
                array(non_empty(parts), out, |_, g, out| g.write(f, out))?;
            }
            g => g.coordinates(f, out)?,
        }
        out.push(b'}');
        Ok(())
    }

    /// The `coordinates` member, empty parts left out.
    fn coordinates(&self, f: CoordFormat, out: &mut Vec<u8>) -> Result<(), WkbError> {
        match self {
            Geom::Point(c) => position(c, 0, f, out),
            Geom::Line(c) => positions(c, false, f, out),
            Geom::Polygon(rings) => {
                array(rings.iter().filter(|r| r.n > 0), out, |i, ring, out| {
                    // RFC 7946 §3.1.6: the exterior ring counterclockwise, holes clockwise
                    let ccw = ring.signed_area2() > 0.0;
                    positions(ring, ccw != (i == 0), f, out)
                })
            }
            Geom::Multi(_, parts) => {
                array(non_empty(parts), out, |_, g, out| g.coordinates(f, out))
            }
            Geom::Collection(_) => Err(WkbError("a collection has no coordinates".into())),
        }
    }
}

fn position(c: &Coords, i: usize, f: CoordFormat, out: &mut Vec<u8>) -> Result<(), WkbError> {
    let (x, y, z) = c.get(i);
    if !x.is_finite() || !y.is_finite() || z.is_some_and(|z| !z.is_finite()) {
        return Err(WkbError(format!(
            "a coordinate is not a finite number ({x}, {y}{})",
            z.map(|z| format!(", {z}")).unwrap_or_default()
        )));
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
    Ok(())
}

fn positions(c: &Coords, reverse: bool, f: CoordFormat, out: &mut Vec<u8>) -> Result<(), WkbError> {
    array(0..c.n, out, |_, k, out| {
        position(c, if reverse { c.n - 1 - k } else { k }, f, out)
    })
}

fn non_empty<'g, 'a>(parts: &'g [Geom<'a>]) -> impl Iterator<Item = &'g Geom<'a>> {
    parts.iter().filter(|g| !g.is_empty())
}

/// `[…]` of the items, comma-separated, each written by `each` (given its index).
fn array<T>(
    items: impl Iterator<Item = T>,
    out: &mut Vec<u8>,
    mut each: impl FnMut(usize, T, &mut Vec<u8>) -> Result<(), WkbError>,
) -> Result<(), WkbError> {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(i, item, out)?;
    }
    out.push(b']');
    Ok(())
}

/// Appends the RFC 7946 GeoJSON geometry object of one (E)WKB value: exterior rings
/// counterclockwise and holes clockwise, empty positions, rings and parts left out, `null` for
/// a geometry with nothing left. A coordinate that is not a finite number is an error.
pub fn write_geojson(wkb: &[u8], f: CoordFormat, out: &mut Vec<u8>) -> Result<(), WkbError> {
    let start = out.len();
    let mut r = Reader { b: wkb, pos: 0 };
    let res = parse(&mut r, None).and_then(|g| {
        if g.is_empty() {
            out.extend_from_slice(b"null");
            Ok(())
        } else {
            g.write(f, out)
        }
    });
    if res.is_err() {
        out.truncate(start);
    }
    res
}

/// The geometry type of a WKB or EWKB geometry: its ISO code without dimensions (1 point ...
/// 7 geometry collection, 15 polyhedral surface, 16 TIN, 17 triangle) and whether it has Z.
pub fn geometry_kind(wkb: &[u8]) -> Result<(u32, bool), WkbError> {
    let (_, t, d) = header(&mut Reader { b: wkb, pos: 0 })?;
    Ok((t, d.z))
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
mod tests;
