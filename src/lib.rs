//! gn_export: GeoNature exports run inside PostgreSQL.
//!
//! The pipeline, one module per stage: `catalog` (what to export) -> `access` (who may) ->
//! `query` (the SQL) -> `source` (rows) -> `encode` (bytes) -> `sink` (where they go).
//! Around it: `settings` (GUCs) and `error` (one error type with its SQLSTATE).

use pgrx::prelude::*;

mod access;
mod api;
mod catalog;
mod encode;
mod error;
mod history;
mod jsonb;
mod notify;
mod openapi;
mod progress;
mod query;
mod schedule;
mod settings;
mod sink;
mod source;
mod subxact;

::pgrx::pg_module_magic!(name, version);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    settings::init();
    #[cfg(any(feature = "pg15", feature = "pg16", feature = "pg17"))]
    sink::copy::install();
}

/// The version of the gn_export extension library that is loaded.
#[pg_extern(immutable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

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
