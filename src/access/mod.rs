//! Who may read an export: GeoNature's scopes on module EXPORTS, public exports, user and
//! group associations, and per-association tokens. Every reading path (run, generate, api)
//! goes through [`require_read`].

pub mod geonature;
pub mod list;
pub mod rule;
pub mod scope;
pub mod token;

use crate::error::{GnError, GnResult, OrRaise};
use crate::export::Export;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use rule::{Refusal, TokenCheck};

/// A token of "" means none, as in GeoNature (`if token:`).
fn given(token: Option<&str>) -> Option<&str> {
    token.filter(|t| !t.is_empty())
}

/// Applies GeoNature's rule to one export; the facts that cost a query are fetched only when
/// the rule reaches them.
pub fn check_read(
    export: &Export,
    id_role: Option<i32>,
    token: Option<&str>,
) -> GnResult<Result<(), Refusal>> {
    let token_check = match given(token) {
        None => TokenCheck::NotGiven,
        // a public export ignores tokens, as GeoNature does
        Some(_) if export.public => TokenCheck::NotGiven,
        Some(t) => {
            if token::matches(export.id, t)? {
                TokenCheck::Matches
            } else {
                TokenCheck::Mismatch
            }
        }
    };
    // GeoNature's tables are looked at only when the rule gets that far: reading a public
    // export or using a token needs no privilege on them.
    rule::decide(
        export.public,
        token_check,
        id_role,
        |role| scope::scope_with(&geonature::detect()?, role, "R"),
        |role| token::is_associated(&geonature::detect()?, export.id, role),
    )
}

/// The single choke point of every reading path: returns the export when the caller may read
/// it, or the 42501 error that says why not. Never echoes a token.
pub fn require_read(export: Export, id_role: Option<i32>, token: Option<&str>) -> GnResult<Export> {
    match check_read(&export, id_role, token)? {
        Ok(()) => Ok(export),
        Err(refusal) => Err(refusal_error(&export, id_role, refusal)),
    }
}

/// Whether this server is a hot standby: it serves reads, and nothing can be written to its
/// database (no history row, no notification, no NOTIFY).
pub fn on_standby() -> bool {
    // SAFETY: reads the shared recovery state; callable from any backend at any time.
    unsafe { pg_sys::RecoveryInProgress() }
}

/// Whether the current transaction may not write to the database: always on a hot standby
/// (recovery makes every transaction read-only), and in a `READ ONLY` transaction.
pub fn read_only_transaction() -> bool {
    // SAFETY: reads a backend global set at transaction start (and by SET TRANSACTION).
    unsafe { pg_sys::XactReadOnly }
}

/// Refuses `what` on a hot standby, with 25006: `why` says what it would do that only the
/// primary may.
pub fn require_primary(what: &str, why: &str) -> GnResult<()> {
    if !on_standby() {
        return Ok(());
    }
    Err(GnError::new(
        Code::ERRCODE_READ_ONLY_SQL_TRANSACTION,
        format!("gn_export: {what} cannot run on a hot standby: {why}"),
    )
    .hint("Run it on the primary. A standby serves run(), api(), openapi(), exports(), can_read(), the COPY formats and generate() (without its history)."))
}

/// Core COPY's rule for writing server files: superuser, or the privileges of
/// pg_write_server_files (42501 otherwise). `what` says what was asked, e.g. "COPY to a file".
pub fn require_server_write(what: &str) -> GnResult<()> {
    // SAFETY: privilege checks by OID of the current user and a built-in role.
    let allowed = unsafe {
        pg_sys::superuser()
            || pg_sys::has_privs_of_role(
                pg_sys::GetUserId(),
                pg_sys::Oid::from(pg_sys::ROLE_PG_WRITE_SERVER_FILES),
            )
    };
    if allowed {
        return Ok(());
    }
    Err(GnError::new(
        Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
        format!("must be superuser or have privileges of the pg_write_server_files role to {what}"),
    )
    .hint("Anyone can COPY to stdout or stdin. psql's \\copy command also works for anyone."))
}

fn refusal_error(export: &Export, id_role: Option<i32>, refusal: Refusal) -> GnError {
    let denied = |msg: String| GnError::new(Code::ERRCODE_INSUFFICIENT_PRIVILEGE, msg);
    let role = id_role.map(|r| r.to_string()).unwrap_or_default();
    match refusal {
        Refusal::NoUser => denied(format!("{} is private: no user and no token given", export.name()))
            .hint("Pass id_role (the GeoNature user asking), or the token of one of the export's associations."),
        Refusal::WrongToken => denied(format!("{}: the token given is not a token of this export", export.name()))
            .hint("Use the token of an association of this export (gn_export.exports(id_role) lists the caller's own tokens)."),
        Refusal::NoPermission => {
            let err = denied(format!(
                "{}: user {role} has no read permission (scope 0) on module EXPORTS",
                export.name()
            ));
            if geonature::detect().map(|gn| gn.permissions).unwrap_or(false) {
                err.hint("An administrator can grant the R action on module EXPORTS to the user or one of their groups (gn_permissions.t_permissions).")
            } else {
                err.hint("This database has no GeoNature permission tables: only public exports and tokens give access.")
            }
        }
        Refusal::NotAssociated => denied(format!(
            "{} is private and user {role} is not associated with it, nor is any of their groups",
            export.name()
        ))
        .hint("An administrator can associate the user or a group in gn_exports.cor_exports_roles, or grant scope 3 on module EXPORTS."),
    }
}

pub fn required<T>(v: Option<T>, what: &str) -> T {
    v.unwrap_or_else(|| {
        GnError::new(
            Code::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            format!("{what} must not be NULL"),
        )
        .raise()
    })
}

/// The user's scope (0 to 3) for an action on module EXPORTS, object ALL, computed as
/// GeoNature's `get_scopes_by_action`: their own permissions and their groups' (one level of
/// utilisateurs.cor_roles) that are not expired and are validated; 0 without any, 3 if one
/// has no scope limit (NULL scope_value), else the highest scope_value. 0 on a database
/// without GeoNature's permission tables. An unknown action code raises 22023.
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn scope(id_role: Option<i32>, action: default!(Option<&str>, "'R'")) -> i32 {
    let action = required(action, "action");
    let gn = geonature::detect().or_raise();
    scope::check_action(&gn, action).or_raise();
    match id_role {
        None => 0,
        Some(role) => scope::scope_with(&gn, role, action).or_raise(),
    }
}

/// Gives the association of a user or group with an export a new random token and returns
/// it; the old token stops working at once. Not executable by PUBLIC.
#[pg_extern(volatile)]
#[search_path(pg_catalog, pg_temp)]
fn rotate_token(id_export: Option<i32>, id_role: Option<i32>) -> String {
    require_primary("rotate_token()", "it writes the association's new token").or_raise();
    token::rotate(
        required(id_export, "id_export"),
        required(id_role, "id_role"),
    )
    .or_raise()
}

pgrx::extension_sql!(
    r#"
GRANT USAGE ON SCHEMA gn_export TO PUBLIC;
REVOKE EXECUTE ON FUNCTION gn_export.rotate_token(integer, integer) FROM PUBLIC;
"#,
    name = "access_grants",
    requires = [rotate_token]
);

#[cfg(test)]
mod unit {
    use super::given;

    #[test]
    fn empty_token_is_no_token() {
        assert_eq!(given(None), None);
        assert_eq!(given(Some("")), None);
        assert_eq!(given(Some("abc")), Some("abc"));
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::geonature;
    use pgrx::prelude::*;

    #[pg_test]
    fn detects_geonature_tables_and_their_columns() {
        assert_eq!(
            geonature::detect().unwrap(),
            geonature::GeoNature::default()
        );
        Spi::run(
            "CREATE SCHEMA gn_permissions; CREATE SCHEMA gn_commons; CREATE SCHEMA utilisateurs;
             CREATE TABLE gn_permissions.t_permissions (id_role int, validated boolean);
             CREATE TABLE gn_permissions.bib_actions (id_action int);
             CREATE TABLE gn_permissions.t_objects (id_object int);
             CREATE TABLE gn_commons.t_modules (id_module int);",
        )
        .unwrap();
        let gn = geonature::detect().unwrap();
        assert!(gn.permissions && gn.actions && gn.validated);
        assert!(!gn.expire_on && !gn.groups);
        Spi::run(
            "CREATE TABLE utilisateurs.cor_roles (id_role_groupe int, id_role_utilisateur int)",
        )
        .unwrap();
        assert!(geonature::detect().unwrap().groups);
    }

    #[pg_test]
    fn scope_is_zero_without_geonature() {
        let s = Spi::get_one::<i32>("SELECT gn_export.scope(1)").unwrap();
        assert_eq!(s, Some(0));
    }
}
