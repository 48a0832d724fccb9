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

/// The coarse group of a column's type that filters and casts go by.
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

/// A column's type as every floor needs it: its base type (a domain's), or its elements' for
/// an array, told apart by OID once, here. The query's filters and casts, each writer's column
/// types and the API's schema all decide from it, never from the type's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    /// text, varchar, char, name and citext
    Text,
    /// json and jsonb
    Json,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Bytea,
    /// PostGIS's own geometry and geography (a type of that name elsewhere is `Other`)
    Geometry,
    Geography,
    Other,
}

impl ColumnType {
    /// The type of base type `base`, named `typname`, `postgis` when it is PostGIS's.
    pub fn of(base: Oid, typname: &str, postgis: bool) -> ColumnType {
        match base {
            pg_sys::BOOLOID => ColumnType::Bool,
            pg_sys::INT2OID => ColumnType::Int2,
            pg_sys::INT4OID => ColumnType::Int4,
            pg_sys::INT8OID => ColumnType::Int8,
            pg_sys::FLOAT4OID => ColumnType::Float4,
            pg_sys::FLOAT8OID => ColumnType::Float8,
            pg_sys::NUMERICOID => ColumnType::Numeric,
            pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID | pg_sys::NAMEOID => {
                ColumnType::Text
            }
            pg_sys::JSONOID | pg_sys::JSONBOID => ColumnType::Json,
            pg_sys::DATEOID => ColumnType::Date,
            pg_sys::TIMEOID => ColumnType::Time,
            pg_sys::TIMETZOID => ColumnType::TimeTz,
            pg_sys::TIMESTAMPOID => ColumnType::Timestamp,
            pg_sys::TIMESTAMPTZOID => ColumnType::TimestampTz,
            pg_sys::INTERVALOID => ColumnType::Interval,
            pg_sys::UUIDOID => ColumnType::Uuid,
            pg_sys::BYTEAOID => ColumnType::Bytea,
            _ if postgis && typname == "geometry" => ColumnType::Geometry,
            _ if postgis && typname == "geography" => ColumnType::Geography,
            _ if typname == "citext" => ColumnType::Text,
            _ => ColumnType::Other,
        }
    }

    fn category(self) -> Category {
        match self {
            ColumnType::Text => Category::Text,
            ColumnType::Int2 | ColumnType::Int4 | ColumnType::Int8 => Category::Integer,
            ColumnType::Float4 | ColumnType::Float8 => Category::Float,
            ColumnType::Numeric => Category::Numeric,
            ColumnType::Bool => Category::Bool,
            ColumnType::Date => Category::Date,
            ColumnType::Timestamp => Category::Timestamp,
            ColumnType::TimestampTz => Category::TimestampTz,
            ColumnType::Geometry => Category::Geometry,
            ColumnType::Geography => Category::Geography,
            _ => Category::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewColumn {
    pub name: String,
    /// the type as SQL spells it (`character varying(255)`, `geometry(Point,2154)`): for
    /// messages and documents only; decisions go by `ty`
    pub type_name: String,
    /// the base type, or the elements' base type when `array`
    pub ty: ColumnType,
    /// a one-dimensional array type as declared (a domain over an array is not one: its
    /// values are written as the array's text)
    pub array: bool,
    /// SRID from a geometry typmod
    pub srid: Option<i32>,
    /// the declared type is a domain over `ty`
    pub domain: bool,
}

impl ViewColumn {
    /// Test helper: a column of a plain type (no domain, no typmod SRID).
    #[cfg(test)]
    pub fn of(name: &str, type_name: &str, ty: ColumnType) -> ViewColumn {
        ViewColumn {
            name: name.into(),
            type_name: type_name.into(),
            ty,
            array: false,
            srid: None,
            domain: false,
        }
    }

    /// The coarse group filters and casts go by: an array's is `Other`.
    pub fn category(&self) -> Category {
        if self.array {
            return Category::Other;
        }
        self.ty.category()
    }

    pub fn is_spatial(&self) -> bool {
        matches!(self.category(), Category::Geometry | Category::Geography)
    }
}

/// The columns of relation `oid`, in order (read by `catalog::relation`, after the caller's
/// SELECT privilege is checked).
pub fn view_columns(oid: Oid) -> GnResult<Vec<ViewColumn>> {
    Spi::connect(|client| {
        let rows = client.select(
            // t the declared type, e its elements' if it is an array (else t itself), b the
            // base type of e (a domain's)
            "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod),
                    b.oid, b.typname::text,
                    EXISTS (SELECT 1 FROM pg_catalog.pg_extension x
                             WHERE x.extname = 'postgis' AND x.extnamespace = b.typnamespace),
                    a.atttypmod, t.typtype = 'd', e.oid <> t.oid
               FROM pg_catalog.pg_attribute a
               JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
               JOIN pg_catalog.pg_type e
                 ON e.oid = CASE WHEN t.typtype = 'b' AND t.typcategory = 'A' THEN t.typelem ELSE t.oid END
               JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN e.typtype = 'd' THEN e.typbasetype ELSE e.oid END
              WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum",
            None,
            &[oid.into()],
        )?;
        let mut out = Vec::new();
        for r in rows {
            let ty = ColumnType::of(
                r.get::<Oid>(3)?.unwrap_or(Oid::INVALID),
                &r.get::<String>(4)?.unwrap_or_default(),
                r.get::<bool>(5)?.unwrap_or(false),
            );
            let array = r.get::<bool>(8)?.unwrap_or(false);
            let typmod = r.get::<i32>(6)?.unwrap_or(-1);
            out.push(ViewColumn {
                name: r.get::<String>(1)?.unwrap_or_default(),
                type_name: r.get::<String>(2)?.unwrap_or_default(),
                ty,
                array,
                srid: if ty == ColumnType::Geometry && !array {
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
