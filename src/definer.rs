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
//! plain PostGIS database, where postgres owns everything) the query runs as the superuser,
//! but only for a superuser caller: a caller that is not one is never switched up to a
//! superuser, and reads such a view with its own rights, as with a plain SELECT.

use crate::error::GnResult;
use crate::identity::{self, current_user_name};
use pgrx::pg_sys::{self, Oid};
use pgrx::PgSqlErrorCode as Code;

/// The role an export's query runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definer {
    pub role: Oid,
}

/// The owner of `gn_exports.t_exports`: the role that writes export definitions.
pub fn catalog_owner() -> GnResult<Option<Oid>> {
    Ok(crate::spi::one::<Oid>(
        "SELECT c.relowner FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
          WHERE n.nspname OPERATOR(pg_catalog.=) 'gn_exports' AND c.relname OPERATOR(pg_catalog.=) 't_exports'",
        &[],
    )?)
}

/// The rule of this module, as a pure function of the two owners and the caller.
pub fn choose(
    relation_owner: Oid,
    catalog_owner: Option<Oid>,
    caller: Oid,
    superuser: impl Fn(Oid) -> bool,
) -> Oid {
    let definer = match catalog_owner {
        Some(cat) if superuser(relation_owner) && !superuser(cat) => cat,
        _ => relation_owner,
    };
    // never up to a superuser: a caller that is not one reads a superuser's view with its own
    // rights, as it would with a plain SELECT (the view still reads its tables as its owner)
    if superuser(definer) && !superuser(caller) {
        caller
    } else {
        definer
    }
}

/// PostGIS's schema, when every function and operator in it belongs to a superuser or to
/// `role` itself: on the path of `role`'s statements, any of them may be bound in place of one
/// they name, and must then be nobody's code but theirs or a superuser's. Being part of an
/// extension proves nothing (the owner of any extension can add its own function to it), so
/// a database owner's look-alike keeps the schema off the path.
fn postgis_namespace(role: Oid) -> GnResult<Option<Oid>> {
    Ok(crate::spi::one::<Oid>(
        "WITH s AS (SELECT e.extnamespace AS ns FROM pg_catalog.pg_extension e
                     WHERE e.extname OPERATOR(pg_catalog.=) 'postgis'),
              owners AS (
                SELECT DISTINCT p.proowner AS owner
                  FROM pg_catalog.pg_proc p, s WHERE p.pronamespace OPERATOR(pg_catalog.=) s.ns
                UNION
                SELECT DISTINCT o.oprowner
                  FROM pg_catalog.pg_operator o, s WHERE o.oprnamespace OPERATOR(pg_catalog.=) s.ns)
         SELECT (SELECT s.ns FROM s
                  WHERE NOT EXISTS (
                      SELECT 1 FROM owners f
                        JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) f.owner
                       WHERE NOT r.rolsuper AND f.owner OPERATOR(pg_catalog.<>) $1))",
        &[role.into()],
    )?)
}

thread_local! {
    /// [`postgis_namespace`] by role, forgotten whenever a function, an operator or a role
    /// changes in the database (a syscache invalidation).
    static POSTGIS_PATH: std::cell::RefCell<std::collections::HashMap<Oid, Option<Oid>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
    static WATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn forget_postgis_path(_arg: pg_sys::Datum, _cache: i32, _hash: u32) {
    POSTGIS_PATH.with_borrow_mut(|m| m.clear());
}

/// [`postgis_namespace`], decided again after any change to functions, operators or roles
/// (this backend reads the invalidations others' commits sent before it decides), so that a
/// look-alike planted while an export runs is seen by its next statement.
fn postgis_path_for(role: Oid) -> GnResult<Option<Oid>> {
    if !WATCHING.get() {
        for cache in [
            pg_sys::SysCacheIdentifier::PROCOID,
            pg_sys::SysCacheIdentifier::OPEROID,
            pg_sys::SysCacheIdentifier::AUTHOID,
        ] {
            // SAFETY: registers a callback for the life of the backend; it only clears a map.
            unsafe {
                pg_sys::CacheRegisterSyscacheCallback(
                    cache as i32,
                    Some(forget_postgis_path),
                    pg_sys::Datum::from(0usize),
                )
            };
        }
        WATCHING.set(true);
    }
    // SAFETY: processes pending invalidations, as any catalog access may.
    unsafe { pg_sys::AcceptInvalidationMessages() };
    if let Some(v) = POSTGIS_PATH.with_borrow(|m| m.get(&role).copied()) {
        return Ok(v);
    }
    let v = postgis_namespace(role)?;
    POSTGIS_PATH.with_borrow_mut(|m| m.insert(role, v));
    Ok(v)
}

impl Definer {
    pub fn for_relation(owner: Oid) -> GnResult<Definer> {
        Ok(Definer {
            role: choose(
                owner,
                catalog_owner()?,
                identity::current_user(),
                identity::is_superuser,
            ),
        })
    }

    /// Runs `f` as the definer, in a security-restricted operation; settings changed by the
    /// code it runs are undone. Refused (42501) when the definer is not the caller and the
    /// session has temporary objects, which the definer's code could find in place of its own.
    ///
    /// The search_path is `pg_catalog, <PostGIS's schema>, pg_temp`, so that PostGIS's own SQL
    /// functions find `spatial_ref_sys` (ST_Transform(geometry, text) names it unqualified,
    /// and the planner reads its body), with temporary relations last. That schema is on the
    /// path only while every function and operator in it belongs to a superuser or to the
    /// definer (decided again after any change to functions, operators or roles): one planted
    /// there by someone else could otherwise stand in for one gn_export's statements name.
    /// Otherwise the path is `pg_catalog, pg_temp`.
    pub fn run<R>(&self, f: impl FnOnce() -> GnResult<R>) -> GnResult<R> {
        if self.role != identity::current_user() {
            identity::require_no_temporary_objects(self.role)?;
        }
        let path = Definer::search_path(postgis_path_for(self.role)?);
        identity::restricted(self.role, &path, f)
    }

    fn search_path(postgis: Option<Oid>) -> String {
        let schema = postgis.and_then(|ns| {
            // SAFETY: a catalog lookup by OID; NULL for a schema that has gone.
            let p = unsafe { pg_sys::get_namespace_name(ns) };
            // SAFETY: a palloc'd NUL-terminated copy of the name when not NULL.
            (!p.is_null()).then(|| {
                unsafe { std::ffi::CStr::from_ptr(p) }
                    .to_string_lossy()
                    .into_owned()
            })
        });
        match schema {
            Some(s) => format!("pg_catalog, {}, pg_temp", pgrx::spi::quote_identifier(s)),
            None => identity::PINNED_PATH.to_string(),
        }
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
        Err(crate::error::GnError::new(
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
    fn the_view_owner_unless_that_would_lend_a_superuser_or_switch_up_to_one() {
        let su = |o: Oid| o == Oid::from(10u32);
        let (postgres, app, alice) = (Oid::from(10u32), Oid::from(20u32), Oid::from(30u32));
        for caller in [postgres, app, alice] {
            // GeoNature: the application role owns the catalog and its views
            assert_eq!(choose(app, Some(app), caller, su), app);
            // a view of another role runs as that role
            assert_eq!(choose(alice, Some(app), caller, su), alice);
            assert_eq!(choose(alice, Some(postgres), caller, su), alice);
            // a superuser's relation named by a non-superuser catalog writer runs as the writer
            assert_eq!(choose(postgres, Some(app), caller, su), app);
        }
        // plain PostGIS: postgres owns everything; the superuser's own runs are its own
        assert_eq!(choose(postgres, Some(postgres), postgres, su), postgres);
        assert_eq!(choose(postgres, None, postgres, su), postgres);
        // ... but a plain reader is never switched up to the superuser
        assert_eq!(choose(postgres, Some(postgres), alice, su), alice);
        assert_eq!(choose(postgres, None, app, su), app);
    }
}
