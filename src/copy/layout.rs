//! What a COPY's query gives the encoder: its columns, which of them is the feature geometry
//! (GEOMETRY 'col', or the first geometry) and the id (ID 'col'), and how each is decoded.

use super::options::{table_formats, CopyFormat, Request};
use crate::encode::value::write_text;
use crate::encode::{Column, EncodeError, Encoder, Value};
use crate::error::{GnError, GnResult};
use crate::source::decode::Postgis;
use crate::source::{Attribute, Decoding};
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode as Code;

/// `FORMAT raw`: each row's single value, verbatim.
struct Raw;

impl Encoder for Raw {
    fn header(&mut self, _out: &mut Vec<u8>) {}

    fn row(&mut self, values: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match values.first() {
            Some(Value::Bytea(b)) => out.extend_from_slice(b),
            Some(Value::Null) | None => {}
            Some(v) => {
                write_text(v, out);
            }
        }
        Ok(())
    }

    fn footer(&mut self, _out: &mut Vec<u8>) {}
}

/// How the query's rows are decoded, and the encoder they go to.
pub fn describe(
    req: &Request,
    attrs: &[Attribute],
    postgis: Option<Postgis>,
) -> GnResult<(Decoding, Box<dyn Encoder>)> {
    let format = match req.format {
        CopyFormat::Raw => {
            check_raw(attrs)?;
            return Ok((Decoding::default(), Box::new(Raw)));
        }
        CopyFormat::Encoded(f) => f,
    };
    // SAFETY: domain types resolved to their base type by OID; raises for an unknown type.
    let base = |a: &Attribute| unsafe { pg_sys::getBaseType(a.type_oid) };
    let is_geom = |a: &Attribute| postgis.is_some_and(|p| base(a) == p.geometry);
    let rule = format.features();
    let feature_column = match rule {
        Some(_) => Some(feature_column(req, attrs, &is_geom)?),
        None => None,
    };
    let id = req
        .id
        .as_deref()
        .map(|n| find(attrs, "ID", n))
        .transpose()?;
    let columns = attrs
        .iter()
        .map(|a| Column {
            name: a.name.clone(),
            geometry: is_geom(a),
        })
        .collect();
    let layout = crate::query::layout(columns, feature_column, id);
    let decoding = Decoding {
        feature_column,
        // any query: rows keep their own SRID, and rows without one are taken as they are
        feature_srid: crate::query::feature_srid(rule, 0),
        wkt_columns: (0..attrs.len())
            .filter(|&i| is_geom(&attrs[i]) && Some(i) != feature_column)
            .collect(),
        postgis,
    };
    let encoder = format.encoder(&layout)?;
    Ok((decoding, encoder))
}

fn check_raw(attrs: &[Attribute]) -> GnResult<()> {
    // SAFETY: as in describe.
    let text_like = |a: &Attribute| {
        matches!(
            unsafe { pg_sys::getBaseType(a.type_oid) },
            pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID | pg_sys::BYTEAOID
        )
    };
    if attrs.len() == 1 && text_like(&attrs[0]) {
        return Ok(());
    }
    Err(GnError::new(
        Code::ERRCODE_DATATYPE_MISMATCH,
        format!(
            "COPY FORMAT raw needs a query with exactly one text or bytea column, not {} column(s)",
            attrs.len()
        ),
    )
    .hint("For instance: COPY (SELECT gn_export.run(1, 'geojson')) TO STDOUT WITH (FORMAT raw)"))
}

fn find(attrs: &[Attribute], option: &str, name: &str) -> GnResult<usize> {
    attrs.iter().position(|a| a.name == name).ok_or_else(|| {
        let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
        GnError::new(
            Code::ERRCODE_UNDEFINED_COLUMN,
            format!("COPY {option} '{name}': the query has no column \"{name}\""),
        )
        .hint(format!("Columns: {}.", names.join(", ")))
    })
}

/// The feature geometry: the GEOMETRY option's column, else the first geometry.
fn feature_column(
    req: &Request,
    attrs: &[Attribute],
    is_geom: &dyn Fn(&Attribute) -> bool,
) -> GnResult<usize> {
    match &req.geometry {
        Some(name) => {
            let i = find(attrs, "GEOMETRY", name)?;
            if !is_geom(&attrs[i]) {
                return Err(GnError::new(
                    Code::ERRCODE_DATATYPE_MISMATCH,
                    format!("COPY GEOMETRY '{name}': column \"{name}\" is not a PostGIS geometry"),
                )
                .hint("Cast it in the query, e.g. geog::geometry."));
            }
            Ok(i)
        }
        None => attrs.iter().position(is_geom).ok_or_else(|| {
            GnError::new(
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                format!(
                    "COPY FORMAT {}: the query has no geometry column",
                    req.format.name()
                ),
            )
            .hint(format!(
                "Select a PostGIS geometry column, or use FORMAT {}.",
                table_formats()
            ))
        }),
    }
}
