//! The format registry: one entry per format says everything the rest of the code asks of a
//! format (names, file extension, media type, how its bytes are made, its geometry rule), so
//! that parsing, hints, `exports().formats`, file names, cleanup and the catalog's CHECK all
//! derive from [`REGISTRY`]. A new format is one module and one entry here.

pub use super::packing::{Compression, FileFormat};
use super::{csv, dsw, dwca, geojson, geoparquet, gpkg, json, tsv};
use super::{Encoder, FileJob, FileWriter, Layout};
use crate::error::{GnError, GnResult};
use pgrx::PgSqlErrorCode as Code;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Tsv,
    Json,
    GeoJson,
    GeoJsonSeq,
    Gpkg,
    Ttl,
    Dwca,
    Parquet,
}

/// How a format's output is made.
pub enum Output {
    /// a byte stream (header, one piece per row, footer): streamed by run(), COPY and the API,
    /// and written to files
    Text(fn(&Layout) -> GnResult<Box<dyn Encoder>>),
    /// a file that is not a byte stream (a database, an archive): generate() and schedules only
    Container(fn(&FileJob) -> GnResult<Box<dyn FileWriter>>),
}

/// The SRS the feature geometry is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// EPSG:4326, whatever the export's SRID (RFC 7946)
    Wgs84,
    /// the export's own SRID (a GIS layer keeps its projection)
    Export,
}

/// The rule of a format made of features (a geometry per row beside the properties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    pub crs: Crs,
    /// M values dropped (GeoPackage readers reject or ignore them)
    pub drop_m: bool,
    /// whether the export's other geometry columns are kept (as WKT) or left out
    pub other_geometries: bool,
    /// when the rows are read in spatial order (`ORDER BY` the geometry, which PostGIS sorts
    /// along a Hilbert curve, ties broken by the key)
    pub spatial_order: SpatialOrder,
}

/// When a format's rows come in spatial order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialOrder {
    /// in the order of the plan, or of the key for a published file
    Never,
    /// for a published file, instead of the key's (as stable): GeoParquet's row groups then
    /// each cover a small area, and readers skip those a query's window misses
    Published,
    /// always: a GeoPackage packs its R-tree as the rows come
    Always,
}

pub struct Spec {
    pub format: Format,
    /// the canonical name: `run(id, name)`, schedules, history, `exports().formats`
    pub name: &'static str,
    /// other names accepted on input
    pub aliases: &'static [&'static str],
    /// the file name extension, without the dot
    pub extension: &'static str,
    /// the Content-Type a web server sends for the file
    pub media_type: &'static str,
    pub output: Output,
    /// Some for formats made of features: they need the export's geometry_field; None for
    /// tables, where every geometry is a WKT value in its own SRID
    pub features: Option<Features>,
    /// offered as `COPY ... (FORMAT name)` by the COPY hook (csv is core COPY's own)
    pub copy_hook: bool,
    /// columns the rows must have, by name (Darwin-SW reads GeoNature's RDF view's names)
    pub columns: &'static [&'static str],
}

const GEOJSON: Features = Features {
    crs: Crs::Wgs84,
    drop_m: false,
    other_geometries: false,
    spatial_order: SpatialOrder::Never,
};

/// A GIS layer (GeoParquet): the export's own SRS, no M, every geometry kept; a published
/// file in spatial order, as GeoParquet's distribution guide asks.
const GIS_LAYER: Features = Features {
    crs: Crs::Export,
    drop_m: true,
    other_geometries: true,
    spatial_order: SpatialOrder::Published,
};

/// A GeoPackage's layer: a GIS layer whose rows always come in spatial order, for its R-tree.
const GPKG_LAYER: Features = Features {
    spatial_order: SpatialOrder::Always,
    ..GIS_LAYER
};

pub static REGISTRY: &[Spec] = &[
    Spec {
        format: Format::Csv,
        name: "csv",
        aliases: &[],
        extension: "csv",
        media_type: "text/csv",
        output: Output::Text(csv::encoder),
        features: None,
        copy_hook: false,
        columns: &[],
    },
    Spec {
        format: Format::Tsv,
        name: "tsv",
        aliases: &[],
        extension: "tsv",
        media_type: "text/tab-separated-values",
        output: Output::Text(tsv::encoder),
        features: None,
        copy_hook: true,
        columns: &[],
    },
    Spec {
        format: Format::Json,
        name: "json",
        aliases: &[],
        extension: "json",
        media_type: "application/json",
        output: Output::Text(json::encoder),
        features: None,
        copy_hook: true,
        columns: &[],
    },
    Spec {
        format: Format::GeoJson,
        name: "geojson",
        aliases: &[],
        extension: "geojson",
        media_type: "application/geo+json",
        output: Output::Text(geojson::collection),
        features: Some(GEOJSON),
        copy_hook: true,
        columns: &[],
    },
    Spec {
        format: Format::GeoJsonSeq,
        name: "geojsonseq",
        aliases: &["geojsonl"],
        // GDAL recognises `.geojsonl` as newline-delimited GeoJSON
        extension: "geojsonl",
        media_type: "application/geo+json-seq",
        output: Output::Text(geojson::sequence),
        features: Some(GEOJSON),
        copy_hook: true,
        columns: &[],
    },
    Spec {
        format: Format::Gpkg,
        name: "gpkg",
        aliases: &[],
        extension: "gpkg",
        media_type: "application/geopackage+sqlite3",
        output: Output::Container(gpkg::create),
        features: Some(GPKG_LAYER),
        copy_hook: false,
        columns: &[],
    },
    Spec {
        format: Format::Ttl,
        name: "ttl",
        aliases: &["turtle", "dsw"],
        extension: "ttl",
        media_type: "text/turtle",
        output: Output::Text(dsw::encoder),
        features: None,
        copy_hook: true,
        columns: dsw::REQUIRED,
    },
    Spec {
        format: Format::Dwca,
        name: "dwca",
        aliases: &[],
        extension: "dwca.zip",
        media_type: "application/zip",
        output: Output::Container(dwca::create),
        features: None,
        copy_hook: false,
        columns: dwca::REQUIRED,
    },
    Spec {
        format: Format::Parquet,
        name: "parquet",
        aliases: &["geoparquet"],
        extension: "parquet",
        media_type: "application/vnd.apache.parquet",
        output: Output::Container(geoparquet::create),
        features: Some(GIS_LAYER),
        copy_hook: false,
        columns: &[],
    },
];

impl Format {
    pub fn spec(self) -> &'static Spec {
        REGISTRY
            .iter()
            .find(|s| s.format == self)
            .expect("every format has its registry entry")
    }

    /// The encoder of a byte-stream format for these columns; a container format has none
    /// (22023: callers that stream check the format first, see `parse_for`).
    pub fn encoder(self, layout: &Layout) -> GnResult<Box<dyn Encoder>> {
        match self.spec().output {
            Output::Text(make) => make(layout),
            Output::Container(_) => Err(GnError::new(
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("{} is a file format, not a stream", self.name()),
            )),
        }
    }

    /// A format by its name or an alias, in any case.
    pub fn parse(name: &str) -> Option<Format> {
        REGISTRY
            .iter()
            .find(|s| {
                s.name.eq_ignore_ascii_case(name)
                    || s.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
            })
            .map(|s| s.format)
    }

    /// Parses a format name from a caller, or says which names exist (22023). `streamed`:
    /// the caller streams bytes (run, COPY, the API), so container formats are refused.
    pub fn parse_for(name: &str, streamed: bool) -> GnResult<Format> {
        match Format::parse(name) {
            Some(f) if streamed && !f.streams() => Err(GnError::new(
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("{name} is a file format, not a stream: it is written by gn_export.generate() and schedules"),
            )
            .hint(format!(
                "Write it with gn_export.generate(id_export, '{}'), or stream {}.",
                f.name(),
                names(|s| matches!(s.output, Output::Text(_)))
            ))),
            Some(f) => Ok(f),
            None => Err(GnError::new(
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("unknown format \"{name}\""),
            )
            .hint(if streamed {
                format!("Stream {}.", names(|s| matches!(s.output, Output::Text(_))))
            } else {
                format!("Use {}.", names(|_| true))
            })),
        }
    }

    /// The format whose extension (a user's file) or canonical name (a published file) ends
    /// this file name, and the stem before it.
    pub fn of_file_name(name: &str) -> Option<(&str, Format)> {
        REGISTRY.iter().find_map(|s| {
            [s.extension, s.name]
                .into_iter()
                .find_map(|end| name.strip_suffix(end)?.strip_suffix('.'))
                .map(|stem| (stem, s.format))
        })
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn extension(self) -> &'static str {
        self.spec().extension
    }

    pub fn features(self) -> Option<Features> {
        self.spec().features
    }

    pub fn needs_geometry(self) -> bool {
        self.features().is_some()
    }

    pub fn streams(self) -> bool {
        matches!(self.spec().output, Output::Text(_))
    }
}

/// The canonical names of the formats that `keep` keeps, in registry order, as a hint says
/// them: "csv, tsv or json".
pub fn names(keep: impl Fn(&Spec) -> bool) -> String {
    let v: Vec<&str> = REGISTRY
        .iter()
        .filter(|s| keep(s))
        .map(|s| s.name)
        .collect();
    match v.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_format_and_unique_names() {
        let mut seen = std::collections::HashSet::new();
        for s in REGISTRY {
            assert_eq!(s.format.spec().name, s.name);
            for n in std::iter::once(s.name).chain(s.aliases.iter().copied()) {
                assert!(seen.insert(n), "{n} twice");
                assert_eq!(Format::parse(&n.to_uppercase()), Some(s.format));
            }
            // schedules store the name in a varchar(10)
            assert!(s.name.len() <= 10, "{}", s.name);
        }
    }

    #[test]
    fn file_names() {
        assert_eq!(
            Format::of_file_name("Synthese_SINP.geojsonl"),
            Some(("Synthese_SINP", Format::GeoJsonSeq))
        );
        assert_eq!(Format::of_file_name("a.b.tsv"), Some(("a.b", Format::Tsv)));
        assert_eq!(Format::of_file_name("x.txt"), None);
        assert_eq!(Format::of_file_name("csv"), None);
        // published files end with the format's name, where GeoNature's admin looks
        assert_eq!(
            Format::of_file_name("Synthese.geojsonseq"),
            Some(("Synthese", Format::GeoJsonSeq))
        );
        assert_eq!(
            Format::of_file_name("Synthese.dwca"),
            Some(("Synthese", Format::Dwca))
        );
        assert_eq!(
            Format::of_file_name("Synthese.dwca.zip"),
            Some(("Synthese", Format::Dwca))
        );
    }

    #[test]
    fn parse_for_streams_and_hints() {
        assert_eq!(
            Format::parse_for("GeoJSONL", true).unwrap(),
            Format::GeoJsonSeq
        );
        let e = Format::parse_for("gpkg", true).unwrap_err();
        assert_eq!(e.code, Code::ERRCODE_INVALID_PARAMETER_VALUE);
        assert!(e
            .hint
            .unwrap()
            .contains("csv, tsv, json, geojson, geojsonseq or ttl"));
        assert_eq!(Format::parse_for("gpkg", false).unwrap(), Format::Gpkg);
        let e = Format::parse_for("shp", false).unwrap_err();
        assert!(e
            .hint
            .unwrap()
            .ends_with("geojsonseq, gpkg, ttl, dwca or parquet."));
    }

    #[test]
    fn gzip_names() {
        let gz = |format| FileFormat {
            format,
            compression: Compression::Gzip,
        };
        assert_eq!(FileFormat::parse("CSV.GZ"), Some(gz(Format::Csv)));
        assert_eq!(
            FileFormat::parse("geojsonl.gz"),
            Some(gz(Format::GeoJsonSeq))
        );
        assert_eq!(FileFormat::parse("csv"), Some(Format::Csv.into()));
        assert_eq!(FileFormat::parse("gpkg.gz"), None);
        assert_eq!(FileFormat::parse(".gz"), None);
        assert_eq!(FileFormat::parse("é.gz"), None);
        assert_eq!(gz(Format::GeoJsonSeq).name(), "geojsonseq.gz");
        assert_eq!(gz(Format::GeoJsonSeq).extension(), "geojsonl.gz");
        assert_eq!(gz(Format::Ttl).media_type(), "application/gzip");
        let e = FileFormat::parse_for("dwca.gz", false).unwrap_err();
        assert_eq!(e.code, Code::ERRCODE_INVALID_PARAMETER_VALUE);
        assert!(e.hint.unwrap().starts_with("Use 'dwca', or one of csv"));
        let e = FileFormat::parse_for("xml.gz", false).unwrap_err();
        assert!(e
            .hint
            .unwrap()
            .ends_with("geojsonseq or ttl followed by .gz."));
        // a container is refused where bytes are streamed, as by Format::parse_for
        let e = FileFormat::parse_for("gpkg", true).unwrap_err();
        assert!(e.message.contains("not a stream"), "{}", e.message);
        assert_eq!(
            FileFormat::of_file_name("Synthese.geojsonl.gz"),
            Some(("Synthese", gz(Format::GeoJsonSeq)))
        );
        assert_eq!(FileFormat::of_file_name("a.dwca.zip.gz"), None);
        assert_eq!(FileFormat::of_file_name("a.gz"), None);
        for s in REGISTRY
            .iter()
            .filter(|s| matches!(s.output, Output::Text(_)))
        {
            let f = gz(s.format);
            assert_eq!(
                FileFormat::of_file_name(&format!("x.{}", f.extension())),
                Some(("x", f))
            );
            assert_eq!(FileFormat::parse(&f.name()), Some(f));
        }
    }
}
