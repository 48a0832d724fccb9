//! `gn_export.api()`: one page of GeoNature's partner API (`GET /exports/api/<id>`), with its
//! defects fixed: `limit=0` no longer dumps the whole view, `total_filtered` is not reduced by
//! the offset, NULL geometries are kept (pages are honest), the geometry filter works in any
//! SRID, and values render exactly as in the files. Pages are slices of a snapshot of the
//! query's keys, shared by every session of the server: a page costs the same at any offset,
//! and a harvest sees one consistent set of rows.

pub mod evict;
pub mod keys;
mod locks;
pub mod page;
pub mod serve;
pub mod snapshot;

use crate::access;
use crate::encode::datetime::write_timestamp;
use crate::encode::pump::Pump;
use crate::encode::Format;
use crate::error::{GnError, GnResult, OrRaise};
use crate::export::Export;
use crate::jsonb::{JsonText, Jsonb};
use crate::query::{self, Plan};
use crate::settings;
pub use page::integer;
use page::{page, pin, query_filters, Page};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use serde_json::{Map, Value as JsonValue};
use snapshot::Snapshot;

/// The page's items, encoded as the files are (`format` is geojson or json).
fn items(plan: &Plan, format: Format, snap: &Snapshot, p: Page, name: String) -> GnResult<Vec<u8>> {
    let mut pump = Pump::start(format.encoder(&plan.layout)?, Vec::new(), name, None)?;
    let (start, end) = p.rows(snap.footer.rows);
    let entries = snap.entries(start, end)?;
    if !entries.is_empty() {
        let mut cursor = keys::open_page(plan, entries, snap.footer.ranked)?;
        while !cursor.is_done() {
            cursor.next_batch(|row| pump.row(row))?;
        }
        cursor.close();
    }
    Ok(pump.finish()?.0)
}

/// `{"name": …, "href": …}` of the export's licence.
fn license(export: &Export) -> String {
    let text = |v: &Option<String>| v.clone().map_or(JsonValue::Null, JsonValue::String);
    let mut m = Map::new();
    m.insert("href".into(), text(&export.licence_url));
    m.insert("name".into(), text(&export.licence_name));
    JsonValue::Object(m).to_string()
}

/// `{"id": …, "created_at": …}` of the snapshot, its time in ISO 8601, UTC.
fn snapshot_json(snap: &Snapshot) -> String {
    let mut at = Vec::with_capacity(32);
    write_timestamp(snap.footer.created, &mut at);
    format!(
        "{{\"id\":\"{}\",\"created_at\":\"{}Z\"}}",
        snap.id,
        String::from_utf8_lossy(&at)
    )
}

pub fn page_of(
    id_export: i32,
    params: &JsonValue,
    id_role: Option<i32>,
    token: Option<&str>,
) -> GnResult<String> {
    let empty = Map::new();
    let params = match params {
        JsonValue::Object(m) => m,
        JsonValue::Null => &empty,
        other => {
            return Err(GnError::new(
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("params must be a JSON object of query parameters, not {other}"),
            ))
        }
    };
    let token = token.or_else(|| params.get("token").and_then(JsonValue::as_str));
    let export = access::require_read(crate::catalog::export::load(id_export)?, id_role, token)?;
    let format = match crate::export::geometry_field(export.geometry_field.as_deref()) {
        Some(_) => Format::GeoJson,
        None => Format::Json,
    };
    let p = page(
        &export,
        params,
        settings::api_default_limit(),
        settings::api_max_limit(),
    )?;
    let pin = pin(&export, params, p)?;
    // a snapshot's keys are text written by one session and read by others: every session
    // writes and reads them (and evaluates the filters) with PostgreSQL's default forms
    let _text = settings::GucScope::pinned_value_text();
    let relation = crate::catalog::relation(&export)?;
    let (filters, ignored) = query_filters(&export, params, &relation.columns);
    let plan = query::plan(&export, relation, format, Some(&filters))?;
    let snap = serve::serve(&export, &plan, &pin)?;
    let items = items(&plan, format, &snap, p, export.name())?;

    let mut out = String::with_capacity(items.len() + 512);
    out.push_str("{\"items\":");
    out.push_str(std::str::from_utf8(&items).unwrap_or("null"));
    out.push_str(",\"ignored\":");
    out.push_str(&JsonValue::from(ignored).to_string());
    out.push_str(",\"license\":");
    out.push_str(&license(&export));
    out.push_str(&format!(
        ",\"limit\":{},\"page\":{},\"pages\":{},\"snapshot\":{},\"total\":{},\"total_filtered\":{}}}",
        p.limit,
        p.page,
        snap.footer.rows.div_ceil(p.limit as u64),
        snapshot_json(&snap),
        snap.footer.total,
        snap.footer.rows
    ));
    Ok(out)
}

/// One page of the partner API, as GeoNature's `GET /exports/api/<id>` serves it:
/// `{items, ignored, license: {name, href}, limit, page, pages, snapshot: {id, created_at},
/// total, total_filtered}`. `items` is a GeoJSON FeatureCollection (feature id = pk, NULL
/// geometries kept) when the export has a geometry, else an array of objects, rendered as the
/// files are. `params` are the query parameters, as GeoNature's route passes its query string:
/// `limit` (default gn_export.api_default_limit, at most gn_export.api_max_limit), `offset` (a
/// page index: rows skipped = offset × limit), `orderby` (`col[:ASC|DESC]`, several separated
/// by `:` as GN2PG writes them, `a:b:desc`; default the pk, ties broken by the pk), `geometry`
/// (WKT in EPSG:4326), GeoNature's column filters, `snapshot` and `token` (or the argument).
/// Any other name is ignored, as GeoNature ignores it, and listed in `ignored`.
///
/// Pages are slices of a snapshot: the query's keys in order, made once and shared by every
/// session of the server. Without `snapshot` (GeoNature's clients know nothing of snapshots),
/// the first page (offset 0) comes from the newest snapshot of the same query if it was made
/// less than gn_export.api_snapshot_ttl seconds ago, or if another harvest paged it in the last
/// minute and it was made less than a day ago, else from a new one; a later page (offset > 0)
/// from the newest snapshot of the query that still lives (used at least every
/// gn_export.api_snapshot_ttl seconds), whatever its age, so that a long harvest stays on one.
/// `snapshot` = an id of an earlier answer pages that snapshot while it lives (rows inserted
/// meanwhile are not in it, rows deleted are left out, rows read now); `snapshot` = "new" makes
/// a new one. `total` counts the export and `total_filtered` the snapshot's rows, both as they
/// were when it was made; `pages` = ⌈total_filtered / limit⌉. A page before the last may hold
/// fewer than `limit` items (rows deleted since the snapshot): a harvest ends at offset
/// `pages` − 1, not at the first short page.
/// Returns `json` (not `jsonb`): keys in the view's order and every digit of numerics, exactly
/// the value text of the files. Errors: P0002 unknown export, 42501 access refused (checked on
/// every call), 22023 bad parameters (including JSON numbers beyond double precision or
/// nesting deeper than 128, a snapshot id that has expired or holds another query), 42703
/// unknown filter column, 54000 keys beyond gn_export.api_snapshot_space.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn api(
    id_export: i32,
    params: default!(Option<Jsonb>, "'{}'"),
    id_role: default!(Option<i32>, "NULL"),
    token: default!(Option<&str>, "NULL"),
) -> JsonText {
    let params = match params {
        Some(p) => p.parse(&format!("export {id_export}: params")).or_raise(),
        None => JsonValue::Null,
    };
    // json, not jsonb: items keep the view's column order and every digit, as in the files
    JsonText(page_of(id_export, &params, id_role, token).or_raise())
}
