//! One value of a row, decoded from its PostgreSQL datum, and its renderings: as JSON and as
//! plain text (for CSV). Pure: no database needed, so every rule is unit-tested here.

use super::datetime;

/// A decoded value. Borrowed data lives as long as the batch of rows it came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float8(f64),
    Float4(f32),
    /// numeric, exactly as PostgreSQL prints it (may be NaN or ±Infinity)
    Numeric(&'a str),
    Text(&'a str),
    /// json or jsonb text, nested as is in JSON outputs
    Json(&'a str),
    /// days since 2000-01-01; i32::MIN and i32::MAX are -infinity and infinity
    Date(i32),
    /// microseconds since midnight
    Time(i64),
    /// microseconds since midnight and the zone's offset in seconds east of UTC
    TimeTz(i64, i32),
    /// microseconds since 2000-01-01 00:00; i64::MIN and i64::MAX are the infinities
    Timestamp(i64),
    /// local microseconds since 2000-01-01 00:00 and the offset in seconds east of UTC
    TimestampTz(i64, i32),
    /// months, days and microseconds, written as an ISO 8601 duration
    Interval {
        months: i32,
        days: i32,
        micros: i64,
    },
    Uuid([u8; 16]),
    Bytea(&'a [u8]),
    /// elements of a one-dimensional array, or sub-arrays of a multi-dimensional one
    Array(Vec<Value<'a>>),
    /// a geometry as (E)WKB; only the GeoJSON feature geometry arrives in this form
    Wkb(&'a [u8]),
    /// a feature geometry PostGIS could not prepare (say a point outside its projection's
    /// domain): the encoder that meets it refuses the row, naming its key
    GeometryError(String),
}

/// Appends `s` as a JSON string: quotes, backslash and control characters escaped; the rest
/// (including non-ASCII) stays UTF-8 as is.
pub fn json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

pub fn write_f64(v: f64, out: &mut Vec<u8>) {
    if v.is_finite() {
        let mut b = ryu::Buffer::new();
        out.extend_from_slice(trim_point_zero(b.format_finite(v)).as_bytes());
    } else {
        out.extend_from_slice(non_finite(v.is_nan(), v > 0.0).as_bytes());
    }
}

pub fn write_f32(v: f32, out: &mut Vec<u8>) {
    if v.is_finite() {
        let mut b = ryu::Buffer::new();
        out.extend_from_slice(trim_point_zero(b.format_finite(v)).as_bytes());
    } else {
        out.extend_from_slice(non_finite(v.is_nan(), v > 0.0).as_bytes());
    }
}

/// ryu writes integral floats as "100.0"; PostgreSQL and most readers expect "100".
fn trim_point_zero(s: &str) -> &str {
    s.strip_suffix(".0").unwrap_or(s)
}

fn non_finite(nan: bool, positive: bool) -> &'static str {
    if nan {
        "NaN"
    } else if positive {
        "Infinity"
    } else {
        "-Infinity"
    }
}

fn is_json_number(numeric: &str) -> bool {
    !matches!(numeric, "NaN" | "Infinity" | "-Infinity")
}

fn write_uuid(u: &[u8; 16], out: &mut Vec<u8>) {
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push(b'-');
        }
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 0xf) as usize]);
    }
}

fn write_bytea(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"\\x");
    for x in b {
        out.push(HEX[(x >> 4) as usize]);
        out.push(HEX[(x & 0xf) as usize]);
    }
}

/// Plain text of a value (CSV fields, and the inside of JSON strings for dates and the like).
/// Json and arrays are JSON text. Returns false for NULL, which has no text.
pub fn write_text(v: &Value, out: &mut Vec<u8>) -> bool {
    match v {
        Value::Null | Value::GeometryError(_) => return false,
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::Float8(f) => write_f64(*f, out),
        Value::Float4(f) => write_f32(*f, out),
        Value::Numeric(s) | Value::Text(s) | Value::Json(s) => out.extend_from_slice(s.as_bytes()),
        Value::Date(d) => datetime::write_date(*d, out),
        Value::Time(t) => datetime::write_time(*t, out),
        Value::TimeTz(t, off) => {
            datetime::write_time(*t, out);
            datetime::write_offset(*off, out);
        }
        Value::Timestamp(ts) => datetime::write_timestamp(*ts, out),
        Value::TimestampTz(ts, off) => {
            datetime::write_timestamp(*ts, out);
            if !datetime::is_infinite_timestamp(*ts) {
                datetime::write_offset(*off, out);
            }
        }
        Value::Interval {
            months,
            days,
            micros,
        } => datetime::write_interval(*months, *days, *micros, out),
        Value::Uuid(u) => write_uuid(u, out),
        Value::Bytea(b) | Value::Wkb(b) => write_bytea(b, out),
        Value::Array(_) => write_json(v, out),
    }
    true
}

/// JSON rendering of a value: numbers as numbers (non-finite ones as strings), booleans,
/// json/jsonb nested, arrays as arrays, everything else as a string of its text.
pub fn write_json(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null | Value::GeometryError(_) => out.extend_from_slice(b"null"),
        Value::Bool(_) | Value::Int(_) => {
            write_text(v, out);
        }
        Value::Float8(f) if f.is_finite() => write_f64(*f, out),
        Value::Float4(f) if f.is_finite() => write_f32(*f, out),
        Value::Numeric(s) if is_json_number(s) => out.extend_from_slice(s.as_bytes()),
        Value::Json(s) => out.extend_from_slice(s.as_bytes()),
        Value::Text(s) => json_string(s, out),
        Value::Bytea(b) | Value::Wkb(b) => {
            // the text is \x followed by hex: only its backslash needs escaping
            out.extend_from_slice(b"\"\\");
            write_bytea(b, out);
            out.push(b'"');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(item, out);
            }
            out.push(b']');
        }
        _ => {
            // dates, times, uuids, bytea, non-finite numbers: their text never needs escaping
            out.push(b'"');
            write_text(v, out);
            out.push(b'"');
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn json(v: Value) -> String {
        let mut out = Vec::new();
        write_json(&v, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn text(v: Value) -> Option<String> {
        let mut out = Vec::new();
        write_text(&v, &mut out).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn json_strings_escape_only_what_json_requires() {
        let mut out = Vec::new();
        json_string("a\"b\\c\nd\re\tf\u{1}g\u{1f}é漢🦅;,", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"b\\c\nd\re\tf\u0001g\u001fé漢🦅;,""#
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(json(Value::Int(-42)), "-42");
        assert_eq!(json(Value::Float8(0.1)), "0.1");
        assert_eq!(json(Value::Float8(100.0)), "100");
        assert_eq!(json(Value::Float8(1e-7)), "1e-7");
        assert_eq!(json(Value::Float8(f64::NAN)), "\"NaN\"");
        assert_eq!(json(Value::Float8(f64::INFINITY)), "\"Infinity\"");
        assert_eq!(json(Value::Float8(f64::NEG_INFINITY)), "\"-Infinity\"");
        assert_eq!(text(Value::Float8(f64::NEG_INFINITY)).unwrap(), "-Infinity");
        assert_eq!(json(Value::Float4(0.1)), "0.1");
        assert_eq!(json(Value::Numeric("12.500")), "12.500");
        assert_eq!(json(Value::Numeric("NaN")), "\"NaN\"");
        assert_eq!(text(Value::Numeric("-Infinity")).unwrap(), "-Infinity");
    }

    #[test]
    fn scalars() {
        assert_eq!(json(Value::Null), "null");
        assert_eq!(text(Value::Null), None);
        assert_eq!(json(Value::Bool(true)), "true");
        assert_eq!(text(Value::Bool(false)).unwrap(), "false");
        assert_eq!(
            json(Value::Json(r#"{"a": [1, "é"]}"#)),
            r#"{"a": [1, "é"]}"#
        );
        let u = [
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
            0xcd, 0xef,
        ];
        assert_eq!(
            json(Value::Uuid(u)),
            "\"12345678-9abc-def0-0123-456789abcdef\""
        );
        assert_eq!(text(Value::Bytea(&[0, 0xff, 0x10])).unwrap(), "\\x00ff10");
        assert_eq!(json(Value::Bytea(&[0xab])), r#""\\xab""#);
        assert_eq!(
            json(Value::Interval {
                months: 14,
                days: 3,
                micros: 14_706_000_000
            }),
            r#""P1Y2M3DT4H5M6S""#
        );
    }

    #[test]
    fn arrays_are_json_arrays_everywhere() {
        let a = Value::Array(vec![Value::Int(1), Value::Null, Value::Text("a\"b")]);
        assert_eq!(json(a.clone()), r#"[1,null,"a\"b"]"#);
        assert_eq!(text(a).unwrap(), r#"[1,null,"a\"b"]"#);
        let nested = Value::Array(vec![
            Value::Array(vec![Value::Int(1), Value::Int(2)]),
            Value::Array(vec![Value::Int(3), Value::Int(4)]),
        ]);
        assert_eq!(json(nested), "[[1,2],[3,4]]");
        assert_eq!(json(Value::Array(vec![])), "[]");
    }

    #[test]
    fn dates_and_times_as_strings() {
        assert_eq!(json(Value::Date(0)), "\"2000-01-01\"");
        assert_eq!(
            json(Value::Timestamp(3_600_000_000 + 123_456)),
            "\"2000-01-01T01:00:00.123456\""
        );
        assert_eq!(
            json(Value::TimestampTz(0, 3600)),
            "\"2000-01-01T00:00:00+01:00\""
        );
        assert_eq!(
            json(Value::TimeTz(0, -5 * 3600 - 30 * 60)),
            "\"00:00:00-05:30\""
        );
    }
}
