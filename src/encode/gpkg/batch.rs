//! Rows on their way to the SQLite thread: owned values in table order, their text and blobs
//! in one buffer per batch (no allocation per value), and each row's envelope for the R-tree.

use super::binary::gpkg_value;
use crate::encode::Value;
use rusqlite::types::ValueRef;

/// Rows per batch (about a megabyte of the demo's rows), unless their bytes reach
/// BATCH_BYTES first: a few batches in flight bound the memory whatever the rows hold.
pub const BATCH_ROWS: usize = 1024;
pub const BATCH_BYTES: usize = 8 << 20;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    /// a range of the batch's buffer
    Text(usize, usize),
    Blob(usize, usize),
}

#[derive(Default)]
pub struct Batch {
    pub cells: Vec<Cell>,
    pub buffer: Vec<u8>,
    /// per row: the geometry's [min x, max x, min y, max y], None for NULL or empty
    pub envelopes: Vec<Option<[f64; 4]>>,
}

impl Batch {
    pub fn rows(&self) -> usize {
        self.envelopes.len()
    }

    /// Whether the batch should leave now.
    pub fn full(&self) -> bool {
        self.rows() >= BATCH_ROWS || self.buffer.len() >= BATCH_BYTES
    }

    fn range(&mut self, bytes: &[u8]) -> (usize, usize) {
        let start = self.buffer.len();
        self.buffer.extend_from_slice(bytes);
        (start, self.buffer.len())
    }

    /// Adds a value of the row (`scratch` renders dates and other text).
    pub fn push(&mut self, v: &Value, scratch: &mut Vec<u8>) {
        let cell = match gpkg_value(v, scratch) {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Integer(i),
            ValueRef::Real(f) => Cell::Real(f),
            ValueRef::Text(t) => {
                let (a, b) = self.range(t);
                Cell::Text(a, b)
            }
            ValueRef::Blob(b) => {
                let (a, b) = self.range(b);
                Cell::Blob(a, b)
            }
        };
        self.cells.push(cell);
    }

    pub fn push_blob(&mut self, bytes: &[u8]) {
        let (a, b) = self.range(bytes);
        self.cells.push(Cell::Blob(a, b));
    }

    pub fn push_null(&mut self) {
        self.cells.push(Cell::Null);
    }

    /// The SQLite value of a cell.
    pub fn value(&self, c: Cell) -> ValueRef<'_> {
        match c {
            Cell::Null => ValueRef::Null,
            Cell::Integer(i) => ValueRef::Integer(i),
            Cell::Real(f) => ValueRef::Real(f),
            Cell::Text(a, b) => ValueRef::Text(&self.buffer[a..b]),
            Cell::Blob(a, b) => ValueRef::Blob(&self.buffer[a..b]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_cells_borrow_one_buffer() {
        let mut b = Batch::default();
        let mut scratch = Vec::new();
        b.push(&Value::Text("é"), &mut scratch);
        b.push(&Value::Date(0), &mut scratch);
        b.push(&Value::Float8(f64::NAN), &mut scratch);
        b.push_blob(b"GP");
        b.envelopes.push(None);
        let v: Vec<ValueRef> = b.cells.iter().map(|&c| b.value(c)).collect();
        assert_eq!(
            v,
            [
                ValueRef::Text("é".as_bytes()),
                ValueRef::Text(b"2000-01-01"),
                ValueRef::Null,
                ValueRef::Blob(b"GP")
            ]
        );
        assert_eq!(b.rows(), 1);
    }
}
