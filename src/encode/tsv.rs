//! TSV: tab-separated values with a header line, escaped as PostgreSQL's own text format
//! escapes them (`\t`, `\n`, `\r`, `\\`; NULL is `\N`), LF line ends. Nothing is ever quoted,
//! so a line is a row and a tab a field boundary for every reader (IANA text/tab-separated-values
//! forbids tabs in fields), and `COPY ... FROM ... (FORMAT text, HEADER match)` reads the file
//! back to the same values, NULL and empty string apart. Geometries arrive as WKT text.

use super::value::{write_text, Value};
use super::{Column, EncodeError, Encoder, Layout};
use crate::error::GnResult;

/// The registry's constructor.
pub fn encoder(layout: &Layout) -> GnResult<Box<dyn Encoder>> {
    Ok(Box::new(Tsv::new(&layout.columns)))
}

pub struct Tsv {
    header: Vec<u8>,
    field: Vec<u8>,
}

impl Tsv {
    pub fn new(columns: &[Column]) -> Tsv {
        let mut header = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                header.push(b'\t');
            }
            push_field(c.name.as_bytes(), &mut header);
        }
        header.push(b'\n');
        Tsv {
            header,
            field: Vec::with_capacity(256),
        }
    }
}

/// PostgreSQL's text-format escapes for the bytes that would end a field or a line.
fn push_field(f: &[u8], out: &mut Vec<u8>) {
    for &b in f {
        match b {
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b => out.push(b),
        }
    }
}

impl Encoder for Tsv {
    fn header(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header);
    }

    fn row(&mut self, values: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            self.field.clear();
            if write_text(v, &mut self.field) {
                push_field(&self.field, out);
            } else {
                out.extend_from_slice(b"\\N");
            }
        }
        out.push(b'\n');
        Ok(())
    }

    fn footer(&mut self, _out: &mut Vec<u8>) {}
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::encode::{columns, encode_all};

    #[test]
    fn escapes_as_postgresql_text_format() {
        let mut e = Tsv::new(&columns(&["id", "nom\tcité", "c"]));
        let out = encode_all(
            &mut e,
            &[
                &[Value::Int(1), Value::Text("a\tb\\c"), Value::Text("")],
                &[Value::Int(2), Value::Null, Value::Text("x\"y\r\nz;\\.")],
                &[
                    Value::Int(3),
                    Value::Text("\\N"),
                    Value::Json("{\"a\": [1]}"),
                ],
            ],
        );
        assert_eq!(
            out,
            "id\tnom\\tcité\tc\n1\ta\\tb\\\\c\t\n2\t\\N\tx\"y\\r\\nz;\\\\.\n3\t\\\\N\t{\"a\": [1]}\n"
        );
    }
}
