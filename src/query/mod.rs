//! The SELECT of an export: its view's columns in view order (geometries as WKT, or the
//! GeoJSON feature geometry as WKB in EPSG:4326), the filters, the order, limit and offset.
//! Identifiers are always quoted and every value is a bound parameter.

pub mod filters;

use crate::definer::Definer;
use crate::encode::format::{Crs, Features};
use crate::encode::{Column, Feature, Format, Layout};
use crate::error::{GnError, GnResult};
use crate::export::Export;
use crate::relation::ViewColumn;
use crate::relation::{self as columns, Relation};
use crate::settings;
use crate::source::decode::FeatureSrid;
use crate::source::{Decoding, Param, Statement};
use crate::subxact::try_in_subtransaction;
use pgrx::PgSqlErrorCode as Code;

pub use crate::spi::ident;

/// Everything needed to run an export in a format.
#[derive(Debug)]
pub struct Plan {
    /// the export's view (or table)
    pub relid: pgrx::pg_sys::Oid,
    /// whose rights every statement of this plan runs with
    pub definer: Definer,
    /// the view's columns behind the select list, in the same order
    pub types: Vec<ViewColumn>,
    /// ` ORDER BY` the feature geometry then the key, when there is a feature geometry
    pub spatial_order: Option<String>,
    pub sql: String,
    pub params: Vec<Param>,
    /// what the encoders see: the columns in select-list order, and the feature
    pub layout: Layout,
    pub decoding: Decoding,
    /// what the API pages the rows by (its statements are made in `api::keys`)
    pub paging: Paging,
}

impl Plan {
    /// The plan with its rows in the order of the export's key, for a file published under a
    /// stable name: the same data then gives the same file, byte for byte, whatever plan
    /// PostgreSQL picks (a parallel one hands rows over in whichever order its workers read
    /// them). Only an unfiltered plan is reordered: a filtered one keeps its own order.
    pub fn in_key_order(self) -> Plan {
        let order = self.paging.order_by.clone();
        self.ordered_by(&order)
    }

    /// The rows in spatial order (`ORDER BY` the feature geometry, along PostGIS's Hilbert
    /// curve, then the key): neighbours in space come together, for a packed R-tree. As
    /// deterministic as the key order. Only an unfiltered plan is reordered.
    pub fn in_spatial_order(self) -> Plan {
        match self.spatial_order.clone() {
            Some(order) => self.ordered_by(&order),
            None => self.in_key_order(),
        }
    }

    fn ordered_by(mut self, order: &str) -> Plan {
        let ordered = self.sql.ends_with(order);
        if self.params.is_empty() && self.paging.conditions.is_none() && !ordered {
            self.sql.push_str(order);
        }
        self
    }

    /// The export's query, to run as the plan's definer.
    pub fn statement(&self) -> Statement<'_> {
        self.other(&self.sql, &self.params)
    }

    /// Another statement over the plan's rows (the API's pages), decoded as the export's.
    pub fn other<'a>(&'a self, sql: &'a str, params: &'a [Param]) -> Statement<'a> {
        Statement {
            definer: self.definer,
            sql,
            params,
            decoding: Some(&self.decoding),
        }
    }

    /// A statement of the plan's own (keys, counts), decoded plainly: no geometry.
    pub fn plain<'a>(&self, sql: &'a str, params: &'a [Param]) -> Statement<'a> {
        Statement {
            definer: self.definer,
            sql,
            params,
            decoding: None,
        }
    }
}

/// The parts of an export's query that the API's statements are made of.
#[derive(Debug, Clone)]
pub struct Paging {
    /// the relation, schema-qualified and quoted
    pub relation: String,
    /// the select list, over the relation as `t`
    pub select_list: String,
    /// `t."<view_pk_column>"`, and its type as `format_type` spells it
    pub pk: String,
    pub pk_type: String,
    /// the filters' conditions, ANDed; their parameters are the plan's first
    /// `condition_params`
    pub conditions: Option<String>,
    pub condition_params: usize,
    /// ` ORDER BY …`, always ending with the pk
    pub order_by: String,
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
        let res = try_in_subtransaction(|| crate::spi::one::<bool>(&sql, &[v.clone().into()]));
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

/// Builds the query of an export in a format, with optional filters (a JSON object), over
/// its relation as the catalog checked it (`catalog::relation`: the caller may SELECT it);
/// the checks of filter values, like the query itself later, run as the export's definer.
pub fn plan(
    export: &Export,
    rel: Relation,
    format: Format,
    filters: Option<&serde_json::Value>,
) -> GnResult<Plan> {
    let definer = Definer::for_relation(rel.owner)?;
    definer.run(|| build(export, format, filters, rel, definer))
}

fn no_geometry(export: &Export, format: Format) -> GnError {
    GnError::new(
        Code::ERRCODE_INVALID_PARAMETER_VALUE,
        format!(
            "{} has no geometry: {} needs one",
            export.name(),
            format.name()
        ),
    )
    .hint(format!(
        "Use {} for this export, or set its geometry_field.",
        crate::encode::format::names(|s| s.features.is_none() && s.columns.is_empty())
    ))
}

/// The plan's statement: the filters' conditions, then the order (ties broken by the pk, so
/// that pages never overlap or miss rows), limit and offset as parameters after the
/// conditions' own.
fn statement(
    select_from: &str,
    pk: &str,
    built: Option<filters::Built>,
    params: &mut Vec<Param>,
) -> (String, Option<String>, String) {
    let mut sql = select_from.to_string();
    let mut order_by = format!(" ORDER BY {pk}");
    let Some(built) = built else {
        return (sql, None, order_by);
    };
    let conditions = (!built.conditions.is_empty()).then(|| built.conditions.join(" AND "));
    if let Some(c) = &conditions {
        sql.push_str(&format!(" WHERE {c}"));
    }
    if let Some(o) = built.order {
        order_by = if o.starts_with(&format!("{pk} ")) {
            format!(" ORDER BY {o}")
        } else {
            format!(" ORDER BY {o}, {pk}")
        };
        sql.push_str(&order_by);
    }
    for (value, keyword) in [(built.limit, "LIMIT"), (built.offset, "OFFSET")] {
        if let Some(v) = value {
            params.push(Param::Int(v));
            sql.push_str(&format!(" {keyword} ${}", params.len()));
        }
    }
    (sql, conditions, order_by)
}

/// The select list of an export in a format, and what the encoders and decoders are told of it.
struct Selection {
    select: Vec<String>,
    columns: Vec<Column>,
    feature: Option<usize>,
    id_index: Option<usize>,
    wkt_columns: Vec<usize>,
    types: Vec<ViewColumn>,
}

/// The view's columns in view order, each as the format takes it: the feature geometry (the
/// export's geometry_field, for formats made of features) and the other geometries decoded
/// from the row, geographies as WKT in SQL, other geometries left out where the format says so.
fn select_list(
    export: &Export,
    format: Format,
    cols: &[ViewColumn],
    geom_name: Option<&str>,
    pg: &str,
) -> Selection {
    let mut s = Selection {
        select: Vec::new(),
        columns: Vec::new(),
        feature: None,
        id_index: None,
        wkt_columns: Vec::new(),
        types: Vec::new(),
    };
    let features = format.features();
    for c in cols {
        let q = format!("t.{}", ident(&c.name));
        let is_feature_geom = features.is_some() && Some(c.name.as_str()) == geom_name;
        if c.is_spatial() && !is_feature_geom && features.is_some_and(|f| !f.other_geometries) {
            continue; // e.g. GeoJSON: other geometries are not properties
        }
        let idx = s.select.len();
        if is_feature_geom {
            // made WKB in the format's SRS row by row while decoding (source::postgis): the
            // same PostGIS calls in SQL defeat the pull-up of the view and cost 5 times more
            s.select.push(q);
            s.feature = Some(idx);
        } else if c.category() == columns::Category::Geometry {
            // WKT while decoding, for the same reason as the feature geometry
            s.select.push(q);
            s.wkt_columns.push(idx);
        } else if c.is_spatial() {
            s.select
                .push(format!("{pg}.st_astext({q}) AS {}", ident(&c.name)));
        } else {
            s.select.push(q);
        }
        if c.name == export.view_pk_column {
            s.id_index = Some(idx);
        }
        s.columns.push(Column {
            name: c.name.clone(),
            geometry: c.is_spatial(),
        });
        s.types.push(c.clone());
    }
    s
}

fn build(
    export: &Export,
    format: Format,
    filters: Option<&serde_json::Value>,
    rel: Relation,
    definer: Definer,
) -> GnResult<Plan> {
    let cols = &rel.columns;
    let pg = columns::postgis_schema()?;
    let geom_name = crate::export::geometry_field(export.geometry_field.as_deref());
    let geom = geom_name.and_then(|g| cols.iter().find(|c| c.name == g));
    // only a typmod SRID is trusted for a static transform; otherwise each row says its own
    let geom_srid = geom.and_then(|g| g.srid);

    if format.needs_geometry() && geom.is_none() {
        return Err(no_geometry(export, format));
    }

    let Selection {
        select,
        columns: out_cols,
        feature,
        id_index,
        wkt_columns,
        types,
    } = select_list(export, format, cols, geom_name, &pg);

    let mut params = Vec::new();
    let built = match filters.filter(|f| !f.is_null()) {
        None => None,
        Some(f) => {
            let obj = f.as_object().ok_or_else(|| {
                GnError::new(
                    Code::ERRCODE_INVALID_PARAMETER_VALUE,
                    format!("{}: filters must be a JSON object, not {f}", export.name()),
                )
            })?;
            let name = export.name();
            let ctx = filters::Ctx {
                export: &name,
                columns: cols,
                geometry: geom.map(|g| (g, geom_srid, export.geometry_srid.unwrap_or(4326))),
                postgis: &pg,
            };
            let mut check = cast_check(&name, &pg);
            Some(filters::build(obj, &ctx, &mut params, &mut check)?)
        }
    };
    let pk = format!("t.{}", ident(&export.view_pk_column));
    let pk_type = cols
        .iter()
        .find(|c| c.name == export.view_pk_column)
        .map(|c| c.type_name.clone())
        .unwrap_or_else(|| "text".into());
    let select_list = select.join(", ");
    let select_from = format!("SELECT {select_list} FROM {} AS t", rel.qualified);
    // the conditions' own parameters: limit and offset come after them
    let condition_params = params.len();
    let (sql, conditions, order_by) = statement(&select_from, &pk, built, &mut params);
    // the view's own geometry column: its type's default btree order is PostGIS's Hilbert
    // curve, bound by type and not by any name on a path
    let spatial_order = feature
        .and(geom)
        .map(|g| format!(" ORDER BY t.{}, {pk}", ident(&g.name)));
    Ok(Plan {
        relid: rel.oid,
        definer,
        types,
        spatial_order,
        sql,
        params,
        layout: layout(out_cols, feature, id_index),
        decoding: Decoding {
            feature_column: feature,
            // by the format's rule: GeoJSON in EPSG:4326, a GeoPackage in the export's SRID
            feature_srid: feature_srid(
                format.features(),
                geom_srid.or(export.geometry_srid).unwrap_or(0),
            ),
            postgis: if feature.is_some() || !wkt_columns.is_empty() {
                crate::source::decode::Postgis::lookup()?
            } else {
                None
            },
            wkt_columns,
        },
        paging: Paging {
            relation: rel.qualified,
            select_list,
            pk,
            pk_type,
            conditions,
            condition_params,
            order_by,
        },
    })
}

/// What the encoders are told of the rows (an export's or a COPY query's): their columns, the
/// feature geometry and id, and the settings that shape text, read once per statement.
pub fn layout(columns: Vec<Column>, feature: Option<usize>, id: Option<usize>) -> Layout {
    Layout {
        columns,
        feature: feature.map(|g| Feature {
            geometry: g,
            id,
            decimals: settings::geojson_decimals(),
        }),
        csv_separator: settings::csv_separator(),
    }
}

/// Where feature geometries end up, by the format's rule: EPSG:4326 (GeoJSON), or the export's
/// SRID (a GeoPackage layer: the column's, else the export's geometry_srid; 0 for a COPY query,
/// whose rows keep their own). Rows stored with SRID 0 are taken to be in `export_srid`; every
/// other row is transformed from its own.
pub fn feature_srid(rule: Option<Features>, export_srid: i32) -> FeatureSrid {
    FeatureSrid {
        target: match rule.map(|f| f.crs) {
            Some(Crs::Export) => export_srid,
            _ => 4326,
        },
        default: export_srid,
        drop_m: rule.is_some_and(|f| f.drop_m),
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
