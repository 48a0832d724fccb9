//! Where the bytes go: a [`ByteSink`] (run()'s chunk queue, the COPY protocol and COPY's server
//! files, an API page in memory), through `compress` (plain or gzip); the temporary file that
//! generate() publishes (`dir`, `commit`, at the place `target` names and reserves). The row
//! pump that feeds them is the encoders' (`encode::pump`).

pub mod commit;
pub mod compress;
pub mod dir;
pub mod names;

use crate::error::GnResult;

/// Bytes gathered before they are handed to the sink: one CopyData message, one write(2).
pub const FLUSH_AT: usize = 64 * 1024;

/// Where encoded bytes go.
pub trait ByteSink {
    /// Whether every piece (the header, each row, the footer) must reach the sink on its own,
    /// as run() returns one chunk per record, rather than in FLUSH_AT blocks.
    fn per_piece(&self) -> bool {
        false
    }
    fn write(&mut self, bytes: &[u8]) -> GnResult<()>;
}

/// An API page, or anything else kept in memory.
impl ByteSink for Vec<u8> {
    fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}
