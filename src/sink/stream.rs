//! `gn_export.run()`: the export as a stream of text chunks, one SRF call at a time.
//! The cursor is fetched a batch at a time, so memory is bounded and the first bytes leave
//! before the last rows are read.

use super::pump::{ByteSink, Pump};
use crate::access;
use crate::encode::format::Output;
use crate::encode::{Encoder, Format};
use crate::error::{GnResult, OrRaise};
use crate::jsonb::Jsonb;
use crate::query::{self, Plan};
use crate::source::Cursor;
use pgrx::prelude::*;
use std::collections::VecDeque;

/// The SRF's queue: one chunk per piece (header, record, footer).
#[derive(Default)]
struct Chunks(VecDeque<String>);

impl ByteSink for Chunks {
    fn per_piece(&self) -> bool {
        true
    }

    fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
        // encoders only write UTF-8 taken from &str and ASCII of their own
        self.0.push_back(match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        });
        Ok(())
    }
}

pub struct Stream {
    cursor: Option<Cursor>,
    pump: Option<Pump<Chunks>>,
    /// what is left once the pump has finished
    tail: VecDeque<String>,
}

impl Stream {
    /// Fetches the next batch into the queue, or ends the output.
    fn refill(&mut self) -> GnResult<()> {
        let Some(pump) = self.pump.as_mut() else {
            return Ok(());
        };
        match self.cursor.as_mut() {
            Some(cursor) if !cursor.is_done() => {
                cursor.next_batch(|row| pump.row(row))?;
            }
            _ => {
                if let Some(c) = self.cursor.take() {
                    c.close();
                }
                let (chunks, _) = self.pump.take().expect("pump checked above").finish()?;
                self.tail = chunks.0;
            }
        }
        Ok(())
    }

    fn pop(&mut self) -> Option<String> {
        match self.pump.as_mut() {
            Some(p) => p.sink_mut().0.pop_front(),
            None => self.tail.pop_front(),
        }
    }
}

impl Iterator for Stream {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            if let Some(c) = self.pop() {
                return Some(c);
            }
            self.pump.as_ref()?;
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
) -> GnResult<(String, Plan, Box<dyn Encoder>)> {
    let format = Format::parse_for(format.unwrap_or("csv"), true)?;
    let export = access::require_read(id_export, id_role, token)?;
    let plan = query::plan(&export, format, filters)?;
    let Output::Text(make) = format.spec().output else {
        unreachable!("parse_for(_, true) keeps byte-stream formats only")
    };
    let encoder = make(&plan.layout)?;
    Ok((export.name(), plan, encoder))
}

fn start(
    id_export: i32,
    format: Option<&str>,
    id_role: Option<i32>,
    token: Option<&str>,
    filters: Option<&serde_json::Value>,
) -> GnResult<Stream> {
    let (name, plan, encoder) = prepare(id_export, format, id_role, token, filters)?;
    stream(name, &plan, encoder)
}

/// A planned query's rows through an encoder, as a stream of chunks (one per piece).
pub fn stream(name: String, plan: &Plan, encoder: Box<dyn Encoder>) -> GnResult<Stream> {
    let cursor = Cursor::open(plan, &plan.sql, &plan.params)?;
    Ok(Stream {
        cursor: Some(cursor),
        pump: Some(Pump::start(encoder, Chunks::default(), name, None)?),
        tail: VecDeque::new(),
    })
}

/// Runs an export and returns its bytes as text chunks: the header, then one chunk per record
/// or feature (with its own separator and line end), then the footer. Concatenated, they are
/// exactly the file `generate()` writes. Streams in constant memory:
/// `COPY (SELECT gn_export.run(1, 'geojson')) TO STDOUT WITH (FORMAT raw)` writes the file.
/// Formats: every byte-stream format of `gn_export.formats()` (csv, tsv, json, geojson,
/// geojsonseq). Access is checked as can_read() does; `filters` is a JSON object in
/// GeoNature's filter language, plus `orderby`, `limit` and `offset` (rows). The export's
/// query runs as its definer (README, Security); the caller must be able to SELECT the
/// export's view. Errors: P0002 unknown export, 22023 bad format or filters, 42501 access
/// refused, 42703 unknown column.
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
