//! JSON crossing the SQL interface as PostgreSQL's own text. pgrx's `JsonB` parses arguments
//! into f64-based serde values and panics (XX000) on what it cannot hold, such as `1e400` or
//! 200 levels of nesting, and results built from serde values lose numeric digits and key
//! order. Here a `jsonb` argument is read as text and parsed with a clear error, and a `json`
//! result is our own text as it is.

use crate::error::{GnError, GnResult};
use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::datum::Datum;
use pgrx::nullable::Nullable;
use pgrx::pg_sys;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::PgSqlErrorCode as Code;
use pgrx::{direct_function_call, FromDatum, IntoDatum};
use std::ffi::CStr;

/// A jsonb value as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jsonb(pub String);

impl Jsonb {
    /// The value as serde JSON; what serde cannot hold is a 22023 error naming `what`.
    pub fn parse(&self, what: &str) -> GnResult<serde_json::Value> {
        serde_json::from_str(&self.0).map_err(|e| {
            GnError::new(
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("{what}: gn_export cannot read this JSON ({e})"),
            )
            .hint("Numbers must fit a double precision float and nesting stay under 128 levels.")
        })
    }
}

impl FromDatum for Jsonb {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<Jsonb> {
        if is_null {
            return None;
        }
        // SAFETY (caller's): `datum` is a valid jsonb varlena; jsonb_out returns a palloc'd,
        // NUL-terminated copy of its text.
        let text = unsafe {
            let detoasted = pg_sys::pg_detoast_datum_packed(datum.cast_mut_ptr());
            direct_function_call::<&CStr>(pg_sys::jsonb_out, &[Some(detoasted.into())])?
        };
        Some(Jsonb(text.to_string_lossy().into_owned()))
    }
}

// SAFETY: as pgrx's own argument ABI for its datum types: the argument is read with FromDatum.
unsafe impl<'fcx> ArgAbi<'fcx> for Jsonb {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY (caller's): the argument is a jsonb datum, read by FromDatum above.
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }

    unsafe fn unbox_nullable_arg(arg: Arg<'_, 'fcx>) -> Nullable<Self> {
        // SAFETY (caller's): as above.
        unsafe { arg.unbox_arg_using_from_datum() }.into()
    }
}

// SAFETY: the SQL type is jsonb, as FromDatum above reads it (an argument only).
unsafe impl SqlTranslatable for Jsonb {
    const TYPE_IDENT: &'static str = "gn_export::jsonb::Jsonb";
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("jsonb")));
}

/// A `json` result made of our own text: keys stay in the order written (jsonb sorts them) and
/// numbers keep every digit (`12.500` stays `12.500`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(pub String);

impl IntoDatum for JsonText {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        // json is stored as its text; ours is valid JSON (escaped by the encoders)
        self.0.into_datum()
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::JSONOID
    }
}

// SAFETY: as pgrx's own return ABI for its datum types: the result is made with IntoDatum.
unsafe impl BoxRet for JsonText {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        match self.into_datum() {
            // SAFETY (caller's): `fcinfo` is the call's; the datum is a json text varlena
            Some(datum) => unsafe { fcinfo.return_raw_datum(datum) },
            None => fcinfo.return_null(),
        }
    }
}

// SAFETY: the SQL type is json, as IntoDatum makes it.
unsafe impl SqlTranslatable for JsonText {
    const TYPE_IDENT: &'static str = "gn_export::jsonb::JsonText";
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("json"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("json")));
}

#[cfg(test)]
mod unit {
    use super::Jsonb;

    #[test]
    fn what_serde_cannot_hold_is_a_clear_error() {
        assert!(Jsonb(r#"{"limit": 10}"#.into()).parse("params").is_ok());
        let e = Jsonb(r#"{"limit": 1e400}"#.into())
            .parse("params")
            .unwrap_err();
        assert_eq!(
            e.code,
            pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
        );
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        assert!(Jsonb(deep).parse("params").is_err());
    }
}
