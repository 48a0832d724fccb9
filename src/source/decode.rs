//! From PostgreSQL datums to [`Value`]s, by type. This is where the FFI to PostgreSQL's
//! internal representations lives; each unsafe block states what makes it sound.

pub use super::postgis::{FeatureSrid, Postgis};

use super::postgis::{FeatureFns, Fn1};
use crate::encode::Value;
use pgrx::pg_sys::{self, Datum, Oid};
use std::ffi::CStr;

/// How to decode one column, decided once per batch from its type.
pub enum Kind {
    Bool,
    Int2,
    Int4,
    Int8,
    Oid,
    Float4,
    Float8,
    Numeric(Output),
    Text,
    Json,
    Jsonb(Output),
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Bytea,
    /// a geometry made the GeoJSON feature geometry: linearised, in EPSG:4326, as WKB
    Feature(Box<FeatureFns>),
    /// a geometry as WKT
    Wkt(Box<Fn1>),
    Array(Box<Array>),
    /// anything else: the type's own text output
    Other(Output),
}

pub struct Array {
    elem: Kind,
    elem_type: Oid,
    typlen: i16,
    byval: bool,
    align: std::ffi::c_char,
}

impl Kind {
    pub fn feature(p: &Postgis, target: FeatureSrid) -> Kind {
        Kind::Feature(Box::new(FeatureFns::new(p, target)))
    }

    pub fn wkt(p: &Postgis) -> Kind {
        Kind::Wkt(Box::new(Fn1::new(p.as_text)))
    }
}

/// A type output function, looked up once.
pub struct Output {
    finfo: Box<pg_sys::FmgrInfo>,
}

impl Output {
    fn for_type(typ: Oid) -> Output {
        let mut func = Oid::INVALID;
        let mut varlena = false;
        // SAFETY: getTypeOutputInfo fills both out-parameters or raises an ERROR for an unknown
        // type; fmgr_info_cxt fills the FmgrInfo we own, allocating extra state in the current
        // memory context, which outlives the batch this Output is used for.
        unsafe {
            pg_sys::getTypeOutputInfo(typ, &mut func, &mut varlena);
            let mut finfo: Box<pg_sys::FmgrInfo> = Box::new(std::mem::zeroed());
            pg_sys::fmgr_info_cxt(func, finfo.as_mut(), pg_sys::CurrentMemoryContext);
            Output { finfo }
        }
    }

    /// The text output of a non-null datum, in the current memory context.
    ///
    /// # Safety
    /// `d` must be a valid, non-null datum of the type this Output was made for.
    unsafe fn call<'a>(&self, d: Datum) -> &'a str {
        // SAFETY: the caller upholds this function's # Safety contract, which is what the
        // calls below need.
        unsafe {
            let finfo = &*self.finfo as *const pg_sys::FmgrInfo as *mut pg_sys::FmgrInfo;
            let c = pg_sys::OutputFunctionCall(finfo, d);
            server_str(c as *const u8, CStr::from_ptr(c).to_bytes().len())
        }
    }
}

fn utf8_database() -> bool {
    // SAFETY: reads a backend-global set at connection start.
    unsafe { pg_sys::GetDatabaseEncoding() == pg_sys::pg_enc::PG_UTF8 as i32 }
}

/// Text of the database as `&str`, read by its length. CREATE EXTENSION refuses databases that
/// are not UTF-8, where PostgreSQL validates all text input, so it is used as it is; should a
/// value ever not be UTF-8, only its valid beginning is read, never a byte past it.
///
/// # Safety
/// `p..p+len` must be readable and stay allocated for `'a` (the current memory context).
unsafe fn server_str<'a>(p: *const u8, len: usize) -> &'a str {
    // SAFETY: the caller upholds this function's # Safety contract, which is what the
    // calls below need.
    unsafe {
        let bytes = std::slice::from_raw_parts(p, len);
        if utf8_database() {
            return std::str::from_utf8_unchecked(bytes);
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8_unchecked(&bytes[..e.valid_up_to()]),
        }
    }
}

/// # Safety
/// `d` must be a non-null varlena datum that stays valid for `'a`.
unsafe fn varlena_bytes<'a>(d: Datum) -> &'a [u8] {
    // SAFETY: the caller upholds this function's # Safety contract, which is what the
    // calls below need.
    unsafe {
        let v = pg_sys::pg_detoast_datum_packed(d.cast_mut_ptr());
        std::slice::from_raw_parts(
            pgrx::varlena::vardata_any(v) as *const u8,
            pgrx::varlena::varsize_any_exhdr(v),
        )
    }
}

impl Kind {
    /// The decoder for a column of type `typ` (domains resolve to their base type).
    pub fn for_type(typ: Oid) -> Kind {
        // SAFETY: catalog lookups by OID; they raise an ERROR for an unknown type.
        let base = unsafe { pg_sys::getBaseType(typ) };
        match base {
            pg_sys::BOOLOID => Kind::Bool,
            pg_sys::INT2OID => Kind::Int2,
            pg_sys::INT4OID => Kind::Int4,
            pg_sys::INT8OID => Kind::Int8,
            pg_sys::OIDOID => Kind::Oid,
            pg_sys::FLOAT4OID => Kind::Float4,
            pg_sys::FLOAT8OID => Kind::Float8,
            pg_sys::NUMERICOID => Kind::Numeric(Output::for_type(base)),
            pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID => Kind::Text,
            pg_sys::JSONOID => Kind::Json,
            pg_sys::JSONBOID => Kind::Jsonb(Output::for_type(base)),
            pg_sys::DATEOID => Kind::Date,
            pg_sys::TIMEOID => Kind::Time,
            pg_sys::TIMETZOID => Kind::TimeTz,
            pg_sys::TIMESTAMPOID => Kind::Timestamp,
            pg_sys::TIMESTAMPTZOID => Kind::TimestampTz,
            pg_sys::INTERVALOID => Kind::Interval,
            pg_sys::UUIDOID => Kind::Uuid,
            pg_sys::BYTEAOID => Kind::Bytea,
            _ => {
                // SAFETY: as above.
                let elem = unsafe { pg_sys::get_element_type(base) };
                let mut typlen = 0i16;
                let mut byval = false;
                let mut align: std::ffi::c_char = 0;
                if elem != Oid::INVALID {
                    // SAFETY: as above; fills the three out-parameters.
                    unsafe {
                        pg_sys::get_typlenbyvalalign(base, &mut typlen, &mut byval, &mut align)
                    };
                    if typlen == -1 {
                        // SAFETY: as above, for the element type
                        unsafe {
                            pg_sys::get_typlenbyvalalign(elem, &mut typlen, &mut byval, &mut align)
                        };
                        return Kind::Array(Box::new(Array {
                            elem: Kind::for_type(elem),
                            elem_type: elem,
                            typlen,
                            byval,
                            align,
                        }));
                    }
                }
                Kind::Other(Output::for_type(base))
            }
        }
    }

    /// Decodes a datum. Borrowed parts live in the current memory context.
    ///
    /// # Safety
    /// `d` must be a valid datum of the type this Kind was made for (unless `null`), and the
    /// current memory context must outlive `'a`.
    pub unsafe fn decode<'a>(&self, d: Datum, null: bool) -> Value<'a> {
        if null {
            return Value::Null;
        }
        match self {
            // passed by value: the datum is the value
            Kind::Bool => Value::Bool(d.value() != 0),
            Kind::Int2 => Value::Int(d.value() as i16 as i64),
            Kind::Int4 => Value::Int(d.value() as i32 as i64),
            Kind::Int8 => Value::Int(d.value() as i64),
            Kind::Oid => Value::Int(d.value() as u32 as i64),
            Kind::Float4 => Value::Float4(f32::from_bits(d.value() as u32)),
            Kind::Float8 => Value::Float8(f64::from_bits(d.value() as u64)),
            Kind::Date => Value::Date(d.value() as i32),
            Kind::Time => Value::Time(d.value() as i64),
            Kind::Timestamp => Value::Timestamp(d.value() as i64),
            Kind::TimestampTz => timestamptz(d.value() as i64),
            // SAFETY: text, varchar and char are varlenas (this function's contract)
            Kind::Text => Value::Text(unsafe { varlena_str(d) }),
            // SAFETY: json is a varlena of its text
            Kind::Json => Value::Json(unsafe { varlena_str(d) }),
            // SAFETY: bytea is a varlena
            Kind::Bytea => Value::Bytea(unsafe { varlena_bytes(d) }),
            // SAFETY: the output functions were looked up for this datum's type
            Kind::Numeric(out) => Value::Numeric(unsafe { out.call(d) }),
            // SAFETY: as for numeric
            Kind::Jsonb(out) => Value::Json(unsafe { out.call(d) }),
            // SAFETY: as for numeric
            Kind::Other(out) => Value::Text(unsafe { out.call(d) }),
            Kind::TimeTz => {
                // SAFETY: a timetz datum points to a TimeTzADT
                let t = unsafe { &*(d.cast_mut_ptr::<pg_sys::TimeTzADT>()) };
                Value::TimeTz(t.time, -t.zone)
            }
            Kind::Interval => {
                // SAFETY: an interval datum points to an Interval
                let i = unsafe { &*(d.cast_mut_ptr::<pg_sys::Interval>()) };
                Value::Interval {
                    months: i.month,
                    days: i.day,
                    micros: i.time,
                }
            }
            // SAFETY: a uuid datum points to its 16 bytes
            Kind::Uuid => Value::Uuid(unsafe { *d.cast_mut_ptr::<[u8; 16]>() }),
            // SAFETY: PostGIS's functions take this geometry datum and return a bytea (WKB)
            Kind::Feature(f) => match unsafe { f.wkb(d) } {
                // SAFETY: as above
                Ok(w) => Value::Wkb(unsafe { varlena_bytes(w) }),
                Err(e) => Value::GeometryError(e),
            },
            // SAFETY: st_astext takes this geometry datum and returns text
            Kind::Wkt(f) => Value::Text(unsafe { varlena_str(f.call1(d)) }),
            // SAFETY: an array datum of the element type this Kind was made for
            Kind::Array(a) => unsafe { decode_array(a, d) },
        }
    }
}

/// A timestamptz as its UTC microseconds and the session time zone's offset at that instant
/// (seconds east of UTC); the infinities, and instants the zone cannot place, with offset 0.
fn timestamptz<'a>(ts: i64) -> Value<'a> {
    if ts == i64::MIN || ts == i64::MAX {
        return Value::TimestampTz(ts, 0);
    }
    let mut tz = 0i32;
    let mut fsec: pg_sys::fsec_t = 0;
    // SAFETY: pg_tm is plain integers, for which all zeroes is a value
    let mut tm: pg_sys::pg_tm = unsafe { std::mem::zeroed() };
    // SAFETY: out-parameters on this stack; with a non-null tzp, timestamp2tm converts to the
    // session time zone and gives its offset in seconds west of UTC at that instant
    let failed = unsafe {
        pg_sys::timestamp2tm(
            ts,
            &mut tz,
            &mut tm,
            &mut fsec,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    } != 0;
    if failed {
        return Value::TimestampTz(ts, 0);
    }
    Value::TimestampTz(ts - tz as i64 * 1_000_000, -tz)
}

/// # Safety
/// `d` must be a non-null varlena datum of text in the server's encoding that stays valid for
/// `'a`.
unsafe fn varlena_str<'a>(d: Datum) -> &'a str {
    // SAFETY: the caller upholds this function's # Safety contract
    unsafe {
        let b = varlena_bytes(d);
        server_str(b.as_ptr(), b.len())
    }
}

/// # Safety
/// `d` must be a valid array datum whose element type is `a.elem_type`.
unsafe fn decode_array<'a>(a: &Array, d: Datum) -> Value<'a> {
    // SAFETY: the caller's contract; detoasted into the current context
    let arr = unsafe { pg_sys::pg_detoast_datum(d.cast_mut_ptr()) as *mut pg_sys::ArrayType };
    // SAFETY: a valid array's header
    let ndim = unsafe { (*arr).ndim as usize };
    if ndim == 0 {
        return Value::Array(Vec::new());
    }
    // SAFETY: ARR_DIMS: the `ndim` dimensions follow the fixed header
    let dims: Vec<usize> = unsafe {
        let p = (arr as *const u8).add(std::mem::size_of::<pg_sys::ArrayType>()) as *const i32;
        (0..ndim).map(|i| *p.add(i) as usize).collect()
    };
    let mut elems: *mut Datum = std::ptr::null_mut();
    let mut nulls: *mut bool = std::ptr::null_mut();
    let mut n = 0i32;
    // SAFETY: the element type's length, by-value flag and alignment, as the caller's contract
    // gives them; fills the three out-parameters
    unsafe {
        pg_sys::deconstruct_array(
            arr,
            a.elem_type,
            a.typlen as i32,
            a.byval,
            a.align,
            &mut elems,
            &mut nulls,
            &mut n,
        )
    };
    // SAFETY: `n` elements and null flags, each a datum of the element type
    let mut flat = (0..n as usize).map(|i| unsafe { a.elem.decode(*elems.add(i), *nulls.add(i)) });
    nest(&dims, &mut flat)
}

/// Rebuilds the nesting of a multi-dimensional array from its elements in row-major order.
fn nest<'a>(dims: &[usize], flat: &mut impl Iterator<Item = Value<'a>>) -> Value<'a> {
    match dims {
        [] => flat.next().unwrap_or(Value::Null),
        [n] => Value::Array(flat.take(*n).collect()),
        [n, rest @ ..] => Value::Array((0..*n).map(|_| nest(rest, flat)).collect()),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn nesting() {
        let mut it = (1..=6).map(Value::Int);
        assert_eq!(
            nest(&[2, 3], &mut it),
            Value::Array(vec![
                Value::Array(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
                Value::Array(vec![Value::Int(4), Value::Int(5), Value::Int(6)]),
            ])
        );
    }
}
