//! GeoJSON (RFC 7946): a FeatureCollection, or one Feature per line (GeoJSONSeq). The feature
//! geometry arrives as WKB already in EPSG:4326; `id` is the pk value; properties are every
//! column but geometries, in view order. A NULL geometry gives `"geometry":null`.

use super::value::{json_string, write_json, Value};
use super::wkb::{hex_prefix, write_geojson, CoordFormat};
use super::{Column, EncodeError, Encoder, Feature, Format, Layout};
use crate::error::GnResult;

/// The registry's constructor of a FeatureCollection.
pub fn collection(layout: &Layout) -> GnResult<Box<dyn Encoder>> {
    let feature = layout.require_feature(Format::GeoJson)?;
    Ok(Box::new(GeoJson::new(&layout.columns, feature, false)))
}

/// The registry's constructor of GeoJSON text sequences, one feature per line.
pub fn sequence(layout: &Layout) -> GnResult<Box<dyn Encoder>> {
    let feature = layout.require_feature(Format::GeoJsonSeq)?;
    Ok(Box::new(GeoJson::new(&layout.columns, feature, true)))
}

pub struct GeoJson {
    feature: Feature,
    /// (column index, `"name":`) of each property
    props: Vec<(usize, Vec<u8>)>,
    seq: bool,
    first: bool,
}

impl GeoJson {
    pub fn new(columns: &[Column], feature: Feature, seq: bool) -> GeoJson {
        let props = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.geometry)
            .map(|(i, c)| {
                let mut k = Vec::new();
                json_string(&c.name, &mut k);
                k.push(b':');
                (i, k)
            })
            .collect();
        GeoJson {
            feature,
            props,
            seq,
            first: true,
        }
    }

    fn feature(&self, values: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(b"{\"type\":\"Feature\"");
        if let Some(id) = self.feature.id.and_then(|i| values.get(i)) {
            match id {
                Value::Null => {}
                Value::Int(_) | Value::Text(_) => {
                    out.extend_from_slice(b",\"id\":");
                    write_json(id, out);
                }
                other => {
                    // RFC 7946: a string or a number; anything else goes as its text
                    let mut t = Vec::new();
                    super::value::write_text(other, &mut t);
                    out.extend_from_slice(b",\"id\":");
                    json_string(&String::from_utf8_lossy(&t), out);
                }
            }
        }
        out.extend_from_slice(b",\"geometry\":");
        match values.get(self.feature.geometry) {
            Some(Value::Wkb(wkb)) => {
                write_geojson(
                    wkb,
                    CoordFormat {
                        decimals: self.feature.decimals,
                    },
                    out,
                )
                .map_err(|e| {
                    EncodeError(format!(
                        "{}: {e} (WKB {}…)",
                        self.feature.row_name(values),
                        hex_prefix(wkb)
                    ))
                })?;
            }
            Some(Value::GeometryError(e)) => {
                return Err(EncodeError(format!(
                    "{}: {e}",
                    self.feature.row_name(values)
                )))
            }
            _ => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"properties\":{");
        for (n, (i, key)) in self.props.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            write_json(&values[*i], out);
        }
        out.extend_from_slice(b"}}");
        Ok(())
    }
}

impl Encoder for GeoJson {
    fn header(&mut self, out: &mut Vec<u8>) {
        if !self.seq {
            out.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"features\":[");
        }
    }

    fn row(&mut self, values: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if !self.seq {
            out.extend_from_slice(if self.first { b"\n" } else { b",\n" });
        }
        self.first = false;
        self.feature(values, out)?;
        if self.seq {
            out.push(b'\n');
        }
        Ok(())
    }

    fn footer(&mut self, out: &mut Vec<u8>) {
        if !self.seq {
            out.extend_from_slice(if self.first { b"]}\n" } else { b"\n]}\n" });
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::encode::hex;

    fn cols() -> Vec<Column> {
        vec![
            Column {
                name: "id".into(),
                geometry: false,
            },
            Column {
                name: "geom".into(),
                geometry: true,
            },
            Column {
                name: "nom".into(),
                geometry: false,
            },
            Column {
                name: "autre_geom".into(),
                geometry: true,
            },
        ]
    }

    const FEATURE: Feature = Feature {
        geometry: 1,
        id: Some(0),
        decimals: 9,
    };

    #[test]
    fn feature_collection() {
        let p = hex("0101000000000000000000f03f0000000000000040");
        let mut e = GeoJson::new(&cols(), FEATURE, false);
        let mut out = Vec::new();
        e.header(&mut out);
        e.row(
            &[
                Value::Int(7),
                Value::Wkb(&p),
                Value::Text("é\"x"),
                Value::Text("POINT(1 2)"),
            ],
            &mut out,
        )
        .unwrap();
        e.row(
            &[Value::Text("a-b"), Value::Null, Value::Null, Value::Null],
            &mut out,
        )
        .unwrap();
        e.footer(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"type\":\"FeatureCollection\",\"features\":[\n\
             {\"type\":\"Feature\",\"id\":7,\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]},\"properties\":{\"id\":7,\"nom\":\"é\\\"x\"}},\n\
             {\"type\":\"Feature\",\"id\":\"a-b\",\"geometry\":null,\"properties\":{\"id\":\"a-b\",\"nom\":null}}\n]}\n"
        );
    }

    #[test]
    fn sequence_and_empty_collection() {
        let mut e = GeoJson::new(&cols(), FEATURE, true);
        let mut out = Vec::new();
        e.header(&mut out);
        e.row(
            &[Value::Null, Value::Null, Value::Text("a"), Value::Null],
            &mut out,
        )
        .unwrap();
        e.row(
            &[Value::Int(2), Value::Null, Value::Text("b"), Value::Null],
            &mut out,
        )
        .unwrap();
        e.footer(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"id\":null,\"nom\":\"a\"}}\n\
             {\"type\":\"Feature\",\"id\":2,\"geometry\":null,\"properties\":{\"id\":2,\"nom\":\"b\"}}\n"
        );
        let mut e = GeoJson::new(&cols(), FEATURE, false);
        let mut out = Vec::new();
        e.header(&mut out);
        e.footer(&mut out);
        assert_eq!(out, b"{\"type\":\"FeatureCollection\",\"features\":[]}\n");
    }

    #[test]
    fn bad_wkb_is_an_error() {
        let mut e = GeoJson::new(&cols(), FEATURE, false);
        let err = e.row(
            &[Value::Int(1), Value::Wkb(&[1, 2]), Value::Null, Value::Null],
            &mut Vec::new(),
        );
        assert!(err.unwrap_err().0.contains("truncated"));
    }
}
