//! What a partner asks for: the page (`limit`, `offset`), the snapshot it pages (`snapshot`),
//! and the query that the snapshot holds the keys of (every other parameter).

use crate::error::{GnError, GnResult};
use crate::export::Export;
use crate::query::filters::{parse_key, Op};
use crate::relation::ViewColumn;
use pgrx::PgSqlErrorCode as Code;
use serde_json::{Map, Value as JsonValue};

/// The page a caller asks for, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub page: i64,
}

impl Page {
    /// The page's rows as positions in the snapshot: `[start, end)`, clipped to `rows`.
    pub fn rows(self, rows: u64) -> (u64, u64) {
        let start = (self.page as u64)
            .saturating_mul(self.limit as u64)
            .min(rows);
        (start, start.saturating_add(self.limit as u64).min(rows))
    }
}

/// Which snapshot serves the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// no `snapshot` parameter, as GeoNature's clients page: the newest live snapshot of the
    /// same query, or a new one; `continuing` for a page after the first (offset > 0), which
    /// stays on the snapshot its harvest began on for as long as the harvest keeps paging
    Latest { continuing: bool },
    /// a new snapshot, whatever exists (`"snapshot": "new"`)
    New,
    /// that snapshot (`"snapshot": "<id>"`), which must still live and hold the same query
    Id(String),
}

pub fn bad(export: &Export, what: String) -> GnError {
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
/// is a page index as in GeoNature (rows skipped = offset × limit; must be ≥ 0).
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

/// A snapshot id as `api()` hands them out: 32 lowercase hex digits (so that it can only name
/// a file of the snapshot directory, never a path).
pub fn is_snapshot_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The `snapshot` parameter, for `page`.
pub fn pin(export: &Export, params: &Map<String, JsonValue>, page: Page) -> GnResult<Pin> {
    match params.get("snapshot") {
        None | Some(JsonValue::Null) => Ok(Pin::Latest {
            continuing: page.page > 0,
        }),
        Some(JsonValue::String(s)) if s == "new" => Ok(Pin::New),
        Some(JsonValue::String(s)) if is_snapshot_id(s) => Ok(Pin::Id(s.clone())),
        Some(v) => {
            let shown: String = v.to_string().chars().take(60).collect();
            Err(bad(export, format!("snapshot {shown} is not a snapshot id"))
                .hint("Pass the snapshot.id of an earlier answer, \"new\" for a new snapshot, or no snapshot."))
        }
    }
}

/// The API's own parameters, which are not filters.
const API_KEYS: [&str; 4] = ["limit", "offset", "token", "snapshot"];

/// The query a snapshot holds the keys of, and the names it ignores. As GeoNature's
/// `GenericQuery` does, a parameter that is neither one of the API's, nor `orderby`, nor a
/// column of the view, nor a filter prefix (`ilike_`, `filter_d_…`, `filter_n_…`, `geometry`)
/// is ignored: a harvester's `action=…`, a cache buster `_=…`, `f=json`. Ignored names are
/// reported (sorted), and are not part of the query, so that a cache buster does not make a new
/// snapshot at every page. The order is deterministic: the pk unless `orderby` says otherwise;
/// ties are broken by the pk.
pub fn query_filters(
    export: &Export,
    params: &Map<String, JsonValue>,
    columns: &[ViewColumn],
) -> (JsonValue, Vec<String>) {
    let mut f = Map::new();
    let mut ignored = Vec::new();
    for (k, v) in params {
        if API_KEYS.contains(&k.as_str()) {
            continue;
        }
        let known = k == "orderby"
            || match parse_key(k) {
                (Op::Eq, name) => columns.iter().any(|c| c.name == name),
                _ => true,
            };
        if known {
            f.insert(k.clone(), v.clone());
        } else {
            ignored.push(k.clone());
        }
    }
    if !f.contains_key("orderby") {
        f.insert(
            "orderby".into(),
            JsonValue::String(export.view_pk_column.clone()),
        );
    }
    ignored.sort();
    (JsonValue::Object(f), ignored)
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

    fn map(json: &str) -> Map<String, JsonValue> {
        serde_json::from_str(json).unwrap()
    }

    fn p(json: &str) -> GnResult<Page> {
        page(&export(), &map(json), 100, 1000)
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
    fn page_rows_are_clipped_and_never_overflow() {
        let p = |limit, page| Page { limit, page };
        assert_eq!(p(10, 0).rows(25), (0, 10));
        assert_eq!(p(10, 2).rows(25), (20, 25));
        assert_eq!(p(10, 3).rows(25), (25, 25));
        assert_eq!(p(1000, i64::MAX).rows(25), (25, 25));
        assert_eq!(p(1000, 0).rows(0), (0, 0));
    }

    #[test]
    fn snapshot_parameter() {
        let first = Page { limit: 10, page: 0 };
        let pin_of = |json: &str| pin(&export(), &map(json), first);
        let latest = Pin::Latest { continuing: false };
        assert_eq!(pin_of("{}").unwrap(), latest);
        assert_eq!(pin_of(r#"{"snapshot": null}"#).unwrap(), latest);
        assert_eq!(
            pin(&export(), &map("{}"), Page { limit: 10, page: 1 }).unwrap(),
            Pin::Latest { continuing: true }
        );
        assert_eq!(pin_of(r#"{"snapshot": "new"}"#).unwrap(), Pin::New);
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            pin_of(&format!(r#"{{"snapshot": "{id}"}}"#)).unwrap(),
            Pin::Id(id.into())
        );
        for bad in [
            r#"{"snapshot": "../../postgresql.conf"}"#,
            r#"{"snapshot": "0123456789ABCDEF0123456789ABCDEF"}"#,
            r#"{"snapshot": "0123456789abcdef0123456789abcde"}"#,
            r#"{"snapshot": 12}"#,
            r#"{"snapshot": ""}"#,
        ] {
            assert_eq!(
                pin_of(bad).unwrap_err().code,
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                "{bad}"
            );
        }
    }

    #[test]
    fn the_query_leaves_out_the_api_keys_and_gets_an_order() {
        use crate::relation::ColumnType;
        let cols = [
            ViewColumn::of("id", "integer", ColumnType::Int4),
            ViewColumn::of("nom", "text", ColumnType::Text),
        ];
        let q = |json: &str| query_filters(&export(), &map(json), &cols);
        let (f, ignored) =
            q(r#"{"token": "t", "limit": 10, "offset": 2, "snapshot": "new", "nom": "x"}"#);
        assert_eq!(f, serde_json::json!({"nom": "x", "orderby": "id"}));
        assert!(ignored.is_empty());
        let (f, _) = q(r#"{"orderby": "nom:desc"}"#);
        assert_eq!(f, serde_json::json!({"orderby": "nom:desc"}));
        // GN2PG's and browsers' extra names are ignored and reported; prefixed filters and
        // the geometry filter stay filters (a missing column is still an error there)
        let (f, ignored) = q(
            r#"{"action": "['I','U']", "_": "1733", "f": "json", "nom": "x",
                "filter_d_up_derniere_action": "2026-01-01", "ilike_absent": "a", "geometry": "POINT(1 2)"}"#,
        );
        assert_eq!(ignored, ["_", "action", "f"]);
        assert_eq!(
            f,
            serde_json::json!({"nom": "x", "filter_d_up_derniere_action": "2026-01-01",
                               "ilike_absent": "a", "geometry": "POINT(1 2)", "orderby": "id"})
        );
    }
}
