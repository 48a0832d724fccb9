//! Validation of one export definition: the view exists, its pk column exists, and the
//! geometry column is a PostGIS geometry whose SRID agrees with `geometry_srid`.

use crate::error::{GnError, GnResult, OrRaise};
pub use crate::relation::Relation;
use crate::relation::{view_columns, Category, ViewColumn};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

/// A relation found by its name, before its columns are read.
struct Found {
    oid: pg_sys::Oid,
    owner: pg_sys::Oid,
    qualified: String,
}

pub use crate::export::geometry_field;

/// Schemas whose relations are PostgreSQL's own: an export never reads them (pg_authid holds
/// password hashes, and a schedule file is published).
pub fn is_system_schema(schema: &str) -> bool {
    matches!(schema, "pg_catalog" | "information_schema" | "pg_toast")
        || schema.starts_with("pg_temp_")
        || schema.starts_with("pg_toast_temp_")
}

fn find_relation(label: &str, schema: &str, name: &str) -> GnResult<Found> {
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
        Some((Some(oid), Some(owner))) => Ok(Found {
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

/// `Spi::get_*` report "no row" as an error; for catalog lookups it is an ordinary answer.
fn no_row_is_none<T>(r: Result<T, pgrx::spi::Error>) -> GnResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(pgrx::spi::Error::InvalidPosition) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A feature geometry is PostGIS's own type: not geography, not a domain over geometry (whose
/// functions and casts someone else may have defined).
fn is_geometry(c: &ViewColumn) -> bool {
    c.category() == Category::Geometry && !c.domain
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
    let Found {
        oid,
        owner,
        qualified,
    } = find_relation(label, schema, view)?;
    // before any column is looked at: a definition never probes what its writer cannot read
    crate::definer::require_select(oid, &format!("export \"{label}\""), &qualified)?;
    let rel = Relation {
        oid,
        owner,
        qualified,
        columns: view_columns(oid)?,
    };
    let find_column = |name: &str| rel.columns.iter().find(|c| c.name == name);
    if find_column(pk).is_none() {
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
        let col = find_column(geom).ok_or_else(|| {
            GnError::new(
                Code::ERRCODE_UNDEFINED_COLUMN,
                format!(
                    "export \"{label}\": geometry_field \"{geom}\" is not a column of {}",
                    rel.qualified
                ),
            )
            .hint("Set geometry_field to the view's geometry column, or to NULL for an export without geometry.")
        })?;
        if !is_geometry(col) {
            return Err(GnError::new(
                Code::ERRCODE_DATATYPE_MISMATCH,
                format!(
                    "export \"{label}\": geometry_field \"{geom}\" of {} is {}, not a PostGIS geometry",
                    rel.qualified, col.type_name
                ),
            )
            .hint("Point geometry_field at a geometry column (cast geography with ::geometry in the view)."));
        }
        if let (Some(declared), Some(actual)) = (srid, col.srid) {
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
    fn blank_geometry_field_means_none() {
        assert_eq!(geometry_field(None), None);
        assert_eq!(geometry_field(Some("")), None);
        assert_eq!(geometry_field(Some("  ")), None);
        assert_eq!(geometry_field(Some("geom")), Some("geom"));
    }
}
