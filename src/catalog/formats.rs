//! `gn_export.formats()`: the format registry as SQL sees it, for GeoNature's backend (the
//! Content-Type of a download, the choices of a form) and for the catalog's CHECK on schedules.

use crate::encode::format::{Compression, FileFormat, Output, REGISTRY};
use pgrx::prelude::*;

/// Every format gn_export writes, in registry order, then each byte-stream format gzipped:
/// `name` (what run(), run_bytes(), generate(), schedules and the history use: `csv`,
/// `csv.gz`), `aliases` (other names accepted), `extension` (of its files, without the first
/// dot), `media_type` (the Content-Type to serve its files with; `application/gzip` for the
/// `.gz` ones), `streams` (a text stream that run(), COPY and the API can return; false for
/// files only generate() and run_bytes() make, such as gpkg or csv.gz), `needs_geometry` (made
/// of features: the export needs a geometry_field), `copy_format` (usable as
/// `COPY ... (FORMAT name)` once the library is loaded) and `needs_columns` (columns the
/// export's view must have by name: `permId` for Darwin-SW).
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelt out here
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn formats() -> TableIterator<
    'static,
    (
        name!(name, String),
        name!(aliases, Vec<String>),
        name!(extension, String),
        name!(media_type, String),
        name!(streams, bool),
        name!(needs_geometry, bool),
        name!(copy_format, bool),
        name!(needs_columns, Vec<String>),
    ),
> {
    let plain = REGISTRY.iter().map(|s| (s, Compression::None));
    let gzipped = REGISTRY
        .iter()
        .filter(|s| matches!(s.output, Output::Text(_)))
        .map(|s| (s, Compression::Gzip));
    TableIterator::new(plain.chain(gzipped).map(|(s, compression)| {
        let f = FileFormat {
            format: s.format,
            compression,
        };
        (
            f.name(),
            s.aliases.iter().map(|a| f.with_suffix(a)).collect(),
            f.extension(),
            f.media_type().to_string(),
            compression == Compression::None && matches!(s.output, Output::Text(_)),
            s.features.is_some(),
            compression == Compression::None && s.copy_hook,
            s.columns.iter().map(|c| c.to_string()).collect(),
        )
    }))
}
