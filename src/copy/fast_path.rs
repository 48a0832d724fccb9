//! The fast path of `COPY (SELECT gn_export.run(...)) TO ... (FORMAT raw)` and of run_bytes():
//! the same bytes as the SRF's values, but the export's query runs at once into the encoder,
//! so PostgreSQL may plan it in parallel as it does for its own COPY (a streamed SRF never
//! can).

use super::destination::Destination;
use crate::encode::pump::Pump;
use crate::error::{GnError, GnResult};
use crate::jsonb::Jsonb;
use crate::progress::Progress;
use crate::settings::GucScope;
use crate::sink::compress::Packer;
use pgrx::pg_sys::{self, Oid};
use pgrx::prelude::*;
use pgrx::{PgList, PgSqlErrorCode as Code};

/// The arguments of `gn_export.run(...)` when a COPY's query is exactly one such call with
/// constant arguments: `COPY (SELECT gn_export.run(1, 'csv', 3)) TO STDOUT WITH (FORMAT raw)`.
pub struct RunCall {
    /// run_bytes(): bytea blocks, `.gz` formats allowed
    bytes: bool,
    id_export: i32,
    format: Option<String>,
    id_role: Option<i32>,
    token: Option<String>,
    filters: Option<serde_json::Value>,
}

/// Whether an analysed query is one plain `SELECT f(...)` (no FROM, WHERE, DISTINCT, GROUP BY,
/// HAVING, aggregate, window, ORDER BY, LIMIT, set operation or CTE), and f's call if so.
///
/// # Safety
/// `q` must be a valid analysed Query.
unsafe fn lone_call(q: *mut pg_sys::Query) -> Option<*mut pg_sys::FuncExpr> {
    // SAFETY: the fields of a valid Query, and the nodes of its target list.
    unsafe {
        let plain = (*q).rtable.is_null()
            && ((*q).jointree.is_null()
                || ((*(*q).jointree).fromlist.is_null() && (*(*q).jointree).quals.is_null()))
            && (*q).sortClause.is_null()
            && (*q).groupClause.is_null()
            && (*q).distinctClause.is_null()
            && (*q).havingQual.is_null()
            && (*q).setOperations.is_null()
            && !(*q).hasAggs
            && !(*q).hasWindowFuncs
            && (*q).limitCount.is_null()
            && (*q).limitOffset.is_null()
            && (*q).cteList.is_null();
        let tl = PgList::<pg_sys::TargetEntry>::from_pg((*q).targetList);
        let tle = tl.get_ptr(0).filter(|_| plain && tl.len() == 1)?;
        let expr = (*tle).expr as *mut pg_sys::Node;
        (!expr.is_null() && (*expr).type_ == pg_sys::NodeTag::T_FuncExpr)
            .then_some(expr as *mut pg_sys::FuncExpr)
    }
}

/// The call's constant arguments by position: at this stage defaults are not filled in yet and
/// named arguments are NamedArgExpr nodes; slots left empty take run()'s defaults (NULL, and a
/// NULL format means csv). None when an argument is computed.
///
/// # Safety
/// `func` must be a valid FuncExpr.
unsafe fn constants(func: *mut pg_sys::FuncExpr) -> Option<[(pg_sys::Datum, bool); 5]> {
    let mut slots = [(pg_sys::Datum::from(0usize), true); 5];
    // SAFETY: the argument list of a valid FuncExpr holds valid nodes, checked by tag.
    unsafe {
        for (i, a) in PgList::<pg_sys::Node>::from_pg((*func).args)
            .iter_ptr()
            .enumerate()
        {
            let (pos, node) = if !a.is_null() && (*a).type_ == pg_sys::NodeTag::T_NamedArgExpr {
                let n = a as *mut pg_sys::NamedArgExpr;
                ((*n).argnumber as usize, (*n).arg as *mut pg_sys::Node)
            } else {
                (i, a)
            };
            if pos >= 5 || node.is_null() || (*node).type_ != pg_sys::NodeTag::T_Const {
                return None;
            }
            let c = node as *mut pg_sys::Const;
            slots[pos] = ((*c).constvalue, (*c).constisnull);
        }
    }
    Some(slots)
}

/// The run() call of a COPY's query, if it is one the fast path serves.
///
/// # Safety
/// `q` must be a valid analysed Query.
pub unsafe fn run_call(q: *mut pg_sys::Query) -> GnResult<Option<RunCall>> {
    let _path = GucScope::pinned_search_path();
    // SAFETY: the caller's guarantee.
    let Some(func) = (unsafe { lone_call(q) }) else {
        return Ok(None);
    };
    let (run, run_bytes) = crate::spi::two::<pg_sys::Oid, pg_sys::Oid>(
        "SELECT pg_catalog.to_regprocedure('gn_export.run(integer,text,integer,text,jsonb)')::oid,
                pg_catalog.to_regprocedure('gn_export.run_bytes(integer,text,integer,text,jsonb)')::oid", &[])?;
    // SAFETY: `func` is a valid FuncExpr of the query.
    let funcid = unsafe { (*func).funcid };
    let bytes = match Some(funcid) {
        f if f == run => false,
        f if f == run_bytes => true,
        _ => return Ok(None),
    };
    // the executor would check this before calling run(); the fast path calls no function
    if !may_execute(funcid) {
        return Err(GnError::new(
            Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
            if bytes {
                "permission denied for function run_bytes"
            } else {
                "permission denied for function run"
            },
        ));
    }
    // SAFETY: as above.
    let Some(c) = (unsafe { constants(func) }) else {
        return Ok(None); // computed arguments: the generic path handles them
    };
    // SAFETY: each datum is a Const of run()'s argument type at that position (the parser
    // resolved the call), or NULL.
    let Some(id_export) = (unsafe { i32::from_datum(c[0].0, c[0].1) }) else {
        return Ok(None);
    };
    // SAFETY: as above.
    let filters = unsafe { Jsonb::from_datum(c[4].0, c[4].1) }
        .map(|j| j.parse(&format!("export {id_export}: filters")))
        .transpose()?;
    // SAFETY: as above.
    unsafe {
        Ok(Some(RunCall {
            bytes,
            id_export,
            format: String::from_datum(c[1].0, c[1].1),
            id_role: i32::from_datum(c[2].0, c[2].1),
            token: String::from_datum(c[3].0, c[3].1),
            filters,
        }))
    }
}

/// Whether the current user may EXECUTE a function (the parser resolved it: it exists).
fn may_execute(func: Oid) -> bool {
    crate::pg_compat::may_execute_function(func)
}

/// Runs the call's export into the destination; returns COPY's count, that of the SELECT: one
/// row per non-empty chunk of run(), per block of run_bytes(). Like them, with
/// `search_path = pg_catalog, pg_temp` throughout.
pub fn copy_run(call: RunCall, mut dest: Destination) -> GnResult<u64> {
    let _path = GucScope::pinned_search_path();
    let p = crate::run::prepare(
        call.id_export,
        call.format.as_deref(),
        call.id_role,
        call.token.as_deref(),
        call.filters.as_ref(),
        call.bytes,
    )?;
    dest.begin(1);
    let progress = Progress::start(p.plan.relid, dest.is_file());
    let mut pump = Pump::start(
        p.encoder,
        Packer::new(p.compression, dest),
        p.name,
        Some(progress.reporter()),
    )?;
    crate::source::run_all(&p.plan.statement(), |row| pump.row(row))?;
    let (packed, stats) = pump.finish()?;
    let (dest, writes) = packed.finish_counted()?;
    dest.finish()?;
    // run_bytes() returns one value per block the pump or the compressor hands on
    Ok(if call.bytes { writes } else { stats.pieces })
}
