//! 64-bit FNV-1a: a fast hash whose value never changes between releases, for names and
//! labels that must stay the same from run to run (a snapshot's pointer file, a Darwin-SW
//! blank node). Not for anything an attacker could aim collisions at.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_more(OFFSET, bytes)
}

/// Goes on hashing from `h` (a value of [`fnv1a`]): the hash of several pieces one after
/// the other, without putting them together first.
pub fn fnv1a_more(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn published_test_vector_and_pieces() {
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a_more(fnv1a(b"ab"), b"cd"), fnv1a(b"abcd"));
    }
}
