//! The SELECT of an export: its view's columns in view order (geometries as WKT, or the
//! GeoJSON feature geometry as WKB in EPSG:4326), the filters, the order, limit and offset.
//! Identifiers are always quoted and every value is a bound parameter.

pub mod columns;
pub mod filters;

use crate::access::definer::Definer;
use crate::catalog::definition::{self, check_definition, Relation};
use crate::catalog::export::Export;
use crate::encode::{Column, Feature, Format};
use crate::error::{GnError, GnResult};
use crate::settings;
use crate::source::decode::FeatureSrid;
use crate::source::{Decoding, Param};
use crate::subxact::try_in_subtransaction;
use columns::ViewColumn;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

/// A double-quoted SQL identifier.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Everything needed to run an export in a format.
#[derive(Debug)]
pub struct Plan {
    /// the export's view (or table)
    pub relid: pgrx::pg_sys::Oid,
    /// whose rights every statement of this plan runs with
    pub definer: Definer,
    /// the view's columns behind the select list, in the same order
    pub types: Vec<ViewColumn>,
    pub sql: String,
    pub params: Vec<Param>,
    /// the columns the encoders see, in select-list order
    pub columns: Vec<Column>,
    pub feature: Option<Feature>,
    pub decoding: Decoding,
    /// `SELECT count(*)` of the filtered rows (no order, limit or offset), with the first
    /// `count_params` parameters
    pub count_sql: String,
    pub count_params: usize,
    /// `SELECT count(*)` of the whole view
    pub total_sql: String,
    /// whether any filter condition applies
    pub filtered: bool,
    /// the page's keys alone (`SELECT pk::text ... ORDER BY ... LIMIT ... OFFSET ...`), same
    /// parameters as `sql`: on a view of many joins, cheaper than the page itself
    pub keys_sql: String,
    /// the page's rows from its keys: `$1` is a text[] of pk values
    pub by_keys_sql: String,
    /// the page in one step, in a total order (ties of the pk broken by the whole row), same
    /// parameters as `sql`: for a pk with repeated or NULL values, where pages by key would
    /// overlap or miss rows
    pub page_sql: String,
    /// 1 when the pk is unique and never NULL over the whole relation, else 0
    pub unique_sql: String,
}

/// Checks that `value` casts to `typ` (or is valid WKT for "wkt") without aborting the
/// transaction, and turns a failure into an error that names the filter and the column.
fn cast_check<'a>(
    export: &str,
    pg: &'a str,
) -> impl FnMut(&str, &ViewColumn, &str, &str) -> GnResult<()> + 'a {
    let export = export.to_string();
    move |key, col, value, typ| {
        let sql = if typ == "wkt" {
            format!("SELECT {pg}.st_geomfromtext($1, 4326) IS NOT NULL")
        } else {
            format!("SELECT CAST($1 AS {typ}) IS NOT NULL")
        };
        let v = value.to_string();
        let res =
            try_in_subtransaction(|| Spi::get_one_with_args::<bool>(&sql, &[v.clone().into()]));
        let shown: String = value.chars().take(60).collect();
        let ell = if value.chars().count() > 60 {
            "…"
        } else {
            ""
        };
        match res {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.into()),
            Err(caught) if typ == "wkt" => Err(GnError::new(
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("{export}: filter \"{key}\": \"{shown}{ell}\" is not a valid WKT geometry ({})", caught.message),
            )
            .hint("Give a WKT geometry in EPSG:4326, e.g. POLYGON((6 45, 6.1 45, 6.1 45.1, 6 45))")),
            Err(caught) => Err(GnError::new(
                caught.code,
                format!(
                    "{export}: filter \"{key}\": \"{shown}{ell}\" is not a valid {typ} for column \"{}\" ({})",
                    col.name, col.type_name
                ),
            )
            .hint(caught.message)),
        }
    }
}

/// Builds the query of an export in a format, with optional filters (a JSON object). The
/// caller must be able to SELECT the export's relation (checked with the definition); the
/// checks of filter values, like the query itself later, run as the export's definer.
pub fn plan(
    export: &Export,
    format: Format,
    filters: Option<&serde_json::Value>,
) -> GnResult<Plan> {
    let rel = check_definition(
        &export.label,
        &export.schema_name,
        &export.view_name,
        &export.view_pk_column,
        export.geometry_field.as_deref(),
        export.geometry_srid,
    )?;
    let definer = Definer::for_relation(rel.owner)?;
    definer.run(|| build(export, format, filters, rel, definer))
}

fn build(
    export: &Export,
    format: Format,
    filters: Option<&serde_json::Value>,
    rel: Relation,
    definer: Definer,
) -> GnResult<Plan> {
    let cols = columns::view_columns(&rel)?;
    let pg = columns::postgis_schema()?;
    let geom_name = definition::geometry_field(export.geometry_field.as_deref());
    let geom = geom_name.and_then(|g| cols.iter().find(|c| c.name == g));
    // only a typmod SRID is trusted for a static transform; otherwise each row says its own
    let geom_srid = geom.and_then(|g| g.srid);

    if format.needs_geometry() && geom.is_none() {
        return Err(GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "{} has no geometry: {} needs one",
                export.name(),
                format.name()
            ),
        )
        .hint("Use csv or json for this export, or set its geometry_field."));
    }

    let mut select = Vec::new();
    let mut out_cols = Vec::new();
    let mut feature = None;
    let mut id_index = None;
    let mut wkt_columns = Vec::new();
    let mut types = Vec::new();
    for c in &cols {
        let q = format!("t.{}", ident(&c.name));
        let is_feature_geom = format.needs_geometry() && Some(c.name.as_str()) == geom_name;
        if matches!(format, Format::GeoJson | Format::GeoJsonSeq)
            && c.is_spatial()
            && !is_feature_geom
        {
            continue; // GeoJSON: other geometries are not properties
        }
        let idx = select.len();
        if is_feature_geom {
            // made WKB in EPSG:4326 row by row while decoding (source::decode::FeatureFns):
            // the same PostGIS calls in SQL defeat the pull-up of the view and cost 5 times more
            select.push(q);
            feature = Some(idx);
        } else if c.category == columns::Category::Geometry {
            // WKT while decoding, for the same reason as the feature geometry
            select.push(q);
            wkt_columns.push(idx);
        } else if c.is_spatial() {
            select.push(format!("{pg}.st_astext({q}) AS {}", ident(&c.name)));
        } else {
            select.push(q);
        }
        if c.name == export.view_pk_column {
            id_index = Some(idx);
        }
        out_cols.push(Column {
            name: c.name.clone(),
            geometry: c.is_spatial(),
        });
        types.push(c.clone());
    }

    let mut params = Vec::new();
    let mut count_params = 0;
    let pk = format!("t.{}", ident(&export.view_pk_column));
    let pk_type = cols
        .iter()
        .find(|c| c.name == export.view_pk_column)
        .map(|c| c.type_name.clone())
        .unwrap_or_else(|| "text".into());
    let select_from = format!("SELECT {} FROM {} AS t", select.join(", "), rel.qualified);
    let mut sql = select_from.clone();
    let mut keys_sql = format!("SELECT {pk}::text FROM {} AS t", rel.qualified);
    let mut page_sql = select_from.clone();
    let mut order_by = format!(" ORDER BY {pk}");
    let mut count_sql = format!("SELECT count(*) FROM {} AS t", rel.qualified);
    let mut filtered = false;
    if let Some(f) = filters.filter(|f| !f.is_null()) {
        let obj = f.as_object().ok_or_else(|| {
            GnError::new(
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("{}: filters must be a JSON object, not {f}", export.name()),
            )
        })?;
        let ctx = filters::Ctx {
            export: &export.name(),
            columns: &cols,
            geometry: geom.map(|g| (g, geom_srid, export.geometry_srid.unwrap_or(4326))),
            postgis: &pg,
        };
        let name = export.name();
        let mut check = cast_check(&name, &pg);
        let built = filters::build(obj, &ctx, &mut params, &mut check)?;
        if !built.conditions.is_empty() {
            let cond = format!(" WHERE {}", built.conditions.join(" AND "));
            sql.push_str(&cond);
            keys_sql.push_str(&cond);
            page_sql.push_str(&cond);
            count_sql.push_str(&cond);
            filtered = true;
        }
        count_params = params.len();
        if let Some(o) = built.order {
            // ties broken by the pk, so that pages never overlap or miss rows
            order_by = if o.starts_with(&format!("{pk} ")) {
                format!(" ORDER BY {o}")
            } else {
                format!(" ORDER BY {o}, {pk}")
            };
            sql.push_str(&order_by);
        }
        keys_sql.push_str(&order_by);
        page_sql.push_str(&format!("{order_by}, (t.*)::text"));
        if let Some(l) = built.limit {
            params.push(Param::Int(l));
            let lim = format!(" LIMIT ${}", params.len());
            sql.push_str(&lim);
            keys_sql.push_str(&lim);
            page_sql.push_str(&lim);
        }
        if let Some(o) = built.offset {
            params.push(Param::Int(o));
            let off = format!(" OFFSET ${}", params.len());
            sql.push_str(&off);
            keys_sql.push_str(&off);
            page_sql.push_str(&off);
        }
    }
    Ok(Plan {
        relid: rel.oid,
        definer,
        types,
        sql,
        params,
        columns: out_cols,
        feature: feature.map(|g| Feature {
            geometry: g,
            id: id_index,
            decimals: settings::geojson_decimals(),
        }),
        decoding: Decoding {
            feature_column: feature,
            // a GeoPackage keeps the export's own SRID; GeoJSON is always EPSG:4326
            feature_srid: feature_srid(format, geom_srid, export.geometry_srid),
            postgis: if feature.is_some() || !wkt_columns.is_empty() {
                crate::source::decode::Postgis::lookup()?
            } else {
                None
            },
            wkt_columns,
        },
        total_sql: format!("SELECT count(*) FROM {} AS t", rel.qualified),
        by_keys_sql: format!("{select_from} WHERE {pk} = ANY(CAST($1 AS {pk_type}[])){order_by}"),
        page_sql,
        unique_sql: format!(
            "SELECT (NOT EXISTS (SELECT 1 FROM {rel} AS t WHERE {pk} IS NULL)
                AND NOT EXISTS (SELECT 1 FROM {rel} AS t GROUP BY {pk} HAVING count(*) > 1))::int::bigint",
            rel = rel.qualified
        ),
        keys_sql,
        count_sql,
        count_params,
        filtered,
    })
}

/// Where an export's feature geometries end up: EPSG:4326 for GeoJSON; for a GeoPackage, the
/// layer's SRID (the column's, else the export's geometry_srid). Rows stored with SRID 0 are
/// taken to be in the export's SRID; every other row is transformed from its own.
fn feature_srid(format: Format, column: Option<i32>, declared: Option<i32>) -> FeatureSrid {
    let export_srid = column.or(declared).unwrap_or(0);
    FeatureSrid {
        target: if format == Format::Gpkg {
            export_srid
        } else {
            4326
        },
        default: export_srid,
        drop_m: format == Format::Gpkg,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn identifiers_are_always_quoted() {
        assert_eq!(ident("id"), "\"id\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident("Mixed Case"), "\"Mixed Case\"");
    }
}
