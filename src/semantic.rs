//! `gn_export.dsw()`: GeoNature's semantic export (`GET /exports/semantic_dsw`, `geonature
//! exports generate-dsw`): the EXPORT module's view `gn_exports.v_exports_synthese_sinp_rdf`
//! under the SINP diffusion rule (`gn_exports.v_synthese_dsw`, made by `install_dsw_view()`)
//! as Darwin-SW Turtle, filtered and paged as the module does, streamed.

use crate::api::integer;
use crate::encode::format::Compression;
use crate::encode::Format;
use crate::error::{GnError, GnResult, OrRaise};
use crate::export::Export;
use crate::jsonb::Jsonb;
use crate::query;
use crate::run::{stream, Chunks, Prepared, Stream};
use crate::settings;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use serde_json::{Map, Value as JsonValue};

/// The module's view under the diffusion rule, as an export of our catalog would name it.
fn dsw_view() -> Export {
    Export {
        id: 0,
        label: "Darwin-SW (gn_exports.v_synthese_dsw)".into(),
        description: None,
        schema_name: "gn_exports".into(),
        view_name: "v_synthese_dsw".into(),
        geometry_field: None,
        geometry_srid: None,
        public: true,
        view_pk_column: "idSynthese".into(),
        licence_name: None,
        licence_url: None,
    }
}

fn bad(what: String) -> GnError {
    GnError::new(
        Code::ERRCODE_INVALID_PARAMETER_VALUE,
        format!("gn_export.dsw(): {what}"),
    )
}

/// The module's parameters as filters: `limit` rows (default gn_export.api_default_limit; 0
/// for all, as the module's route), `offset` a page index, the order `idSynthese` unless
/// `orderby` says otherwise (the module had none: its pages were not deterministic).
fn filters(params: &Map<String, JsonValue>) -> GnResult<JsonValue> {
    let limit = match params.get("limit") {
        None | Some(JsonValue::Null) => settings::api_default_limit(),
        Some(v) => integer(v)
            .filter(|n| *n >= 0)
            .ok_or_else(|| bad(format!("limit {v} is not a whole number ≥ 0 (0: all rows)")))?,
    };
    let page = match params.get("offset") {
        None | Some(JsonValue::Null) => 0,
        Some(v) => integer(v)
            .filter(|n| *n >= 0)
            .ok_or_else(|| bad(format!("offset {v} is not a page number (0, 1, 2…)")))?,
    };
    let mut f = params.clone();
    for k in ["limit", "offset", "token"] {
        f.remove(k);
    }
    f.entry("orderby")
        .or_insert_with(|| JsonValue::String("idSynthese".into()));
    if limit > 0 {
        let rows = page
            .checked_mul(limit)
            .ok_or_else(|| bad(format!("offset {page} is too large")))?;
        f.insert("limit".into(), limit.into());
        f.insert("offset".into(), rows.into());
    }
    Ok(JsonValue::Object(f))
}

fn start(params: &JsonValue) -> GnResult<Stream<Chunks>> {
    let empty = Map::new();
    let params = match params {
        JsonValue::Object(m) => m,
        JsonValue::Null => &empty,
        other => return Err(bad(format!("params must be a JSON object, not {other}"))),
    };
    if !crate::settings::dsw_enabled() {
        return Err(GnError::new(
            Code::ERRCODE_FEATURE_NOT_SUPPORTED,
            "gn_export.dsw() is off, as GeoNature's semantic export is unless expose_dsw_api",
        )
        .hint("A superuser turns it on for a database (ALTER DATABASE ... SET gn_export.dsw_enabled = on), as GeoNature's expose_dsw_api, and grants EXECUTE on gn_export.dsw(jsonb) to the roles that serve it."));
    }
    let export = dsw_view();
    let plan = crate::catalog::relation(&export).and_then(|rel| query::plan(&export, rel, Format::Ttl, Some(&filters(params)?))).map_err(|e| {
        if e.code == Code::ERRCODE_UNDEFINED_TABLE {
            e.hint("dsw() serves gn_exports.v_synthese_dsw, GeoNature's RDF view under the SINP diffusion rule: a DBA makes it with SELECT gn_export.install_dsw_view().")
        } else {
            e
        }
    })?;
    let encoder = Format::Ttl.encoder(&plan.layout)?;
    stream(Prepared {
        name: export.name(),
        plan,
        encoder,
        compression: Compression::None,
    })
}

/// GeoNature's semantic export: the EXPORT module's view `gn_exports.v_exports_synthese_sinp_rdf`
/// under the SINP diffusion rule, that is `gn_exports.v_synthese_dsw` (made by
/// `install_dsw_view()`; docs/security.md, "Sensitive observations": generalised observations carry
/// `dwc:dataGeneralizations`, withheld ones are left out), as Darwin-SW Turtle (see
/// `run(id, 'ttl')` and the mapping in docs/formats.md), streamed as text chunks
/// (the prefixes, then one chunk per observation): concatenated, a Turtle document, so that
/// GeoNature's backend can serve `GET /exports/semantic_dsw` from it and
/// `COPY (SELECT gn_export.dsw('{"limit": 0}')) TO STDOUT (FORMAT raw)` writes the whole file.
/// `params` are the route's query parameters: `limit` (rows; default gn_export.api_default_limit,
/// 0 for all), `offset` (a page index: rows skipped = offset × limit), `orderby` (default
/// `idSynthese`), and GeoNature's column filters on the view's columns. The caller must be able to
/// SELECT the view; its query runs as the view's owner (docs/security.md). Errors: 42P01 no such
/// view (its hint: install_dsw_view(); a database without GeoNature's EXPORT module can use
/// run(id, 'ttl') on an export whose view has the same column names), 42501 no SELECT on it,
/// 22023 bad parameters, 42703 unknown column, 0A000 while `gn_export.dsw_enabled` is off (the
/// default, as GeoNature's `expose_dsw_api`). Not executable by PUBLIC.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn dsw(params: default!(Option<Jsonb>, "'{}'")) -> SetOfIterator<'static, String> {
    let params = match params {
        Some(p) => p.parse("gn_export.dsw(): params").or_raise(),
        None => JsonValue::Null,
    };
    SetOfIterator::new(start(&params).or_raise())
}

pgrx::extension_sql!(
    r#"
REVOKE EXECUTE ON FUNCTION gn_export.dsw(jsonb) FROM PUBLIC;
"#,
    name = "dsw_grants",
    requires = [dsw]
);
