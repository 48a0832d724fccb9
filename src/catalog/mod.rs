//! The export catalog (`gn_exports`): its bootstrap SQL and the validation of one definition.

pub mod definition;
pub mod export;
pub mod formats;

use crate::adopted;
use crate::error::OrRaise;
use pgrx::prelude::*;

/// The relation behind an export, checked as the `t_exports` trigger checks a definition (see
/// `definition::check_definition`): what `query::plan` builds on.
pub fn relation(export: &crate::export::Export) -> crate::error::GnResult<definition::Relation> {
    definition::check_definition(
        &export.label,
        &export.schema_name,
        &export.view_name,
        &export.view_pk_column,
        export.geometry_field.as_deref(),
        export.geometry_srid,
    )
}

/// Checks that each table of the catalog (`gn_exports.t_exports`, `t_licences`,
/// `cor_exports_roles`, `t_export_schedules`) is one gn_export uses: an ordinary table (or a
/// partitioned one made of ordinary tables) with no rule and no inheritance child, whose
/// columns that gn_export reads are there with GeoNature's built-in types. Raises 42501 with a
/// hint naming the first table that is not and what is wrong with it, 42P01 for a missing one.
/// `install_catalog()` runs it before adopting a catalog, so that CREATE EXTENSION never
/// touches a view, a rule or a trigger someone put in a table's place.
#[pg_extern(stable)]
#[search_path(pg_catalog, pg_temp)]
fn check_catalog() {
    for t in [
        &adopted::LICENCES,
        &adopted::EXPORTS,
        &adopted::EXPORT_ROLES,
        &adopted::SCHEDULES,
    ] {
        adopted::owner(&[t]).or_raise();
    }
}

// Created after the functions it calls (check_definition), so it is listed as their dependant.
pgrx::extension_sql_file!(
    "../../sql/catalog.sql",
    name = "catalog",
    requires = [
        check_catalog,
        definition::check_definition_sql,
        files::names::check_file_name,
        formats::formats
    ]
);

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::export;
    use crate::relation::typmod_srid;
    use pgrx::prelude::*;
    use pgrx::PgSqlErrorCode;

    #[pg_test]
    fn typmod_srid_agrees_with_postgis() {
        Spi::run("CREATE TABLE t_typmod (a geometry(Point, 2154), b geometry(MultiPolygonZ, 4326), c geometry)")
            .unwrap();
        for (col, srid) in [("a", Some(2154)), ("b", Some(4326)), ("c", None)] {
            let typmod = Spi::get_one::<i32>(&format!(
                "SELECT atttypmod FROM pg_attribute WHERE attrelid = 't_typmod'::regclass AND attname = '{col}'"
            ))
            .unwrap()
            .unwrap();
            let postgis =
                Spi::get_one::<i32>(&format!("SELECT postgis_typmod_srid({typmod})")).unwrap();
            assert_eq!(typmod_srid(typmod), srid, "column {col}");
            assert_eq!(srid.unwrap_or(0), postgis.unwrap_or(0), "column {col}");
        }
    }

    #[pg_test]
    fn columns_are_told_apart_by_their_base_type() {
        use crate::relation::{view_columns, Category, ColumnType as T};
        Spi::run(
            "CREATE DOMAIN public.d_int2 AS smallint;
             CREATE DOMAIN public.d_tags AS text[];
             CREATE DOMAIN public.d_geom AS geometry;
             CREATE DOMAIN public.d_uuid AS uuid;
             CREATE TABLE public.t_kinds (a smallint, b public.d_int2, c integer[], d varchar(20)[],
                 e public.d_tags, f geometry(Point, 2154), g geography, h public.d_geom, i jsonb,
                 j uuid, k public.d_uuid[], l interval, m time with time zone, n name, o bytea,
                 p geometry[], q numeric(10, 2), r timestamp(3) with time zone)",
        )
        .unwrap();
        let oid = Spi::get_one::<pg_sys::Oid>("SELECT 'public.t_kinds'::regclass::oid")
            .unwrap()
            .unwrap();
        let got: Vec<(String, T, bool, bool, Category, Option<i32>)> = view_columns(oid)
            .unwrap()
            .into_iter()
            .map(|c| {
                (
                    c.name.clone(),
                    c.ty,
                    c.array,
                    c.domain,
                    c.category(),
                    c.srid,
                )
            })
            .collect();
        let want = [
            ("a", T::Int2, false, false, Category::Integer, None),
            ("b", T::Int2, false, true, Category::Integer, None),
            ("c", T::Int4, true, false, Category::Other, None),
            ("d", T::Text, true, false, Category::Other, None),
            // a domain over an array is written as the array's text, not as a list
            ("e", T::Other, false, true, Category::Other, None),
            (
                "f",
                T::Geometry,
                false,
                false,
                Category::Geometry,
                Some(2154),
            ),
            ("g", T::Geography, false, false, Category::Geography, None),
            ("h", T::Geometry, false, true, Category::Geometry, None),
            ("i", T::Json, false, false, Category::Other, None),
            ("j", T::Uuid, false, false, Category::Other, None),
            ("k", T::Uuid, true, false, Category::Other, None),
            ("l", T::Interval, false, false, Category::Other, None),
            ("m", T::TimeTz, false, false, Category::Other, None),
            ("n", T::Text, false, false, Category::Text, None),
            ("o", T::Bytea, false, false, Category::Other, None),
            ("p", T::Geometry, true, false, Category::Other, None),
            ("q", T::Numeric, false, false, Category::Numeric, None),
            (
                "r",
                T::TimestampTz,
                false,
                false,
                Category::TimestampTz,
                None,
            ),
        ];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1, g.2, g.3, g.4, g.5), w);
        }
    }

    #[pg_test]
    fn unknown_export_is_no_data_found() {
        let err = export::load(-42).unwrap_err();
        assert_eq!(err.code, PgSqlErrorCode::ERRCODE_NO_DATA_FOUND);
        assert!(err.message.contains("-42"));
    }

    #[pg_test]
    fn export_loads_with_its_licence() {
        Spi::run("CREATE VIEW public.v_load AS SELECT 1 AS id").unwrap();
        let id = Spi::get_one::<i32>(
            "INSERT INTO gn_exports.t_exports (label, schema_name, view_name, geometry_field, id_licence, view_pk_column)
             VALUES ('Chargé', 'public', 'v_load', '', 2, 'id') RETURNING id",
        )
        .unwrap()
        .unwrap();
        let e = export::load(id).unwrap();
        assert_eq!(e.label, "Chargé");
        assert_eq!(e.geometry_field.as_deref(), Some(""));
        assert!(e.licence_name.as_deref().unwrap_or("").contains("ODbL"));
        assert_eq!(e.name(), format!("export \"Chargé\" (id {id})"));
    }
}
