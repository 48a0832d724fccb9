//! Where the bytes go: a stream of text chunks (`run`), an atomically published file
//! (`generate`), or the COPY protocol (the hook).

// The hook calls executor and planner entry points whose signatures changed in PG 14 and 18.
#[cfg(any(feature = "pg15", feature = "pg16", feature = "pg17"))]
pub mod copy;
pub mod dir;
pub mod file;
pub mod gpkg;
pub mod names;
pub mod stream;

use crate::encode::csv::{valid_separator, Csv};
use crate::encode::geojson::GeoJson;
use crate::encode::json::Json;
use crate::encode::{Encoder, Format, FORMATS};
use crate::error::{GnError, GnResult};
use crate::query::Plan;
use crate::settings;
use pgrx::PgSqlErrorCode as Code;

fn not_a_stream() -> GnError {
    GnError::new(
        Code::ERRCODE_INVALID_PARAMETER_VALUE,
        "a GeoPackage is a file (an SQLite database), not a stream: run() cannot produce gpkg",
    )
    .hint("Write it with gn_export.generate(id_export, 'gpkg'), or stream csv, json, geojson or geojsonseq.")
}

/// Parses a format name given by a caller of a streaming function (run, COPY).
pub fn parse_format(name: Option<&str>) -> GnResult<Format> {
    let name = name.unwrap_or("csv");
    match Format::parse(name) {
        Some(Format::Gpkg) => Err(not_a_stream()),
        Some(f) => Ok(f),
        None => Err(GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("unknown format \"{name}\""),
        )
        .hint(format!("Use {FORMATS}."))),
    }
}

/// The encoder for a format and a planned query.
pub fn encoder(format: Format, plan: &Plan) -> GnResult<Box<dyn Encoder>> {
    Ok(match format {
        Format::Csv => {
            let s = settings::csv_separator();
            let sep = valid_separator(&s).ok_or_else(|| {
                GnError::new(
                    Code::ERRCODE_INVALID_PARAMETER_VALUE,
                    format!("gn_export.csv_separator \"{s}\" is not a single ASCII character"),
                )
                .hint("SET gn_export.csv_separator = ';' (or ',', or E'\\t').")
            })?;
            Box::new(Csv::new(&plan.columns, sep))
        }
        Format::Json => Box::new(Json::new(&plan.columns)),
        Format::GeoJson | Format::GeoJsonSeq => {
            let feature = plan.feature.ok_or_else(|| {
                GnError::new(
                    Code::ERRCODE_INVALID_PARAMETER_VALUE,
                    "GeoJSON needs a geometry column",
                )
            })?;
            Box::new(GeoJson::new(
                &plan.columns,
                feature,
                format == Format::GeoJsonSeq,
            ))
        }
        // written by sink::gpkg, never through a byte encoder
        Format::Gpkg => return Err(not_a_stream()),
    })
}

/// Turns an encoder failure into a PostgreSQL error.
pub fn encode_error(what: &str, e: crate::encode::EncodeError) -> GnError {
    GnError::new(Code::ERRCODE_DATA_EXCEPTION, format!("{what}: {}", e.0))
}

/// Parses a format name given to generate(): every stream format, and gpkg.
pub fn parse_file_format(name: Option<&str>) -> GnResult<Format> {
    match name.map(Format::parse) {
        Some(Some(Format::Gpkg)) => Ok(Format::Gpkg),
        _ => parse_format(name),
    }
}
