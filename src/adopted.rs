//! The tables gn_export reads and writes but does not own: GeoNature's export catalog
//! (`gn_exports.*`, adopted by CREATE EXTENSION), its permission and user tables and its
//! notification tables. Every statement gn_export runs on one of them goes through [`with`].
//!
//! Whoever owns such a table controls what reading or writing it runs: it can swap the table
//! for a view of the same name, or put a rule, a trigger or a row-level security policy on it.
//! So, as PostgreSQL does when it runs someone else's code (VACUUM, REFRESH MATERIALIZED
//! VIEW), a statement on these tables:
//! - first checks that each is what GeoNature made: an ordinary table (or a partitioned one
//!   made of ordinary tables), without inheritance children or rules, whose columns that
//!   gn_export uses are there with one of the built-in types GeoNature gives them (no domain,
//!   no type of someone's making). Anything else is refused with 42501 and a hint that names
//!   the object and what is wrong with it;
//! - then runs as the tables' owner (one owner for all the tables of one statement), in a
//!   security-restricted operation with `search_path = pg_catalog, pg_temp`, and never from a
//!   session of another role that holds temporary relations or types (42501). Triggers and
//!   policies are the owner's code and run with the owner's rights: the owner bypasses its own
//!   policies unless it forced them (FORCE ROW LEVEL SECURITY), and then they apply as to it.
//!
//! Nothing else in the crate names these tables in SQL.

use crate::error::{GnError, GnResult};
use crate::identity;
use pgrx::pg_sys::Oid;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

/// What a column of an adopted table may be: the built-in types GeoNature's migrations give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Bool,
    Timestamp,
}

impl Kind {
    fn accepts(self, type_name: &str) -> bool {
        let base = type_name.split('(').next().unwrap_or(type_name).trim();
        let ok: &[&str] = match self {
            Kind::Int => &["integer", "smallint", "bigint"],
            Kind::Text => &["text", "character varying", "character", "name"],
            Kind::Bool => &["boolean"],
            Kind::Timestamp => &["timestamp without time zone", "timestamp with time zone"],
        };
        ok.contains(&base)
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Int => "an integer type",
            Kind::Text => "text or varchar",
            Kind::Bool => "boolean",
            Kind::Timestamp => "a timestamp",
        }
    }
}

/// A column gn_export uses; `required: false` for those of newer GeoNature versions only.
pub struct Col {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn col(name: &'static str, kind: Kind) -> Col {
    Col {
        name,
        kind,
        required: true,
    }
}

const fn newer(name: &'static str, kind: Kind) -> Col {
    Col {
        name,
        kind,
        required: false,
    }
}

pub struct Table {
    pub schema: &'static str,
    pub name: &'static str,
    pub columns: &'static [Col],
}

impl Table {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

use Kind::{Bool, Int, Text, Timestamp};

pub const EXPORTS: Table = Table {
    schema: "gn_exports",
    name: "t_exports",
    columns: &[
        col("id", Int),
        col("label", Text),
        col("desc", Text),
        col("schema_name", Text),
        col("view_name", Text),
        col("geometry_field", Text),
        col("geometry_srid", Int),
        col("public", Bool),
        col("id_licence", Int),
        col("view_pk_column", Text),
    ],
};
pub const LICENCES: Table = Table {
    schema: "gn_exports",
    name: "t_licences",
    columns: &[
        col("id_licence", Int),
        col("name_licence", Text),
        col("url_licence", Text),
    ],
};
pub const EXPORT_ROLES: Table = Table {
    schema: "gn_exports",
    name: "cor_exports_roles",
    columns: &[
        col("id_export", Int),
        col("id_role", Int),
        col("token", Text),
    ],
};
pub const SCHEDULES: Table = Table {
    schema: "gn_exports",
    name: "t_export_schedules",
    columns: &[
        col("id_export_schedule", Int),
        col("id_export", Int),
        col("frequency", Int),
        col("format", Text),
        col("in_process", Bool),
    ],
};
pub const PERMISSIONS: Table = Table {
    schema: "gn_permissions",
    name: "t_permissions",
    columns: &[
        col("id_role", Int),
        col("id_action", Int),
        col("id_module", Int),
        col("id_object", Int),
        col("scope_value", Int),
        newer("expire_on", Timestamp),
        newer("validated", Bool),
    ],
};
pub const ACTIONS: Table = Table {
    schema: "gn_permissions",
    name: "bib_actions",
    columns: &[col("id_action", Int), col("code_action", Text)],
};
pub const OBJECTS: Table = Table {
    schema: "gn_permissions",
    name: "t_objects",
    columns: &[col("id_object", Int), col("code_object", Text)],
};
pub const MODULES: Table = Table {
    schema: "gn_commons",
    name: "t_modules",
    columns: &[col("id_module", Int), col("module_code", Text)],
};
pub const GROUPS: Table = Table {
    schema: "utilisateurs",
    name: "cor_roles",
    columns: &[col("id_role_groupe", Int), col("id_role_utilisateur", Int)],
};
pub const NOTIFICATION_RULES: Table = Table {
    schema: "gn_notifications",
    name: "t_notifications_rules",
    columns: &[
        col("id_role", Int),
        col("code_method", Text),
        col("code_category", Text),
        col("subscribed", Bool),
    ],
};
pub const NOTIFICATION_CATEGORIES: Table = Table {
    schema: "gn_notifications",
    name: "bib_notifications_categories",
    columns: &[col("code", Text), col("label", Text)],
};
pub const NOTIFICATIONS: Table = Table {
    schema: "gn_notifications",
    name: "t_notifications",
    columns: &[
        col("id_role", Int),
        col("title", Text),
        col("content", Text),
        col("url", Text),
        col("code_status", Text),
        col("creation_date", Timestamp),
    ],
};

/// What pg_class says of one table.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub relkind: String,
    pub owner: Oid,
    pub has_rules: bool,
    pub has_children: bool,
    /// for a partitioned table: a partition that is not an ordinary table, or has rules
    pub odd_partition: bool,
    /// (name, type as format_type spells it)
    pub columns: Vec<(String, String)>,
}

/// What is wrong with a table, if anything: the refusal's message (after the table's name)
/// and its hint. Pure, so that every case is unit-tested.
pub fn problem(t: &Table, f: &Found) -> Option<(String, String)> {
    let restore = format!(
        "gn_export runs statements on {} only when it is what GeoNature made: a plain table with no rule.",
        t.qualified()
    );
    let kind = match f.relkind.as_str() {
        "r" | "p" => None,
        "v" => Some("a view"),
        "m" => Some("a materialized view"),
        "f" => Some("a foreign table"),
        _ => Some("not a table"),
    };
    if let Some(k) = kind {
        return Some((
            format!("is {k}, not a table"),
            format!("{restore} Put the table back under its name (ALTER TABLE ... RENAME)."),
        ));
    }
    if f.has_rules {
        return Some((
            "has a rule".into(),
            format!(
                "{restore} Drop the rule (DROP RULE ... ON {}).",
                t.qualified()
            ),
        ));
    }
    if f.relkind == "r" && f.has_children {
        return Some((
            "has inheritance children".into(),
            format!("{restore} Detach them (ALTER TABLE ... NO INHERIT)."),
        ));
    }
    if f.odd_partition {
        return Some((
            "has a partition that is not a plain table, or has a rule".into(),
            format!("{restore} Detach that partition."),
        ));
    }
    for c in t.columns {
        match f.columns.iter().find(|(n, _)| n == c.name) {
            None if c.required => {
                return Some((
                    format!("has no column \"{}\"", c.name),
                    format!("{restore} GeoNature's column \"{}\" must be there.", c.name),
                ))
            }
            Some((_, ty)) if !c.kind.accepts(ty) => {
                return Some((
                    format!(
                        "has a column \"{}\" of type {ty}, not {}",
                        c.name,
                        c.kind.describe()
                    ),
                    format!("{restore} Give the column its GeoNature type."),
                ))
            }
            _ => {}
        }
    }
    None
}

/// Describes the tables, in order (None for one that does not exist).
fn describe(tables: &[&Table]) -> GnResult<Vec<Option<Found>>> {
    let schemas: Vec<String> = tables.iter().map(|t| t.schema.to_string()).collect();
    let names: Vec<String> = tables.iter().map(|t| t.name.to_string()).collect();
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT c.oid IS NOT NULL, c.relkind::text, c.relowner,
                    EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite rw WHERE rw.ev_class OPERATOR(pg_catalog.=) c.oid),
                    EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhparent OPERATOR(pg_catalog.=) c.oid),
                    c.relkind OPERATOR(pg_catalog.=) 'p' AND EXISTS (
                        SELECT 1 FROM pg_catalog.pg_partition_tree(c.oid) pt
                          JOIN pg_catalog.pg_class x ON x.oid OPERATOR(pg_catalog.=) pt.relid
                         WHERE x.relkind OPERATOR(pg_catalog.<>) ALL ('{r,p}'::pg_catalog.\"char\"[])
                            OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite rw WHERE rw.ev_class OPERATOR(pg_catalog.=) x.oid)),
                    ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                           WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0
                             AND NOT a.attisdropped ORDER BY a.attnum),
                    ARRAY(SELECT pg_catalog.format_type(a.atttypid, NULL) FROM pg_catalog.pg_attribute a
                           WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0
                             AND NOT a.attisdropped ORDER BY a.attnum)
               FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(s, n, i)
               LEFT JOIN pg_catalog.pg_namespace ns ON ns.nspname OPERATOR(pg_catalog.=) t.s
               LEFT JOIN pg_catalog.pg_class c ON c.relnamespace OPERATOR(pg_catalog.=) ns.oid
                                              AND c.relname OPERATOR(pg_catalog.=) t.n
              ORDER BY t.i",
            None,
            &[schemas.into(), names.into()],
        )?;
        let mut out = Vec::new();
        for r in rows {
            if !r.get::<bool>(1)?.unwrap_or(false) {
                out.push(None);
                continue;
            }
            let names = r.get::<Vec<String>>(7)?.unwrap_or_default();
            let types = r.get::<Vec<String>>(8)?.unwrap_or_default();
            out.push(Some(Found {
                relkind: r.get::<String>(2)?.unwrap_or_default(),
                owner: r.get::<Oid>(3)?.unwrap_or(Oid::INVALID),
                has_rules: r.get::<bool>(4)?.unwrap_or(true),
                has_children: r.get::<bool>(5)?.unwrap_or(true),
                odd_partition: r.get::<bool>(6)?.unwrap_or(true),
                columns: names.into_iter().zip(types).collect(),
            }));
        }
        Ok(out)
    })
}

fn refused(t: &Table, what: String, hint: String) -> GnError {
    GnError::new(
        Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
        format!("gn_export will not use {}: it {what}", t.qualified()),
    )
    .hint(hint)
}

thread_local! {
    /// The owners of table sets found sound, by the tables' names; forgotten at any relation's
    /// invalidation (a table renamed, dropped, altered, given a rule, a child or an owner), so
    /// the check costs a catalog query only after the catalog changed.
    static CHECKED: std::cell::RefCell<std::collections::HashMap<String, Oid>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
    static WATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn forget_checked(_arg: pgrx::pg_sys::Datum, _relid: Oid) {
    CHECKED.with_borrow_mut(|m| m.clear());
}

/// Checks `tables` and returns their one owner (see [`check`]), from what this backend found
/// before when no relation has changed since.
pub fn owner(tables: &[&Table]) -> GnResult<Oid> {
    if !WATCHING.get() {
        // SAFETY: registers a callback for the life of the backend; it only clears a map.
        unsafe {
            pgrx::pg_sys::CacheRegisterRelcacheCallback(
                Some(forget_checked),
                pgrx::pg_sys::Datum::from(0usize),
            )
        };
        WATCHING.set(true);
    }
    // SAFETY: processes pending invalidations (others' commits), as any catalog access may.
    unsafe { pgrx::pg_sys::AcceptInvalidationMessages() };
    let key = tables
        .iter()
        .map(|t| t.qualified())
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(o) = CHECKED.with_borrow(|m| m.get(&key).copied()) {
        return Ok(o);
    }
    let o = check(tables)?;
    CHECKED.with_borrow_mut(|m| m.insert(key, o));
    Ok(o)
}

/// Checks `tables` in the catalog and returns their one owner.
fn check(tables: &[&Table]) -> GnResult<Oid> {
    let mut owner: Option<(Oid, &Table)> = None;
    for (t, found) in tables.iter().zip(describe(tables)?) {
        let Some(found) = found else {
            return Err(GnError::new(
                Code::ERRCODE_UNDEFINED_TABLE,
                format!("relation {} does not exist", t.qualified()),
            ));
        };
        if let Some((what, hint)) = problem(t, &found) {
            return Err(refused(t, what, hint));
        }
        match owner {
            None => owner = Some((found.owner, t)),
            Some((o, first)) if o != found.owner => {
                return Err(refused(
                    t,
                    format!(
                        "is owned by \"{}\" but {} by \"{}\", and gn_export reads them together as one owner",
                        identity::role_name(found.owner),
                        first.qualified(),
                        identity::role_name(o)
                    ),
                    format!(
                        "Give both tables one owner, as GeoNature does (ALTER TABLE {} OWNER TO ...).",
                        t.qualified()
                    ),
                ))
            }
            _ => {}
        }
    }
    Ok(owner.map(|(o, _)| o).unwrap_or(Oid::INVALID))
}

/// Runs `f`, whose statements read or write `tables` and nothing else gn_export does not own,
/// as the tables' owner once they are checked (see the module's documentation).
pub fn with<R>(tables: &[&Table], f: impl FnOnce() -> GnResult<R>) -> GnResult<R> {
    let owner = owner(tables)?;
    if owner != identity::current_user() {
        // the owner's triggers and policies must not find the caller's temporary relations
        identity::require_no_temporary_objects(owner)?;
    }
    identity::restricted(owner, identity::PINNED_PATH, f)
}

#[cfg(test)]
mod unit {
    use super::*;

    fn found(kind: &str, cols: &[(&str, &str)]) -> Found {
        Found {
            relkind: kind.into(),
            owner: Oid::from(10u32),
            has_rules: false,
            has_children: false,
            odd_partition: false,
            columns: cols
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
        }
    }

    const LICENCE_COLUMNS: [(&str, &str); 3] = [
        ("id_licence", "integer"),
        ("name_licence", "character varying(100)"),
        ("url_licence", "text"),
    ];

    #[test]
    fn a_plain_table_with_its_columns_passes() {
        assert_eq!(problem(&LICENCES, &found("r", &LICENCE_COLUMNS)), None);
        assert_eq!(problem(&LICENCES, &found("p", &LICENCE_COLUMNS)), None);
    }

    #[test]
    fn views_and_other_relations_are_refused() {
        for (kind, word) in [
            ("v", "a view"),
            ("m", "a materialized view"),
            ("f", "a foreign table"),
            ("S", "not a table"),
        ] {
            let (what, hint) = problem(&LICENCES, &found(kind, &LICENCE_COLUMNS)).unwrap();
            assert!(what.contains(word), "{what}");
            assert!(hint.contains("gn_exports.t_licences"), "{hint}");
        }
    }

    #[test]
    fn rules_children_and_odd_partitions_are_refused() {
        let mut f = found("r", &LICENCE_COLUMNS);
        f.has_rules = true;
        assert!(problem(&LICENCES, &f).unwrap().0.contains("rule"));
        let mut f = found("r", &LICENCE_COLUMNS);
        f.has_children = true;
        assert!(problem(&LICENCES, &f).unwrap().0.contains("inheritance"));
        let mut f = found("p", &LICENCE_COLUMNS);
        f.has_children = true;
        assert_eq!(problem(&LICENCES, &f), None);
        f.odd_partition = true;
        assert!(problem(&LICENCES, &f).unwrap().0.contains("partition"));
    }

    #[test]
    fn columns_must_be_there_with_a_builtin_type() {
        let missing = found("r", &LICENCE_COLUMNS[..2]);
        assert!(problem(&LICENCES, &missing)
            .unwrap()
            .0
            .contains("\"url_licence\""));
        let domain = found(
            "r",
            &[
                ("id_licence", "integer"),
                ("name_licence", "app.licence_name"),
                ("url_licence", "text"),
            ],
        );
        let (what, _) = problem(&LICENCES, &domain).unwrap();
        assert!(what.contains("app.licence_name") && what.contains("text or varchar"));
        // optional columns of newer GeoNature versions may be missing, but not mistyped
        let perms = [
            ("id_role", "integer"),
            ("id_action", "integer"),
            ("id_module", "integer"),
            ("id_object", "integer"),
            ("scope_value", "integer"),
        ];
        assert_eq!(problem(&PERMISSIONS, &found("r", &perms)), None);
        let mut typed = perms.to_vec();
        typed.push(("validated", "text"));
        assert!(problem(&PERMISSIONS, &found("r", &typed)).is_some());
    }
}
