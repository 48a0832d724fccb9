//! Compression between an encoder and its sink: the pump hands blocks to a [`Packer`], which
//! passes them on as they are or gzip-compressed (flate2 over zlib-rs). Memory stays at one
//! block: the compressor's output is drained to the inner sink after every write.

use super::ByteSink;
use crate::error::{GnError, GnResult};
use crate::settings;
use flate2::write::GzEncoder;
use pgrx::PgSqlErrorCode as Code;
use std::io::Write;

/// How a file's bytes are packed after encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    /// RFC 1952 gzip: named by the format's name and extension with `.gz` appended
    Gzip,
}

pub struct Packer<S: ByteSink> {
    gzip: Option<GzEncoder<Vec<u8>>>,
    inner: S,
    /// blocks handed to `inner`
    writes: u64,
}

impl<S: ByteSink> Packer<S> {
    /// Packs into `inner` with this compression, at the level of `gn_export.gzip_level`.
    pub fn new(compression: Compression, inner: S) -> Packer<S> {
        Packer::at_level(compression, settings::gzip_level(), inner)
    }

    /// `level`: 1 (fastest) to 9 (smallest).
    pub fn at_level(compression: Compression, level: u32, inner: S) -> Packer<S> {
        let gzip = match compression {
            Compression::None => None,
            Compression::Gzip => Some(GzEncoder::new(
                Vec::with_capacity(super::FLUSH_AT),
                flate2::Compression::new(level),
            )),
        };
        Packer {
            gzip,
            inner,
            writes: 0,
        }
    }

    /// Ends the compressed stream (gzip's trailer: CRC-32 and length) and returns the sink.
    pub fn finish(self) -> GnResult<S> {
        self.finish_counted().map(|(inner, _)| inner)
    }

    /// As finish, with the number of blocks `inner` received in all.
    pub fn finish_counted(mut self) -> GnResult<(S, u64)> {
        if let Some(gz) = self.gzip.take() {
            let rest = gz.finish().map_err(gzip_error)?;
            self.pass(&rest)?;
        }
        Ok((self.inner, self.writes))
    }

    fn pass(&mut self, bytes: &[u8]) -> GnResult<()> {
        self.writes += 1;
        self.inner.write(bytes)
    }

    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: ByteSink> ByteSink for Packer<S> {
    fn per_piece(&self) -> bool {
        // compressed bytes have no pieces: they leave in blocks
        self.gzip.is_none() && self.inner.per_piece()
    }

    fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
        let Some(gz) = self.gzip.as_mut() else {
            return self.pass(bytes);
        };
        gz.write_all(bytes).map_err(gzip_error)?;
        // deflate keeps what it has not yet emitted; what it has is drained at once
        let out = gz.get_mut();
        if !out.is_empty() {
            self.writes += 1;
            self.inner.write(out)?;
            out.clear();
        }
        Ok(())
    }
}

/// Writing into a Vec cannot fail; a compressor error is a bug worth its own message.
fn gzip_error(e: std::io::Error) -> GnError {
    GnError::new(Code::ERRCODE_INTERNAL_ERROR, format!("gzip: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn pack(compression: Compression, level: u32, blocks: &[&[u8]]) -> Vec<u8> {
        let mut p = Packer::at_level(compression, level, Vec::new());
        for b in blocks {
            p.write(b).unwrap();
        }
        p.finish().unwrap()
    }

    #[test]
    fn unit_plain_bytes_pass_through() {
        assert_eq!(
            pack(Compression::None, 1, &[b"a,b\n", b"1,2\n"]),
            b"a,b\n1,2\n"
        );
    }

    #[test]
    fn unit_gzip_is_one_member_that_gunzips_to_the_input() {
        let text: Vec<u8> = (0..200_000)
            .flat_map(|i| format!("{i};Vulpes vulpes;2024-05-01\n").into_bytes())
            .collect();
        for level in [1, 6, 9] {
            let blocks: Vec<&[u8]> = text.chunks(65_536).collect();
            let gz = pack(Compression::Gzip, level, &blocks);
            assert_eq!(&gz[..3], &[0x1f, 0x8b, 8]);
            assert!(gz.len() < text.len() / 3);
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, text);
        }
        // an empty export is still a valid gzip file
        let gz = pack(Compression::Gzip, 1, &[]);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(back.is_empty());
    }

    /// The sink receives compressed blocks as they are made, never the whole file at the end.
    #[test]
    fn unit_gzip_output_leaves_while_rows_flow() {
        #[derive(Default)]
        struct Count(usize, usize);
        impl ByteSink for Count {
            fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
                self.0 += 1;
                self.1 = self.1.max(bytes.len());
                Ok(())
            }
        }
        let mut p = Packer::at_level(Compression::Gzip, 1, Count::default());
        let mut seed = 1u64;
        for _ in 0..400 {
            // incompressible blocks: output must leave at the rate it is made
            let block: Vec<u8> = (0..65_536)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 56) as u8
                })
                .collect();
            p.write(&block).unwrap();
        }
        let c = p.finish().unwrap();
        assert!(c.0 > 300, "{} writes", c.0);
        assert!(c.1 < 1 << 20, "largest block {}", c.1);
    }
}
