//! One export definition as stored in `gn_exports.t_exports`, with its licence.

use crate::adopted;
use crate::error::{GnError, GnResult};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

pub use crate::export::Export;

/// Loads one export, or P0002 when there is none with that id.
pub fn load(id_export: i32) -> GnResult<Export> {
    adopted::with(&[&adopted::EXPORTS, &adopted::LICENCES], || {
        load_row(id_export)
    })
}

fn load_row(id_export: i32) -> GnResult<Export> {
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT e.id, e.label::text, e.\"desc\"::text, e.schema_name::text, e.view_name::text,
                    e.geometry_field::text, e.geometry_srid::int, e.public, e.view_pk_column::text,
                    l.name_licence::text, l.url_licence::text
               FROM gn_exports.t_exports e
               LEFT JOIN gn_exports.t_licences l ON l.id_licence OPERATOR(pg_catalog.=) e.id_licence
              WHERE e.id OPERATOR(pg_catalog.=) $1",
            Some(1),
            &[id_export.into()],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Err(GnError::new(
                Code::ERRCODE_NO_DATA_FOUND,
                format!("export {id_export} does not exist"),
            )
            .hint("List the exports you may read with SELECT * FROM gn_export.exports(id_role)."));
        };
        Ok(Export {
            id: row.get::<i32>(1)?.unwrap_or(id_export),
            label: row.get::<String>(2)?.unwrap_or_default(),
            description: row.get::<String>(3)?,
            schema_name: row.get::<String>(4)?.unwrap_or_default(),
            view_name: row.get::<String>(5)?.unwrap_or_default(),
            geometry_field: row.get::<String>(6)?,
            geometry_srid: row.get::<i32>(7)?,
            public: row.get::<bool>(8)?.unwrap_or(false),
            view_pk_column: row.get::<String>(9)?.unwrap_or_default(),
            licence_name: row.get::<String>(10)?,
            licence_url: row.get::<String>(11)?,
        })
    })
}
