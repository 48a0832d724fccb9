//! CSV (RFC 4180): a header of column names, fields quoted only where needed, `""` for an
//! empty string and nothing for NULL, CRLF line ends. Geometries arrive as WKT text.

use super::value::{write_text, Value};
use super::{Column, EncodeError, Encoder, Layout};
use crate::error::{GnError, GnResult};
use pgrx::PgSqlErrorCode as Code;

/// The registry's constructor: the separator is gn_export.csv_separator, as the layout says.
pub fn encoder(layout: &Layout) -> GnResult<Box<dyn Encoder>> {
    let s = &layout.csv_separator;
    let sep = valid_separator(s).ok_or_else(|| {
        GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("gn_export.csv_separator \"{s}\" is not a single ASCII character"),
        )
        .hint("SET gn_export.csv_separator = ';' (or ',', or E'\\t').")
    })?;
    Ok(Box::new(Csv::new(&layout.columns, sep)))
}

pub struct Csv {
    sep: u8,
    header: Vec<u8>,
    field: Vec<u8>,
}

impl Csv {
    /// `sep` must be a single ASCII character other than `"`, CR or LF (checked by the caller).
    pub fn new(columns: &[Column], sep: u8) -> Csv {
        let mut header = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                header.push(sep);
            }
            push_field(c.name.as_bytes(), sep, &mut header);
        }
        header.extend_from_slice(b"\r\n");
        Csv {
            sep,
            header,
            field: Vec::with_capacity(256),
        }
    }
}

/// RFC 4180 quoting: a field is quoted when it holds the separator, a quote, CR or LF, or is
/// empty (so that an empty string differs from NULL); quotes inside are doubled. A field that
/// is exactly `\.` is quoted too, as PostgreSQL's own CSV writer does: alone on a line, bare, it
/// is the end-of-data marker of `COPY ... FROM`, which would stop there and report success.
fn push_field(f: &[u8], sep: u8, out: &mut Vec<u8>) {
    let needs = f.is_empty()
        || f == b"\\."
        || f.iter()
            .any(|&b| b == sep || b == b'"' || b == b'\n' || b == b'\r');
    if !needs {
        out.extend_from_slice(f);
        return;
    }
    out.push(b'"');
    for &b in f {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

pub fn valid_separator(s: &str) -> Option<u8> {
    match s.as_bytes() {
        [b] if b.is_ascii() && !matches!(b, b'"' | b'\r' | b'\n') => Some(*b),
        _ => None,
    }
}

impl Encoder for Csv {
    fn header(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header);
    }

    fn row(&mut self, values: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out.push(self.sep);
            }
            self.field.clear();
            if write_text(v, &mut self.field) {
                push_field(&self.field, self.sep, out);
            }
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }

    fn footer(&mut self, _out: &mut Vec<u8>) {}
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::encode::columns as cols;

    #[test]
    fn header_rows_quoting() {
        let mut e = Csv::new(&cols(&["id", "nom;cité", "c"]), b';');
        let mut out = Vec::new();
        e.header(&mut out);
        e.row(
            &[Value::Int(1), Value::Text("a;b"), Value::Text("")],
            &mut out,
        )
        .unwrap();
        e.row(
            &[Value::Int(2), Value::Null, Value::Text("x\"y\r\nz")],
            &mut out,
        )
        .unwrap();
        e.row(
            &[Value::Int(3), Value::Text("\\N"), Value::Text("\\.")],
            &mut out,
        )
        .unwrap();
        e.row(
            &[
                Value::Int(4),
                Value::Text("tab\there, comma"),
                Value::Text("é漢🦅"),
            ],
            &mut out,
        )
        .unwrap();
        e.footer(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "id;\"nom;cité\";c\r\n1;\"a;b\";\"\"\r\n2;;\"x\"\"y\r\nz\"\r\n3;\\N;\"\\.\"\r\n4;tab\there, comma;é漢🦅\r\n"
        );
    }

    #[test]
    fn comma_separator_and_json_values() {
        let mut e = Csv::new(&cols(&["j", "a"]), b',');
        let mut out = Vec::new();
        e.row(
            &[
                Value::Json(r#"{"a": 1, "b": "x"}"#),
                Value::Array(vec![Value::Int(1), Value::Int(2)]),
            ],
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"{\"\"a\"\": 1, \"\"b\"\": \"\"x\"\"}\",\"[1,2]\"\r\n"
        );
    }

    #[test]
    fn separators() {
        assert_eq!(valid_separator(";"), Some(b';'));
        assert_eq!(valid_separator("\t"), Some(b'\t'));
        assert_eq!(valid_separator("\""), None);
        assert_eq!(valid_separator(";;"), None);
        assert_eq!(valid_separator("é"), None);
        assert_eq!(valid_separator(""), None);
    }
}
