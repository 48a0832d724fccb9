//! `gn_export.run()`: the export as a stream of text chunks, one SRF call at a time.
//! The cursor is fetched a batch at a time, so memory is bounded and the first bytes leave
//! before the last rows are read.

use super::{encode_error, encoder, parse_format};
use crate::access;
use crate::encode::Encoder;
use crate::error::{GnResult, OrRaise};
use crate::jsonb::Jsonb;
use crate::query;
use crate::source::Cursor;
use pgrx::prelude::*;
use std::collections::VecDeque;

struct Stream {
    name: String,
    cursor: Option<Cursor>,
    encoder: Box<dyn Encoder>,
    queue: VecDeque<String>,
    finished: bool,
}

fn chunk(buf: &mut Vec<u8>) -> Option<String> {
    if buf.is_empty() {
        return None;
    }
    let bytes = std::mem::take(buf);
    // encoders only write UTF-8 taken from &str and ASCII of their own
    Some(
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

impl Stream {
    fn refill(&mut self) -> GnResult<()> {
        let mut buf = Vec::new();
        match self.cursor.as_mut() {
            Some(cursor) if !cursor.is_done() => {
                let (encoder, queue, name) = (&mut self.encoder, &mut self.queue, &self.name);
                cursor.next_batch(|row| {
                    encoder
                        .row(row, &mut buf)
                        .map_err(|e| encode_error(name, e))?;
                    queue.extend(chunk(&mut buf));
                    Ok(())
                })?;
            }
            _ => {
                if let Some(c) = self.cursor.take() {
                    c.close();
                }
                self.encoder.footer(&mut buf);
                self.queue.extend(chunk(&mut buf));
                self.finished = true;
            }
        }
        Ok(())
    }
}

impl Iterator for Stream {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            if let Some(c) = self.queue.pop_front() {
                return Some(c);
            }
            if self.finished {
                return None;
            }
            self.refill().or_raise();
        }
    }
}

/// What run() streams: the export's name, its query and its encoder, access checked.
pub fn prepare(
    id_export: i32,
    format: Option<&str>,
    id_role: Option<i32>,
    token: Option<&str>,
    filters: Option<&serde_json::Value>,
) -> GnResult<(String, crate::query::Plan, Box<dyn Encoder>)> {
    let format = parse_format(format)?;
    let export = access::require_read(id_export, id_role, token)?;
    let plan = query::plan(&export, format, filters)?;
    let encoder = encoder(format, &plan)?;
    Ok((export.name(), plan, encoder))
}

fn start(
    id_export: i32,
    format: Option<&str>,
    id_role: Option<i32>,
    token: Option<&str>,
    filters: Option<&serde_json::Value>,
) -> GnResult<Stream> {
    let (name, plan, mut encoder) = prepare(id_export, format, id_role, token, filters)?;
    let cursor = Cursor::open(&plan, &plan.sql, &plan.params)?;
    let mut buf = Vec::new();
    encoder.header(&mut buf);
    Ok(Stream {
        name,
        cursor: Some(cursor),
        encoder,
        queue: chunk(&mut buf).into_iter().collect(),
        finished: false,
    })
}

/// Runs an export and returns its bytes as text chunks: the header, then one chunk per record
/// or feature (with its own separator and line end), then the footer. Concatenated, they are
/// exactly the file `generate()` writes. Streams in constant memory:
/// `COPY (SELECT gn_export.run(1, 'geojson')) TO STDOUT WITH (FORMAT raw)` writes the file.
/// Access is checked as can_read() does; `filters` is a JSON object in GeoNature's filter
/// language, plus `orderby`, `limit` and `offset` (rows). The export's query runs as its
/// definer (README, Security); the caller must be able to SELECT the export's view. Errors:
/// P0002 unknown export, 22023 bad format or filters, 42501 access refused, 42703 unknown column.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn run(
    id_export: i32,
    format: default!(Option<&str>, "'csv'"),
    id_role: default!(Option<i32>, "NULL"),
    token: default!(Option<&str>, "NULL"),
    filters: default!(Option<Jsonb>, "NULL"),
) -> SetOfIterator<'static, String> {
    let filters = filters
        .map(|f| f.parse(&format!("export {id_export}: filters")))
        .transpose()
        .or_raise();
    let stream = start(id_export, format, id_role, token, filters.as_ref()).or_raise();
    SetOfIterator::new(stream)
}
