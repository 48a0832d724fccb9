//! Test helpers for the container writers: the facts `generate.rs` would give them (a dataset,
//! a layout, column types), a fresh file, and one whole run of a writer, so that each writer is
//! tested with plain `#[test]`s and read back by its format's own reader library.

use super::{Backend, Column, Dataset, Feature, FileJob, Format, Layout, Value};
use crate::error::GnResult;
use crate::relation::{ColumnType, SpatialRef, ViewColumn};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A file created for one test, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A new empty file (created exclusively, as generate() does) in the system's temp dir.
    pub fn new(extension: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "gn_export-test-{}-{}.{extension}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        Scratch(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The dataset of export 7, "Faune", with a licence GBIF accepts.
pub fn dataset(key: &str) -> Dataset {
    Dataset {
        name: "export \"Faune\" (id 7)".into(),
        label: "Faune".into(),
        description: Some("Observations de faune".into()),
        licence_name: Some("CC BY 4.0".into()),
        licence_url: Some("https://creativecommons.org/licenses/by/4.0/".into()),
        key: key.into(),
        package_id: "1b3f6a8e-3c8e-4c1e-9a8e-5c2f0d1e2a3b".into(),
        pub_date: "2026-12-07".into(),
        organization: "Parc national".into(),
        email: Some("data@example.org".into()),
    }
}

/// A column of the view: its name and its type as SQL spells it.
pub fn view_column(name: &str, type_name: &str, ty: ColumnType) -> ViewColumn {
    ViewColumn::of(name, type_name, ty)
}

/// The layout of these columns; `geometry` names the feature geometry, `id` its key.
pub fn layout(types: &[ViewColumn], geometry: Option<&str>, id: Option<&str>) -> Layout {
    let at = |name: &str| types.iter().position(|c| c.name == name).unwrap();
    Layout {
        columns: types
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                geometry: c.is_spatial(),
            })
            .collect(),
        feature: geometry.map(|g| Feature {
            geometry: at(g),
            id: id.map(at),
            decimals: 7,
        }),
        csv_separator: ",".into(),
    }
}

/// ISO WKB of POINT(x y), little endian.
pub fn point(x: f64, y: f64) -> Vec<u8> {
    let mut w = vec![1u8, 1, 0, 0, 0];
    w.extend_from_slice(&x.to_le_bytes());
    w.extend_from_slice(&y.to_le_bytes());
    w
}

/// One whole run of `format`'s writer over `rows`, as generate() makes it: the file, or the
/// first error the writer raised.
pub fn write(
    format: Format,
    dataset: &Dataset,
    types: &[ViewColumn],
    layout: &Layout,
    srid: i32,
    rows: &[Vec<Value>],
) -> GnResult<Scratch> {
    write_with(format, dataset, types, layout, srid, rows, Knobs::default()).map(|(s, _)| s)
}

/// What a test may set in a job beyond the rows: the rest is as generate() sets it by default.
#[derive(Default)]
pub struct Knobs {
    pub versioning: Option<Option<super::ContentVersion>>,
    pub geoparquet_version: crate::settings::GeoParquetVersion,
}

/// [`write`] with [`Knobs`]: the file, and the version the writer reports.
pub fn write_with(
    format: Format,
    dataset: &Dataset,
    types: &[ViewColumn],
    layout: &Layout,
    srid: i32,
    rows: &[Vec<Value>],
    knobs: Knobs,
) -> GnResult<(Scratch, Option<super::ContentVersion>)> {
    let super::format::Output::Container(make) = format.spec().output else {
        panic!("{} is not a container", format.name());
    };
    let scratch = Scratch::new(format.spec().extension);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(scratch.path())
        .unwrap();
    let spatial_refs = [SpatialRef {
        srid: 4326,
        auth_name: Some("EPSG".into()),
        auth_srid: Some(4326),
        srtext: Some(WGS84.into()),
    }];
    let job = FileJob {
        dataset,
        layout,
        types,
        srid,
        spatial_refs: &spatial_refs,
        stem: "faune",
        path: scratch.path(),
        file: &file,
        rows_in_key_order: true,
        versioning: knobs.versioning,
        zstd_level: 3,
        geoparquet_version: knobs.geoparquet_version,
        backend: TEST,
    };
    let mut writer = make(&job)?;
    for r in rows {
        writer.row(r)?;
    }
    let version = writer.finish()?;
    Ok((scratch, version))
}

thread_local! {
    static WARNINGS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// No cancel ever comes; warnings are kept for [`warnings`].
const TEST: Backend = Backend {
    check_interrupts: || {},
    warning: |m| WARNINGS.with(|w| w.borrow_mut().push(m.to_string())),
};

/// The warnings this thread's writers sent since the last call.
pub fn warnings() -> Vec<String> {
    WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()))
}

/// EPSG:4326 as PostGIS 3.3's spatial_ref_sys spells it.
const WGS84: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]"#;
