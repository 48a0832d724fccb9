//! Which COPY statements are ours, and their options: `FORMAT raw`, or a byte-stream format of
//! the registry offered to COPY (json, geojson, geojsonseq, tsv), with `GEOMETRY 'col'` and
//! `ID 'col'`. Anything else is left to PostgreSQL.

use crate::encode::format;
use crate::encode::Format;
use crate::error::{GnError, GnResult};
use pgrx::pg_sys;
use pgrx::{PgList, PgSqlErrorCode as Code};
use std::ffi::CStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    /// each row's single text or bytea value, verbatim
    Raw,
    Encoded(Format),
}

impl CopyFormat {
    fn parse(s: &str) -> Option<CopyFormat> {
        if s.eq_ignore_ascii_case("raw") {
            return Some(CopyFormat::Raw);
        }
        Format::parse(s)
            .filter(|f| f.spec().copy_hook)
            .map(CopyFormat::Encoded)
    }

    pub fn name(self) -> &'static str {
        match self {
            CopyFormat::Raw => "raw",
            CopyFormat::Encoded(f) => f.name(),
        }
    }
}

pub struct Request {
    pub format: CopyFormat,
    pub geometry: Option<String>,
    pub id: Option<String>,
}

/// The options of a COPY statement, by name.
///
/// # Safety
/// `l` must be a valid List of DefElem (or NIL).
unsafe fn options(l: *mut pg_sys::List) -> Vec<(String, *mut pg_sys::DefElem)> {
    // SAFETY: a valid list of valid DefElems, whose names are NUL-terminated strings.
    unsafe {
        PgList::<pg_sys::DefElem>::from_pg(l)
            .iter_ptr()
            .map(|d| {
                let name = CStr::from_ptr((*d).defname).to_string_lossy().into_owned();
                (name, d)
            })
            .collect()
    }
}

/// # Safety
/// `d` must be a valid DefElem.
unsafe fn def_string(d: *mut pg_sys::DefElem) -> String {
    // SAFETY: defGetString returns a NUL-terminated string, or raises an ERROR.
    unsafe {
        CStr::from_ptr(pg_sys::defGetString(d))
            .to_string_lossy()
            .into_owned()
    }
}

/// Whether this statement is a COPY in one of our formats, with which options; a COPY FROM or
/// TO PROGRAM in our formats is refused (0A000).
///
/// # Safety
/// `stmt` must be a valid utility statement node (or NULL).
pub unsafe fn ours(stmt: *mut pg_sys::Node) -> GnResult<Option<Request>> {
    // SAFETY: a valid node whose tag says CopyStmt is one; its option list is valid.
    let (copy, opts) = unsafe {
        if stmt.is_null() || (*stmt).type_ != pg_sys::NodeTag::T_CopyStmt {
            return Ok(None);
        }
        let copy = stmt as *mut pg_sys::CopyStmt;
        (copy, options((*copy).options))
    };
    // SAFETY: each DefElem of the list is valid.
    let value = |d: *mut pg_sys::DefElem| unsafe { def_string(d) };
    let Some(format) = opts
        .iter()
        .find(|(n, _)| n == "format")
        .and_then(|(_, d)| CopyFormat::parse(&value(*d)))
    else {
        return Ok(None);
    };
    let mut req = Request {
        format,
        geometry: None,
        id: None,
    };
    for (name, d) in &opts {
        match name.as_str() {
            "format" => {}
            "geometry" if format != CopyFormat::Raw => req.geometry = Some(value(*d)),
            "id" if format != CopyFormat::Raw => req.id = Some(value(*d)),
            other => return Err(unsupported_option(other, format)),
        }
    }
    // SAFETY: `copy` is the valid CopyStmt checked above.
    let (is_from, is_program) = unsafe { ((*copy).is_from, (*copy).is_program) };
    if is_from {
        return Err(GnError::new(
            Code::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("COPY FROM is not supported with FORMAT {}", format.name()),
        ));
    }
    if is_program {
        return Err(GnError::new(
            Code::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!(
                "COPY TO PROGRAM is not supported with FORMAT {}",
                format.name()
            ),
        )
        .hint(
            "COPY to STDOUT and pipe it, e.g. psql -c \"COPY ... TO STDOUT ...\" | gzip > file",
        ));
    }
    Ok(Some(req))
}

fn unsupported_option(option: &str, format: CopyFormat) -> GnError {
    let allowed = if format == CopyFormat::Raw {
        "none"
    } else {
        "GEOMETRY 'column' and ID 'column'"
    };
    GnError::new(
        Code::ERRCODE_SYNTAX_ERROR,
        format!(
            "COPY option \"{option}\" is not supported with FORMAT {}",
            format.name()
        ),
    )
    .hint(format!(
        "Options allowed with FORMAT {}: {allowed}.",
        format.name()
    ))
}

/// The hint of a COPY whose query has no geometry for a feature format.
pub fn table_formats() -> String {
    format::names(|s| s.copy_hook && s.features.is_none() && s.columns.is_empty())
}
