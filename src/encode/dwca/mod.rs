//! Darwin Core Archives (Darwin Core text guide; what GBIF and the SINP exchange): a zip with,
//! at its root, `occurrence.txt` (the core: tab-separated UTF-8, a header line, an `id` column,
//! then one column per Darwin Core term), `meta.xml` (its descriptor) and `eml.xml` (GBIF's
//! metadata profile). The export's view names its columns after Darwin Core terms; the other
//! columns are left out with a WARNING that lists them. Rows stream into the zip's deflate
//! stream: memory stays flat.
//!
//! The same rows give the same bytes (GBIF and portals see a new version only when the data
//! changed): the entries are dated 1980-01-01 00:00 (zip's first date, as reproducible builds
//! date theirs), the package id's version is the CRC-32 of `occurrence.txt`, and `pubDate` is
//! the latest `modified` of the rows where the view has that term (the generation's date
//! otherwise). Rows in the order of the key (a published file) also show repeated ids, which
//! make GBIF and the IPT reject a whole archive: refused (23505), naming them.

pub mod metadata;
pub mod terms;
#[cfg(test)]
mod tests;

use super::value::write_text;
use super::{ContentVersion, FileJob, FileWriter, Value};
use crate::error::io_error;
use crate::error::{GnError, GnResult};
use pgrx::PgSqlErrorCode as Code;
use std::fs::File;
use std::io::{BufWriter, Write};
use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// The terms GBIF requires of an occurrence core (the registry says so too).
pub const REQUIRED: &[&str] = &["occurrenceID", "basisOfRecord", "scientificName"];

/// An error of the zip writer: the disk's as `io_error` says them (53100 when full).
fn zip_error(what: &str, e: ZipError) -> GnError {
    let what = format!("Darwin Core Archive {what}");
    match e {
        ZipError::Io(io) => io_error(&what, io),
        e => GnError::new(Code::ERRCODE_IO_ERROR, format!("gn_export: {what}: {e}")),
    }
}

/// How many repeated ids an error names before the archive is given up.
const REPEATS_NAMED: usize = 5;

pub struct Archive {
    zip: ZipWriter<BufWriter<File>>,
    /// the id (the export's key) and the term columns, by index in the row
    id: usize,
    /// with rows in key order: the last id, and the ids seen on more than one row
    ids_in_order: bool,
    last_id: Vec<u8>,
    repeated: Vec<String>,
    /// the `modified` term's column, and the latest date (YYYY-MM-DD) it held
    modified: Option<usize>,
    latest: Vec<u8>,
    /// of occurrence.txt: its package version
    crc: crc32fast::Hasher,
    fields: Vec<usize>,
    term_iris: Vec<String>,
    line: Vec<u8>,
    field: Vec<u8>,
    bytes: u64,
    dataset: super::Dataset,
}

/// The columns named after terms, and the error of a view without GBIF's required ones.
fn term_columns(job: &FileJob) -> GnResult<(Vec<usize>, Vec<String>)> {
    let columns = &job.layout.columns;
    let mut fields = Vec::new();
    let mut iris = Vec::new();
    let mut others = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        match terms::iri(&c.name) {
            Some(iri) => {
                fields.push(i);
                iris.push(iri);
            }
            None if c.name == job.dataset.key => {}
            None => others.push(c.name.as_str()),
        }
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|t| !columns.iter().any(|c| c.name == *t))
        .collect();
    if !missing.is_empty() {
        return Err(GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "{}: a Darwin Core Archive needs the columns {} (GBIF's required terms)",
                job.dataset.name,
                missing.join(", ")
            ),
        )
        .hint("Name the view's columns after Darwin Core terms (https://dwc.tdwg.org/terms/), e.g. SELECT unique_id_sinp AS \"occurrenceID\"; on GeoNature, SELECT gn_export.install_dwc_view() makes such a view of the Synthese."));
    }
    if !others.is_empty() {
        (job.backend.warning)(&format!(
            "gn_export: {}: columns that are not Darwin Core terms are left out of the archive: {}",
            job.dataset.name,
            others.join(", ")
        ));
    }
    Ok((fields, iris))
}

/// The registry's constructor: the archive at the job's path, its core file begun.
pub fn create(job: &FileJob) -> GnResult<Box<dyn FileWriter>> {
    let (fields, term_iris) = term_columns(job)?;
    let id = job
        .layout
        .columns
        .iter()
        .position(|c| c.name == job.dataset.key)
        .unwrap_or(fields[0]);
    if metadata::gbif_licence(
        job.dataset.licence_name.as_deref(),
        job.dataset.licence_url.as_deref(),
    )
    .is_none()
    {
        (job.backend.warning)(&format!(
            "gn_export: {}: GBIF accepts only CC0 1.0, CC BY 4.0 and CC BY-NC 4.0, not the export's licence ({})",
            job.dataset.name,
            job.dataset.licence_name.as_deref().unwrap_or("none")
        ));
    }
    // the file created exclusively for us, by its descriptor: never reopened by its name
    let file = job
        .file
        .try_clone()
        .map_err(|e| io_error("Darwin Core Archive", e))?;
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 17, file));
    zip.start_file("occurrence.txt", options())
        .map_err(|e| zip_error("occurrence.txt", e))?;
    let modified = job.layout.columns.iter().position(|c| c.name == "modified");
    let mut a = Archive {
        zip,
        id,
        ids_in_order: job.rows_in_key_order,
        last_id: Vec::new(),
        repeated: Vec::new(),
        modified,
        latest: Vec::new(),
        crc: crc32fast::Hasher::new(),
        fields,
        term_iris,
        line: Vec::with_capacity(1 << 12),
        field: Vec::with_capacity(256),
        bytes: 0,
        dataset: job.dataset.clone(),
    };
    a.line.extend_from_slice(b"id");
    for &i in &a.fields {
        a.line.push(b'\t');
        a.line
            .extend_from_slice(job.layout.columns[i].name.as_bytes());
    }
    a.end_line()?;
    Ok(Box::new(a))
}

/// Every entry is dated 1980-01-01 00:00, zip's first date: a date of the generation would make
/// each night's archive a new one.
fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true)
        .last_modified_time(DateTime::default())
}

/// The date (YYYY-MM-DD) a `modified` value begins with, if it does.
fn date_of(text: &[u8]) -> Option<&[u8]> {
    let d = text.get(..10)?;
    let digits = |r: std::ops::Range<usize>| d[r].iter().all(u8::is_ascii_digit);
    (digits(0..4) && d[4] == b'-' && digits(5..7) && d[7] == b'-' && digits(8..10)).then_some(d)
}

impl Archive {
    /// A value as a field: its text with tabs and line breaks made spaces (the text guide has
    /// no escaping: readers split on them).
    fn push_field(&mut self, v: &Value) {
        self.field.clear();
        if write_text(v, &mut self.field) {
            for b in &mut self.field {
                if matches!(*b, b'\t' | b'\n' | b'\r') {
                    *b = b' ';
                }
            }
            self.line.extend_from_slice(&self.field);
        }
    }

    /// Notes the row's id (in `field`) when it repeats the last one; refuses the archive once
    /// enough are named.
    fn check_id(&mut self) -> GnResult<()> {
        if self.last_id == self.field {
            let id = String::from_utf8_lossy(&self.field).into_owned();
            if self.repeated.last() != Some(&id) {
                self.repeated.push(id);
            }
            if self.repeated.len() >= REPEATS_NAMED {
                return Err(self.repeated_ids());
            }
        } else {
            self.last_id.clear();
            self.last_id.extend_from_slice(&self.field);
        }
        Ok(())
    }

    fn repeated_ids(&self) -> GnError {
        let some = if self.repeated.len() >= REPEATS_NAMED {
            " (the first ones)"
        } else {
            ""
        };
        GnError::new(
            Code::ERRCODE_UNIQUE_VIOLATION,
            format!(
                "{}: {} values are on more than one row: {}{some}; GBIF and the IPT reject a whole archive whose ids repeat",
                self.dataset.name,
                self.dataset.key,
                self.repeated
                    .iter()
                    .map(|id| format!("\"{id}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .hint(format!(
            "Each record needs an id of its own (on GeoNature, the Synthese's unique_id_sinp); list them all with SELECT \"{k}\", count(*) FROM <the view> GROUP BY 1 HAVING count(*) > 1.",
            k = self.dataset.key.replace('"', "\"\"")
        ))
    }

    fn end_line(&mut self) -> GnResult<()> {
        self.line.push(b'\n');
        self.crc.update(&self.line);
        self.zip
            .write_all(&self.line)
            .map_err(|e| io_error("Darwin Core Archive occurrence.txt", e))?;
        self.bytes += self.line.len() as u64;
        self.line.clear();
        Ok(())
    }
}

impl FileWriter for Archive {
    fn row(&mut self, values: &[Value]) -> GnResult<()> {
        if let Some(m) = self.modified {
            // read, not written: the term has its own column further on
            self.field.clear();
            if write_text(&values[m], &mut self.field) {
                if let Some(d) = date_of(&self.field) {
                    if d > self.latest.as_slice() {
                        self.latest = d.to_vec();
                    }
                }
            }
        }
        self.push_field(&values[self.id]);
        if self.ids_in_order {
            self.check_id()?;
        }
        for k in 0..self.fields.len() {
            self.line.push(b'\t');
            self.push_field(&values[self.fields[k]]);
        }
        self.end_line()
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }

    fn finish(self: Box<Self>) -> GnResult<Option<ContentVersion>> {
        let mut me = *self;
        if !me.repeated.is_empty() {
            return Err(me.repeated_ids());
        }
        let meta = metadata::meta_xml(&me.term_iris);
        let version = format!("{}/v{:08x}", me.dataset.package_id, me.crc.finalize());
        let date = if me.latest.is_empty() {
            me.dataset.pub_date.clone()
        } else {
            String::from_utf8_lossy(&me.latest).into_owned()
        };
        let eml = eml(&me.dataset, &version, &date);
        for (name, text) in [("meta.xml", meta), ("eml.xml", eml)] {
            me.zip
                .start_file(name, options())
                .and_then(|_| me.zip.write_all(text.as_bytes()).map_err(Into::into))
                .map_err(|e| zip_error(name, e))?;
        }
        let out = me.zip.finish().map_err(|e| zip_error("finish", e))?;
        out.into_inner()
            .map_err(|e| io_error("Darwin Core Archive", e.into_error()))?
            .sync_all()
            .map_err(|e| io_error("Darwin Core Archive fsync", e))?;
        // dated by its data (`modified`), not by the clock: nothing to keep from a version
        Ok(None)
    }
}

/// The export's `eml.xml`, for this version of its data, published on that date.
fn eml(d: &super::Dataset, package_id: &str, pub_date: &str) -> String {
    metadata::eml_xml(&metadata::Dataset {
        package_id,
        title: &d.label,
        abstract_text: d.description.as_deref(),
        licence_name: d.licence_name.as_deref(),
        licence_url: d.licence_url.as_deref(),
        organization: &d.organization,
        email: d.email.as_deref(),
        pub_date,
        language: "fr",
    })
}
