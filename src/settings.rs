//! The `gn_export.*` settings. The prefix is reserved, so a typo such as
//! `SET gn_export.exportdir = ...` is an error instead of a silently ignored placeholder.

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::PostgresGucEnum;
use std::ffi::CString;

/// Root of every file the extension writes. Superuser only, and no default: writing files is a
/// server privilege, and a clear error beats a surprising location.
pub static EXPORT_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// Public URL of `export_dir`, used to build download links.
pub static BASE_URL: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// Who publishes Darwin Core Archives: the organisation and e-mail of eml.xml's creator,
/// metadata provider and contact.
pub static DWCA_ORGANIZATION: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(None);
pub static DWCA_EMAIL: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// CSV field separator (GeoNature's `csv_separator`, which GeoNature itself never read).
pub static CSV_SEPARATOR: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c";"));
/// Days generated files are kept by `clean_files`.
pub static KEEP_DAYS: GucSetting<i32> = GucSetting::<i32>::new(15);
/// Page size of the partner API when the caller gives none.
pub static API_DEFAULT_LIMIT: GucSetting<i32> = GucSetting::<i32>::new(1000);
/// Largest page the partner API serves.
pub static API_MAX_LIMIT: GucSetting<i32> = GucSetting::<i32>::new(1000);
/// Seconds the partner API may reuse an export's unfiltered row count (0: count every time).
pub static API_TOTAL_CACHE: GucSetting<i32> = GucSetting::<i32>::new(300);
pub static API_SNAPSHOT_TTL: GucSetting<i32> = GucSetting::<i32>::new(600);
/// kB: 1 GB
pub static API_SNAPSHOT_SPACE: GucSetting<i32> = GucSetting::<i32>::new(1024 * 1024);
/// Minutes a schedule may run early: a daily schedule run by a daily cron job regenerates even
/// if yesterday's run finished a little later than today's starts.
pub static SCHEDULE_TOLERANCE: GucSetting<i32> = GucSetting::<i32>::new(60);
/// Decimals kept in GeoJSON coordinates.
pub static GEOJSON_DECIMALS: GucSetting<i32> = GucSetting::<i32>::new(9);
/// gzip level of `.gz` outputs: 1 is the fastest, 9 the smallest.
pub static GZIP_LEVEL: GucSetting<i32> = GucSetting::<i32>::new(1);
pub static PARQUET_ZSTD_LEVEL: GucSetting<i32> = GucSetting::<i32>::new(3);
pub static GEOPARQUET_VERSION: GucSetting<GeoParquetVersion> =
    GucSetting::<GeoParquetVersion>::new(GeoParquetVersion::V1_1);
/// Whether `dsw()` serves GeoNature's semantic export (GeoNature's `expose_dsw_api`, off).
pub static DSW_ENABLED: GucSetting<bool> = GucSetting::<bool>::new(false);
/// Whether a published file reads its rows in the order of the export's key (on).
pub static STABLE_FILES: GucSetting<bool> = GucSetting::<bool>::new(true);

/// The GeoParquet specification a GeoParquet file follows. 1.1 is the default: it is what the
/// readers partners run today understand (GDAL before 3.12, pyarrow before 21, geopandas
/// with them), and 2.0's native geometry type reads as plain bytes there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PostgresGucEnum)]
pub enum GeoParquetVersion {
    #[default]
    /// WKB in a BYTE_ARRAY column, the `geo` metadata and a bbox covering column
    #[name = c"1.1"]
    V1_1,
    /// Parquet's GEOMETRY logical type, its per-row-group geospatial statistics and the `geo`
    /// metadata; no covering column
    #[name = c"2.0"]
    V2_0,
}

pub fn init() {
    define_strings();
    define_numbers();
    GucRegistry::define_bool_guc(
        c"gn_export.dsw_enabled",
        c"Whether gn_export.dsw() serves GeoNature's semantic export (Darwin-SW of gn_exports.v_synthese_dsw, the RDF view under the SINP diffusion rule).",
        c"Off, as GeoNature's expose_dsw_api: publishing a graph of the observations is a decision. Superuser only.",
        &DSW_ENABLED,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"gn_export.stable_files",
        c"Whether a published file (schedules/) reads its rows in the order of the export's key, so that the same data gives the same file, byte for byte.",
        c"On: portals and GBIF see a new version only when the data changed, and a Darwin Core Archive's repeated ids are refused; PostgreSQL may sort the rows first. Off: the plan's order, faster on a large view that has to be sorted.",
        &STABLE_FILES,
        GucContext::Userset,
        GucFlags::default(),
    );
    reserve_prefix();
}

pub fn dsw_enabled() -> bool {
    DSW_ENABLED.get()
}

pub fn stable_files() -> bool {
    STABLE_FILES.get()
}

/// The string settings: where files go, how they are named and published.
fn define_strings() {
    GucRegistry::define_string_guc(
        c"gn_export.export_dir",
        c"Directory under which gn_export writes export files.",
        c"Files go to <export_dir>/schedules and <export_dir>/usr_generated. Must be writable by the server.",
        &EXPORT_DIR,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"gn_export.base_url",
        c"Public URL that serves export_dir, used to build download URLs.",
        c"",
        &BASE_URL,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"gn_export.dwca_organization",
        c"Organisation named as creator, metadata provider and contact in Darwin Core Archives (default: the database's name).",
        c"",
        &DWCA_ORGANIZATION,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"gn_export.dwca_email",
        c"E-mail address of that organisation in Darwin Core Archives' eml.xml.",
        c"",
        &DWCA_EMAIL,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"gn_export.csv_separator",
        c"Field separator of CSV exports (one character).",
        c"",
        &CSV_SEPARATOR,
        GucContext::Userset,
        GucFlags::default(),
    );
}

/// The numeric settings: retention, API pages and caches, schedules, coordinates.
fn define_numbers() {
    GucRegistry::define_int_guc(
        c"gn_export.keep_days",
        c"Days generated files are kept before clean_files() deletes them.",
        c"",
        &KEEP_DAYS,
        1,
        36500,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"gn_export.api_default_limit",
        c"Default page size of gn_export.api().",
        c"",
        &API_DEFAULT_LIMIT,
        1,
        1_000_000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"gn_export.api_max_limit",
        c"Largest page size gn_export.api() serves.",
        c"",
        &API_MAX_LIMIT,
        1,
        1_000_000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"gn_export.api_total_cache",
        c"Seconds a session reuses what gn_export.api() learnt of a view: whether its key is unique (0 checks on every new snapshot).",
        c"The check reads the whole view; it is only needed for snapshots not ordered by the key.",
        &API_TOTAL_CACHE,
        0,
        86400,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"gn_export.api_snapshot_ttl",
        c"Seconds an API snapshot lives unused; also how old a snapshot pages without an id may reuse.",
        c"A harvest that passes the snapshot id keeps its snapshot as long as it asks for a page at least this often.",
        &API_SNAPSHOT_TTL,
        1,
        7 * 86400,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"gn_export.api_snapshot_space",
        c"Disk space all API snapshots may take together, under the data directory.",
        c"The least recently used snapshots are removed beyond it; a query whose keys alone exceed it is refused.",
        &API_SNAPSHOT_SPACE,
        64,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_KB,
    );
    GucRegistry::define_int_guc(
        c"gn_export.schedule_tolerance",
        c"Minutes before its due time that run_scheduled() already regenerates a schedule.",
        c"A daily schedule whose file is 23 h old is due with the default of 60 minutes.",
        &SCHEDULE_TOLERANCE,
        0,
        1440,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"gn_export.geojson_decimals",
        c"Decimals kept in GeoJSON coordinates.",
        c"",
        &GEOJSON_DECIMALS,
        0,
        17,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"gn_export.gzip_level",
        c"Compression level of the .gz formats: 1 (fastest) to 9 (smallest).",
        c"Level 1 compresses a Synthese CSV about 6 times at several hundred MB/s; see docs/performance.md.",
        &GZIP_LEVEL,
        1,
        9,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"gn_export.parquet_zstd_level",
        c"zstd level of GeoParquet files: 1 (fastest) to 22 (smallest).",
        c"GeoParquet's distribution guide asks published files for more than the fastest level; see docs/performance.md.",
        &PARQUET_ZSTD_LEVEL,
        1,
        22,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"gn_export.geoparquet_version",
        c"GeoParquet version of the parquet format: 1.1 (the default) or 2.0.",
        c"2.0 keeps geometries in Parquet's GEOMETRY type with its statistics; readers older than GDAL 3.12 or pyarrow 21 read 1.1 only. See docs/formats.md.",
        &GEOPARQUET_VERSION,
        GucContext::Userset,
        GucFlags::default(),
    );
}

fn reserve_prefix() {
    // SAFETY: called from _PG_init with a static NUL-terminated string.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"gn_export".as_ptr()) }
}

fn string(setting: &GucSetting<Option<CString>>) -> Option<String> {
    setting
        .get()
        .map(|c| c.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
}

pub fn export_dir() -> Option<String> {
    string(&EXPORT_DIR)
}

pub fn base_url() -> Option<String> {
    string(&BASE_URL)
}

pub fn dwca_organization() -> Option<String> {
    string(&DWCA_ORGANIZATION)
}

pub fn dwca_email() -> Option<String> {
    string(&DWCA_EMAIL)
}

pub fn csv_separator() -> String {
    string(&CSV_SEPARATOR).unwrap_or_else(|| ";".into())
}

pub fn geojson_decimals() -> usize {
    GEOJSON_DECIMALS.get().clamp(0, 17) as usize
}

pub fn gzip_level() -> u32 {
    GZIP_LEVEL.get().clamp(1, 9) as u32
}

pub fn parquet_zstd_level() -> i32 {
    PARQUET_ZSTD_LEVEL.get().clamp(1, 22)
}

pub fn geoparquet_version() -> GeoParquetVersion {
    GEOPARQUET_VERSION.get()
}

pub fn api_default_limit() -> i64 {
    API_DEFAULT_LIMIT.get() as i64
}

pub fn api_max_limit() -> i64 {
    API_MAX_LIMIT.get() as i64
}

pub fn api_total_cache() -> std::time::Duration {
    std::time::Duration::from_secs(API_TOTAL_CACHE.get().max(0) as u64)
}

pub fn api_snapshot_ttl() -> std::time::Duration {
    std::time::Duration::from_secs(API_SNAPSHOT_TTL.get().max(1) as u64)
}

/// bytes
pub fn api_snapshot_space() -> u64 {
    API_SNAPSHOT_SPACE.get().max(64) as u64 * 1024
}

pub fn keep_days() -> i32 {
    KEEP_DAYS.get()
}

pub fn schedule_tolerance() -> std::time::Duration {
    std::time::Duration::from_secs(SCHEDULE_TOLERANCE.get().max(0) as u64 * 60)
}

/// A GUC nesting level, as PostgreSQL opens one for a function with a SET clause: settings
/// changed inside (by us, or by code we run) are undone when it ends. On an error the
/// (sub)transaction abort undoes them instead.
pub struct GucScope {
    level: std::ffi::c_int,
}

impl GucScope {
    /// `search_path = pg_catalog, pg_temp` until the scope ends: our own statements and lookups
    /// can then find nothing a caller planted in a schema of their path.
    pub fn pinned_search_path() -> GucScope {
        GucScope::pinned(&[(c"search_path", c"pg_catalog, pg_temp")])
    }

    /// `search_path = <path>` and `jit = off` until the scope ends: the settings another
    /// role's code (an export's view, an adopted table's triggers) is planned and run with.
    ///
    /// JIT is off because an export pays it and never gets it back: the planner's estimate of
    /// a view that looks rows up (the SINP diffusion rule, the EXPORT module's RDF view) passes
    /// `jit_optimize_above_cost` at 100,000 rows, and LLVM then spends 1.5 s (Darwin Core view)
    /// to 5 s (RDF view) before the first row, to save 0.4 µs a row: it would take some four
    /// million rows to break even, and an API page would pay it on every call.
    /// docs/performance.md gives the figures.
    pub fn owner_code(path: &str) -> GucScope {
        let value = std::ffi::CString::new(path).unwrap_or_else(|_| c"pg_catalog, pg_temp".into());
        GucScope::pinned(&[(c"search_path", value.as_c_str()), (c"jit", c"off")])
    }

    /// PostgreSQL's default text forms of values (ISO dates, `postgres` intervals, exact
    /// floats, hex bytea), whatever the session chose: text written in one session reads back
    /// as the same values in another.
    pub fn pinned_value_text() -> GucScope {
        GucScope::pinned(&[
            (c"DateStyle", c"ISO, MDY"),
            (c"IntervalStyle", c"postgres"),
            (c"extra_float_digits", c"1"),
            (c"bytea_output", c"hex"),
        ])
    }

    fn pinned(settings: &[(&std::ffi::CStr, &std::ffi::CStr)]) -> GucScope {
        // SAFETY: what fmgr_security_definer does for `SET name = value` on a function: a new
        // nesting level, then SAVE-action assignments that AtEOXact_GUC rolls back.
        unsafe {
            let level = pgrx::pg_sys::NewGUCNestLevel();
            for (name, value) in settings {
                pgrx::pg_sys::set_config_option(
                    name.as_ptr(),
                    value.as_ptr(),
                    pgrx::pg_sys::GucContext::PGC_USERSET,
                    pgrx::pg_sys::GucSource::PGC_S_SESSION,
                    pgrx::pg_sys::GucAction::GUC_ACTION_SAVE,
                    true,
                    0,
                    false,
                );
            }
            GucScope { level }
        }
    }
}

impl Drop for GucScope {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return; // an ERROR is unwinding: the abort that follows pops the level
        }
        // SAFETY: pops the level opened in `pinned`, undoing what was set inside.
        unsafe { pgrx::pg_sys::AtEOXact_GUC(false, self.level) }
    }
}
