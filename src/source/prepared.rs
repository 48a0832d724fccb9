//! Generic plans prepared once per session and kept (`SPI_keepplan`), by statement text: the
//! API's page of a query is the same statement with other keys every time.

use super::Param;
use crate::error::{GnError, GnResult};
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode as Code;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::{CStr, CString};

/// Kept plans per session; the least recently used is freed beyond.
const KEPT: usize = 16;

/// A kept plan. Not freed on drop: the session's plans are freed with its memory when it
/// exits (a destructor would run after PostgreSQL's own exit callbacks); only the plans pushed
/// out of the cache are freed, by [`forget`].
struct Kept {
    sql: String,
    plan: pg_sys::SPIPlanPtr,
}

fn forget(k: Kept) {
    // SAFETY: the plan was kept by SPI_keepplan and leaves the cache here, once; a portal
    // still open on it holds its own reference to the plan source.
    unsafe {
        pg_sys::SPI_freeplan(k.plan);
    }
}

thread_local! {
    static KEPT_PLANS: RefCell<VecDeque<Kept>> = const { RefCell::new(VecDeque::new()) };
}

fn spi_error(what: &str) -> GnError {
    GnError::new(
        Code::ERRCODE_INTERNAL_ERROR,
        // SAFETY: reads SPI's last result code, a backend global.
        format!("gn_export: {what} failed ({})", unsafe {
            pg_sys::SPI_result
        }),
    )
}

/// The kept plan of `sql`, prepared now if it is not kept yet. SPI must be connected.
fn plan_of(sql: &str, params: &[Param]) -> GnResult<pg_sys::SPIPlanPtr> {
    if let Some(plan) = KEPT_PLANS.with(|k| {
        let mut k = k.borrow_mut();
        let i = k.iter().position(|p| p.sql == sql)?;
        let hit = k.remove(i)?;
        let plan = hit.plan;
        k.push_back(hit);
        Some(plan)
    }) {
        return Ok(plan);
    }
    let csql = CString::new(sql).map_err(|_| spi_error("NUL in generated SQL: prepare"))?;
    let mut types: Vec<pg_sys::Oid> = params.iter().map(Param::type_oid).collect();
    // SAFETY: SPI is connected (the caller's Spi::connect); the text and the type array live
    // through the call; a NULL result is checked before use. A SQL error raises and unwinds.
    let plan = unsafe {
        let plan = pg_sys::SPI_prepare_cursor(
            csql.as_ptr(),
            types.len() as i32,
            types.as_mut_ptr(),
            pg_sys::CURSOR_OPT_GENERIC_PLAN as i32,
        );
        if plan.is_null() || pg_sys::SPI_keepplan(plan) != 0 {
            return Err(spi_error("SPI_prepare_cursor"));
        }
        plan
    };
    KEPT_PLANS.with(|k| {
        let mut k = k.borrow_mut();
        k.push_back(Kept {
            sql: sql.to_string(),
            plan,
        });
        while k.len() > KEPT {
            if let Some(old) = k.pop_front() {
                forget(old);
            }
        }
    });
    Ok(plan)
}

/// Opens a portal on the kept plan of `sql` with `params`; returns its name. The portal
/// lives until it is closed or the transaction ends. SPI must be connected.
pub fn open(sql: &str, params: &[Param]) -> GnResult<String> {
    let plan = plan_of(sql, params)?;
    let mut values: Vec<pg_sys::Datum> = params.iter().map(Param::to_datum).collect();
    let nulls = vec![b' ' as std::ffi::c_char; params.len()];
    // SAFETY: the plan is kept (valid across transactions until freed); values and nulls
    // have one entry per declared parameter, of the declared types, and live through the
    // call, which copies what the portal keeps. SPI_cursor_open raises on error.
    unsafe {
        let portal = pg_sys::SPI_cursor_open(
            std::ptr::null(),
            plan,
            values.as_mut_ptr(),
            nulls.as_ptr(),
            false,
        );
        if portal.is_null() {
            return Err(spi_error("SPI_cursor_open"));
        }
        Ok(CStr::from_ptr((*portal).name)
            .to_string_lossy()
            .into_owned())
    }
}
