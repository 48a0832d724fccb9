//! Encoders: one trait, one module per format. They turn decoded rows into bytes and know
//! nothing of PostgreSQL, so they are unit-tested without a database.

pub mod csv;
pub mod datetime;
pub mod geojson;
pub mod json;
pub mod value;
pub mod wkb;

pub use value::Value;

/// An output format: header, then one chunk per row, then footer; concatenated, the file.
pub trait Encoder {
    fn header(&mut self, out: &mut Vec<u8>);
    fn row(&mut self, values: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError>;
    fn footer(&mut self, out: &mut Vec<u8>);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    GeoJson,
    GeoJsonSeq,
    Gpkg,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "geojson" => Some(Format::GeoJson),
            "geojsonseq" | "geojsonl" => Some(Format::GeoJsonSeq),
            "gpkg" => Some(Format::Gpkg),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::GeoJson => "geojson",
            Format::GeoJsonSeq => "geojsonseq",
            Format::Gpkg => "gpkg",
        }
    }

    /// File name extension (GDAL recognises `.geojsonl` as newline-delimited GeoJSON).
    pub fn extension(self) -> &'static str {
        match self {
            Format::GeoJsonSeq => "geojsonl",
            f => f.name(),
        }
    }

    pub fn needs_geometry(self) -> bool {
        matches!(self, Format::GeoJson | Format::GeoJsonSeq | Format::Gpkg)
    }
}

/// What an encoder is told about a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// a geometry or geography column
    pub geometry: bool,
}

/// Where the GeoJSON encoders find the feature geometry and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub geometry: usize,
    pub id: Option<usize>,
    pub decimals: usize,
}

impl Feature {
    /// How an error names a row: its feature id, when the export has one.
    pub fn row_name(&self, values: &[Value]) -> String {
        let mut t = Vec::new();
        match self.id.and_then(|i| values.get(i)) {
            Some(v) if value::write_text(v, &mut t) => {
                format!("feature id {}", String::from_utf8_lossy(&t))
            }
            _ => "a feature without id".to_string(),
        }
    }
}

pub const FORMATS: &str = "csv, json, geojson or geojsonseq (and gpkg with generate())";

/// Test helper: bytes from a hex string (WKB test vectors).
#[cfg(test)]
pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
