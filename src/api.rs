//! `gn_export.api()`: one page of GeoNature's partner API (`GET /exports/api/<id>`), with its
//! defects fixed: `limit=0` no longer dumps the whole view, `total_filtered` is not reduced by
//! the offset, NULL geometries are kept (pages are honest), the geometry filter works in any
//! SRID, and values render exactly as in the files.

use crate::access;
use crate::catalog::export::Export;
use crate::encode::format::Output;
use crate::encode::Format;
use crate::error::{GnError, GnResult, OrRaise};
use crate::jsonb::{JsonText, Jsonb};
use crate::query::{self, Plan};
use crate::settings;
use crate::sink::pump::Pump;
use crate::source::Cursor;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use serde_json::{Map, Value as JsonValue};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Instant;

/// The page a caller asks for, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub page: i64,
}

fn bad(export: &Export, what: String) -> GnError {
    GnError::new(
        Code::ERRCODE_INVALID_PARAMETER_VALUE,
        format!("{}: {what}", export.name()),
    )
}

/// A whole number given as a JSON number or a string, as query parameters come.
pub fn integer(v: &JsonValue) -> Option<i64> {
    match v {
        JsonValue::Number(n) => n.as_i64(),
        JsonValue::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// `limit` (default and cap from the settings; must be a positive integer) and `offset`, which
/// is a page index as in GeoNature (SQL offset = offset × limit; must be ≥ 0).
pub fn page(
    export: &Export,
    params: &Map<String, JsonValue>,
    default: i64,
    max: i64,
) -> GnResult<Page> {
    let limit = match params.get("limit") {
        None | Some(JsonValue::Null) => default,
        Some(v) => match integer(v) {
            Some(n) if n > 0 => n.min(max),
            _ => {
                return Err(
                    bad(export, format!("limit {v} is not a positive integer")).hint(format!(
                        "Pages hold 1 to {max} items (gn_export.api_max_limit)."
                    )),
                )
            }
        },
    };
    let page = match params.get("offset") {
        None | Some(JsonValue::Null) => 0,
        Some(v) => match integer(v) {
            Some(n) if n >= 0 => n,
            _ => {
                return Err(bad(
                    export,
                    format!("offset {v} is not a page number (0, 1, 2…)"),
                )
                .hint("offset is a page index: the rows skipped are offset × limit."))
            }
        },
    };
    Ok(Page { limit, page })
}

/// The query parameters turned into filters: API keys removed, a deterministic order (the pk
/// unless `orderby` says otherwise), and the page as rows.
pub fn filters_for(
    export: &Export,
    params: &Map<String, JsonValue>,
    p: Page,
) -> GnResult<JsonValue> {
    let mut f = params.clone();
    for k in ["limit", "offset", "token"] {
        f.remove(k);
    }
    if !f.contains_key("orderby") {
        f.insert(
            "orderby".into(),
            JsonValue::String(export.view_pk_column.clone()),
        );
    }
    let offset = p
        .page
        .checked_mul(p.limit)
        .ok_or_else(|| bad(export, format!("offset {} is too large", p.page)))?;
    f.insert("limit".into(), p.limit.into());
    f.insert("offset".into(), offset.into());
    Ok(JsonValue::Object(f))
}

/// Row counts reused for `gn_export.api_total_cache` seconds in this session, at most
/// `COUNT_ENTRIES` of them and `COUNT_KEY_BYTES` of keys (filters can be long WKT polygons):
/// the oldest go first.
const COUNT_ENTRIES: usize = 256;
const COUNT_KEY_BYTES: usize = 1 << 20;

#[derive(Default)]
struct Counts {
    entries: VecDeque<(String, i64, Instant)>,
    key_bytes: usize,
}

impl Counts {
    fn get(&self, key: &str, ttl: std::time::Duration) -> Option<i64> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _, at)| k == key && at.elapsed() < ttl)
            .map(|(_, n, _)| *n)
    }

    fn put(&mut self, key: String, n: i64) {
        if key.len() > COUNT_KEY_BYTES / 4 {
            return; // too big to be worth keeping
        }
        self.key_bytes += key.len();
        self.entries.push_back((key, n, Instant::now()));
        while self.entries.len() > COUNT_ENTRIES || self.key_bytes > COUNT_KEY_BYTES {
            if let Some((k, _, _)) = self.entries.pop_front() {
                self.key_bytes -= k.len();
            }
        }
    }
}

thread_local! {
    static COUNTS: RefCell<Counts> = RefCell::new(Counts::default());
}

/// A row count, reused for `gn_export.api_total_cache` seconds in this session. The key holds
/// the calling role, the role the count ran as, the count's SQL text and its parameters: a
/// redefined export, other filters or another role never reuse it.
fn cached_count(sql: &str, plan: &Plan, nparams: usize) -> GnResult<i64> {
    let ttl = settings::api_total_cache();
    // SAFETY: reads the current user id, a backend global.
    let caller = unsafe { pgrx::pg_sys::GetUserId() };
    let key = format!(
        "{caller:?}\u{0}{:?}\u{0}{sql}\u{0}{:?}",
        plan.definer.role,
        &plan.params[..nparams]
    );
    if let Some(n) = COUNTS.with(|c| c.borrow().get(&key, ttl)) {
        return Ok(n);
    }
    let args = crate::source::datums(&plan.params[..nparams]);
    let n = plan
        .definer
        .run(|| Spi::get_one_with_args::<i64>(sql, &args))?
        .unwrap_or(0);
    if !ttl.is_zero() {
        COUNTS.with(|c| c.borrow_mut().put(key, n));
    }
    Ok(n)
}

/// The page's items, encoded as the files are (`format` is geojson or json).
fn items(export: &Export, plan: &Plan, format: Format) -> GnResult<Vec<u8>> {
    let Output::Text(make) = format.spec().output else {
        unreachable!("the API pages are json or geojson")
    };
    let mut pump = Pump::start(make(&plan.layout)?, Vec::new(), export.name(), None)?;
    // GeoNature filled view_pk_column with the view's first column, unique or not: paging by
    // key is only right for a key that is (checked over the view, cached like the counts)
    let mut cursor = if cached_count(&plan.unique_sql, plan, 0)? == 1 {
        // two steps: the page's keys (the view's wide columns are never computed for rows that
        // are skipped), then the page's rows by key (an index lookup on the view's base table)
        let keys: Vec<String> = plan.definer.run(|| {
            Spi::connect(|client| -> GnResult<Vec<String>> {
                let args = crate::source::datums(&plan.params);
                let rows = client.select(&plan.keys_sql, None, &args)?;
                let mut keys = Vec::new();
                for r in rows {
                    if let Some(k) = r.get::<String>(1)? {
                        keys.push(k);
                    }
                }
                Ok(keys)
            })
        })?;
        Cursor::open(
            plan,
            &plan.by_keys_sql,
            &[crate::source::Param::TextArray(keys)],
        )?
    } else {
        // one step, in a total order: slower, but no row is lost or served twice
        Cursor::open(plan, &plan.page_sql, &plan.params)?
    };
    while !cursor.is_done() {
        cursor.next_batch(|row| pump.row(row))?;
    }
    cursor.close();
    Ok(pump.finish()?.0)
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
    let export = access::require_read(id_export, id_role, token)?;
    let format = match crate::catalog::definition::geometry_field(export.geometry_field.as_deref())
    {
        Some(_) => Format::GeoJson,
        None => Format::Json,
    };
    let p = page(
        &export,
        params,
        settings::api_default_limit(),
        settings::api_max_limit(),
    )?;
    let filters = filters_for(&export, params, p)?;
    let plan = query::plan(&export, format, Some(&filters))?;
    let total = cached_count(&plan.total_sql, &plan, 0)?;
    let total_filtered = if plan.filtered {
        cached_count(&plan.count_sql, &plan, plan.count_params)?
    } else {
        total
    };
    let items = items(&export, &plan, format)?;

    let mut out = String::with_capacity(items.len() + 256);
    out.push_str("{\"items\":");
    out.push_str(std::str::from_utf8(&items).unwrap_or("null"));
    let mut license = Map::new();
    license.insert(
        "href".into(),
        export
            .licence_url
            .clone()
            .map(JsonValue::String)
            .unwrap_or(JsonValue::Null),
    );
    license.insert(
        "name".into(),
        export
            .licence_name
            .clone()
            .map(JsonValue::String)
            .unwrap_or(JsonValue::Null),
    );
    out.push_str(",\"license\":");
    out.push_str(&JsonValue::Object(license).to_string());
    out.push_str(&format!(
        ",\"limit\":{},\"page\":{},\"total\":{total},\"total_filtered\":{total_filtered}}}",
        p.limit, p.page
    ));
    Ok(out)
}

/// One page of the partner API, as GeoNature's `GET /exports/api/<id>` serves it:
/// `{items, license: {name, href}, limit, page, total, total_filtered}`. `items` is a GeoJSON
/// FeatureCollection (feature id = pk, NULL geometries kept) when the export has a geometry,
/// else an array of objects, rendered as the files are. `params` are the query parameters:
/// `limit` (default gn_export.api_default_limit, at most gn_export.api_max_limit), `offset`
/// (a page index: rows skipped = offset × limit), `orderby` (`col[:ASC|DESC]`, default the pk),
/// `geometry` (WKT in EPSG:4326), GeoNature's column filters, and `token` (or the argument).
/// `total` counts the export and `total_filtered` the filtered rows (not reduced by the
/// offset); both counts are reused for gn_export.api_total_cache seconds in the session.
/// Returns `json` (not `jsonb`): keys in the view's order and every digit of numerics, exactly
/// the value text of the files. Errors: P0002 unknown export, 42501 access refused, 22023 bad
/// parameters (including JSON numbers beyond double precision or nesting deeper than 128),
/// 42703 unknown filter column.
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

#[cfg(test)]
mod unit {
    use super::*;

    fn export() -> Export {
        Export {
            id: 1,
            label: "T".into(),
            description: None,
            schema_name: "s".into(),
            view_name: "v".into(),
            geometry_field: None,
            geometry_srid: None,
            public: true,
            view_pk_column: "id".into(),
            licence_name: None,
            licence_url: None,
        }
    }

    fn p(json: &str) -> GnResult<Page> {
        let m: Map<String, JsonValue> = serde_json::from_str(json).unwrap();
        page(&export(), &m, 100, 1000)
    }

    #[test]
    fn pages() {
        assert_eq!(
            p("{}").unwrap(),
            Page {
                limit: 100,
                page: 0
            }
        );
        assert_eq!(
            p(r#"{"limit": 10, "offset": 3}"#).unwrap(),
            Page { limit: 10, page: 3 }
        );
        assert_eq!(
            p(r#"{"limit": "10", "offset": "3"}"#).unwrap(),
            Page { limit: 10, page: 3 }
        );
        assert_eq!(p(r#"{"limit": 5000}"#).unwrap().limit, 1000);
        for bad in [
            r#"{"limit": 0}"#,
            r#"{"limit": -1}"#,
            r#"{"limit": "x"}"#,
            r#"{"limit": 1.5}"#,
            r#"{"offset": -1}"#,
            r#"{"offset": "a"}"#,
        ] {
            assert_eq!(
                p(bad).unwrap_err().code,
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                "{bad}"
            );
        }
    }

    #[test]
    fn filters_get_an_order_and_rows() {
        let m: Map<String, JsonValue> =
            serde_json::from_str(r#"{"token": "t", "limit": 10, "offset": 2, "nom": "x"}"#)
                .unwrap();
        let f = filters_for(&export(), &m, Page { limit: 10, page: 2 }).unwrap();
        assert_eq!(
            f,
            serde_json::json!({"nom": "x", "orderby": "id", "limit": 10, "offset": 20})
        );
    }
}
