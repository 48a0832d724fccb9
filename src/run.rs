//! `gn_export.run()`: the export as a stream of text chunks, one SRF call at a time.
//! The cursor is fetched a batch at a time, so memory is bounded and the first bytes leave
//! before the last rows are read.

use crate::access;
use crate::encode::format::{Compression, FileFormat};
use crate::encode::pump::Pump;
use crate::encode::Encoder;
use crate::error::{GnError, GnResult, OrRaise};
use crate::jsonb::Jsonb;
use crate::query::{self, Plan};
use crate::sink::compress::Packer;
use crate::sink::ByteSink;
use crate::source::Cursor;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use std::collections::VecDeque;

/// What an SRF pops its values from: the pump's sink.
pub trait Queue: ByteSink + Default {
    type Chunk;
    fn pop(&mut self) -> Option<Self::Chunk>;
}

/// run()'s queue: one text chunk per piece (header, record, footer).
#[derive(Default)]
pub struct Chunks(VecDeque<String>);

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

impl Queue for Chunks {
    type Chunk = String;
    fn pop(&mut self) -> Option<String> {
        self.0.pop_front()
    }
}

/// run_bytes()'s queue: blocks of bytes, compressed or not.
#[derive(Default)]
pub struct Blocks(VecDeque<Vec<u8>>);

impl ByteSink for Blocks {
    fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
        self.0.push_back(bytes.to_vec());
        Ok(())
    }
}

impl Queue for Blocks {
    type Chunk = Vec<u8>;
    fn pop(&mut self) -> Option<Vec<u8>> {
        self.0.pop_front()
    }
}

pub struct Stream<Q: Queue> {
    cursor: Option<Cursor>,
    pump: Option<Pump<Packer<Q>>>,
    /// what is left once the pump has finished
    tail: Q,
}

impl<Q: Queue> Stream<Q> {
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
                let (packed, _) = self.pump.take().expect("pump checked above").finish()?;
                self.tail = packed.finish()?;
            }
        }
        Ok(())
    }

    fn pop(&mut self) -> Option<Q::Chunk> {
        match self.pump.as_mut() {
            Some(p) => p.sink_mut().inner_mut().pop(),
            None => self.tail.pop(),
        }
    }
}

impl<Q: Queue> Iterator for Stream<Q> {
    type Item = Q::Chunk;

    fn next(&mut self) -> Option<Q::Chunk> {
        loop {
            if let Some(c) = self.pop() {
                return Some(c);
            }
            self.pump.as_ref()?;
            self.refill().or_raise();
        }
    }
}

/// What run() and run_bytes() stream: the export's name, its query, its encoder and how the
/// bytes are packed, access checked. `bytes`: the caller takes bytea, so `.gz` formats are
/// allowed.
pub fn prepare(
    id_export: i32,
    format: Option<&str>,
    id_role: Option<i32>,
    token: Option<&str>,
    filters: Option<&serde_json::Value>,
    bytes: bool,
) -> GnResult<Prepared> {
    let format = stream_format(format.unwrap_or("csv"), bytes)?;
    let export = access::require_read(crate::catalog::export::load(id_export)?, id_role, token)?;
    let plan = query::plan(
        &export,
        crate::catalog::relation(&export)?,
        format.format,
        filters,
    )?;
    let encoder = format.format.encoder(&plan.layout)?;
    Ok(Prepared {
        name: export.name(),
        plan,
        encoder,
        compression: format.compression,
    })
}

pub struct Prepared {
    pub name: String,
    pub plan: Plan,
    pub encoder: Box<dyn Encoder>,
    pub compression: Compression,
}

/// A format that streams; compressed ones only as bytes (text cannot carry them).
fn stream_format(name: &str, bytes: bool) -> GnResult<FileFormat> {
    let format = FileFormat::parse_for(name, true)?;
    if !bytes && format.compression != Compression::None {
        return Err(GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{name} is compressed: its bytes are not text"),
        )
        .hint(format!(
            "Stream it as bytea with gn_export.run_bytes(id_export, '{}'), through COPY ... TO STDOUT (FORMAT raw).",
            format.name()
        )));
    }
    Ok(format)
}

/// A planned query's rows through an encoder, as a stream of queued values.
pub fn stream<Q: Queue>(p: Prepared) -> GnResult<Stream<Q>> {
    let cursor = Cursor::open(&p.plan.statement())?;
    let sink = Packer::new(p.compression, Q::default());
    Ok(Stream {
        cursor: Some(cursor),
        pump: Some(Pump::start(p.encoder, sink, p.name, None)?),
        tail: Q::default(),
    })
}

fn parse_filters(id_export: i32, filters: Option<Jsonb>) -> Option<serde_json::Value> {
    filters
        .map(|f| f.parse(&format!("export {id_export}: filters")))
        .transpose()
        .or_raise()
}

/// Runs an export and returns its bytes as text chunks: the header, then one chunk per record
/// or feature (with its own separator and line end), then the footer. Concatenated, they are
/// exactly the file `generate()` writes. Streams in constant memory:
/// `COPY (SELECT gn_export.run(1, 'geojson')) TO STDOUT WITH (FORMAT raw)` writes the file.
/// Formats: every byte-stream format of `gn_export.formats()` (csv, tsv, json, geojson,
/// geojsonseq). Access is checked as can_read() does; `filters` is a JSON object in
/// GeoNature's filter language, plus `orderby`, `limit` and `offset` (rows). The export's
/// query runs as its definer (docs/security.md); the caller must be able to SELECT the
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
    let filters = parse_filters(id_export, filters);
    let p = prepare(id_export, format, id_role, token, filters.as_ref(), false).or_raise();
    SetOfIterator::new(stream::<Chunks>(p).or_raise())
}

/// Runs an export and returns its bytes as bytea blocks of about 64 KiB, compressed for the
/// `.gz` formats (`csv.gz`, `geojson.gz`...: gzip at `gn_export.gzip_level`). Concatenated,
/// they are exactly the file `generate()` writes in that format:
/// `COPY (SELECT gn_export.run_bytes(1, 'csv.gz')) TO STDOUT WITH (FORMAT raw)` writes
/// `export.csv.gz` (psql: `psql -c "COPY ..." > export.csv.gz`). Arguments, access and errors
/// as run(); formats: those of run(), each also followed by `.gz`.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn run_bytes(
    id_export: i32,
    format: default!(Option<&str>, "'csv'"),
    id_role: default!(Option<i32>, "NULL"),
    token: default!(Option<&str>, "NULL"),
    filters: default!(Option<Jsonb>, "NULL"),
) -> SetOfIterator<'static, Vec<u8>> {
    let filters = parse_filters(id_export, filters);
    let p = prepare(id_export, format, id_role, token, filters.as_ref(), true).or_raise();
    SetOfIterator::new(stream::<Blocks>(p).or_raise())
}
