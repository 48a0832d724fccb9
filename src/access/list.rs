//! `gn_export.exports()`: the exports a user may see, by GeoNature's list rule, with only the
//! caller's own tokens (GeoNature's list returned every role's token to every viewer).

use super::geonature::{self, roles_of};
use super::{rule, scope};
use crate::adopted;
use crate::encode::format::REGISTRY;
use crate::error::{GnResult, OrRaise};
use pgrx::prelude::*;

/// GeoNature's search: the words, in order, anywhere in the label (`label ILIKE '%w1%w2%'`).
/// LIKE's own wildcards in the words are taken literally.
pub fn search_pattern(search: Option<&str>) -> Option<String> {
    let words: Vec<String> = search?
        .split_whitespace()
        .map(|w| {
            w.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        })
        .collect();
    if words.is_empty() {
        None
    } else {
        Some(format!("%{}%", words.join("%")))
    }
}

type Row = (
    i32,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<i32>,
    bool,
    String,
    Option<String>,
    Option<String>,
    Vec<String>,
    Vec<String>,
);

/// The formats an export can be written in: all of them when it has a geometry, else those
/// that are not made of features; and of those that need columns by name (Darwin-SW), only
/// when its view has them.
fn formats(has_geometry: bool, columns: &[String]) -> Vec<String> {
    REGISTRY
        .iter()
        .filter(|s| has_geometry || s.features.is_none())
        .filter(|s| s.columns.iter().all(|c| columns.iter().any(|x| x == c)))
        .map(|s| s.name.to_string())
        .collect()
}

fn list(id_role: Option<i32>, search: Option<&str>) -> GnResult<Vec<Row>> {
    let gn = geonature::detect()?;
    let scope = match id_role {
        Some(role) => scope::scope_with(&gn, role, "R")?,
        None => 0,
    };
    // the user and their groups; no role at all for an anonymous caller
    let mine: Vec<i32> = match id_role {
        Some(role) => roles_of(&gn, role)?,
        None => Vec::new(),
    };
    let q = "SELECT e.id, e.label, e.\"desc\", e.schema_name, e.view_name, e.geometry_field::text,
                e.geometry_srid, e.public, e.view_pk_column::text,
                l.name_licence::text, l.url_licence::text,
                NULLIF(pg_catalog.btrim(e.geometry_field), '') IS NOT NULL,
                ARRAY(SELECT c.token::text FROM gn_exports.cor_exports_roles c
                       WHERE c.id_export OPERATOR(pg_catalog.=) e.id
                         AND c.id_role OPERATOR(pg_catalog.=) ANY ($1) ORDER BY c.id_role),
                EXISTS (SELECT 1 FROM gn_exports.cor_exports_roles c
                         WHERE c.id_export OPERATOR(pg_catalog.=) e.id
                           AND c.id_role OPERATOR(pg_catalog.=) ANY ($1)),
                ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                       JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) a.attrelid
                       JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) r.relnamespace
                      WHERE n.nspname OPERATOR(pg_catalog.=) e.schema_name::text
                        AND r.relname OPERATOR(pg_catalog.=) e.view_name::text
                        AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)
           FROM gn_exports.t_exports e
           LEFT JOIN gn_exports.t_licences l ON l.id_licence OPERATOR(pg_catalog.=) e.id_licence
          WHERE ($2::text IS NULL OR e.label::text OPERATOR(pg_catalog.~~*) $2)
          ORDER BY e.label, e.id";
    let pattern = search_pattern(search);
    let tables = [
        &adopted::EXPORTS,
        &adopted::LICENCES,
        &adopted::EXPORT_ROLES,
    ];
    adopted::with(&tables, || {
        Spi::connect(|client| {
            let rows = client.select(q, None, &[mine.into(), pattern.into()])?;
            let mut out = Vec::new();
            for r in rows {
                let public = r.get::<bool>(8)?.unwrap_or(false);
                let associated = r.get::<bool>(14)?.unwrap_or(false);
                // the rule of can_read(), with no token: an export is listed when it could be read
                let readable = rule::decide::<()>(
                    public,
                    rule::TokenCheck::NotGiven,
                    id_role,
                    |_| Ok(scope),
                    |_| Ok(associated),
                );
                if readable != Ok(Ok(())) {
                    continue;
                }
                out.push((
                    r.get::<i32>(1)?.unwrap_or_default(),
                    r.get::<String>(2)?.unwrap_or_default(),
                    r.get::<String>(3)?,
                    r.get::<String>(4)?.unwrap_or_default(),
                    r.get::<String>(5)?.unwrap_or_default(),
                    r.get::<String>(6)?,
                    r.get::<i32>(7)?,
                    public,
                    r.get::<String>(9)?.unwrap_or_default(),
                    r.get::<String>(10)?,
                    r.get::<String>(11)?,
                    formats(
                        r.get::<bool>(12)?.unwrap_or(false),
                        &r.get::<Vec<String>>(15)?.unwrap_or_default(),
                    ),
                    r.get::<Vec<String>>(13)?.unwrap_or_default(),
                ));
            }
            Ok(out)
        })
    })
}

/// The exports a user may see, ordered by label, as GeoNature lists them: exactly those that
/// can_read(id, id_role) allows (the same rule, applied to each export): scope 3 sees all;
/// scope 1 or 2 sees public exports and those associated with the user or one of their
/// groups; anonymous (NULL) or scope 0 sees public exports only. `search` keeps labels that
/// contain its words in order. `formats` is what can be produced (every format of gn_export.formats() when the export has a
/// geometry, else those not made of features); `tokens` holds only the
/// tokens of the user's own associations and their groups', never anyone else's.
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelt out here
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn exports(
    id_role: default!(Option<i32>, "NULL"),
    search: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(id, i32),
        name!(label, String),
        name!(description, Option<String>),
        name!(schema_name, String),
        name!(view_name, String),
        name!(geometry_field, Option<String>),
        name!(geometry_srid, Option<i32>),
        name!(public, bool),
        name!(view_pk_column, String),
        name!(licence_name, Option<String>),
        name!(licence_url, Option<String>),
        name!(formats, Vec<String>),
        name!(tokens, Vec<String>),
    ),
> {
    TableIterator::new(list(id_role, search).or_raise())
}

#[cfg(test)]
mod unit {
    use super::search_pattern;

    #[test]
    fn search_words_in_order() {
        assert_eq!(search_pattern(None), None);
        assert_eq!(search_pattern(Some("   ")), None);
        assert_eq!(search_pattern(Some("synthese")), Some("%synthese%".into()));
        assert_eq!(
            search_pattern(Some(" syn  sinp ")),
            Some("%syn%sinp%".into())
        );
        assert_eq!(
            search_pattern(Some("100% a_b")),
            Some("%100\\%%a\\_b%".into())
        );
    }
}
