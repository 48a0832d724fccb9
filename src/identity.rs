//! Whose rights a statement runs with: PostgreSQL's identity switch, as VACUUM, CREATE INDEX
//! and REFRESH MATERIALIZED VIEW use it to run someone else's code (`SetUserIdAndSecContext`
//! into a security-restricted operation, settings changed inside undone at the end).
//!
//! The bottom of the house: the export's definer (`definer`) and the tables gn_export
//! does not own (`adopted`) both switch through here.

use crate::error::{GnError, GnResult};
use crate::settings::GucScope;
use pgrx::pg_sys::{self, Oid};
use pgrx::PgSqlErrorCode as Code;

pub fn is_superuser(role: Oid) -> bool {
    // SAFETY: a catalog lookup by OID; an unknown role is simply not a superuser.
    unsafe { pg_sys::superuser_arg(role) }
}

/// The current user: who asked, before any switch of ours.
pub fn current_user() -> Oid {
    // SAFETY: reads a backend global.
    unsafe { pg_sys::GetUserId() }
}

/// The name of a role (or its OID, for one that has gone).
pub fn role_name(role: Oid) -> String {
    // SAFETY: GetUserNameFromId with noerr returns a palloc'd copy of the name, or NULL.
    unsafe {
        let p = pg_sys::GetUserNameFromId(role, true);
        if p.is_null() {
            format!("role {}", u32::from(role))
        } else {
            std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// The name of the current user (who asked, before any switch).
pub fn current_user_name() -> String {
    role_name(current_user())
}

/// Switches the current user for the life of the value, as `SetUserIdAndSecContext` users in
/// PostgreSQL do; the previous identity comes back on drop. On an error, the (sub)transaction
/// abort restores it as well.
pub struct UserSwitch {
    user: Oid,
    context: i32,
}

impl UserSwitch {
    pub fn to(role: Oid, restricted: bool) -> UserSwitch {
        let mut user = Oid::INVALID;
        let mut context = 0;
        let mut flags = pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32;
        if restricted {
            flags |= pg_sys::SECURITY_RESTRICTED_OPERATION as i32;
        }
        // SAFETY: reads and sets two backend globals; the values saved are put back on drop.
        unsafe {
            pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
            pg_sys::SetUserIdAndSecContext(role, context | flags);
        }
        UserSwitch { user, context }
    }
}

impl Drop for UserSwitch {
    fn drop(&mut self) {
        // SAFETY: restores the identity saved by `to`; a plain assignment of backend globals.
        unsafe { pg_sys::SetUserIdAndSecContext(self.user, self.context) }
    }
}

/// Runs `f` as `role` in a security-restricted operation with `search_path = <path>` (and
/// without JIT, see `GucScope::owner_code`): what it runs of `role`'s code (a view's
/// functions, a table's triggers and policies) has `role`'s rights and no more, cannot create
/// temporary objects, and its changes to settings are undone.
pub fn restricted<R>(role: Oid, path: &str, f: impl FnOnce() -> R) -> R {
    let _user = UserSwitch::to(role, true);
    let _gucs = GucScope::owner_code(path);
    f()
}

/// The search_path of our own statements: nothing anyone planted in another schema is found.
pub const PINNED_PATH: &str = "pg_catalog, pg_temp";

/// A security-restricted operation forbids creating temporary objects, not finding those the
/// session made before: a relation or type name that `pg_catalog` lacks resolves to the
/// session's own, and first of all in a function whose `SET search_path` leaves `pg_temp` out.
/// So another role's code never runs in a session that has any but its own (42501).
pub fn require_no_temporary_objects(whose: Oid) -> GnResult<()> {
    let mut ns = Oid::INVALID;
    let mut toast = Oid::INVALID;
    // SAFETY: reads the session's temporary namespace OIDs (InvalidOid when it made none).
    unsafe { pg_sys::GetTempNamespaceState(&mut ns, &mut toast) };
    if ns == Oid::INVALID {
        return Ok(());
    }
    // those `whose` made itself in this session are its own and may stay
    let has = crate::spi::one::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relnamespace OPERATOR(pg_catalog.=) $1
                          AND relowner OPERATOR(pg_catalog.<>) $2)
             OR EXISTS (SELECT 1 FROM pg_catalog.pg_type WHERE typnamespace OPERATOR(pg_catalog.=) $1
                          AND typowner OPERATOR(pg_catalog.<>) $2)",
        &[ns.into(), whose.into()],
    )?
    .unwrap_or(true);
    if !has {
        return Ok(());
    }
    Err(GnError::new(
        Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
        format!(
            "gn_export will not run code of role \"{}\" (an export's view, or a trigger or policy on a table of GeoNature's) in this session: it has temporary objects, which could stand in for names that code uses",
            role_name(whose)
        ),
    )
    .hint("Run it from a session without temporary tables, views or types (DISCARD TEMP drops them)."))
}

/// Our own bookkeeping (the run history) is written as the owner of the extension, so that
/// the EXECUTE grant on generate() or run_scheduled() is all a role needs; only fixed
/// statements with bound values on the extension's own tables run this way.
pub fn as_extension_owner<R>(f: impl FnOnce() -> GnResult<R>) -> GnResult<R> {
    let owner = crate::spi::one::<Oid>(
        "SELECT extowner FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'gn_export'",
        &[],
    )?
    .ok_or_else(|| {
        GnError::new(
            Code::ERRCODE_UNDEFINED_OBJECT,
            "extension gn_export is not installed",
        )
    })?;
    let _user = UserSwitch::to(owner, false);
    f()
}
