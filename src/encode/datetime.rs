//! ISO 8601 rendering of PostgreSQL dates and times from their internal integers, independent
//! of the session's DateStyle: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.ffffff]`, offsets `±HH:MM`.

const USECS_PER_DAY: i64 = 86_400_000_000;
/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

/// Civil date from days since 1970-01-01 (H. Hinnant's algorithm, proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn pad(out: &mut Vec<u8>, v: i64, width: usize) {
    let mut b = itoa::Buffer::new();
    let s = b.format(v);
    for _ in s.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(s.as_bytes());
}

/// Writes the date part; years before 1 AD are written as PostgreSQL does, `YYYY-MM-DD BC`.
fn write_ymd(days_since_pg_epoch: i64, out: &mut Vec<u8>) -> bool {
    let (y, m, d) = civil_from_days(days_since_pg_epoch + PG_EPOCH_DAYS);
    let bc = y <= 0;
    pad(out, if bc { 1 - y } else { y }, 4);
    out.push(b'-');
    pad(out, m as i64, 2);
    out.push(b'-');
    pad(out, d as i64, 2);
    bc
}

/// The year of a day, for range checks.
fn year_of_day(days_since_pg_epoch: i64) -> i64 {
    civil_from_days(days_since_pg_epoch + PG_EPOCH_DAYS).0
}

/// A date as a GeoPackage DATE (`YYYY-MM-DD`, years 1 to 9999), or false when ISO 8601's four
/// digits cannot hold it (infinities, BC, years past 9999).
pub fn write_gpkg_date(d: i32, out: &mut Vec<u8>) -> bool {
    if d == i32::MIN || d == i32::MAX || !(1..=9999).contains(&year_of_day(d as i64)) {
        return false;
    }
    write_ymd(d as i64, out);
    true
}

/// A timestamp as a GeoPackage DATETIME, `YYYY-MM-DDTHH:MM:SS.SSS` (milliseconds, the
/// precision the format has; the microseconds are cut), with `Z` when `utc` (timestamptz,
/// given already in UTC), without it for a local timestamp: the two forms GDAL reads without a
/// warning. False when it cannot be written (infinities, BC, years past 9999).
pub fn write_gpkg_datetime(ts: i64, utc: bool, out: &mut Vec<u8>) -> bool {
    if is_infinite_timestamp(ts) {
        return false;
    }
    let days = ts.div_euclid(USECS_PER_DAY);
    let usecs = ts.rem_euclid(USECS_PER_DAY);
    if !(1..=9999).contains(&year_of_day(days)) {
        return false;
    }
    write_ymd(days, out);
    out.push(b'T');
    write_hms(usecs / 1_000_000, out);
    out.push(b'.');
    pad(out, usecs % 1_000_000 / 1000, 3);
    if utc {
        out.push(b'Z');
    }
    true
}

pub fn write_date(d: i32, out: &mut Vec<u8>) {
    match d {
        i32::MIN => out.extend_from_slice(b"-infinity"),
        i32::MAX => out.extend_from_slice(b"infinity"),
        _ => {
            if write_ymd(d as i64, out) {
                out.extend_from_slice(b" BC");
            }
        }
    }
}

/// `HH:MM:SS` of seconds since midnight.
fn write_hms(secs: i64, out: &mut Vec<u8>) {
    pad(out, secs / 3600, 2);
    out.push(b':');
    pad(out, secs / 60 % 60, 2);
    out.push(b':');
    pad(out, secs % 60, 2);
}

/// `HH:MM:SS` and, when there are any, six digits of microseconds.
pub fn write_time(usecs: i64, out: &mut Vec<u8>) {
    write_hms(usecs / 1_000_000, out);
    let frac = usecs % 1_000_000;
    if frac != 0 {
        out.push(b'.');
        pad(out, frac, 6);
    }
}

pub fn is_infinite_timestamp(ts: i64) -> bool {
    ts == i64::MIN || ts == i64::MAX
}

pub fn write_timestamp(ts: i64, out: &mut Vec<u8>) {
    match ts {
        i64::MIN => out.extend_from_slice(b"-infinity"),
        i64::MAX => out.extend_from_slice(b"infinity"),
        _ => {
            let days = ts.div_euclid(USECS_PER_DAY);
            let bc = write_ymd(days, out);
            out.push(b'T');
            write_time(ts.rem_euclid(USECS_PER_DAY), out);
            if bc {
                out.extend_from_slice(b" BC");
            }
        }
    }
}

/// `+HH:MM`, or `+HH:MM:SS` for the odd historical offsets that have seconds.
pub fn write_offset(seconds_east: i32, out: &mut Vec<u8>) {
    out.push(if seconds_east < 0 { b'-' } else { b'+' });
    let s = seconds_east.unsigned_abs() as i64;
    pad(out, s / 3600, 2);
    out.push(b':');
    pad(out, s / 60 % 60, 2);
    if s % 60 != 0 {
        out.push(b':');
        pad(out, s % 60, 2);
    }
}

/// An interval as an ISO 8601 duration, as PostgreSQL's `IntervalStyle = iso_8601` writes it:
/// `P1Y2M3DT4H5M6.5S`, `PT0S` for zero, signs on the parts that are negative.
pub fn write_interval(months: i32, days: i32, micros: i64, out: &mut Vec<u8>) {
    out.push(b'P');
    let (y, m) = (months / 12, months % 12);
    let part = |out: &mut Vec<u8>, v: i64, unit: u8| {
        if v != 0 {
            out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
            out.push(unit);
        }
    };
    part(out, y as i64, b'Y');
    part(out, m as i64, b'M');
    part(out, days as i64, b'D');
    if micros != 0 || (months == 0 && days == 0) {
        out.push(b'T');
        let (h, rest) = (micros / 3_600_000_000, micros % 3_600_000_000);
        let (min, us) = (rest / 60_000_000, rest % 60_000_000);
        part(out, h, b'H');
        part(out, min, b'M');
        if us != 0 || micros == 0 {
            if us < 0 {
                out.push(b'-');
            }
            let us = us.unsigned_abs();
            out.extend_from_slice(itoa::Buffer::new().format(us / 1_000_000).as_bytes());
            let frac = us % 1_000_000;
            if frac != 0 {
                let digits = format!("{frac:06}");
                out.push(b'.');
                out.extend_from_slice(digits.trim_end_matches('0').as_bytes());
            }
            out.push(b'S');
        }
    }
}

#[cfg(test)]
mod gpkg_unit {
    use super::*;

    fn dt(ts: i64, utc: bool) -> Option<String> {
        let mut o = Vec::new();
        write_gpkg_datetime(ts, utc, &mut o).then(|| String::from_utf8(o).unwrap())
    }

    #[test]
    fn geopackage_dates_and_datetimes() {
        // 2000-01-01 00:00:00.123456
        assert_eq!(
            dt(123_456, true).as_deref(),
            Some("2000-01-01T00:00:00.123Z")
        );
        assert_eq!(
            dt(123_456, false).as_deref(),
            Some("2000-01-01T00:00:00.123")
        );
        // 1999-12-31 23:59:59.999999
        assert_eq!(dt(-1, false).as_deref(), Some("1999-12-31T23:59:59.999"));
        assert_eq!(dt(i64::MAX, true), None);
        assert_eq!(dt(i64::MIN, true), None);
        // 4713-11-24 BC and 294276 AD, PostgreSQL's limits
        assert_eq!(dt(-211_813_488_000_000_000, false), None);
        assert_eq!(dt(9_223_371_331_200_000_000, false), None);
        let mut o = Vec::new();
        assert!(write_gpkg_date(0, &mut o));
        assert_eq!(o, b"2000-01-01");
        assert!(!write_gpkg_date(i32::MAX, &mut Vec::new()));
        assert!(!write_gpkg_date(-800_000, &mut Vec::new())); // 191 BC
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dates() {
        assert_eq!(s(|o| write_date(0, o)), "2000-01-01");
        assert_eq!(s(|o| write_date(-1, o)), "1999-12-31");
        assert_eq!(s(|o| write_date(59, o)), "2000-02-29");
        assert_eq!(s(|o| write_date(-10957, o)), "1970-01-01");
        assert_eq!(s(|o| write_date(2_921_940, o)), "10000-01-01");
        assert_eq!(s(|o| write_date(-746_117, o)), "0044-03-15 BC");
        assert_eq!(s(|o| write_date(i32::MAX, o)), "infinity");
        assert_eq!(s(|o| write_date(i32::MIN, o)), "-infinity");
    }

    #[test]
    fn timestamps() {
        let t = 8_826 * USECS_PER_DAY + (10 * 3600 + 20 * 60 + 30) * 1_000_000;
        assert_eq!(s(|o| write_timestamp(t, o)), "2024-03-01T10:20:30");
        assert_eq!(
            s(|o| write_timestamp(t + 123_456, o)),
            "2024-03-01T10:20:30.123456"
        );
        assert_eq!(
            s(|o| write_timestamp(t + 100_000, o)),
            "2024-03-01T10:20:30.100000"
        );
        assert_eq!(s(|o| write_timestamp(-1, o)), "1999-12-31T23:59:59.999999");
        assert_eq!(s(|o| write_timestamp(i64::MAX, o)), "infinity");
    }

    #[test]
    fn offsets() {
        assert_eq!(s(|o| write_offset(0, o)), "+00:00");
        assert_eq!(s(|o| write_offset(3600, o)), "+01:00");
        assert_eq!(s(|o| write_offset(-(9 * 3600 + 30 * 60), o)), "-09:30");
        assert_eq!(s(|o| write_offset(561, o)), "+00:09:21");
    }

    #[test]
    fn intervals() {
        assert_eq!(
            s(|o| write_interval(14, 3, 14_706_000_000, o)),
            "P1Y2M3DT4H5M6S"
        );
        assert_eq!(s(|o| write_interval(0, 0, 0, o)), "PT0S");
        assert_eq!(s(|o| write_interval(0, -1, 7_380_000_000, o)), "P-1DT2H3M");
        assert_eq!(s(|o| write_interval(0, 0, 6_500_000, o)), "PT6.5S");
        assert_eq!(s(|o| write_interval(0, 0, -1_500_000, o)), "PT-1.5S");
        assert_eq!(s(|o| write_interval(-12, 0, 0, o)), "P-1Y");
    }

    #[test]
    fn times() {
        assert_eq!(s(|o| write_time(0, o)), "00:00:00");
        assert_eq!(s(|o| write_time(USECS_PER_DAY, o)), "24:00:00");
        assert_eq!(s(|o| write_time(45_296_000_001, o)), "12:34:56.000001");
    }
}
