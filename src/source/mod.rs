//! Rows in bounded batches: a cursor fetched a batch at a time, each batch in its own SPI
//! session so that its tuples and everything decoded from them are freed before the next one.
//! Memory stays flat however many rows the export has.

pub mod decode;

use crate::encode::Value;
use crate::error::GnResult;
use decode::Kind;
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Rows per fetch: big enough to amortise the SPI round trip, small enough to keep memory low.
pub const BATCH: i64 = 1000;

/// A bound parameter of a generated query.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    TextArray(Vec<String>),
}

impl Param {
    pub fn datum(&self) -> DatumWithOid<'static> {
        match self {
            Param::Text(s) => s.clone().into(),
            Param::Int(i) => (*i).into(),
            Param::TextArray(v) => v.clone().into(),
        }
    }
}

/// How to decode the columns: the (E)WKB feature geometry, if any, is bytea read as WKB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Decoding {
    pub wkb_column: Option<usize>,
}

/// A query opened as a cursor that outlives SPI sessions (its portal lives until the end of the
/// transaction or [`Cursor::close`]).
pub struct Cursor {
    name: String,
    decoding: Decoding,
    done: bool,
}

impl Cursor {
    pub fn open(sql: &str, params: &[Param], decoding: Decoding) -> GnResult<Cursor> {
        let args: Vec<DatumWithOid> = params.iter().map(Param::datum).collect();
        let name = Spi::connect(|client| -> GnResult<String> {
            let cursor = client.try_open_cursor(sql, &args)?;
            Ok(cursor.detach_into_name())
        })?;
        Ok(Cursor {
            name,
            decoding,
            done: false,
        })
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Fetches the next batch and hands each row to `f`; returns the number of rows.
    /// The decoded values only live during the call to `f`.
    pub fn next_batch(&mut self, mut f: impl FnMut(&[Value]) -> GnResult<()>) -> GnResult<usize> {
        if self.done {
            return Ok(0);
        }
        let decoding = self.decoding;
        let n = Spi::connect(|client| -> GnResult<usize> {
            let mut cursor = client.find_cursor(&self.name)?;
            let n = cursor.fetch(BATCH)?.len();
            if n > 0 {
                // SAFETY: SPI_tuptable is the table this fetch just produced in this SPI
                // session; it, its tuples and everything decoded from them live until the
                // session ends, after `f` has run for every row.
                unsafe { each_row(pg_sys::SPI_tuptable, decoding, &mut f)? };
            }
            let _ = cursor.detach_into_name();
            Ok(n)
        })?;
        if (n as i64) < BATCH {
            self.done = true;
        }
        pg_sys::check_for_interrupts!();
        Ok(n)
    }

    /// Closes the portal now rather than at the end of the transaction.
    pub fn close(self) {
        let _ = Spi::connect(|client| -> GnResult<()> {
            // dropping a found cursor closes it
            let _ = client.find_cursor(&self.name)?;
            Ok(())
        });
    }
}

/// # Safety
/// `tt` must be a valid SPI tuple table of the current SPI session.
unsafe fn each_row(
    tt: *mut pg_sys::SPITupleTable,
    decoding: Decoding,
    f: &mut impl FnMut(&[Value]) -> GnResult<()>,
) -> GnResult<()> {
    let desc = (*tt).tupdesc;
    let natts = (*desc).natts as usize;
    let attrs = std::slice::from_raw_parts((*desc).attrs.as_ptr(), natts);
    let kinds: Vec<Kind> = attrs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            if Some(i) == decoding.wkb_column {
                Kind::Wkb
            } else {
                Kind::for_type(a.atttypid)
            }
        })
        .collect();
    let mut datums = vec![pg_sys::Datum::from(0usize); natts];
    let mut nulls = vec![false; natts];
    let mut row: Vec<Value> = Vec::with_capacity(natts);
    let ntuples = (*tt).numvals as usize;
    for t in 0..ntuples {
        let tuple = *(*tt).vals.add(t);
        pg_sys::heap_deform_tuple(tuple, desc, datums.as_mut_ptr(), nulls.as_mut_ptr());
        row.clear();
        for i in 0..natts {
            row.push(kinds[i].decode(datums[i], nulls[i]));
        }
        f(&row)?;
    }
    Ok(())
}
