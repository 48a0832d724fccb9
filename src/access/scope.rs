//! GeoNature's `get_scopes_by_action` for module EXPORTS, object ALL, in one query.
//!
//! GeoNature also prunes permissions superseded by wider ones before taking the maximum. That
//! never changes the maximum, except for a defect: two distinct rows that are each "<=" the
//! other (say sensitivity_filter NULL and false, same scope) are both dropped, leaving scope 0.
//! We do not reproduce that defect.

use super::geonature::{roles_of, GeoNature};
use crate::adopted;
use crate::error::{GnError, GnResult};
use pgrx::PgSqlErrorCode as Code;

const ACTIONS: [&str; 6] = ["C", "R", "U", "V", "E", "D"];

pub fn check_action(gn: &GeoNature, action: &str) -> GnResult<()> {
    let known = if gn.actions {
        adopted::with(&[&adopted::ACTIONS], || {
            Ok(crate::spi::one::<bool>(
                "SELECT EXISTS (SELECT 1 FROM gn_permissions.bib_actions
                                 WHERE code_action OPERATOR(pg_catalog.=) $1)",
                &[action.into()],
            )?)
        })?
        .unwrap_or(false)
    } else {
        ACTIONS.contains(&action)
    };
    if known {
        Ok(())
    } else {
        Err(GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("unknown action code \"{action}\""),
        )
        .hint("Use one of GeoNature's action codes: C, R, U, V, E or D (read is R)."))
    }
}

/// The SQL text of the scope query for this database's flavour of GeoNature.
/// $1 is the user and their groups, $2 the action code; no value is ever put in the text.
pub fn scope_query(gn: &GeoNature) -> String {
    let mut q = String::from(
        "SELECT CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.=) 0 THEN 0 \
                     WHEN pg_catalog.bool_or(p.scope_value IS NULL) THEN 3 \
                     ELSE pg_catalog.max(p.scope_value)::int END \
           FROM gn_permissions.t_permissions p \
           JOIN gn_permissions.bib_actions a ON a.id_action OPERATOR(pg_catalog.=) p.id_action \
           JOIN gn_commons.t_modules m ON m.id_module OPERATOR(pg_catalog.=) p.id_module \
           JOIN gn_permissions.t_objects o ON o.id_object OPERATOR(pg_catalog.=) p.id_object \
          WHERE a.code_action OPERATOR(pg_catalog.=) $2 AND m.module_code OPERATOR(pg_catalog.=) 'EXPORTS' \
            AND o.code_object OPERATOR(pg_catalog.=) 'ALL' AND p.id_role OPERATOR(pg_catalog.=) ANY ($1)",
    );
    if gn.expire_on {
        q.push_str(
            " AND (p.expire_on IS NULL OR p.expire_on OPERATOR(pg_catalog.>) pg_catalog.now())",
        );
    }
    if gn.validated {
        q.push_str(" AND p.validated IS TRUE");
    }
    q
}

pub fn scope_with(gn: &GeoNature, id_role: i32, action: &str) -> GnResult<i32> {
    if !gn.permissions {
        return Ok(0);
    }
    let roles = roles_of(gn, id_role)?;
    let tables = [
        &adopted::PERMISSIONS,
        &adopted::ACTIONS,
        &adopted::MODULES,
        &adopted::OBJECTS,
    ];
    adopted::with(&tables, || {
        Ok(crate::spi::one::<i32>(&scope_query(gn), &[roles.into(), action.into()])?.unwrap_or(0))
    })
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn query_follows_the_columns_present() {
        let old = GeoNature {
            permissions: true,
            ..Default::default()
        };
        let new = GeoNature {
            permissions: true,
            expire_on: true,
            validated: true,
            groups: true,
            actions: true,
        };
        assert!(!scope_query(&old).contains("expire_on"));
        assert!(!scope_query(&old).contains("validated"));
        assert!(scope_query(&new).contains("p.expire_on IS NULL OR p.expire_on"));
        assert!(scope_query(&new).contains("p.validated IS TRUE"));
    }
}
