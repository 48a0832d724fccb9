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
const TRANSACTION_ROWS: usize = 50_000;

/// Envelopes held before they go into the R-tree, in Z-order: consecutive inserts then land
/// in neighbouring nodes that SQLite still has at hand (2.5 MB, whatever the row count).
const RTREE_RUN: usize = 65_536;

pub(super) fn run(
    db: Connection,
    insert: &str,
    insert_rtree: &str,
    rx: Inbox<Message>,
) -> GnResult<()> {
    db.execute_batch("BEGIN")
        .map_err(|e| sqlite_error("begin", e))?;
    let mut extent: Option<[f64; 4]> = None;
    {
        let prepare = |sql: &str| db.prepare(sql).map_err(|e| sqlite_error("prepare", e));
        let mut insert = prepare(insert)?;
        let mut insert_rtree = prepare(insert_rtree)?;
        let mut rows = 0;
        let mut pending: Vec<(u64, i64, [f64; 4])> = Vec::with_capacity(RTREE_RUN);
        for message in rx {
            let layer = match message {
                Message::Rows(batch) => {
                    for r in 0..batch.rows() {
                        let fid = insert_row(&db, &mut insert, &batch, r)
                            .map_err(|e| sqlite_error("insert", e))?;
                        if let Some(e) = batch.envelopes[r] {
                            pending.push((z_order(e), fid, e));
                            if pending.len() == RTREE_RUN {
                                index_run(&mut insert_rtree, &mut pending)?;
                            }
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
                        rows += 1;
                        if rows % TRANSACTION_ROWS == 0 {
                            db.execute_batch("COMMIT; BEGIN")
                                .map_err(|e| sqlite_error("commit", e))?;
                        }
                    }
                    continue;
                }
                Message::Finish(layer) => layer,
            };
            index_run(&mut insert_rtree, &mut pending)?;
            drop((insert, insert_rtree));
            return register(db, &layer, extent);
        }
    }
    // the backend dropped its side without finishing: the file is abandoned
    Ok(())
}

/// Binds and inserts one row of the batch; returns its fid.
fn insert_row(
    db: &Connection,
    s: &mut Statement,
    batch: &Batch,
    row: usize,
) -> rusqlite::Result<i64> {
    let n = batch.cells.len() / batch.rows();
    for (k, &c) in batch.cells[row * n..(row + 1) * n].iter().enumerate() {
        s.raw_bind_parameter(k + 1, ToSqlOutput::Borrowed(batch.value(c)))?;
    }
    s.raw_execute()?;
    Ok(db.last_insert_rowid())
}

/// Inserts the held envelopes into the R-tree in Z-order.
fn index_run(s: &mut Statement, pending: &mut Vec<(u64, i64, [f64; 4])>) -> GnResult<()> {
    pending.sort_unstable_by_key(|p| p.0);
    for &(_, fid, e) in pending.iter() {
        index(s, fid, e).map_err(|e| sqlite_error("R-tree insert", e))?;
    }
    pending.clear();
    Ok(())
}

/// The Z-order (Morton) key of an envelope's centre: its coordinates as order-preserving
/// 32-bit integers (the bits of an f32, sign folded), interleaved. No extent is needed.
fn z_order(e: [f64; 4]) -> u64 {
    fn ordered(v: f64) -> u32 {
        let b = (v as f32).to_bits();
        if b & 0x8000_0000 != 0 {
            !b
        } else {
            b | 0x8000_0000
        }
    }
    fn spread(v: u32) -> u64 {
        let mut x = u64::from(v);
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x << 2)) & 0x3333_3333_3333_3333;
        (x | (x << 1)) & 0x5555_5555_5555_5555
    }
    let (x, y) = ((e[0] + e[1]) / 2.0, (e[2] + e[3]) / 2.0);
    spread(ordered(x)) | (spread(ordered(y)) << 1)
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

#[cfg(test)]
mod tests {
    use super::z_order;

    #[test]
    fn unit_z_order_keeps_neighbours_together() {
        let at = |x: f64, y: f64| z_order([x, x, y, y]);
        // order within each axis is kept, negatives before positives
        assert!(at(-1.0, 0.0) < at(1.0, 0.0));
        assert!(at(0.0, -1.0) < at(0.0, 1.0));
        assert!(at(700_000.0, 6_600_000.0) < at(700_001.0, 6_600_000.0));
        // a close point is nearer in the key than a far one
        let here = at(6.0, 45.0);
        assert!(here.abs_diff(at(6.001, 45.001)) < here.abs_diff(at(-120.0, 45.0)));
    }
}
