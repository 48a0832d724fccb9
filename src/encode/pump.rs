//! The row pump: every byte-stream output (run()'s chunks, COPY to the client or a file,
//! generate()'s temporary file, an API page) is an encoder feeding a [`ByteSink`] through this
//! one loop, with one flush size and one way of counting and reporting progress.

use super::{Encoder, Value};
use crate::error::{GnError, GnResult};
use crate::sink::{ByteSink, FLUSH_AT};
use pgrx::PgSqlErrorCode as Code;

/// Rows between two progress reports when no block is full yet.
const PROGRESS_ROWS: u64 = 256;

/// What went through a pump.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub rows: u64,
    pub bytes: u64,
    /// non-empty pieces: the header, each row, the footer (the rows of `SELECT run()`)
    pub pieces: u64,
}

pub struct Pump<S: ByteSink> {
    encoder: Box<dyn Encoder>,
    sink: S,
    out: Vec<u8>,
    /// how errors name what is being encoded: an export, or `COPY FORMAT x`
    name: String,
    stats: Stats,
    /// rows and bytes so far, to whoever reports them (`Progress::reporter`)
    progress: Option<Box<dyn Fn(i64, i64)>>,
}

impl<S: ByteSink> Pump<S> {
    /// Starts the output: the encoder's header goes first.
    pub fn start(
        encoder: Box<dyn Encoder>,
        sink: S,
        name: String,
        progress: Option<Box<dyn Fn(i64, i64)>>,
    ) -> GnResult<Pump<S>> {
        let mut p = Pump {
            encoder,
            sink,
            out: Vec::with_capacity(FLUSH_AT * 2),
            name,
            stats: Stats::default(),
            progress,
        };
        p.encoder.header(&mut p.out);
        p.piece()?;
        Ok(p)
    }

    pub fn row(&mut self, values: &[Value]) -> GnResult<()> {
        let before = self.out.len();
        self.encoder.row(values, &mut self.out).map_err(|e| {
            GnError::new(
                Code::ERRCODE_DATA_EXCEPTION,
                format!("{}: {}", self.name, e.0),
            )
        })?;
        self.stats.rows += 1;
        if self.out.len() > before {
            self.stats.pieces += 1;
        }
        if self.sink.per_piece() || self.out.len() >= FLUSH_AT {
            self.flush()?;
        } else if self.stats.rows.is_multiple_of(PROGRESS_ROWS) {
            // slow rows fill a block slowly: progress still moves
            self.report(self.out.len());
        }
        Ok(())
    }

    /// Rows so far and bytes so far (`pending` of them not yet handed to the sink).
    fn report(&self, pending: usize) {
        if let Some(p) = &self.progress {
            p(
                self.stats.rows as i64,
                (self.stats.bytes + pending as u64) as i64,
            );
        }
    }

    /// Writes the footer and whatever is left; returns the sink, to be closed or published.
    pub fn finish(mut self) -> GnResult<(S, Stats)> {
        self.encoder.footer(&mut self.out);
        self.piece()?;
        self.flush()?;
        Ok((self.sink, self.stats))
    }

    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Counts the header or footer just written, and hands it on alone if the sink wants that.
    fn piece(&mut self) -> GnResult<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        self.stats.pieces += 1;
        if self.sink.per_piece() {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> GnResult<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        self.sink.write(&self.out)?;
        self.stats.bytes += self.out.len() as u64;
        self.out.clear();
        self.report(0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{json::Json, Column};

    /// Records each write, as the run() chunk queue does.
    #[derive(Default)]
    struct Pieces(Vec<Vec<u8>>, bool);

    impl ByteSink for Pieces {
        fn per_piece(&self) -> bool {
            self.1
        }
        fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
            self.0.push(bytes.to_vec());
            Ok(())
        }
    }

    fn run(per_piece: bool, rows: i64) -> (Pieces, Stats) {
        let cols = vec![Column {
            name: "n".into(),
            geometry: false,
        }];
        let mut p = Pump::start(
            Box::new(Json::new(&cols)),
            Pieces(Vec::new(), per_piece),
            "test".into(),
            None,
        )
        .unwrap();
        for i in 0..rows {
            p.row(&[Value::Int(i)]).unwrap();
        }
        p.finish().unwrap()
    }

    #[test]
    fn pieces_one_by_one_or_in_blocks() {
        let (one, s1) = run(true, 3);
        assert_eq!(one.0.len(), 5); // header, 3 rows, footer
        assert_eq!(one.0[1], b"\n{\"n\":0}");
        let (blocks, s2) = run(false, 3);
        assert_eq!(blocks.0.len(), 1);
        assert_eq!(one.0.concat(), blocks.0.concat());
        assert_eq!(s1, s2);
        assert_eq!(s1.pieces, 5);
        assert_eq!(s1.rows, 3);
        assert_eq!(s1.bytes, blocks.0[0].len() as u64);
    }

    #[test]
    fn flushes_at_the_block_size() {
        let (blocks, s) = run(false, 20_000);
        assert!(blocks.0.len() > 2);
        assert!(blocks.0[..blocks.0.len() - 1]
            .iter()
            .all(|b| b.len() >= FLUSH_AT && b.len() < FLUSH_AT + 64));
        assert_eq!(s.bytes, blocks.0.iter().map(Vec::len).sum::<usize>() as u64);
    }
}
