//! The API's snapshots: the ordered keys of one query (an export, its filters and order) as
//! they were at one moment, in a file of the server's own directory
//! (`$PGDATA/pgsql_tmp_gn_export_api`, `0700`), so that every session of the server pages the
//! same rows (GeoNature's backend spreads one partner's pages over its connection pool), on a
//! primary as on a hot standby. The `pgsql_tmp` prefix marks it temporary, as PostgreSQL's own
//! temporary files: base backups and pg_rewind leave it out. A snapshot made before the server
//! last started is never served (a crash may have left it torn).
//!
//! A file is the keys one after the other (`varint(len + 1)` then the key's text, `0` for a
//! NULL key, then `varint(rank)` when the key is not unique), an index of the byte offset of
//! every `STRIDE`th key, the query's identity, and a fixed footer. A page reads the footer,
//! two index entries and the bytes of its keys: its cost does not depend on its offset.
//!
//! Files are created exclusively under a random name and renamed to their id (32 random hex
//! digits); a query's newest snapshot is named by a pointer file `<hash of its identity>.latest`
//! that holds its id; a snapshot is only ever opened by that exact name, never through a link.
//! The file's modification time is its last use: a snapshot unused for `api_snapshot_ttl`
//! seconds is gone, and the least recently used go first when the directory would exceed
//! `api_snapshot_space`.

use crate::error::io_error;
use crate::error::{GnError, GnResult};
use crate::fnv::fnv1a;
use crate::sink::dir::{random_hex, Dir, Temp};
use pgrx::PgSqlErrorCode as Code;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, SystemTime};

/// The directory, under the data directory.
pub const STORE: &str = "pgsql_tmp_gn_export_api";
const MAGIC: &[u8; 8] = b"GNXSNAP1";
/// Keys per index entry: a page decodes at most `STRIDE - 1` keys it does not serve.
const STRIDE: u64 = 256;
const FOOTER: u64 = 56;
/// A temporary file unwritten for this long belongs to a session that died.
pub(super) const STALE_TEMP: Duration = Duration::from_secs(600);

/// One key of a snapshot: the key's text (NULL is `None`) and, for a key that is not unique,
/// the row's rank among the rows of equal key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Option<String>,
    pub rank: u64,
}

/// What a snapshot says of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// keys in the snapshot (`total_filtered`)
    pub rows: u64,
    /// rows of the whole export when the snapshot was made (`total`)
    pub total: i64,
    /// when it was made (PostgreSQL timestamptz microseconds)
    pub created: i64,
    /// whether entries carry a rank (the key is not unique)
    pub ranked: bool,
    index_at: u64,
    identity_at: u64,
}

impl Footer {
    fn encode(&self) -> [u8; FOOTER as usize] {
        let mut out = [0u8; FOOTER as usize];
        let fields = [
            self.rows,
            self.total as u64,
            self.created as u64,
            self.ranked as u64,
            self.index_at,
            self.identity_at,
        ];
        for (i, v) in fields.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        out[48..].copy_from_slice(MAGIC);
        out
    }

    /// The footer of a file of `size` bytes, if it is one of ours and consistent.
    fn decode(b: &[u8; FOOTER as usize], size: u64) -> Option<Footer> {
        if &b[48..] != MAGIC {
            return None;
        }
        let field = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
        let f = Footer {
            rows: field(0),
            total: field(1) as i64,
            created: field(2) as i64,
            ranked: field(3) == 1,
            index_at: field(4),
            identity_at: field(5),
        };
        let index_end = f
            .index_at
            .checked_add(index_slots(f.rows).checked_mul(8)?)?;
        (index_end == f.identity_at && f.identity_at <= size - FOOTER).then_some(f)
    }
}

fn index_slots(rows: u64) -> u64 {
    rows.div_ceil(STRIDE)
}

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

pub fn encode_entry(key: Option<&str>, rank: Option<u64>, out: &mut Vec<u8>) {
    match key {
        None => put_varint(0, out),
        Some(k) => {
            put_varint(k.len() as u64 + 1, out);
            out.extend_from_slice(k.as_bytes());
        }
    }
    if let Some(r) = rank {
        put_varint(r, out);
    }
}

/// `count` entries from `b`, after skipping `skip`.
pub fn decode_entries(b: &[u8], ranked: bool, skip: u64, count: u64) -> Option<Vec<Entry>> {
    let mut at = 0;
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..skip + count {
        let len = get_varint(b, &mut at)?;
        let key = match len {
            0 => None,
            n => {
                let end = at.checked_add(usize::try_from(n - 1).ok()?)?;
                let text = std::str::from_utf8(b.get(at..end)?).ok()?;
                at = end;
                (i >= skip).then(|| text.to_string())
            }
        };
        let rank = if ranked { get_varint(b, &mut at)? } else { 0 };
        if i >= skip {
            out.push(Entry { key, rank });
        }
    }
    Some(out)
}

/// A query's pointer file: FNV-1a of its identity (a collision only makes the query's snapshot
/// harder to find: the identity in the file is always compared in full).
pub fn pointer_name(identity: &[u8]) -> String {
    format!("{:016x}.latest", fnv1a(identity))
}

pub(super) fn is_snapshot_file(name: &str) -> bool {
    crate::api::page::is_snapshot_id(name)
}

pub(super) fn is_pointer_file(name: &str) -> bool {
    name.strip_suffix(".latest")
        .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// When the server last started (PostgreSQL timestamptz microseconds).
pub(super) fn server_start() -> i64 {
    // SAFETY: PgStartTime is set once by the postmaster before any backend runs SQL.
    unsafe { pgrx::pg_sys::PgStartTime }
}

/// The server's data directory.
pub fn data_directory() -> String {
    // SAFETY: DataDir is set once by the postmaster before any backend runs SQL and never
    // changes; it is a NUL-terminated absolute path.
    let data = unsafe { std::ffi::CStr::from_ptr(pgrx::pg_sys::DataDir) };
    data.to_string_lossy().into_owned()
}

/// The snapshot directory, made `0700` under the data directory if missing.
pub fn store() -> GnResult<Dir> {
    Dir::open(std::path::Path::new(&data_directory()))?.private_subdir(STORE)
}

fn too_big(space: u64) -> GnError {
    GnError::new(
        Code::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        format!(
            "gn_export: the keys of this query take more than gn_export.api_snapshot_space ({} kB)",
            space / 1024
        ),
    )
    .hint("Filter the export further, or have a superuser raise gn_export.api_snapshot_space.")
}

/// A snapshot being written. Its file is created with its first key (a query may sort for a
/// long time before: an unwritten temporary file would look abandoned).
pub struct Writer {
    dir: Dir,
    temp: Option<Temp>,
    id: String,
    ranked: bool,
    rows: u64,
    at: u64,
    index: Vec<u64>,
    scratch: Vec<u8>,
    space: u64,
}

impl Writer {
    pub fn create(dir: &Dir, ranked: bool, space: u64) -> GnResult<Writer> {
        Ok(Writer {
            dir: dir.clone(),
            temp: None,
            id: random_hex()?,
            ranked,
            rows: 0,
            at: 0,
            index: Vec::new(),
            scratch: Vec::with_capacity(64),
            space,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> GnResult<()> {
        if self.at + bytes.len() as u64 > self.space {
            return Err(too_big(self.space));
        }
        let temp = match &mut self.temp {
            Some(t) => t,
            None => self.temp.insert(self.dir.create_temp(&self.id)?),
        };
        temp.write(bytes)?;
        self.at += bytes.len() as u64;
        Ok(())
    }

    pub fn push(&mut self, key: Option<&str>, rank: u64) -> GnResult<()> {
        if self.rows.is_multiple_of(STRIDE) {
            self.index.push(self.at);
        }
        let mut entry = std::mem::take(&mut self.scratch);
        entry.clear();
        encode_entry(key, self.ranked.then_some(rank), &mut entry);
        let written = self.write(&entry);
        self.scratch = entry;
        self.rows += 1;
        written
    }

    /// Writes the index, the identity and the footer, and names the file by its id, which it
    /// returns.
    #[cfg(any(test, feature = "pg_test"))]
    pub fn finish(mut self, identity: &[u8], total: i64, created: i64) -> GnResult<String> {
        self.seal(identity, total, created)?
            .publish_volatile(&self.id)?;
        Ok(self.id)
    }

    /// Publishes the snapshot like [`Writer::finish`] and returns it opened through the
    /// descriptor it was written with: a session evicting at that moment cannot take it from
    /// its maker (its first page is served; the next ones find it gone).
    pub fn finish_open(mut self, identity: &[u8], total: i64, created: i64) -> GnResult<Snapshot> {
        let mut temp = self.seal(identity, total, created)?;
        let file = temp.reader()?;
        temp.publish_volatile(&self.id)?;
        Snapshot::from_file(&self.id, file)?.ok_or_else(|| corrupt(&self.id))
    }

    /// Writes the index, the identity and the footer; the file is then ready to publish.
    fn seal(&mut self, identity: &[u8], total: i64, created: i64) -> GnResult<Temp> {
        let index_at = self.at;
        let mut tail = Vec::with_capacity(self.index.len() * 8 + identity.len() + 56);
        for off in &self.index {
            tail.extend_from_slice(&off.to_le_bytes());
        }
        tail.extend_from_slice(identity);
        let footer = Footer {
            rows: self.rows,
            total,
            created,
            ranked: self.ranked,
            index_at,
            identity_at: index_at + self.index.len() as u64 * 8,
        };
        tail.extend_from_slice(&footer.encode());
        self.write(&tail)?;
        Ok(self.temp.take().expect("the footer was written"))
    }
}

/// A snapshot opened for reading.
pub struct Snapshot {
    pub id: String,
    pub footer: Footer,
    file: File,
    /// where the footer starts, just after the identity
    footer_at: u64,
    modified: SystemTime,
}

fn corrupt(id: &str) -> GnError {
    GnError::new(
        Code::ERRCODE_DATA_CORRUPTED,
        format!("gn_export: API snapshot {id} is unreadable"),
    )
    .hint("Start again from offset 0 without a snapshot; clean_files() removes unreadable snapshots once they expire.")
}

impl Snapshot {
    /// The snapshot `id`, if its file is there and is one of ours.
    pub fn open(dir: &Dir, id: &str) -> GnResult<Option<Snapshot>> {
        match dir.open_file(id)? {
            Some(file) => Snapshot::from_file(id, file),
            None => Ok(None),
        }
    }

    /// The snapshot `id` read from an open file; None if it is not one of this server's.
    fn from_file(id: &str, file: File) -> GnResult<Option<Snapshot>> {
        let what = |e| io_error(&format!("cannot read API snapshot {id}"), e);
        let meta = file.metadata().map_err(what)?;
        if !meta.is_file() || meta.len() < FOOTER {
            return Ok(None);
        }
        let mut b = [0u8; FOOTER as usize];
        file.read_exact_at(&mut b, meta.len() - FOOTER)
            .map_err(what)?;
        let Some(footer) = Footer::decode(&b, meta.len()).filter(|f| f.created >= server_start())
        else {
            return Ok(None);
        };
        Ok(Some(Snapshot {
            id: id.to_string(),
            footer,
            file,
            footer_at: meta.len() - FOOTER,
            modified: meta.modified().map_err(what)?,
        }))
    }

    fn read(&self, at: u64, len: u64) -> GnResult<Vec<u8>> {
        let mut b = vec![0u8; usize::try_from(len).map_err(|_| corrupt(&self.id))?];
        self.file
            .read_exact_at(&mut b, at)
            .map_err(|_| corrupt(&self.id))?;
        Ok(b)
    }

    /// The identity of the query whose keys this holds.
    pub fn identity(&self) -> GnResult<Vec<u8>> {
        let at = self.footer.identity_at;
        self.read(at, self.footer_at - at)
    }

    /// Seconds since its last use.
    pub fn idle(&self) -> Duration {
        SystemTime::now()
            .duration_since(self.modified)
            .unwrap_or(Duration::ZERO)
    }

    /// Marks it used now (its time to live starts again).
    pub fn touch(&self) {
        let _ = self.file.set_modified(SystemTime::now());
    }

    fn index_entry(&self, slot: u64) -> GnResult<u64> {
        if slot >= index_slots(self.footer.rows) {
            return Ok(self.footer.index_at);
        }
        let b = self.read(self.footer.index_at + slot * 8, 8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap()))
    }

    /// The keys at positions `[start, end)`.
    pub fn entries(&self, start: u64, end: u64) -> GnResult<Vec<Entry>> {
        let end = end.min(self.footer.rows);
        if start >= end {
            return Ok(Vec::new());
        }
        let first = start / STRIDE;
        let from = self.index_entry(first)?;
        let to = self.index_entry((end - 1) / STRIDE + 1)?;
        if to < from || to > self.footer.index_at {
            return Err(corrupt(&self.id));
        }
        let b = self.read(from, to - from)?;
        decode_entries(&b, self.footer.ranked, start - first * STRIDE, end - start)
            .ok_or_else(|| corrupt(&self.id))
    }
}

/// The id the pointer file of a query names, if there is one.
pub fn latest(dir: &Dir, pointer: &str) -> GnResult<Option<String>> {
    let Some(file) = dir.open_file(pointer)? else {
        return Ok(None);
    };
    let mut id = [0u8; 32];
    Ok(match file.read_exact_at(&mut id, 0) {
        Ok(()) => std::str::from_utf8(&id)
            .ok()
            .filter(|s| is_snapshot_file(s))
            .map(str::to_string),
        Err(_) => None,
    })
}

/// Makes `id` the newest snapshot of the query of the pointer file `pointer`.
pub fn point(dir: &Dir, pointer: &str, id: &str) -> GnResult<()> {
    let mut temp = dir.create_temp(pointer)?;
    temp.write(id.as_bytes())?;
    temp.publish_volatile(pointer)?;
    Ok(())
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod unit;

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;

    fn key(i: u64) -> Option<String> {
        (i % 97 != 5).then(|| format!("k{i}"))
    }

    #[pg_test]
    fn snapshot_files_slice_exactly_across_index_strides() {
        let dir = store().unwrap();
        let rows = 3 * STRIDE + 17;
        let mut w = Writer::create(&dir, true, 1 << 20).unwrap();
        for i in 0..rows {
            w.push(key(i).as_deref(), i % 3).unwrap();
        }
        // SAFETY: reads the clock
        let now = unsafe { pgrx::pg_sys::GetCurrentTimestamp() };
        let id = w.finish(b"identity", 42, now).unwrap();
        let snap = Snapshot::open(&dir, &id).unwrap().unwrap();
        assert_eq!(snap.identity().unwrap(), b"identity");
        assert_eq!(
            (snap.footer.rows, snap.footer.total, snap.footer.created),
            (rows, 42, now)
        );
        // one made before the server started is never served
        let mut old = Writer::create(&dir, false, 1 << 20).unwrap();
        old.push(Some("k"), 0).unwrap();
        let old = old.finish(b"identity", 1, server_start() - 1).unwrap();
        assert!(Snapshot::open(&dir, &old).unwrap().is_none());
        let s = STRIDE;
        for (start, end) in [
            (0, 1),
            (0, rows),
            (s - 1, s + 1),
            (s, 2 * s),
            (2 * s - 1, 3 * s + 1),
            (rows - 1, rows),
            (rows - 1, rows + 5),
            (rows, rows + 5),
            (5, 5),
        ] {
            let got = snap.entries(start, end).unwrap();
            let want: Vec<Entry> = (start..end.min(rows))
                .map(|i| Entry {
                    key: key(i),
                    rank: i % 3,
                })
                .collect();
            assert_eq!(got, want, "[{start}, {end})");
        }
        // a name that is not a snapshot of ours is none
        assert!(Snapshot::open(&dir, "00000000000000000000000000000000")
            .unwrap()
            .is_none());
        // beyond the space, the least recently used go, this one included
        let removed = super::super::evict::evict(&dir, Duration::from_secs(3600), 0).unwrap();
        assert!(removed.iter().any(|r| r.name == id));
        assert!(Snapshot::open(&dir, &id).unwrap().is_none());
    }

    #[pg_test]
    fn keys_beyond_the_space_are_refused_and_leave_no_file() {
        let dir = store().unwrap();
        let mut w = Writer::create(&dir, false, 100).unwrap();
        let err = (0..100)
            .map(|i| w.push(Some(&format!("key {i}")), 0))
            .find_map(Result::err)
            .expect("the space is exceeded");
        assert_eq!(
            err.code,
            pgrx::PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED
        );
        let id = w.id.clone();
        drop(w);
        // its temporary file (named after its id) is gone; other tests may be writing theirs
        assert!(!dir
            .files()
            .unwrap()
            .iter()
            .any(|f| crate::sink::names::is_temp_file(&f.name) && f.name.contains(&id)));
    }
}
