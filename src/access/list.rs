//! `gn_export.exports()`: the exports a user may see, by GeoNature's list rule, with only the
//! caller's own tokens (GeoNature's list returned every role's token to every viewer).

use super::geonature::{self, role_or_groups};
use super::scope;
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

fn list(id_role: Option<i32>, search: Option<&str>) -> GnResult<Vec<Row>> {
    let gn = geonature::detect()?;
    let scope = match id_role {
        Some(role) => scope::scope_with(&gn, role, "R")?,
        None => 0,
    };
    let mine = role_or_groups(&gn, "c.id_role", "$1");
    let q = format!(
        "SELECT e.id, e.label, e.\"desc\", e.schema_name, e.view_name, e.geometry_field::text,
                e.geometry_srid, e.public, e.view_pk_column::text,
                l.name_licence::text, l.url_licence::text,
                CASE WHEN NULLIF(btrim(e.geometry_field), '') IS NULL THEN ARRAY['csv', 'json']
                     ELSE ARRAY['csv', 'json', 'geojson', 'gpkg'] END,
                ARRAY(SELECT c.token::text FROM gn_exports.cor_exports_roles c
                       WHERE c.id_export = e.id AND {mine} ORDER BY c.id_role)
           FROM gn_exports.t_exports e
           LEFT JOIN gn_exports.t_licences l ON l.id_licence = e.id_licence
          WHERE ($2 >= 3 OR e.public
                 OR ($2 IN (1, 2) AND EXISTS (SELECT 1 FROM gn_exports.cor_exports_roles c
                                               WHERE c.id_export = e.id AND {mine})))
            AND ($3::text IS NULL OR e.label ILIKE $3)
          ORDER BY e.label, e.id"
    );
    let pattern = search_pattern(search);
    Spi::connect(|client| {
        let rows = client.select(&q, None, &[id_role.into(), scope.into(), pattern.into()])?;
        let mut out = Vec::new();
        for r in rows {
            out.push((
                r.get::<i32>(1)?.unwrap_or_default(),
                r.get::<String>(2)?.unwrap_or_default(),
                r.get::<String>(3)?,
                r.get::<String>(4)?.unwrap_or_default(),
                r.get::<String>(5)?.unwrap_or_default(),
                r.get::<String>(6)?,
                r.get::<i32>(7)?,
                r.get::<bool>(8)?.unwrap_or(false),
                r.get::<String>(9)?.unwrap_or_default(),
                r.get::<String>(10)?,
                r.get::<String>(11)?,
                r.get::<Vec<String>>(12)?.unwrap_or_default(),
                r.get::<Vec<String>>(13)?.unwrap_or_default(),
            ));
        }
        Ok(out)
    })
}

/// The exports a user may see, ordered by label, as GeoNature lists them: scope 3 sees all;
/// scope 1 or 2 sees public exports and those associated with the user or one of their
/// groups; anonymous (NULL) or scope 0 sees public exports only. `search` keeps labels that
/// contain its words in order. `formats` is what can be produced; `tokens` holds only the
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
