//! JSON: an array of objects, keys in view order, geometries as WKT strings.

use super::value::{json_string, write_json, Value};
use super::{Column, EncodeError, Encoder, Layout};
use crate::error::GnResult;

/// The registry's constructor.
pub fn encoder(layout: &Layout) -> GnResult<Box<dyn Encoder>> {
    Ok(Box::new(Json::new(&layout.columns)))
}

pub struct Json {
    keys: Vec<Vec<u8>>,
    first: bool,
}

impl Json {
    pub fn new(columns: &[Column]) -> Json {
        let keys = columns
            .iter()
            .map(|c| {
                let mut k = Vec::new();
                json_string(&c.name, &mut k);
                k.push(b':');
                k
            })
            .collect();
        Json { keys, first: true }
    }
}

impl Encoder for Json {
    fn header(&mut self, out: &mut Vec<u8>) {
        out.push(b'[');
    }

    fn row(&mut self, values: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(if self.first { b"\n{" } else { b",\n{" });
        self.first = false;
        for (i, (k, v)) in self.keys.iter().zip(values).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(k);
            write_json(v, out);
        }
        out.push(b'}');
        Ok(())
    }

    fn footer(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(if self.first { b"]\n" } else { b"\n]\n" });
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn array_of_objects_in_column_order() {
        let cols = crate::encode::columns(&["z", "a\"b"]);
        let mut e = Json::new(&cols);
        let mut out = Vec::new();
        e.header(&mut out);
        e.row(&[Value::Int(1), Value::Text("x\ny")], &mut out)
            .unwrap();
        e.row(&[Value::Null, Value::Json("[1,{\"k\":null}]")], &mut out)
            .unwrap();
        e.footer(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[\n{\"z\":1,\"a\\\"b\":\"x\\ny\"},\n{\"z\":null,\"a\\\"b\":[1,{\"k\":null}]}\n]\n"
        );
        let mut empty = Json::new(&cols);
        let mut out = Vec::new();
        empty.header(&mut out);
        empty.footer(&mut out);
        assert_eq!(out, b"[]\n");
    }
}
