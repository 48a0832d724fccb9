//! The query of a COPY statement: its own `(query)`, or, for `COPY table [(col, ...)]`, the
//! SELECT that gives the rows core COPY would write; parsed and analysed into one SELECT.

use crate::error::{GnError, GnResult};
use crate::spi::ident;
use pgrx::pg_sys;
use pgrx::{PgList, PgSqlErrorCode as Code};
use std::ffi::{c_char, CStr, CString};

/// An analysed SELECT and the text it was parsed from.
pub struct Select {
    pub query: *mut pg_sys::Query,
    pub text: *const c_char,
    /// owns `text` when it is ours (`COPY table`), not the statement's
    _owned: Option<CString>,
}

/// Parses (for `COPY table`) and analyses the COPY's query; refuses anything but one SELECT.
///
/// # Safety
/// `copy` must be the valid CopyStmt of `pstmt`, and `query_string` its statement's text, all
/// valid (and writable: parse analysis scribbles on sublinks) for the duration of the COPY.
pub unsafe fn analyse(
    copy: *mut pg_sys::CopyStmt,
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const c_char,
    format: &str,
) -> GnResult<Select> {
    // SAFETY: the caller's guarantees; a RawStmt is built as the parser builds it, in the
    // current memory context; raw_parser of our own SELECT yields one RawStmt.
    let (raw, text, owned) = unsafe {
        if !(*copy).query.is_null() {
            let r = pg_sys::palloc0(std::mem::size_of::<pg_sys::RawStmt>()) as *mut pg_sys::RawStmt;
            (*r).type_ = pg_sys::NodeTag::T_RawStmt;
            (*r).stmt = (*copy).query;
            (*r).stmt_location = (*pstmt).stmt_location;
            (*r).stmt_len = (*pstmt).stmt_len;
            (r, query_string, None)
        } else {
            let sql = CString::new(select_of_table(copy)).expect("no NUL in identifiers");
            let list = pg_sys::raw_parser(sql.as_ptr(), pg_sys::RawParseMode::RAW_PARSE_DEFAULT);
            let raw = PgList::<pg_sys::RawStmt>::from_pg(list)
                .get_ptr(0)
                .expect("one statement");
            (raw, sql.as_ptr(), Some(sql))
        }
    };
    // SAFETY: a valid RawStmt and its text; analysis raises its own errors.
    let query = unsafe { single_select(raw, text) }.ok_or_else(|| {
        GnError::new(
            Code::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("COPY with FORMAT {format} needs a single SELECT query"),
        )
    })?;
    Ok(Select {
        query,
        text,
        _owned: owned,
    })
}

/// # Safety
/// `raw` must be a valid RawStmt parsed from `text`.
unsafe fn single_select(
    raw: *mut pg_sys::RawStmt,
    text: *const c_char,
) -> Option<*mut pg_sys::Query> {
    // SAFETY: the caller's guarantees; the rewritten list holds valid Query nodes.
    unsafe {
        let rewritten = pg_sys::pg_analyze_and_rewrite_fixedparams(
            raw,
            text,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
        );
        let queries = PgList::<pg_sys::Query>::from_pg(rewritten);
        let q = queries.get_ptr(0)?;
        (queries.len() == 1
            && (*q).commandType == pg_sys::CmdType::CMD_SELECT
            && (*q).utilityStmt.is_null())
        .then_some(q)
    }
}

/// `COPY table [(col, ...)] TO ...` as the rows core COPY writes: the column list in its order
/// (every column without one), and the table's own rows only, never its children's.
///
/// # Safety
/// `copy` must be a valid CopyStmt with a relation.
unsafe fn select_of_table(copy: *mut pg_sys::CopyStmt) -> String {
    // SAFETY: the relation's names and the column list's String nodes are NUL-terminated.
    unsafe {
        let text = |p: *const c_char| CStr::from_ptr(p).to_string_lossy().into_owned();
        let rv = (*copy).relation;
        let mut rel = ident(&text((*rv).relname));
        if !(*rv).schemaname.is_null() {
            rel = format!("{}.{rel}", ident(&text((*rv).schemaname)));
        }
        let columns: Vec<String> = PgList::<pg_sys::Node>::from_pg((*copy).attlist)
            .iter_ptr()
            .map(|n| ident(&text((*(n as *mut pg_sys::String)).sval)))
            .collect();
        let list = if columns.is_empty() {
            "*".to_string()
        } else {
            columns.join(", ")
        };
        format!("SELECT {list} FROM ONLY {rel}")
    }
}
