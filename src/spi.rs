//! Reads through SPI that leave the transaction read-only.
//!
//! pgrx's `Spi::get_one*`, `get_two*`, `get_three*` and `Spi::run*` run their statement as a
//! write: they first ask for the transaction's id, which assigns one. A hot standby refuses
//! that ("cannot assign TransactionIds during recovery"), and on a primary every export or API
//! page would spend a transaction id and write a commit record. Every statement of gn_export
//! that only reads goes through these; writes (the run history, notifications, tokens,
//! schedules' flags) keep pgrx's.

use pgrx::datum::{DatumWithOid, FromDatum, IntoDatum};
use pgrx::spi::{self, Spi};

/// The first column of the first row.
pub fn one<A: FromDatum + IntoDatum>(sql: &str, args: &[DatumWithOid]) -> spi::Result<Option<A>> {
    Spi::connect(|c| c.select(sql, Some(1), args)?.first().get_one::<A>())
}

/// The first two columns of the first row.
pub fn two<A: FromDatum + IntoDatum, B: FromDatum + IntoDatum>(
    sql: &str,
    args: &[DatumWithOid],
) -> spi::Result<(Option<A>, Option<B>)> {
    Spi::connect(|c| c.select(sql, Some(1), args)?.first().get_two::<A, B>())
}

/// The first three columns of the first row.
pub fn three<A: FromDatum + IntoDatum, B: FromDatum + IntoDatum, C: FromDatum + IntoDatum>(
    sql: &str,
    args: &[DatumWithOid],
) -> spi::Result<(Option<A>, Option<B>, Option<C>)> {
    Spi::connect(|c| c.select(sql, Some(1), args)?.first().get_three::<A, B, C>())
}

/// A query run for what it does (a lock, loading a library), its rows left.
pub fn run(sql: &str, args: &[DatumWithOid]) -> spi::Result<()> {
    Spi::connect(|c| c.select(sql, None, args).map(|_| ()))
}

/// A double-quoted SQL identifier (the one quoting helper: every name gn_export writes into
/// SQL text goes through it).
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
