//! `gn_export.formats()`: the format registry as SQL sees it, for GeoNature's backend (the
//! Content-Type of a download, the choices of a form) and for the catalog's CHECK on schedules.

use crate::encode::format::{Output, REGISTRY};
use pgrx::prelude::*;

/// Every format gn_export writes, in registry order: `name` (what run(), generate(), schedules
/// and the history use), `aliases` (other names accepted), `extension` (of its files, without
/// the dot), `media_type` (the Content-Type to serve its files with), `streams` (a byte stream
/// that run(), COPY and the API can return; false for files only generate() writes, such as
/// gpkg), `needs_geometry` (made of features: the export needs a geometry_field) and
/// `copy_format` (usable as `COPY ... (FORMAT name)` once the library is loaded) and
/// `needs_columns` (columns the export's view must have by name: `permId` for Darwin-SW).
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
    TableIterator::new(REGISTRY.iter().map(|s| {
        (
            s.name.to_string(),
            s.aliases.iter().map(|a| a.to_string()).collect(),
            s.extension.to_string(),
            s.media_type.to_string(),
            matches!(s.output, Output::Text(_)),
            s.features.is_some(),
            s.copy_hook,
            s.columns.iter().map(|c| c.to_string()).collect(),
        )
    }))
}
