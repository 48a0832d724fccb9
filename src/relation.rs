//! One relation and its columns as the system catalogs describe them: the relation behind an
//! export, its columns in view order with what every floor needs to know about their types
//! (the query's casts, the writers' column types), PostGIS's schema. At the bottom of the
//! house, so that the catalog, the query and the writers share one description.

use crate::error::{GnError, GnResult};
use pgrx::pg_sys::{self, Oid};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

/// The relation behind an export, as found in the system catalogs, with its columns in order:
/// read once per statement, by the check of its definition (`catalog::relation`), for the query
/// and the writers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub oid: pg_sys::Oid,
    pub owner: pg_sys::Oid,
    pub qualified: String,
    pub columns: Vec<ViewColumn>,
}

/// The SRID a PostGIS geometry typmod carries, or None for an unconstrained column.
/// Layout (liblwgeom `TYPMOD_GET_SRID`): bits 8..28 hold the SRID, sign-extended from bit 27.
pub fn typmod_srid(typmod: i32) -> Option<i32> {
    if typmod < 0 {
        return None;
    }
    let srid = ((typmod & 0x0FFF_FF00) - (typmod & 0x0800_0000)) >> 8;
    (srid > 0).then_some(srid)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Text,
    Integer,
    Float,
    Numeric,
    Bool,
    Date,
    Timestamp,
    TimestampTz,
    Geometry,
    Geography,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewColumn {
    pub name: String,
    /// the type as SQL spells it (`character varying(255)`, `geometry(Point,2154)`)
    pub type_name: String,
    pub category: Category,
    /// SRID from a geometry typmod
    pub srid: Option<i32>,
    /// the declared type is a domain over the type `category` describes
    pub domain: bool,
}

impl ViewColumn {
    /// Test helper: a column of a plain type (no domain, no typmod SRID).
    #[cfg(test)]
    pub fn of(name: &str, type_name: &str, category: Category) -> ViewColumn {
        ViewColumn {
            name: name.into(),
            type_name: type_name.into(),
            category,
            srid: None,
            domain: false,
        }
    }

    pub fn is_spatial(&self) -> bool {
        matches!(self.category, Category::Geometry | Category::Geography)
    }
}

pub fn category(base: Oid, typname: &str, postgis_type: bool) -> Category {
    match base {
        pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID | pg_sys::NAMEOID => {
            Category::Text
        }
        pg_sys::INT2OID | pg_sys::INT4OID | pg_sys::INT8OID => Category::Integer,
        pg_sys::FLOAT4OID | pg_sys::FLOAT8OID => Category::Float,
        pg_sys::NUMERICOID => Category::Numeric,
        pg_sys::BOOLOID => Category::Bool,
        pg_sys::DATEOID => Category::Date,
        pg_sys::TIMESTAMPOID => Category::Timestamp,
        pg_sys::TIMESTAMPTZOID => Category::TimestampTz,
        _ if postgis_type && typname == "geometry" => Category::Geometry,
        _ if postgis_type && typname == "geography" => Category::Geography,
        _ if typname == "citext" => Category::Text,
        _ => Category::Other,
    }
}

/// The columns of relation `oid`, in order (read by `catalog::relation`, after the caller's
/// SELECT privilege is checked).
pub fn view_columns(oid: Oid) -> GnResult<Vec<ViewColumn>> {
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod),
                    CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END,
                    bt.typname::text,
                    EXISTS (SELECT 1 FROM pg_catalog.pg_extension e
                             WHERE e.extname = 'postgis' AND e.extnamespace = bt.typnamespace),
                    a.atttypmod,
                    t.typtype = 'd'
               FROM pg_catalog.pg_attribute a
               JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
               JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
              WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum",
            None,
            &[oid.into()],
        )?;
        let mut out = Vec::new();
        for r in rows {
            let typname = r.get::<String>(4)?.unwrap_or_default();
            let cat = category(
                r.get::<Oid>(3)?.unwrap_or(Oid::INVALID),
                &typname,
                r.get::<bool>(5)?.unwrap_or(false),
            );
            let typmod = r.get::<i32>(6)?.unwrap_or(-1);
            out.push(ViewColumn {
                name: r.get::<String>(1)?.unwrap_or_default(),
                type_name: r.get::<String>(2)?.unwrap_or_default(),
                category: cat,
                srid: if cat == Category::Geometry {
                    typmod_srid(typmod)
                } else {
                    None
                },
                domain: r.get::<bool>(7)?.unwrap_or(false),
            });
        }
        Ok(out)
    })
}

/// PostGIS's schema, quoted, to call its functions whatever the search_path.
pub fn postgis_schema() -> GnResult<String> {
    let s = crate::spi::one::<String>(
        "SELECT n.nspname::text FROM pg_catalog.pg_extension e
           JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'postgis'",
        &[],
    )?;
    s.map(spi::quote_identifier).ok_or_else(|| {
        GnError::new(
            Code::ERRCODE_UNDEFINED_OBJECT,
            "PostGIS is not installed in this database",
        )
        .hint("CREATE EXTENSION postgis;")
    })
}

/// A spatial reference system as PostGIS's `spatial_ref_sys` defines it (all None when it has
/// no row for the SRID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpatialRef {
    pub srid: i32,
    pub auth_name: Option<String>,
    pub auth_srid: Option<i32>,
    pub srtext: Option<String>,
}

/// `srid`'s row of PostGIS's own `spatial_ref_sys` (found through its extension's schema: a
/// relation of that name in the caller's path is not it). Loads PostGIS, and the PROJ library
/// it links, in this backend: writers that read a definition through PROJ need it mapped.
pub fn spatial_ref(srid: i32) -> GnResult<SpatialRef> {
    let pg = postgis_schema()?;
    crate::spi::run(&format!("SELECT {pg}.postgis_proj_version()"), &[])?;
    let (auth_name, auth_srid, srtext) = crate::spi::three::<String, i32, String>(
        &format!("SELECT auth_name::text, auth_srid, srtext::text FROM {pg}.spatial_ref_sys WHERE srid = $1"),
        &[srid.into()],
    )
    .unwrap_or((None, None, None));
    Ok(SpatialRef {
        srid,
        auth_name,
        auth_srid,
        srtext,
    })
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
}
