//! `gn_export.openapi()`: an OpenAPI 3.0 document for one export's partner API, built from the
//! view's columns, their types and their comments.

use crate::catalog::definition::{check_definition, geometry_field};
use crate::catalog::export;
use crate::error::{GnResult, OrRaise};
use crate::export::Export;
use crate::relation::{Category, ColumnType, ViewColumn};
use crate::settings;
use pgrx::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// JSON Schema of a column's values as the API renders them.
pub fn value_schema(c: &ViewColumn) -> Value {
    let mut s = match c.ty {
        _ if c.array => json!({"type": "array", "items": {}}),
        ColumnType::Int8 => json!({"type": "integer", "format": "int64"}),
        ColumnType::Int2 | ColumnType::Int4 => json!({"type": "integer", "format": "int32"}),
        ColumnType::Float4 => json!({"type": "number", "format": "float"}),
        ColumnType::Float8 => json!({"type": "number", "format": "double"}),
        ColumnType::Numeric => json!({"type": "number", "description": "exact decimal"}),
        ColumnType::Bool => json!({"type": "boolean"}),
        ColumnType::Date => json!({"type": "string", "format": "date"}),
        ColumnType::Timestamp => {
            json!({"type": "string", "description": "ISO 8601 local date and time, YYYY-MM-DDTHH:MM:SS[.ffffff]"})
        }
        ColumnType::TimestampTz => json!({"type": "string", "format": "date-time"}),
        ColumnType::Geometry | ColumnType::Geography => {
            json!({"type": "string", "description": "WKT"})
        }
        ColumnType::Uuid => json!({"type": "string", "format": "uuid"}),
        ColumnType::Json => json!({}),
        ColumnType::Text
        | ColumnType::Time
        | ColumnType::TimeTz
        | ColumnType::Interval
        | ColumnType::Bytea
        | ColumnType::Other => json!({"type": "string"}),
    };
    if let Value::Object(m) = &mut s {
        if !m.is_empty() {
            m.insert("nullable".into(), Value::Bool(true));
        }
    }
    s
}

fn param(name: &str, description: String, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// The filters that apply to a column, GeoNature's names.
pub fn column_parameters(c: &ViewColumn, comment: Option<&str>) -> Vec<Value> {
    let about = comment.map(|d| format!(" ({d})")).unwrap_or_default();
    let n = &c.name;
    let filter_schema = match value_schema(c) {
        Value::Object(mut m) => {
            m.remove("nullable");
            if m.is_empty() {
                json!({"type": "string"})
            } else {
                Value::Object(m)
            }
        }
        v => v,
    };
    let mut out = vec![param(
        n,
        format!("{n} equals this value{about}"),
        filter_schema.clone(),
    )];
    if !c.is_spatial() {
        out.push(param(
            &format!("ilike_{n}"),
            format!("{n} contains this text, case-insensitive{about}"),
            json!({"type": "string"}),
        ));
    }
    if matches!(
        c.category(),
        Category::Date | Category::Timestamp | Category::TimestampTz | Category::Integer
    ) {
        let schema = if c.category() == Category::Integer {
            json!({"type": "integer"})
        } else {
            json!({"type": "string", "format": "date"})
        };
        for (p, what) in [("up", "on or after"), ("lo", "on or before"), ("eq", "on")] {
            out.push(param(
                &format!("filter_d_{p}_{n}"),
                format!("{n} {what} this date (YYYY-MM-DD, or a timestamp){about}"),
                schema.clone(),
            ));
        }
    }
    if matches!(
        c.category(),
        Category::Integer | Category::Float | Category::Numeric
    ) {
        for (p, what) in [("up", "at least"), ("lo", "at most")] {
            out.push(param(
                &format!("filter_n_{p}_{n}"),
                format!("{n} {what} this number{about}"),
                json!({"type": "number"}),
            ));
        }
    }
    out
}

fn comments(oid: pg_sys::Oid) -> GnResult<HashMap<String, String>> {
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT a.attname::text, pg_catalog.col_description(a.attrelid, a.attnum)
               FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
                AND pg_catalog.col_description(a.attrelid, a.attnum) IS NOT NULL",
            None,
            &[oid.into()],
        )?;
        let mut m = HashMap::new();
        for r in rows {
            if let (Some(n), Some(d)) = (r.get::<String>(1)?, r.get::<String>(2)?) {
                m.insert(n, d);
            }
        }
        Ok(m)
    })
}

/// The schema of an api() response: `items` is a FeatureCollection or an array of Item.
fn page_schema(e: &Export, features: bool) -> Value {
    let items = if features {
        json!({"type": "object", "required": ["type", "features"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "id": {"description": format!("the {} value", e.view_pk_column)},
                "geometry": {"type": "object", "nullable": true, "description": "GeoJSON geometry in EPSG:4326"},
                "properties": {"$ref": "#/components/schemas/Item"}}}}}})
    } else {
        json!({"type": "array", "items": {"$ref": "#/components/schemas/Item"}})
    };
    json!({"type": "object", "required": ["items", "ignored", "license", "limit", "page", "pages", "snapshot", "total", "total_filtered"], "properties": {
        "items": items,
        "ignored": {"type": "array", "items": {"type": "string"}, "description": "query parameters that are neither the API's, nor a column of the export, nor a filter: ignored, as GeoNature ignores them"},
        "license": {"type": "object", "properties": {"name": {"type": "string", "nullable": true}, "href": {"type": "string", "nullable": true}}},
        "limit": {"type": "integer"},
        "page": {"type": "integer", "description": "the offset asked for (a page index)"},
        "pages": {"type": "integer", "description": "pages of the snapshot at this limit: ⌈total_filtered / limit⌉. A page before the last may hold fewer than limit items (rows deleted since the snapshot was made): a harvest ends at offset pages − 1, not at the first short page"},
        "snapshot": {"type": "object", "required": ["id", "created_at"], "description": "the snapshot of the query's keys this page is a slice of",
            "properties": {"id": {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "pass it as the snapshot parameter to keep paging the same rows"},
                           "created_at": {"type": "string", "format": "date-time"}}},
        "total": {"type": "integer", "description": "rows in the export when the snapshot was made"},
        "total_filtered": {"type": "integer", "description": "rows matching the filters when the snapshot was made"}}})
}

pub fn document(e: &Export) -> GnResult<Value> {
    let rel = check_definition(
        &e.label,
        &e.schema_name,
        &e.view_name,
        &e.view_pk_column,
        e.geometry_field.as_deref(),
        e.geometry_srid,
    )?;
    let cols = &rel.columns;
    let notes = comments(rel.oid)?;
    let geom = geometry_field(e.geometry_field.as_deref());
    let view_comment = crate::spi::one::<String>(
        "SELECT pg_catalog.obj_description($1, 'pg_class')",
        &[rel.oid.into()],
    )?;

    let mut params = vec![
        param(
            "token",
            "Token of an association with this export (or the api-key header)".into(),
            json!({"type": "string"}),
        ),
        json!({"name": "limit", "in": "query", "required": false,
               "description": format!("Items per page, 1 to {}", settings::api_max_limit()),
               "schema": {"type": "integer", "minimum": 1, "maximum": settings::api_max_limit(), "default": settings::api_default_limit()}}),
        json!({"name": "offset", "in": "query", "required": false,
               "description": "Page index: the rows skipped are offset × limit",
               "schema": {"type": "integer", "minimum": 0, "default": 0}}),
        json!({"name": "snapshot", "in": "query", "required": false,
               "description": format!("Id of the snapshot to page (from an earlier answer; it lives while used at least every {} s), or \"new\" for a new one; by default the newest snapshot of the same query", settings::api_snapshot_ttl().as_secs()),
               "schema": {"type": "string", "pattern": "^([0-9a-f]{32}|new)$"}}),
        json!({"name": "orderby", "in": "query", "required": false,
               "description": format!("Columns to sort by, separated by ':', each optionally followed by :ASC or :DESC, e.g. date_debut:desc:id (default {}; ties are broken by it)", e.view_pk_column),
               "schema": {"type": "string"}}),
    ];
    if geom.is_some() {
        params.push(param(
            "geometry",
            "Keep the features intersecting this WKT geometry, in EPSG:4326".into(),
            json!({"type": "string"}),
        ));
    }
    let mut props = Map::new();
    for c in cols {
        if geom.is_some() && c.is_spatial() {
            continue;
        }
        let mut s = value_schema(c);
        if let (Value::Object(m), Some(d)) = (&mut s, notes.get(&c.name)) {
            m.insert("description".into(), Value::String(d.clone()));
        }
        props.insert(c.name.clone(), s);
        if !c.name.starts_with("geometry") {
            params.extend(column_parameters(c, notes.get(&c.name).map(String::as_str)));
        }
    }
    // a column named like an API parameter (limit, token, ilike_x…) cannot be filtered on by
    // that name: the first meaning wins, as in GeoNature, and names stay unique
    let mut seen = std::collections::HashSet::new();
    params.retain(|p| seen.insert(p["name"].as_str().unwrap_or_default().to_string()));
    let row = json!({"type": "object", "properties": props});
    let page = page_schema(e, geom.is_some());
    let error = json!({"description": "Error", "content": {"application/json": {"schema": {"type": "object"}}}});
    let mut get = json!({
        "summary": e.label,
        "description": e.description.clone().or(view_comment).unwrap_or_default(),
        "operationId": format!("export_{}", e.id),
        "parameters": params,
        "responses": {
            "200": {"description": "One page of the export", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}},
            "400": error.clone(), "403": error.clone(), "404": error
        }
    });
    let mut components = json!({"schemas": {"Item": row, "Page": page}});
    if !e.public {
        get["security"] = json!([{"api_key": []}]);
        components["securitySchemes"] = json!({"api_key": {"type": "apiKey", "in": "header", "name": "api-key",
            "description": "Token of an association with this export (also accepted as ?token=)"}});
    }
    let mut info = json!({"title": e.label, "version": env!("CARGO_PKG_VERSION"),
                          "description": e.description.clone().unwrap_or_default()});
    if let Some(name) = &e.licence_name {
        info["license"] = json!({"name": name});
        if let Some(url) = &e.licence_url {
            info["license"]["url"] = json!(url);
        }
    }
    Ok(json!({
        "openapi": "3.0.3",
        "info": info,
        "paths": {format!("/exports/api/{}", e.id): {"get": get}},
        "components": components
    }))
}

/// An OpenAPI 3.0 document for `GET /exports/api/{id_export}`: the paging parameters, the
/// geometry filter, every filter that applies to each column (typed from the column's type and
/// described by its COMMENT), the response schema of gn_export.api(), the export's label,
/// description and licence, and an `api-key` header scheme for private exports.
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn openapi(id_export: i32) -> pgrx::JsonB {
    let e = export::load(id_export).or_raise();
    pgrx::JsonB(document(&e).or_raise())
}
