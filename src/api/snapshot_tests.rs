use super::*;
use crate::sink::names::is_temp_file;

fn entries(keys: &[(Option<&str>, u64)], ranked: bool) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, r) in keys {
        encode_entry(*k, ranked.then_some(*r), &mut b);
    }
    b
}

#[test]
fn varints_round_trip() {
    for v in [
        0,
        1,
        127,
        128,
        300,
        16_383,
        16_384,
        u32::MAX as u64,
        u64::MAX,
    ] {
        let mut b = Vec::new();
        put_varint(v, &mut b);
        let mut at = 0;
        assert_eq!(get_varint(&b, &mut at), Some(v));
        assert_eq!(at, b.len());
    }
    // truncated, and too long for 64 bits
    assert_eq!(get_varint(&[0x80], &mut 0), None);
    assert_eq!(get_varint(&[0xff; 11], &mut 0), None);
}

#[test]
fn entries_keep_nulls_empty_keys_and_ranks() {
    let keys = [
        (Some("a"), 0),
        (None, 0),
        (Some(""), 0),
        (None, 1),
        (Some("é;\"x"), 2),
    ];
    let b = entries(&keys, true);
    let all = decode_entries(&b, true, 0, 5).unwrap();
    let want: Vec<Entry> = keys
        .iter()
        .map(|(k, r)| Entry {
            key: k.map(str::to_string),
            rank: *r,
        })
        .collect();
    assert_eq!(all, want);
    assert_eq!(decode_entries(&b, true, 3, 2).unwrap(), want[3..].to_vec());
    // unranked: no rank bytes, every rank 0
    let b = entries(&[(Some("x"), 7), (None, 9)], false);
    assert_eq!(
        decode_entries(&b, false, 1, 1).unwrap(),
        vec![Entry { key: None, rank: 0 }]
    );
    // asking for more than there is, or cut bytes, is no answer rather than a wrong one
    assert_eq!(decode_entries(&b, false, 0, 3), None);
    assert_eq!(
        decode_entries(&entries(&[(Some("abc"), 0)], false)[..2], false, 0, 1),
        None
    );
}

#[test]
fn footers_round_trip_and_refuse_what_is_not_ours() {
    let f = Footer {
        rows: 1000,
        total: 5000,
        created: -3,
        ranked: true,
        index_at: 4000,
        identity_at: 4000 + 4 * 8,
    };
    let size = f.identity_at + 10 + FOOTER;
    let b = f.encode();
    assert_eq!(Footer::decode(&b, size), Some(f));
    // index and identity must follow each other, within the file
    assert_eq!(Footer::decode(&b, f.identity_at + FOOTER - 1), None);
    let mut other = b;
    other[48] = b'X';
    assert_eq!(Footer::decode(&other, size), None);
    let wrong = Footer {
        identity_at: 4001,
        ..f
    };
    assert_eq!(Footer::decode(&wrong.encode(), size), None);
    let huge = Footer {
        rows: u64::MAX,
        ..f
    };
    assert_eq!(Footer::decode(&huge.encode(), size), None);
}

#[test]
fn names() {
    // the name of a query never changes between releases
    assert_eq!(pointer_name(b"a"), "af63dc4c8601ec8c.latest");
    assert!(is_snapshot_file("0123456789abcdef0123456789abcdef"));
    assert!(!is_snapshot_file("0123456789abcdef0123456789abcdef.tmp"));
    assert!(is_pointer_file("af63dc4c8601ec8c.latest"));
    assert!(!is_pointer_file("../af63dc4c8601ec8c.latest"));
    assert!(is_temp_file(".0123.abcd.tmp"));
    assert!(!is_temp_file("postgresql.conf"));
}
