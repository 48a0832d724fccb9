//! The COPY hook: `COPY (query) TO STDOUT|'file' WITH (FORMAT raw|json|geojson|geojsonseq|tsv
//! [, GEOMETRY 'col'] [, ID 'col'])`. Every other utility statement, and every other COPY, goes
//! to the previous hook or to PostgreSQL untouched.
//!
//! The query is planned and run by the executor straight into gn_export's DestReceiver, whose
//! rows an encoder turns into bytes that leave in 64 KiB CopyData messages, as PostgreSQL's own
//! COPY does: no SPI, no materialisation, a per-row memory context reset after every row.
//! One concern per module: `options` (is this COPY ours), `statement` (its SELECT),
//! `layout` (its columns for the encoder), `destination` (the protocol and files) and
//! `fast_path` (run() called by COPY).

mod destination;
mod fast_path;
mod layout;
mod options;
mod statement;

use crate::encode::pump::Pump;
use crate::error::{GnResult, OrRaise};
use crate::progress::Progress;
use crate::settings::GucScope;
use crate::source::decode::Postgis;
use destination::Destination;
use options::{CopyFormat, Request};
use pgrx::pg_sys::{self, Oid};
use pgrx::prelude::*;
use std::ffi::c_char;

static mut PREV_HOOK: pg_sys::ProcessUtility_hook_type = None;

/// Installs the hook; called from _PG_init.
pub fn install() {
    // SAFETY: _PG_init runs once per backend, before any statement, on the only thread.
    unsafe {
        PREV_HOOK = pg_sys::ProcessUtility_hook;
        pg_sys::ProcessUtility_hook = Some(process_utility);
    }
}

#[allow(clippy::too_many_arguments)] // PostgreSQL's ProcessUtility_hook signature
#[pg_guard]
unsafe extern "C-unwind" fn process_utility(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const c_char,
    read_only_tree: bool,
    context: pg_sys::ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    qc: *mut pg_sys::QueryCompletion,
) {
    // SAFETY: PostgreSQL calls the hook with a valid planned utility statement.
    if let Some(req) = unsafe { options::ours((*pstmt).utilityStmt) }.or_raise() {
        // A statement from the plan cache (a named prepared statement, static SQL in PL/pgSQL)
        // comes as a read-only tree, and parse analysis scribbles on it (sublinks): work on a
        // copy, as standard_ProcessUtility does.
        // SAFETY: copyObjectImpl deep-copies a valid node tree into the current context.
        let pstmt = if read_only_tree {
            let copied = unsafe { pg_sys::copyObjectImpl(pstmt as *const std::ffi::c_void) };
            copied as *mut pg_sys::PlannedStmt
        } else {
            pstmt
        };
        // SAFETY: the statement, its text and parameters are valid for the whole call.
        let n = unsafe { copy(req, pstmt, query_string, params) }.or_raise();
        if !qc.is_null() {
            // SAFETY: a non-NULL completion tag is ours to fill, as for core COPY.
            unsafe {
                (*qc).commandTag = pg_sys::CommandTag::CMDTAG_COPY;
                (*qc).nprocessed = n;
            }
        }
        return;
    }
    // SAFETY: the arguments as PostgreSQL gave them, passed on unchanged.
    unsafe {
        match PREV_HOOK {
            Some(prev) => prev(
                pstmt,
                query_string,
                read_only_tree,
                context,
                params,
                query_env,
                dest,
                qc,
            ),
            None => pg_sys::standard_ProcessUtility(
                pstmt,
                query_string,
                read_only_tree,
                context,
                params,
                query_env,
                dest,
                qc,
            ),
        }
    }
}

/// Runs one of our COPY statements; returns its row count.
///
/// # Safety
/// Arguments come from ProcessUtility (a writable copy of the statement) and are valid for its
/// duration.
unsafe fn copy(
    req: Request,
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const c_char,
    params: pg_sys::ParamListInfo,
) -> GnResult<u64> {
    let format = req.format.name();
    // SAFETY: `options::ours` found a CopyStmt here.
    let copy = unsafe { (*pstmt).utilityStmt } as *mut pg_sys::CopyStmt;
    // SAFETY: the caller's guarantees.
    let dest = unsafe { Destination::open(copy, format) }?;
    // SAFETY: as above.
    let select = unsafe { statement::analyse(copy, pstmt, query_string, format) }?;
    if req.format == CopyFormat::Raw {
        // SAFETY: an analysed Query.
        if let Some(call) = unsafe { fast_path::run_call(select.query) }? {
            return fast_path::copy_run(call, dest);
        }
    }
    // SAFETY: an analysed SELECT, its text, and the statement's parameters.
    unsafe { copy_query(req, select, params, dest) }
}

/// Plans and runs the COPY's query into the encoder; returns the row count.
///
/// # Safety
/// `select` must be an analysed SELECT with its text, `params` the statement's parameters.
unsafe fn copy_query(
    req: Request,
    select: statement::Select,
    params: pg_sys::ParamListInfo,
    mut dest: Destination,
) -> GnResult<u64> {
    let postgis = match req.format {
        CopyFormat::Raw => None,
        // our own lookups never see what the session's search_path would plant
        CopyFormat::Encoded(_) => {
            let _path = GucScope::pinned_search_path();
            Postgis::lookup()?
        }
    };
    let name = format!("COPY FORMAT {}", req.format.name());
    let start = |attrs: &[crate::source::Attribute]| {
        let (decoding, encoder) = layout::describe(&req, attrs, postgis)?;
        dest.begin(attrs.len());
        let progress = Progress::start(Oid::INVALID, dest.is_file());
        Ok((
            decoding,
            Pump::start(encoder, dest, name, Some(progress.reporter()))?,
        ))
    };
    // SAFETY: the caller's guarantees.
    let pump = unsafe {
        crate::source::run_query(select.query, select.text, params, start, |pump, row| {
            pump.row(row)
        })
    }?;
    let (dest, stats) = pump.finish()?;
    dest.finish()?;
    Ok(stats.rows)
}

/// When the library is not preloaded in this database's sessions: what that means, and the
/// command to run.
pub fn preload_hint() -> Option<(String, String)> {
    let get = |name: &str| {
        crate::spi::one::<String>(&format!("SELECT pg_catalog.current_setting('{name}')"), &[])
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    let session = get("session_preload_libraries");
    let listed = |list: &str| {
        list.split(',')
            .any(|l| l.trim().trim_matches('"') == "gn_export")
    };
    if listed(&session) || listed(&get("shared_preload_libraries")) {
        return None;
    }
    let db = crate::spi::one::<String>(
        "SELECT pg_catalog.quote_ident(pg_catalog.current_database())",
        &[],
    )
    .ok()
    .flatten()
    .unwrap_or_default();
    let value = if session.trim().is_empty() {
        "gn_export".to_string()
    } else {
        format!("{}, gn_export", session.trim())
    };
    Some((
        format!("gn_export is not preloaded in database {db}: COPY ... (FORMAT raw) and gn_export's other COPY formats need it"),
        format!("Run ALTER DATABASE {db} SET session_preload_libraries = '{value}'; (new sessions then have it)"),
    ))
}
