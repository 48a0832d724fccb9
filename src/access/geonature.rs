//! Which of GeoNature's user and permission tables this database has. They are read where they
//! exist and never created; GeoNature versions before 2.15 lack `expire_on` and `validated`.

use crate::adopted;
use crate::error::GnResult;
use pgrx::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GeoNature {
    /// gn_permissions.t_permissions, bib_actions, t_objects and gn_commons.t_modules all exist
    pub permissions: bool,
    /// gn_permissions.bib_actions exists (the list of action codes)
    pub actions: bool,
    /// t_permissions.expire_on exists (GeoNature >= 2.15)
    pub expire_on: bool,
    /// t_permissions.validated exists (GeoNature >= 2.15)
    pub validated: bool,
    /// utilisateurs.cor_roles exists (group membership)
    pub groups: bool,
}

pub fn detect() -> GnResult<GeoNature> {
    let row = Spi::connect(|client| {
        let rows = client.select(
            // pg_class rather than to_regclass: to_regclass raises an error for a schema the
            // caller has no USAGE on, and a public export must not need any of these tables
            "WITH t AS (SELECT n.nspname || '.' || c.relname AS name, c.oid
                          FROM pg_catalog.pg_class c
                          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                         WHERE (n.nspname, c.relname) IN (('gn_permissions', 't_permissions'),
                               ('gn_permissions', 'bib_actions'), ('gn_permissions', 't_objects'),
                               ('gn_commons', 't_modules'), ('utilisateurs', 'cor_roles')))
             SELECT count(*) FILTER (WHERE name <> 'utilisateurs.cor_roles') = 4,
                    bool_or(name = 'gn_permissions.bib_actions'),
                    EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a JOIN t ON t.oid = a.attrelid
                             WHERE t.name = 'gn_permissions.t_permissions'
                               AND a.attname = 'expire_on' AND NOT a.attisdropped),
                    EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a JOIN t ON t.oid = a.attrelid
                             WHERE t.name = 'gn_permissions.t_permissions'
                               AND a.attname = 'validated' AND NOT a.attisdropped),
                    bool_or(name = 'utilisateurs.cor_roles')
               FROM t",
            Some(1),
            &[],
        )?;
        let row = rows.first();
        let flag = |i: usize| -> GnResult<bool> { Ok(row.get::<bool>(i)?.unwrap_or(false)) };
        Ok::<_, crate::error::GnError>(GeoNature {
            permissions: flag(1)?,
            actions: flag(2)?,
            expire_on: flag(3)?,
            validated: flag(4)?,
            groups: flag(5)?,
        })
    })?;
    Ok(row)
}

/// The user and the groups they belong to (one level, as GeoNature's utilisateurs.cor_roles).
pub fn roles_of(gn: &GeoNature, id_role: i32) -> GnResult<Vec<i32>> {
    let mut roles = vec![id_role];
    if gn.groups {
        adopted::with(&[&adopted::GROUPS], || {
            Spi::connect(|client| {
                let rows = client.select(
                    "SELECT g.id_role_groupe::int FROM utilisateurs.cor_roles g
                      WHERE g.id_role_utilisateur OPERATOR(pg_catalog.=) $1",
                    None,
                    &[id_role.into()],
                )?;
                for r in rows {
                    if let Some(g) = r.get::<i32>(1)? {
                        roles.push(g);
                    }
                }
                Ok(())
            })
        })?;
    }
    Ok(roles)
}
