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
