//! Whose rights an export's query runs with.
//!
//! An export's view, and whatever functions it calls, are code written by whoever defined the
//! export. PostgreSQL runs such code as its owner when maintenance runs it on someone else's
//! behalf (VACUUM, ANALYZE, CREATE INDEX, REFRESH MATERIALIZED VIEW): it switches to the owner
//! inside a security-restricted operation, and undoes any setting the code changed. gn_export
//! does the same for every export it runs, whoever calls: the superuser's pg_cron job, an
//! administrator, or GeoNature's backend.
//!
//! The identity is the owner of the export's relation, except that a superuser-owned relation
//! runs as the owner of `gn_exports.t_exports` when that role is not a superuser: the catalog
//! writer chose to run that relation, and must not gain a superuser's rights by doing so (a
//! superuser's view may call functions the catalog writer owns). Where both are superusers (a
//! plain PostGIS database, where postgres owns everything) the query runs as the superuser.

use crate::error::{GnError, GnResult};
use crate::settings::GucScope;
use pgrx::pg_sys::{self, Oid};
use pgrx::PgSqlErrorCode as Code;

/// The role an export's query runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definer {
    pub role: Oid,
}

fn is_superuser(role: Oid) -> bool {
    // SAFETY: a catalog lookup by OID; an unknown role is simply not a superuser.
    unsafe { pg_sys::superuser_arg(role) }
}

/// The owner of a relation, found by name.
fn relation_owner(schema: &str, table: &str) -> GnResult<Option<Oid>> {
    Ok(crate::spi::one::<Oid>(
        "SELECT c.relowner FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2",
        &[schema.into(), table.into()],
    )?)
}

/// The owner of `gn_exports.t_exports`: the role that writes export definitions.
pub fn catalog_owner() -> GnResult<Option<Oid>> {
    relation_owner("gn_exports", "t_exports")
}

/// The rule of this module, as a pure function of the two owners.
pub fn choose(
    relation_owner: Oid,
    catalog_owner: Option<Oid>,
    superuser: impl Fn(Oid) -> bool,
) -> Oid {
    match catalog_owner {
        Some(cat) if superuser(relation_owner) && !superuser(cat) => cat,
        _ => relation_owner,
    }
}

impl Definer {
    pub fn for_relation(owner: Oid) -> GnResult<Definer> {
        Ok(Definer {
            role: choose(owner, catalog_owner()?, is_superuser),
        })
    }

    /// Runs `f` as the definer, in a security-restricted operation, with
    /// `search_path = pg_catalog, pg_temp`; settings changed by the code it runs are undone.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _user = UserSwitch::to(self.role, true);
        let _gucs = GucScope::pinned_search_path();
        f()
    }
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

/// Our own bookkeeping (the run history, a schedule's in_process flag) is written as the owner
/// of the extension, so that the EXECUTE grant on generate() or run_scheduled() is all a role
/// needs; only fixed statements with bound values run this way.
pub fn as_extension_owner<R>(f: impl FnOnce() -> GnResult<R>) -> GnResult<R> {
    let owner = crate::spi::one::<Oid>(
        "SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'gn_export'",
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

/// Writes to GeoNature's own tables (a schedule's `in_process`, a user's notification) run as
/// the table's owner in a security-restricted operation: a trigger the catalog writer put on
/// such a table then runs with the writer's rights, never with the scheduler's.
pub fn as_owner_of<R>(schema: &str, table: &str, f: impl FnOnce() -> GnResult<R>) -> GnResult<R> {
    let owner = relation_owner(schema, table)?.ok_or_else(|| {
        GnError::new(
            Code::ERRCODE_UNDEFINED_TABLE,
            format!("relation {schema}.{table} does not exist"),
        )
    })?;
    Definer { role: owner }.run(f)
}

/// The name of the current user (who asked, before any switch).
pub fn current_user_name() -> String {
    // SAFETY: GetUserNameFromId returns a palloc'd copy of the role's name (or raises an
    // ERROR for a dropped role, which cannot be the current one).
    unsafe {
        let p = pg_sys::GetUserNameFromId(pg_sys::GetUserId(), false);
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// Whether the caller may SELECT the relation: what reading an export through gn_export
/// requires, so that running it as its definer never widens what the caller can read.
pub fn require_select(relid: Oid, export: &str, qualified: &str) -> GnResult<()> {
    // SAFETY: a privilege check by OIDs of a relation that exists (it was just looked up).
    let ok = unsafe {
        pg_sys::pg_class_aclcheck(relid, pg_sys::GetUserId(), pg_sys::ACL_SELECT as _)
            == pg_sys::AclResult::ACLCHECK_OK
    };
    if ok {
        Ok(())
    } else {
        Err(GnError::new(
            Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!(
                "{export}: role \"{}\" may not SELECT {qualified}",
                current_user_name()
            ),
        )
        .hint(format!(
            "gn_export reads for a role only what it may read itself: GRANT SELECT ON {qualified} TO that role."
        )))
    }
}

#[cfg(test)]
mod unit {
    use super::choose;
    use pgrx::pg_sys::Oid;

    #[test]
    fn the_view_owner_unless_that_would_lend_a_superuser() {
        let su = |o: Oid| o == Oid::from(10u32);
        let (postgres, app, alice) = (Oid::from(10u32), Oid::from(20u32), Oid::from(30u32));
        // GeoNature: the application role owns the catalog and its views
        assert_eq!(choose(app, Some(app), su), app);
        // a view of another role runs as that role
        assert_eq!(choose(alice, Some(app), su), alice);
        assert_eq!(choose(alice, Some(postgres), su), alice);
        // a superuser's relation named by a non-superuser catalog writer runs as the writer
        assert_eq!(choose(postgres, Some(app), su), app);
        // plain PostGIS: postgres owns everything
        assert_eq!(choose(postgres, Some(postgres), su), postgres);
        assert_eq!(choose(postgres, None, su), postgres);
    }
}
