//! The statements behind a snapshot: the query's keys in order, read once when the snapshot is
//! made, and a page's rows read from its keys.
//!
//! A key that is unique and never NULL names its row: a page is `WHERE pk = ANY(keys)`, an
//! index lookup on the view's base table, whatever the page's offset. GeoNature's migration
//! filled `view_pk_column` with the view's first column, unique or not; for such a key, each
//! entry also holds the row's rank among the rows of equal key (in the query's order, then by
//! the whole row's text, a total order), and a page reads the rows of its keys and keeps those
//! of its ranks: pages still partition the rows, with NULL keys too.

use super::snapshot::{Entry, Writer};
use crate::encode::Value;
use crate::error::GnResult;
use crate::query::{Paging, Plan};
use crate::source::{self, Cursor, Param};
use pgrx::pg_sys;

/// What a snapshot's keys depend on.
pub struct Identity {
    /// the whole identity, compared in full with a snapshot's
    pub bytes: Vec<u8>,
    /// the version of the export's relation: the catalog rows a redefinition replaces (its
    /// `pg_class` row and its rules, for a view)
    pub version: String,
}

/// Everything the keys of a snapshot depend on: the database (the store is the server's, and a
/// database cloned with CREATE DATABASE ... TEMPLATE has the same relations, row versions and
/// ids), the export, its relation and the relation's
/// version, the role its rows are read as, the database roles of the caller's session (a view
/// may read `session_user`), the session's time zone and currency (the text of timestamptz and
/// money keys, and what filters on them mean), and the query's conditions, parameters and
/// order. A snapshot serves only the same identity: GeoNature's pool, connected as one role
/// with one configuration, shares snapshots; other database roles do not.
pub fn identity(export_id: i32, plan: &Plan) -> GnResult<Identity> {
    // SAFETY: read the session's and the current user's ids, backend globals.
    let (session, current) = unsafe { (pg_sys::GetSessionUserId(), pg_sys::GetUserId()) };
    // SAFETY: reads a backend global set at connection.
    let database = unsafe { pg_sys::MyDatabaseId };
    let (version, locale) = crate::spi::two::<String, String>(
        "SELECT c.xmin::text || ':' || coalesce((SELECT pg_catalog.string_agg(r.xmin::text, ',' ORDER BY r.oid)
                FROM pg_catalog.pg_rewrite r WHERE r.ev_class = c.oid), ''),
                pg_catalog.current_setting('TimeZone') || ' ' || pg_catalog.current_setting('lc_monetary')
         FROM pg_catalog.pg_class c WHERE c.oid = $1",
        &[plan.relid.into()],
    )?;
    let (version, locale) = (version.unwrap_or_default(), locale.unwrap_or_default());
    let p = &plan.paging;
    let bytes = format!(
        "gn_export api snapshot 2\0database {database:?}\0export {export_id}\0relation {:?} {} {version}\0definer {:?}\0caller {session:?} {current:?} {locale}\0key {} {}\0where {}\0params {:?}\0{}",
        plan.relid,
        p.relation,
        plan.definer.role,
        p.pk,
        p.pk_type,
        p.conditions.as_deref().unwrap_or(""),
        &plan.params[..p.condition_params],
        p.order_by,
    )
    .into_bytes();
    Ok(Identity { bytes, version })
}

fn conditions(p: &Paging, keyword: &str) -> String {
    p.conditions
        .as_ref()
        .map(|c| format!(" {keyword} ({c})"))
        .unwrap_or_default()
}

fn condition_params(plan: &Plan) -> &[Param] {
    &plan.params[..plan.paging.condition_params]
}

/// Whether writing the keys finds out for itself that the key is unique: over the whole
/// relation (a page reads its rows by key alone, filters or not), ordered by the key alone
/// (either way), equal keys and NULLs come one after the other.
pub fn finds_duplicates(p: &Paging) -> bool {
    p.conditions.is_none()
        && ["", " ASC", " DESC"]
            .iter()
            .any(|dir| p.order_by == format!(" ORDER BY {}{dir}", p.pk))
}

/// 1 when the key is unique and never NULL over the whole relation, else 0.
pub fn unique_sql(p: &Paging) -> String {
    let (rel, pk) = (&p.relation, &p.pk);
    format!(
        "SELECT (NOT EXISTS (SELECT 1 FROM {rel} AS t WHERE {pk} IS NULL)
            AND NOT EXISTS (SELECT 1 FROM {rel} AS t GROUP BY {pk} HAVING count(*) > 1))::int::bigint"
    )
}

pub fn total_sql(p: &Paging) -> String {
    format!("SELECT count(*) FROM {} AS t", p.relation)
}

/// The window that ranks a row among the rows of its key, in a total order.
fn rank_window(p: &Paging) -> String {
    format!(
        "(pg_catalog.row_number() OVER (PARTITION BY {}{}, (t.*)::text) - 1)",
        p.pk, p.order_by
    )
}

/// What writing the keys found.
pub enum Written {
    Rows(u64),
    /// a NULL or repeated key, where the key was taken to be unique: nothing was kept
    NotUnique,
}

/// Writes the query's keys in order. With `ranked`, each with its rank; otherwise the key
/// must be unique over the whole relation: checked on the way where [`finds_duplicates`],
/// by the caller otherwise.
pub fn write(plan: &Plan, w: &mut Writer, ranked: bool) -> GnResult<Written> {
    let p = &plan.paging;
    let sql = if ranked {
        format!(
            "SELECT {}::text, {} FROM {} AS t{}{}, (t.*)::text",
            p.pk,
            rank_window(p),
            p.relation,
            conditions(p, "WHERE"),
            p.order_by
        )
    } else if finds_duplicates(p) {
        // ordered by the key, a NULL or a key equal to the one before (by the type's equality,
        // which text may not show: 1.0 and 1.00) says it is not unique, at no extra cost
        format!(
            "SELECT {pk}::text, ({pk} IS NULL OR {pk} = pg_catalog.lag({pk}) OVER ({order})) IS TRUE
             FROM {} AS t{}{}",
            p.relation,
            conditions(p, "WHERE"),
            p.order_by,
            pk = p.pk,
            order = p.order_by.trim_start(),
        )
    } else {
        format!(
            "SELECT {}::text FROM {} AS t{}{}",
            p.pk,
            p.relation,
            conditions(p, "WHERE"),
            p.order_by
        )
    };
    let mut unique = true;
    let rows = source::run_all(&plan.plain(&sql, condition_params(plan)), |row| {
        if !unique {
            return Ok(()); // the rest is not kept: the snapshot is made again, ranked
        }
        let key = match row.first() {
            Some(Value::Text(k)) => Some(*k),
            _ => None,
        };
        let rank = match row.get(1) {
            Some(Value::Int(r)) => *r as u64,
            Some(Value::Bool(true)) => {
                unique = false;
                return Ok(());
            }
            _ => 0,
        };
        w.push(key, rank)
    })?;
    Ok(if unique {
        Written::Rows(rows)
    } else {
        Written::NotUnique
    })
}

/// Opens a page's rows from its keys, the rows as they are now: a row deleted since, or that
/// the view no longer shows, is left out.
///
/// A unique key is the row: its page is `pk = ANY(keys)` in the query's order, the same text
/// for every page of the query, planned once per session (a generic plan: an index lookup on
/// the view's base table). A row changed since so that it no longer matches the filters is
/// still served: it is one of the snapshot's rows.
///
/// Ranked keys rank each row among the rows of its key that match the query's conditions, as
/// when the snapshot was made, so the conditions apply again; planned for each page.
pub fn open_page(plan: &Plan, entries: Vec<Entry>, ranked: bool) -> GnResult<Cursor> {
    let p = &plan.paging;
    let (keys, ranks): (Vec<Option<String>>, Vec<i64>) =
        entries.into_iter().map(|e| (e.key, e.rank as i64)).unzip();
    if !ranked {
        let sql = format!(
            "SELECT {} FROM {} AS t WHERE {} = ANY(CAST($1 AS {}[])){}",
            p.select_list, p.relation, p.pk, p.pk_type, p.order_by
        );
        return Cursor::open_prepared(&plan.other(&sql, &[Param::TextArray(keys)]));
    }
    let mut params = condition_params(plan).to_vec();
    let n = params.len();
    let with_null = keys.iter().any(Option::is_none);
    params.push(Param::TextArray(keys));
    params.push(Param::IntArray(ranks));
    let sql = format!(
        "SELECT {list} FROM (SELECT t.*, {rank} AS \"gn_export.rank\" FROM {rel} AS t
             WHERE ({pk} = ANY(CAST(${k} AS {ty}[])){null}){cond}) AS t
         JOIN unnest(CAST(${k} AS text[]), CAST(${r} AS int8[])) WITH ORDINALITY AS \"gn_export.k\"(key, rank, ord)
           ON {pk} IS NOT DISTINCT FROM CAST(\"gn_export.k\".key AS {ty}) AND t.\"gn_export.rank\" = \"gn_export.k\".rank
         ORDER BY \"gn_export.k\".ord",
        list = p.select_list,
        rank = rank_window(p),
        rel = p.relation,
        pk = p.pk,
        k = n + 1,
        r = n + 2,
        ty = p.pk_type,
        null = if with_null {
            format!(" OR {} IS NULL", p.pk)
        } else {
            String::new()
        },
        cond = conditions(p, "AND"),
    );
    Cursor::open(&plan.other(&sql, &params))
}
