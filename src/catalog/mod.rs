//! The export catalog (`gn_exports`): its bootstrap SQL and the validation of one definition.

pub mod definition;
pub mod export;
pub mod formats;

// Created after the functions it calls (check_definition), so it is listed as their dependant.
pgrx::extension_sql_file!(
    "../../sql/catalog.sql",
    name = "catalog",
    requires = [
        definition::check_definition_sql,
        sink::names::check_file_name,
        formats::formats
    ]
);

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::definition::typmod_srid;
    use super::export;
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
