//! The SQLite thread: inserts the batches it is sent into the feature table and its packed
//! R-tree ([`super::rtree`]), keeps the layer's extent, and registers the layer once told the
//! rows are all in. It calls nothing of PostgreSQL (see `encode::worker`).

use super::batch::Batch;
use super::rtree::{Cell, PackedRtree};
use super::{schema, sqlite_error, Layer, Message};
use crate::encode::worker::Inbox;
use crate::encode::ContentVersion;
use crate::error::{GnError, GnResult};
use pgrx::PgSqlErrorCode as Code;
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, Statement};
use std::os::unix::fs::FileExt;

/// Rows per SQLite transaction.
const TRANSACTION_ROWS: i64 = 50_000;

pub(super) fn run(
    db: Connection,
    insert: &str,
    rtree: &str,
    rx: Inbox<Message>,
) -> GnResult<Option<ContentVersion>> {
    db.execute_batch("BEGIN")
        .map_err(|e| sqlite_error("begin", e))?;
    let mut extent: Option<[f64; 4]> = None;
    {
        let prepare = |sql: &str| db.prepare(sql).map_err(|e| sqlite_error("prepare", e));
        let mut insert = prepare(insert)?;
        let mut tree = PackedRtree::new(&db, rtree)?;
        let mut rows = 0i64;
        for message in rx {
            let layer = match message {
                Message::Rows(batch) => {
                    for r in 0..batch.rows() {
                        let fid = insert_row(&db, &mut insert, &batch, r)
                            .map_err(|e| sqlite_error("insert", e))?;
                        if let Some(e) = batch.envelopes[r] {
                            tree.push(Cell::of_row(fid, e))?;
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
            drop(insert);
            tree.finish()?;
            return register(db, &layer, extent, rows);
        }
    }
    // the backend dropped its side without finishing: the file is abandoned
    Ok(None)
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

/// Registers the layer, then stamps it: with the previous version's time when the file is, but
/// for its stamp, the same as that version, else with the time now. Stamping rewrites 24
/// characters in place, so the same content and the same time give the same bytes.
fn register(
    db: Connection,
    l: &Layer,
    extent: Option<[f64; 4]>,
    features: i64,
) -> GnResult<Option<ContentVersion>> {
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
            features,
        },
    )?;
    let hash = match l.versioning {
        Some(_) => Some(content_hash(&l.file)?),
        None => None,
    };
    let kept = match (&l.versioning, &hash) {
        (Some(Some(previous)), Some(h)) if previous.hash == *h => Some(previous.since.as_str()),
        _ => None,
    };
    let since = schema::stamp(&db, &l.layer, kept)?;
    db.close().map_err(|(_, e)| sqlite_error("close", e))?;
    Ok(hash.map(|hash| ContentVersion { hash, since }))
}

/// XXH3-128 of the file's bytes, in hex: a version's identity, not a defence (whoever could
/// forge a collision could write the file itself).
fn content_hash(file: &std::fs::File) -> GnResult<String> {
    let mut h = twox_hash::XxHash3_128::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0u64;
    loop {
        let n = file.read_at(&mut buf, at).map_err(|e| {
            GnError::new(
                Code::ERRCODE_IO_ERROR,
                format!("gn_export: GeoPackage hash: {e}"),
            )
        })?;
        if n == 0 {
            break;
        }
        h.write(&buf[..n]);
        at += n as u64;
    }
    Ok(format!("{:032x}", h.finish_128()))
}
