//! `can_read()` and `require_read()`: GeoNature's read rule (`access`) as SQL asks it, for an
//! export given by its id (the catalog loads it).

use crate::access::{check_read, require_read, required};
use crate::catalog::export;
use crate::error::OrRaise;
use pgrx::prelude::*;

/// Whether a user (id_role), a token holder, or anyone may read an export, by GeoNature's
/// rule: a public export is readable by anyone; a given token must belong to the export (a
/// wrong token refuses even an allowed user); without a user, refuse; scope 3 allows; scope 1
/// or 2 allows when the user or one of their groups is associated with the export. An unknown
/// export raises P0002.
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn can_read(
    id_export: Option<i32>,
    id_role: default!(Option<i32>, "NULL"),
    token: default!(Option<&str>, "NULL"),
) -> bool {
    let export = export::load(required(id_export, "id_export")).or_raise();
    check_read(&export, id_role, token).or_raise().is_ok()
}

/// Raises insufficient_privilege (42501) with the reason when can_read() would be false;
/// P0002 for an unknown export. The check that run(), generate() and api() make.
#[pg_extern(name = "require_read", stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn require_read_sql(
    id_export: Option<i32>,
    id_role: default!(Option<i32>, "NULL"),
    token: default!(Option<&str>, "NULL"),
) {
    let export = export::load(required(id_export, "id_export")).or_raise();
    require_read(export, id_role, token).or_raise();
}
