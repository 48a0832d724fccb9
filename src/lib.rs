//! gn_export: GeoNature exports run inside PostgreSQL.
//!
//! The pipeline, one module per stage: `catalog` (what to export) -> `access` (who may) ->
//! `query` (the SQL) -> `source` (rows) -> `encode` (bytes) -> `sink` (where they go).
//! Around it: `settings` (GUCs) and `error` (one error type with its SQLSTATE).

#![deny(unsafe_op_in_unsafe_fn)]

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};

mod access;
mod adopted;
mod api;
mod catalog;
mod copy;
mod definer;
mod encode;
mod error;
mod export;
mod files;
mod fnv;
mod generate;
mod history;
mod identity;
mod jsonb;
mod lock;
mod notify;
mod openapi;
mod pg_compat;
mod progress;
mod query;
mod read;
mod relation;
mod run;
mod schedule;
mod semantic;
mod settings;
mod sink;
mod sinp;
mod source;
mod spi;
mod subxact;

::pgrx::pg_module_magic!(name, version);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // pgrx puts a Rust backtrace in the DETAIL of errors that cross Rust frames when the
    // server's environment asks for backtraces: internals no client should see. The variable
    // that std's Backtrace::capture reads first says no (panics still log where they happened).
    // Set once while the library loads, before any thread of ours exists.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    settings::init();
    copy::install();
}

/// The version of the gn_export extension library that is loaded. Says with a NOTICE when
/// the library is not preloaded in this database's sessions (the COPY formats need it); with a
/// WARNING during CREATE EXTENSION, whose script PostgreSQL runs with client_min_messages at
/// WARNING at least, so that the DBA sees it there too.
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn version() -> &'static str {
    if let Some((message, hint)) = copy::preload_hint() {
        // SAFETY: reads a backend global that CREATE EXTENSION sets while its script runs.
        let level = if unsafe { pg_sys::creating_extension } {
            PgLogLevel::WARNING
        } else {
            PgLogLevel::NOTICE
        };
        ErrorReport::new(
            PgSqlErrorCode::ERRCODE_WARNING,
            message,
            "gn_export.version",
        )
        .set_hint(hint)
        .report(level);
    }
    env!("CARGO_PKG_VERSION")
}

// Runs first in the extension script.
pgrx::extension_sql!(
    r#"
-- Every name in this script binds to gn_export's own schema or to pg_catalog, whatever anyone
-- planted in public or elsewhere on the installer's path (CREATE EXTENSION puts the schemas
-- of required extensions there): operators and functions in views, defaults, checks and
-- bodies are resolved now, once. Restored when the script ends.
SET LOCAL search_path = gn_export, pg_catalog, pg_temp;

-- ... which holds only if gn_export's schema is ours: made by CREATE EXTENSION, or empty and
-- owned by the installer or a superuser (pg_dump's restore makes it first, empty), with no
-- role but its owner allowed to create in it.
DO $schema$
DECLARE
    owner oid;
BEGIN
    SELECT n.nspowner INTO owner FROM pg_catalog.pg_namespace n
     WHERE n.nspname OPERATOR(pg_catalog.=) 'gn_export';
    IF NOT (owner OPERATOR(pg_catalog.=) pg_catalog.to_regrole(CURRENT_USER::text)::oid
            OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) owner))
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
                   WHERE n.nspname OPERATOR(pg_catalog.=) 'gn_export'
                     AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
                     AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                   WHERE c.relnamespace OPERATOR(pg_catalog.=) 'gn_export'::pg_catalog.regnamespace)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                   WHERE p.pronamespace OPERATOR(pg_catalog.=) 'gn_export'::pg_catalog.regnamespace)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_operator o
                   WHERE o.oprnamespace OPERATOR(pg_catalog.=) 'gn_export'::pg_catalog.regnamespace)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t
                   WHERE t.typnamespace OPERATOR(pg_catalog.=) 'gn_export'::pg_catalog.regnamespace) THEN
        RAISE EXCEPTION 'gn_export: schema gn_export existed before CREATE EXTENSION, owned by %, not empty, or open to others', owner::pg_catalog.regrole
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'gn_export binds its SQL to its own schema: drop that schema (DROP SCHEMA gn_export) and install again.';
    END IF;
END
$schema$;

-- gn_export reads and writes UTF-8 only (GeoNature's databases are UTF-8): in any other
-- database encoding, text would come out doubly encoded or not at all.
DO $encoding$
BEGIN
    IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
        RAISE EXCEPTION 'gn_export needs a UTF-8 database; % is %', pg_catalog.current_database(), pg_catalog.getdatabaseencoding()
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Create the database with ENCODING ''UTF8'' (e.g. CREATE DATABASE geonature ENCODING ''UTF8'' TEMPLATE template0) and restore into it.';
    END IF;
END
$encoding$;

-- the types that functions return, before the functions
CREATE TYPE gn_export.generation AS (
    id_export   integer,
    format      text,
    path        text,
    url         text,
    rows        bigint,
    bytes       bigint,
    started_at  timestamptz,
    finished_at timestamptz,
    status      text,
    error       text,
    sqlstate    text,
    recorded    boolean
);
COMMENT ON TYPE gn_export.generation IS 'The outcome of gn_export.generate(): status is done, skipped or failed; recorded is false on a hot standby, where the run history, the notification and the NOTIFY are not written.';
"#,
    name = "generation_type",
    bootstrap
);

// Runs last: the COPY formats need the library loaded before the statement (version() warns).
pgrx::extension_sql!(
    r#"
SELECT gn_export.version();
"#,
    name = "preload_notice",
    finalize
);

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn version_matches_the_crate() {
        let v = Spi::get_one::<String>("SELECT gn_export.version()").unwrap();
        assert_eq!(v.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    }
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
