//! GeoNature's filter language, from a JSON object to SQL conditions with bound parameters:
//!
//! | key | condition |
//! |---|---|
//! | `<col>` | `col = value` (`IS NULL` for JSON null) |
//! | `ilike_<col>` | `col::text ILIKE '%value%'`, on any type (GeoNature: only `text`) |
//! | `filter_d_up_<col>` / `_lo_` / `_eq_` | `>=` / `<=` / `=` on date, timestamp or integer columns; a date-only value on a timestamp column covers the whole day (GeoNature silently ignored date columns) |
//! | `filter_n_up_<col>` / `_lo_` | `>=` / `<=` on numeric columns |
//! | `geometry…` | intersects a WKT geometry in EPSG:4326, compared in the export's own SRID |
//! | `orderby` | `col[:ASC\|DESC]`, several separated by `:` (`date_debut:id_synthese`, `a:desc:b`) |
//! | `limit`, `offset` | non-negative integers |
//!
//! Identifiers only ever come from the view's own columns, quoted; values are parameters.

use crate::error::{GnError, GnResult};
use crate::relation::{Category, ViewColumn};
use crate::source::Param;
use pgrx::PgSqlErrorCode as Code;
use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    ILike,
    DateGe,
    DateLe,
    DateEq,
    NumGe,
    NumLe,
    Intersects,
}

/// Splits a filter key into its operation and column.
pub fn parse_key(key: &str) -> (Op, &str) {
    const PREFIXES: [(&str, Op); 6] = [
        ("ilike_", Op::ILike),
        ("filter_d_up_", Op::DateGe),
        ("filter_d_lo_", Op::DateLe),
        ("filter_d_eq_", Op::DateEq),
        ("filter_n_up_", Op::NumGe),
        ("filter_n_lo_", Op::NumLe),
    ];
    for (p, op) in PREFIXES {
        if let Some(col) = key.strip_prefix(p) {
            return (op, col);
        }
    }
    if key.starts_with("geometry") {
        return (Op::Intersects, key);
    }
    (Op::Eq, key)
}

/// What a filter needs to know about the export.
pub struct Ctx<'a> {
    pub export: &'a str,
    pub columns: &'a [ViewColumn],
    /// the export's geometry column, its typmod SRID when it has one, and the SRID of its rows
    /// stored without one (the export's geometry_srid, else 4326)
    pub geometry: Option<(&'a ViewColumn, Option<i32>, i32)>,
    /// quoted PostGIS schema
    pub postgis: &'a str,
}

/// Checks that a value can be cast to a type; the database implementation runs the cast in a
/// subtransaction. Arguments: key, column, value, SQL type.
pub type CastCheck<'c> = dyn FnMut(&str, &ViewColumn, &str, &str) -> GnResult<()> + 'c;

#[derive(Debug, Default, PartialEq)]
pub struct Built {
    pub conditions: Vec<String>,
    pub order: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

use super::ident as q;

fn bad_value(ctx: &Ctx, key: &str, what: impl AsRef<str>) -> GnError {
    GnError::new(
        Code::ERRCODE_INVALID_PARAMETER_VALUE,
        format!("{}: filter \"{key}\": {}", ctx.export, what.as_ref()),
    )
}

/// The text of a scalar JSON value; None for null; an error for arrays and objects.
fn scalar(ctx: &Ctx, key: &str, v: &Json) -> GnResult<Option<String>> {
    match v {
        Json::Null => Ok(None),
        Json::String(s) => Ok(Some(s.clone())),
        Json::Number(n) => Ok(Some(n.to_string())),
        Json::Bool(b) => Ok(Some(b.to_string())),
        _ => Err(bad_value(
            ctx,
            key,
            "the value must be a string, a number, a boolean or null",
        )),
    }
}

fn column<'a>(ctx: &Ctx<'a>, key: &str, name: &str) -> GnResult<&'a ViewColumn> {
    ctx.columns.iter().find(|c| c.name == name).ok_or_else(|| {
        let names: Vec<&str> = ctx
            .columns
            .iter()
            .take(12)
            .map(|c| c.name.as_str())
            .collect();
        let more = if ctx.columns.len() > 12 { ", …" } else { "" };
        GnError::new(
            Code::ERRCODE_UNDEFINED_COLUMN,
            format!(
                "{}: filter \"{key}\": the view has no column \"{name}\"",
                ctx.export
            ),
        )
        .hint(format!("Columns: {}{more}.", names.join(", ")))
    })
}

fn non_negative(ctx: &Ctx, key: &str, v: &Json) -> GnResult<i64> {
    let n = match v {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    n.filter(|n| *n >= 0)
        .ok_or_else(|| bad_value(ctx, key, format!("{v} is not a non-negative integer")))
}

fn push(params: &mut Vec<Param>, p: Param) -> String {
    params.push(p);
    format!("${}", params.len())
}

fn is_date_only(s: &str) -> bool {
    let b = s.trim().as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// `orderby`: columns separated by `:`, each followed by `:ASC` or `:DESC` or not (GeoNature:
/// `col[:asc|desc]`; GN2PG: `date_debut:id_synthese`). A column named `asc` or `desc` cannot be
/// given here.
fn order_by(ctx: &Ctx, key: &str, v: &Json) -> GnResult<String> {
    let spec = scalar(ctx, key, v)?.unwrap_or_default();
    let mut terms: Vec<String> = Vec::new();
    let mut last: Option<&str> = None;
    for part in spec.split(':') {
        let dir = match part.to_ascii_uppercase().as_str() {
            "ASC" => Some("ASC"),
            "DESC" => Some("DESC"),
            _ => None,
        };
        match (dir, last.take()) {
            (Some(d), Some(col)) => terms.push(format!("t.{} {d}", q(col))),
            (Some(_), None) => {
                return Err(bad_value(
                    ctx,
                    key,
                    format!("\"{part}\" follows no column: write col:{part}"),
                ))
            }
            (None, previous) => {
                if let Some(col) = previous {
                    terms.push(format!("t.{} ASC", q(col)));
                }
                last = Some(&column(ctx, key, part)?.name);
            }
        }
    }
    if let Some(col) = last {
        terms.push(format!("t.{} ASC", q(col)));
    }
    Ok(terms.join(", "))
}

/// The geometry filter: rows whose geometry intersects a WKT geometry in EPSG:4326.
fn intersects(
    ctx: &Ctx,
    key: &str,
    value: Option<String>,
    params: &mut Vec<Param>,
    check: &mut CastCheck,
) -> GnResult<String> {
    let Some((geom, srid, default_srid)) = ctx.geometry else {
        return Err(bad_value(
            ctx,
            key,
            "the export has no geometry to filter on",
        ));
    };
    let wkt =
        value.ok_or_else(|| bad_value(ctx, key, "a WKT geometry in EPSG:4326 is required"))?;
    check(key, geom, &wkt, "wkt")?;
    let p = push(params, Param::Text(wkt));
    let pg = ctx.postgis;
    let g = format!("t.{}", q(&geom.name));
    let wkt = format!("{pg}.st_geomfromtext({p}, 4326)");
    Ok(match srid {
        Some(4326) => format!("{pg}.st_intersects({g}, {wkt})"),
        Some(s) => format!("{pg}.st_intersects({g}, {pg}.st_transform({wkt}, {s}))"),
        // an unconstrained column: each row in its own SRID, SRID 0 meaning the export's
        None => {
            let row_srid = format!(
                "(CASE WHEN {pg}.st_srid({g}) = 0 THEN {default_srid} ELSE {pg}.st_srid({g}) END)"
            );
            format!(
                "{pg}.st_intersects({pg}.st_setsrid({g}, {row_srid}), {pg}.st_transform({wkt}, {row_srid}))"
            )
        }
    })
}

/// A filter on one column with a value: what the operator means for the column's type.
fn condition(
    ctx: &Ctx,
    key: &str,
    op: Op,
    col: &ViewColumn,
    value: String,
    params: &mut Vec<Param>,
    check: &mut CastCheck,
) -> GnResult<String> {
    let c = format!("t.{}", q(&col.name));
    Ok(match op {
        Op::Eq if col.category() == Category::Text => {
            format!("{c} = {}", push(params, Param::Text(value)))
        }
        Op::Eq => {
            check(key, col, &value, &col.type_name)?;
            let p = push(params, Param::Text(value));
            format!("{c} = CAST({p} AS {})", col.type_name)
        }
        Op::ILike => {
            let p = push(params, Param::Text(value));
            format!("{c}::text ILIKE '%' || {p} || '%'")
        }
        Op::DateGe | Op::DateLe | Op::DateEq => {
            date_condition(ctx, key, op, col, &c, value, params, check)?
        }
        Op::NumGe | Op::NumLe => {
            if !matches!(
                col.category(),
                Category::Integer | Category::Float | Category::Numeric
            ) {
                return Err(GnError::new(
                    Code::ERRCODE_DATATYPE_MISMATCH,
                    format!(
                        "{}: filter \"{key}\": column \"{}\" is {}, not a number",
                        ctx.export, col.name, col.type_name
                    ),
                ));
            }
            check(key, col, &value, "numeric")?;
            let p = push(params, Param::Text(value));
            let cmp = if op == Op::NumGe { ">=" } else { "<=" };
            format!("{c} {cmp} CAST({p} AS numeric)")
        }
        Op::Intersects => unreachable!("handled by intersects()"),
    })
}

/// GeoNature's date filters: on an integer column (a year), a date, or a timestamp, where a
/// date alone means the whole day.
#[allow(clippy::too_many_arguments)]
fn date_condition(
    ctx: &Ctx,
    key: &str,
    op: Op,
    col: &ViewColumn,
    c: &str,
    value: String,
    params: &mut Vec<Param>,
    check: &mut CastCheck,
) -> GnResult<String> {
    let cmp = match op {
        Op::DateGe => ">=",
        Op::DateLe => "<=",
        _ => "=",
    };
    Ok(match col.category() {
        Category::Integer => {
            let n = value.trim().parse::<i64>().map_err(|_| {
                GnError::new(
                    Code::ERRCODE_INVALID_TEXT_REPRESENTATION,
                    format!(
                        "{}: filter \"{key}\": \"{value}\" is not an integer (column \"{}\" is {})",
                        ctx.export, col.name, col.type_name
                    ),
                )
            })?;
            format!("{c} {cmp} {}", push(params, Param::Int(n)))
        }
        Category::Date | Category::Timestamp | Category::TimestampTz if is_date_only(&value) => {
            check(key, col, &value, "date")?;
            let p = push(params, Param::Text(value.trim().to_string()));
            let day = format!("CAST({p} AS date)");
            match (col.category(), op) {
                (Category::Date, _) => format!("{c} {cmp} {day}"),
                (_, Op::DateGe) => format!("{c} >= {day}"),
                (_, Op::DateLe) => format!("{c} < {day} + 1"),
                _ => format!("({c} >= {day} AND {c} < {day} + 1)"),
            }
        }
        Category::Date | Category::Timestamp | Category::TimestampTz => {
            let t = if col.category() == Category::TimestampTz {
                "timestamptz"
            } else {
                "timestamp"
            };
            check(key, col, &value, t)?;
            let p = push(params, Param::Text(value));
            format!("{c} {cmp} CAST({p} AS {t})")
        }
        _ => {
            return Err(GnError::new(
                Code::ERRCODE_DATATYPE_MISMATCH,
                format!(
                    "{}: filter \"{key}\": column \"{}\" is {}, not a date, timestamp or integer",
                    ctx.export, col.name, col.type_name
                ),
            ))
        }
    })
}

pub fn build(
    filters: &Map<String, Json>,
    ctx: &Ctx,
    params: &mut Vec<Param>,
    check: &mut CastCheck,
) -> GnResult<Built> {
    let mut out = Built::default();
    for (key, v) in filters {
        match key.as_str() {
            "orderby" => out.order = Some(order_by(ctx, key, v)?),
            "limit" => out.limit = Some(non_negative(ctx, key, v)?),
            "offset" => out.offset = Some(non_negative(ctx, key, v)?),
            _ => {
                let (op, name) = parse_key(key);
                let value = scalar(ctx, key, v)?;
                let cond = if op == Op::Intersects {
                    intersects(ctx, key, value, params, check)?
                } else {
                    let col = column(ctx, key, name)?;
                    match value {
                        Some(value) => condition(ctx, key, op, col, value, params, check)?,
                        None if op == Op::Eq => format!("t.{} IS NULL", q(&col.name)),
                        None => {
                            return Err(bad_value(
                                ctx,
                                key,
                                "null can only be compared with equality",
                            ))
                        }
                    }
                };
                out.conditions.push(cond);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::relation::ColumnType;

    fn col(name: &str, ty: ColumnType, type_name: &str) -> ViewColumn {
        ViewColumn::of(name, type_name, ty)
    }

    fn columns() -> Vec<ViewColumn> {
        vec![
            col("id", ColumnType::Int4, "integer"),
            col("nom", ColumnType::Text, "character varying(50)"),
            col(
                "date_debut",
                ColumnType::Timestamp,
                "timestamp without time zone",
            ),
            col("jour", ColumnType::Date, "date"),
            col("x", ColumnType::Float8, "double precision"),
            col("Geom", ColumnType::Geometry, "geometry(Point,2154)"),
        ]
    }

    fn run(json: &str) -> GnResult<(Built, Vec<Param>)> {
        let cols = columns();
        let ctx = Ctx {
            export: "export \"T\" (id 1)",
            columns: &cols,
            geometry: Some((&cols[5], Some(2154), 2154)),
            postgis: "public",
        };
        let map: Map<String, Json> = serde_json::from_str(json).unwrap();
        let mut params = Vec::new();
        let b = build(&map, &ctx, &mut params, &mut |_, _, _, _| Ok(()))?;
        Ok((b, params))
    }

    #[test]
    fn keys() {
        assert_eq!(parse_key("ilike_nom"), (Op::ILike, "nom"));
        assert_eq!(parse_key("filter_d_up_date"), (Op::DateGe, "date"));
        assert_eq!(parse_key("filter_n_lo_x"), (Op::NumLe, "x"));
        assert_eq!(parse_key("geometry"), (Op::Intersects, "geometry"));
        assert_eq!(
            parse_key("geometry_filter"),
            (Op::Intersects, "geometry_filter")
        );
        assert_eq!(parse_key("nom"), (Op::Eq, "nom"));
    }

    #[test]
    fn conditions_and_params() {
        let (b, p) = run(
            r#"{"id": 3, "ilike_nom": "é'; DROP", "filter_d_lo_date_debut": "2024-01-31",
                             "filter_d_eq_jour": "2024-02-01", "filter_n_up_x": 1.5, "nom": null,
                             "orderby": "date_debut:desc", "limit": 10, "offset": "20"}"#,
        )
        .unwrap();
        // serde_json keeps object keys sorted: conditions come in key order
        assert_eq!(
            b.conditions,
            vec![
                r#"t."jour" = CAST($1 AS date)"#,
                r#"t."date_debut" < CAST($2 AS date) + 1"#,
                r#"t."x" >= CAST($3 AS numeric)"#,
                r#"t."id" = CAST($4 AS integer)"#,
                r#"t."nom"::text ILIKE '%' || $5 || '%'"#,
                r#"t."nom" IS NULL"#,
            ]
        );
        assert_eq!(p[4], Param::Text("é'; DROP".into()));
        assert_eq!(b.order.as_deref(), Some(r#"t."date_debut" DESC"#));
        assert_eq!((b.limit, b.offset), (Some(10), Some(20)));
    }

    #[test]
    fn orders_as_geonature_and_gn2pg_write_them() {
        let order = |s: &str| run(&format!(r#"{{"orderby": "{s}"}}"#)).unwrap().0.order;
        assert_eq!(order("nom").as_deref(), Some(r#"t."nom" ASC"#));
        assert_eq!(order("nom:DeSc").as_deref(), Some(r#"t."nom" DESC"#));
        assert_eq!(
            order("date_debut:id").as_deref(),
            Some(r#"t."date_debut" ASC, t."id" ASC"#)
        );
        assert_eq!(
            order("jour:desc:nom:x:asc").as_deref(),
            Some(r#"t."jour" DESC, t."nom" ASC, t."x" ASC"#)
        );
    }

    #[test]
    fn geometry_in_the_export_srid_and_quoted_identifiers() {
        let (b, p) = run(r#"{"geometry": "POINT(6 45)"}"#).unwrap();
        assert_eq!(
            b.conditions,
            vec![
                r#"public.st_intersects(t."Geom", public.st_transform(public.st_geomfromtext($1, 4326), 2154))"#
            ]
        );
        assert_eq!(p, vec![Param::Text("POINT(6 45)".into())]);
    }

    #[test]
    fn errors() {
        let code = |j: &str| run(j).unwrap_err().code;
        assert_eq!(code(r#"{"nope": 1}"#), Code::ERRCODE_UNDEFINED_COLUMN);
        assert_eq!(
            code(r#"{"ilike_nope": "a"}"#),
            Code::ERRCODE_UNDEFINED_COLUMN
        );
        assert_eq!(
            code(r#"{"orderby": "nope"}"#),
            Code::ERRCODE_UNDEFINED_COLUMN
        );
        // a direction after no column
        for bad in ["id:desc:asc", "asc", "DESC:id"] {
            assert_eq!(
                code(&format!(r#"{{"orderby": "{bad}"}}"#)),
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                "{bad}"
            );
        }
        // not a direction: a column, which the view must have
        assert_eq!(
            code(r#"{"orderby": "id:sideways"}"#),
            Code::ERRCODE_UNDEFINED_COLUMN
        );
        assert_eq!(
            code(r#"{"limit": -1}"#),
            Code::ERRCODE_INVALID_PARAMETER_VALUE
        );
        assert_eq!(
            code(r#"{"id": [1, 2]}"#),
            Code::ERRCODE_INVALID_PARAMETER_VALUE
        );
        assert_eq!(
            code(r#"{"filter_d_up_nom": "2024-01-01"}"#),
            Code::ERRCODE_DATATYPE_MISMATCH
        );
        assert_eq!(
            code(r#"{"filter_n_up_nom": 1}"#),
            Code::ERRCODE_DATATYPE_MISMATCH
        );
        assert_eq!(
            code(r#"{"filter_d_up_id": "x"}"#),
            Code::ERRCODE_INVALID_TEXT_REPRESENTATION
        );
        assert_eq!(
            code(r#"{"ilike_nom": null}"#),
            Code::ERRCODE_INVALID_PARAMETER_VALUE
        );
    }
}
