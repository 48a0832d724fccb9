//! The SQLite thread: inserts the batches it is sent into the feature table and its R-tree,
//! keeps the layer's extent, and registers the layer once told the rows are all in. It calls
//! nothing of PostgreSQL (see `sink::worker`).

use super::batch::Batch;
use super::{schema, sqlite_error, Layer, Message};
use crate::error::GnResult;
use crate::sink::worker::Inbox;
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, Statement};

/// Rows per SQLite transaction.
const TRANSACTION_ROWS: i64 = 50_000;

pub(super) fn run(
    db: Connection,
    insert: &schema::Insert,
    insert_rtree: &str,
    rx: Inbox<Message>,
) -> GnResult<()> {
    db.execute_batch("BEGIN")
        .map_err(|e| sqlite_error("begin", e))?;
    let mut extent: Option<[f64; 4]> = None;
    {
        let prepare = |sql: &str| db.prepare(sql).map_err(|e| sqlite_error("prepare", e));
        // rows per INSERT: SQLite's statement overhead (and AUTOINCREMENT's sqlite_sequence
        // update) once per many rows, within its 32766 parameters
        let many = (30_000 / insert.width).clamp(1, 64);
        let mut insert_many = prepare(&insert.sql(many))?;
        let mut insert_one = prepare(&insert.sql(1))?;
        let mut insert_rtree = prepare(insert_rtree)?;
        let mut fid = 0i64;
        for message in rx {
            let layer = match message {
                Message::Rows(batch) => {
                    let mut r = 0;
                    while r < batch.rows() {
                        let n = if batch.rows() - r >= many { many } else { 1 };
                        let s = if n == many {
                            &mut insert_many
                        } else {
                            &mut insert_one
                        };
                        insert_rows(s, &batch, r..r + n, fid + 1)
                            .map_err(|e| sqlite_error("insert", e))?;
                        for row in r..r + n {
                            fid += 1;
                            if let Some(e) = batch.envelopes[row] {
                                index(&mut insert_rtree, fid, e)
                                    .map_err(|e| sqlite_error("R-tree insert", e))?;
                                extent = Some(match extent {
                                    None => e,
                                    Some(x) => [
                                        x[0].min(e[0]),
                                        x[1].max(e[1]),
                                        x[2].min(e[2]),
                                        x[3].max(e[3]),
                                    ],
                                });
                            }
                            if fid % TRANSACTION_ROWS == 0 {
                                db.execute_batch("COMMIT; BEGIN")
                                    .map_err(|e| sqlite_error("commit", e))?;
                            }
                        }
                        r += n;
                    }
                    continue;
                }
                Message::Finish(layer) => layer,
            };
            drop((insert_many, insert_one, insert_rtree));
            return register(db, &layer, extent);
        }
    }
    // the backend dropped its side without finishing: the file is abandoned
    Ok(())
}

/// Binds and inserts rows of the batch, numbered from `first_fid`.
fn insert_rows(
    s: &mut Statement,
    batch: &Batch,
    rows: std::ops::Range<usize>,
    first_fid: i64,
) -> rusqlite::Result<()> {
    let n = batch.cells.len() / batch.rows();
    let mut p = 1;
    for (k, row) in rows.enumerate() {
        s.raw_bind_parameter(p, first_fid + k as i64)?;
        p += 1;
        for &c in &batch.cells[row * n..(row + 1) * n] {
            s.raw_bind_parameter(p, ToSqlOutput::Borrowed(batch.value(c)))?;
            p += 1;
        }
    }
    s.raw_execute()?;
    Ok(())
}

fn index(s: &mut Statement, fid: i64, e: [f64; 4]) -> rusqlite::Result<()> {
    s.raw_bind_parameter(1, fid)?;
    for (k, v) in e.into_iter().enumerate() {
        s.raw_bind_parameter(k + 2, v)?;
    }
    s.raw_execute()?;
    Ok(())
}

fn register(db: Connection, l: &Layer, extent: Option<[f64; 4]>) -> GnResult<()> {
    db.execute_batch("COMMIT")
        .map_err(|e| sqlite_error("commit", e))?;
    schema::register_layer(
        &db,
        &schema::LayerInfo {
            layer: &l.layer,
            identifier: &l.identifier,
            description: &l.description,
            geom_name: &l.geom_name,
            geom_type: &l.geom_type,
            z: l.z,
            srid: l.srid,
            extent: extent.unwrap_or([0.0; 4]),
        },
    )?;
    db.close().map_err(|(_, e)| sqlite_error("close", e))
}
