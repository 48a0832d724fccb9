//! Turtle's lexical rules and Darwin Core's vocabularies, as the Darwin-SW encoder needs them.

/// A Turtle string literal (`"…"` with `\`, `"`, CR and LF escaped).
pub fn string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b => out.push(b),
        }
    }
    out.push(b'"');
}

/// A canonical UUID (36 characters of hex digits and dashes), lower case.
pub fn uuid_text(t: &[u8]) -> Option<String> {
    let ok = t.len() == 36
        && t.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    ok.then(|| String::from_utf8_lossy(t).to_ascii_lowercase())
}

/// Whether the text is an `xsd:dateTime`: `YYYY-MM-DDTHH:MM:SS[.s+][Z|±HH:MM]` (a BC year or
/// an offset with seconds, which PostgreSQL may print, is not).
pub fn is_xsd_datetime(t: &[u8]) -> bool {
    let shape = |s: &[u8], pattern: &[u8]| {
        s.len() == pattern.len()
            && s.iter().zip(pattern).all(|(c, p)| match p {
                b'd' => c.is_ascii_digit(),
                p => c == p,
            })
    };
    if t.len() < 19 || !shape(&t[..19], b"dddd-dd-ddTdd:dd:dd") {
        return false;
    }
    let mut rest = &t[19..];
    if let Some(f) = rest.strip_prefix(b".") {
        let n = f.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &f[n..];
    }
    rest.is_empty()
        || rest == b"Z"
        || (rest.len() == 6 && matches!(rest[0], b'+' | b'-') && shape(&rest[1..], b"dd:dd"))
}

/// Darwin Core's basisOfRecord from GeoNature's source status label.
pub fn basis_of_record(source: &str) -> &'static str {
    let s = source.to_lowercase();
    if s.contains("terrain") {
        "HumanObservation"
    } else if s.contains("collection") {
        "PreservedSpecimen"
    } else if s.contains("littérature") || s.contains("litterature") {
        "MaterialCitation"
    } else {
        "Occurrence"
    }
}

/// Darwin Core's occurrenceStatus vocabulary from GeoNature's observation status label.
pub fn occurrence_status(status: &str) -> String {
    let s = status.to_lowercase();
    if s.starts_with("présent") || s.starts_with("present") {
        "present".into()
    } else if s.starts_with("non observ") || s.starts_with("absent") {
        "absent".into()
    } else {
        status.to_string()
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn xsd_datetimes() {
        for ok in [
            "2024-03-01T10:20:30",
            "2024-03-01T10:20:30.123456",
            "2024-03-01T10:20:30+01:00",
            "2024-03-01T10:20:30.5-03:30",
            "2024-03-01T10:20:30Z",
        ] {
            assert!(is_xsd_datetime(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "2024-03-01",
            "0044-03-15T12:00:00 BC",
            "0044-03-15T12:00:00 BC+01:00",
            "1850-01-01T00:00:00+00:09:21",
            "infinity",
            "2024-03-01T10:20:30.",
        ] {
            assert!(!is_xsd_datetime(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn uuids_and_vocabularies() {
        assert_eq!(
            uuid_text(b"6336C04C-DB82-5505-ECB4-53C88D17C532").as_deref(),
            Some("6336c04c-db82-5505-ecb4-53c88d17c532")
        );
        assert_eq!(uuid_text(b"6336c04c-db82-5505-ecb4-53c88d17c53>"), None);
        assert_eq!(uuid_text(b"x"), None);
        assert_eq!(basis_of_record("Terrain"), "HumanObservation");
        assert_eq!(basis_of_record("Littérature"), "MaterialCitation");
        assert_eq!(basis_of_record("Inconnu"), "Occurrence");
        assert_eq!(occurrence_status("Présent"), "present");
        assert_eq!(occurrence_status("Non observé"), "absent");
        assert_eq!(occurrence_status("Ne sait pas"), "Ne sait pas");
    }
}
