//! Per-association tokens: checked in constant time, rotated on demand, never shown to others.

use super::geonature::{roles_of, GeoNature};
use crate::adopted;
use crate::error::{GnError, GnResult};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

/// Equality whose time does not depend on where the inputs differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    for (i, x) in a.iter().enumerate() {
        // compare against a byte of b even when b is shorter, so the loop length is a's
        let y = b.get(i).copied().unwrap_or(!*x);
        diff |= u64::from(x ^ y);
    }
    diff == 0
}

/// Whether `token` is the token of one of this export's associations. Every stored token is
/// compared, so the time says nothing about which one matched or how much of it.
pub fn matches(id_export: i32, token: &str) -> GnResult<bool> {
    adopted::with(&[&adopted::EXPORT_ROLES], || {
        Spi::connect(|client| {
            let rows = client.select(
                "SELECT token::text FROM gn_exports.cor_exports_roles
                  WHERE id_export OPERATOR(pg_catalog.=) $1",
                None,
                &[id_export.into()],
            )?;
            let mut found = false;
            for row in rows {
                if let Some(stored) = row.get::<String>(1)? {
                    found |= ct_eq(stored.as_bytes(), token.as_bytes());
                }
            }
            Ok(found)
        })
    })
}

/// Whether the user, or one of their groups, is associated with the export.
pub fn is_associated(gn: &GeoNature, id_export: i32, id_role: i32) -> GnResult<bool> {
    let roles = roles_of(gn, id_role)?;
    adopted::with(&[&adopted::EXPORT_ROLES], || {
        Ok(crate::spi::one::<bool>(
            "SELECT EXISTS (SELECT 1 FROM gn_exports.cor_exports_roles c
                             WHERE c.id_export OPERATOR(pg_catalog.=) $1
                               AND c.id_role OPERATOR(pg_catalog.=) ANY ($2))",
            &[id_export.into(), roles.into()],
        )?
        .unwrap_or(false))
    })
}

pub fn rotate(id_export: i32, id_role: i32) -> GnResult<String> {
    // as the table's owner: a trigger on it runs with its owner's rights, never the caller's
    let token = adopted::with(&[&adopted::EXPORT_ROLES], || {
        Spi::connect_mut(|client| {
            let rows = client.update(
                "UPDATE gn_exports.cor_exports_roles
                    SET token = pg_catalog.md5(pg_catalog.gen_random_uuid()::text)
                  WHERE id_export OPERATOR(pg_catalog.=) $1 AND id_role OPERATOR(pg_catalog.=) $2
                 RETURNING token::text",
                Some(1),
                &[id_export.into(), id_role.into()],
            )?;
            match rows.into_iter().next() {
                Some(row) => Ok::<_, GnError>(row.get::<String>(1)?),
                None => Ok(None),
            }
        })
    })?;
    token.ok_or_else(|| {
        GnError::new(
            Code::ERRCODE_NO_DATA_FOUND,
            format!("role {id_role} is not associated with export {id_export}"),
        )
        .hint("Associate it first: INSERT INTO gn_exports.cor_exports_roles (id_export, id_role) VALUES (...).")
    })
}

#[cfg(test)]
mod unit {
    use super::ct_eq;

    #[test]
    fn constant_time_equality() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(ct_eq(b"", b""));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(!ct_eq(b"ab", b"abc"));
        assert!(!ct_eq(b"", b"a"));
    }
}
