//! Validation of one export definition: the view exists, its pk column exists, and the
//! geometry column is a PostGIS geometry whose SRID agrees with `geometry_srid`.

use crate::error::{GnError, GnResult, OrRaise};
use crate::relation::typmod_srid;
pub use crate::relation::Relation;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

/// What the catalogs say about one column of that relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub type_name: String,
    pub is_geometry: bool,
    pub typmod: i32,
}

pub use crate::export::geometry_field;

/// Schemas whose relations are PostgreSQL's own: an export never reads them (pg_authid holds
/// password hashes, and a schedule file is published).
pub fn is_system_schema(schema: &str) -> bool {
    matches!(schema, "pg_catalog" | "information_schema" | "pg_toast")
        || schema.starts_with("pg_temp_")
        || schema.starts_with("pg_toast_temp_")
}

pub fn find_relation(label: &str, schema: &str, name: &str) -> GnResult<Relation> {
    let qualified = format!(
        "{}.{}",
        spi::quote_identifier(schema),
        spi::quote_identifier(name)
    );
    if is_system_schema(schema) {
        return Err(GnError::new(
            Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("export \"{label}\": {qualified} is a system relation, which gn_export never exports"),
        )
        .hint("Point the export at a view of your own that selects what may be published."));
    }
    let row = no_row_is_none(crate::spi::two::<pg_sys::Oid, pg_sys::Oid>(
        "SELECT c.oid, c.relowner FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r','v','m','p','f')",
        &[schema.into(), name.into()],
    ))?;
    match row {
        Some((Some(oid), Some(owner))) => Ok(Relation {
            oid,
            owner,
            qualified,
        }),
        _ => Err(GnError::new(
            Code::ERRCODE_UNDEFINED_TABLE,
            format!("export \"{label}\": relation {qualified} does not exist"),
        )
        .hint("Create the view (or table) first, or correct schema_name and view_name.")),
    }
}

pub fn find_column(rel: &Relation, name: &str) -> GnResult<Option<Column>> {
    let row = crate::spi::three::<String, bool, i32>(
        "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod),
                t.typname = 'geometry' AND EXISTS (
                    SELECT 1 FROM pg_catalog.pg_extension e
                     WHERE e.extname = 'postgis' AND e.extnamespace = t.typnamespace),
                a.atttypmod
           FROM pg_catalog.pg_attribute a
           JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
          WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
        &[rel.oid.into(), name.into()],
    );
    match no_row_is_none(row)? {
        Some((Some(type_name), Some(is_geometry), Some(typmod))) => Ok(Some(Column {
            type_name,
            is_geometry,
            typmod,
        })),
        _ => Ok(None),
    }
}

/// `Spi::get_*` report "no row" as an error; for catalog lookups it is an ordinary answer.
fn no_row_is_none<T>(r: Result<T, pgrx::spi::Error>) -> GnResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(pgrx::spi::Error::InvalidPosition) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Checks one definition for the current user, who must be able to SELECT the relation (the
/// writer of a definition, or the caller of an export); returns the relation on success.
pub fn check_definition(
    label: &str,
    schema: &str,
    view: &str,
    pk: &str,
    geometry: Option<&str>,
    srid: Option<i32>,
) -> GnResult<Relation> {
    let rel = find_relation(label, schema, view)?;
    // before any column is looked at: a definition never probes what its writer cannot read
    crate::definer::require_select(rel.oid, &format!("export \"{label}\""), &rel.qualified)?;
    if find_column(&rel, pk)?.is_none() {
        return Err(GnError::new(
            Code::ERRCODE_UNDEFINED_COLUMN,
            format!(
                "export \"{label}\": view_pk_column \"{pk}\" is not a column of {}",
                rel.qualified
            ),
        )
        .hint("Set view_pk_column to a column of the view whose values are unique."));
    }
    if let Some(geom) = geometry_field(geometry) {
        let col = find_column(&rel, geom)?.ok_or_else(|| {
            GnError::new(
                Code::ERRCODE_UNDEFINED_COLUMN,
                format!(
                    "export \"{label}\": geometry_field \"{geom}\" is not a column of {}",
                    rel.qualified
                ),
            )
            .hint("Set geometry_field to the view's geometry column, or to NULL for an export without geometry.")
        })?;
        if !col.is_geometry {
            return Err(GnError::new(
                Code::ERRCODE_DATATYPE_MISMATCH,
                format!(
                    "export \"{label}\": geometry_field \"{geom}\" of {} is {}, not a PostGIS geometry",
                    rel.qualified, col.type_name
                ),
            )
            .hint("Point geometry_field at a geometry column (cast geography with ::geometry in the view)."));
        }
        if let (Some(declared), Some(actual)) = (srid, typmod_srid(col.typmod)) {
            if declared != actual {
                return Err(GnError::new(
                    Code::ERRCODE_INVALID_PARAMETER_VALUE,
                    format!(
                        "export \"{label}\": geometry_srid {declared} disagrees with column \"{geom}\" of {}, which is {}",
                        rel.qualified, col.type_name
                    ),
                )
                .hint(format!("Set geometry_srid to {actual}, or to NULL to use the column's SRID.")));
            }
        }
    }
    Ok(rel)
}

/// Checks an export definition the way the validation trigger on `gn_exports.t_exports` does,
/// and raises the error that explains the first problem found: the view or table does not exist
/// (42P01), it is a system relation or the calling role may not SELECT it (42501),
/// view_pk_column or geometry_field is not one of its columns (42703), geometry_field is not a
/// PostGIS geometry (42804), or geometry_srid disagrees with the column's SRID (22023).
#[pg_extern(name = "check_definition", stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
pub fn check_definition_sql(
    label: Option<&str>,
    schema_name: Option<&str>,
    view_name: Option<&str>,
    view_pk_column: Option<&str>,
    geometry_field: default!(Option<&str>, "NULL"),
    geometry_srid: default!(Option<i32>, "NULL"),
) {
    let label = label.unwrap_or("(no label)");
    let required = |v: Option<&'_ str>, what: &str| -> GnResult<()> {
        match v {
            Some(s) if !s.is_empty() => Ok(()),
            _ => Err(GnError::new(
                Code::ERRCODE_NOT_NULL_VIOLATION,
                format!("export \"{label}\": {what} is required"),
            )),
        }
    };
    required(schema_name, "schema_name").or_raise();
    required(view_name, "view_name").or_raise();
    required(view_pk_column, "view_pk_column").or_raise();
    check_definition(
        label,
        schema_name.unwrap_or_default(),
        view_name.unwrap_or_default(),
        view_pk_column.unwrap_or_default(),
        geometry_field,
        geometry_srid,
    )
    .or_raise();
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn srid_from_typmod() {
        // geometry(Geometry,4326): srid 4326 << 8, type 0
        assert_eq!(typmod_srid(4326 << 8), Some(4326));
        // geometry(Point,2154) with the point type bits (1 << 2)
        assert_eq!(typmod_srid((2154 << 8) | 4), Some(2154));
        // geometry(PointZ,4326): Z flag is bit 1
        assert_eq!(typmod_srid((4326 << 8) | 4 | 2), Some(4326));
        assert_eq!(typmod_srid(-1), None);
        assert_eq!(typmod_srid(4), None);
    }

    #[test]
    fn blank_geometry_field_means_none() {
        assert_eq!(geometry_field(None), None);
        assert_eq!(geometry_field(Some("")), None);
        assert_eq!(geometry_field(Some("  ")), None);
        assert_eq!(geometry_field(Some("geom")), Some("geom"));
    }
}
