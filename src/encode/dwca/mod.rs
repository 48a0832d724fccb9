//! Darwin Core Archives (Darwin Core text guide; what GBIF and the SINP exchange): a zip with,
//! at its root, `occurrence.txt` (the core: tab-separated UTF-8, a header line, an `id` column,
//! then one column per Darwin Core term), `meta.xml` (its descriptor) and `eml.xml` (GBIF's
//! metadata profile). The export's view names its columns after Darwin Core terms; the other
//! columns are left out with a WARNING that lists them. Rows stream into the zip's deflate
//! stream: memory stays flat.

pub mod metadata;
pub mod terms;
#[cfg(test)]
mod tests;

use super::value::write_text;
use super::{FileJob, FileWriter, Value};
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

pub struct Archive {
    zip: ZipWriter<BufWriter<File>>,
    /// the entries' date
    modified: DateTime,
    /// the id (the export's key) and the term columns, by index in the row
    id: usize,
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
    let modified = now(&job.dataset.local_time)?;
    zip.start_file("occurrence.txt", options(modified))
        .map_err(|e| zip_error("occurrence.txt", e))?;
    let mut a = Archive {
        zip,
        modified,
        id,
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

fn options(modified: DateTime) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true)
        .last_modified_time(modified)
}

/// The generation's local time, for the entries' dates (zip has no time zone).
fn now(parts: &[i32; 6]) -> GnResult<DateTime> {
    let p = |i: usize| parts.get(i).copied().unwrap_or(0);
    Ok(DateTime::from_date_and_time(
        p(0).clamp(1980, 2107) as u16,
        p(1) as u8,
        p(2) as u8,
        p(3) as u8,
        p(4) as u8,
        p(5) as u8,
    )
    .unwrap_or_default())
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

    fn end_line(&mut self) -> GnResult<()> {
        self.line.push(b'\n');
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
        self.push_field(&values[self.id]);
        for k in 0..self.fields.len() {
            self.line.push(b'\t');
            self.push_field(&values[self.fields[k]]);
        }
        self.end_line()
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }

    fn finish(self: Box<Self>) -> GnResult<()> {
        let mut me = *self;
        let meta = metadata::meta_xml(&me.term_iris);
        let eml = eml(&me.dataset);
        for (name, text) in [("meta.xml", meta), ("eml.xml", eml)] {
            me.zip
                .start_file(name, options(me.modified))
                .and_then(|_| me.zip.write_all(text.as_bytes()).map_err(Into::into))
                .map_err(|e| zip_error(name, e))?;
        }
        let out = me.zip.finish().map_err(|e| zip_error("finish", e))?;
        out.into_inner()
            .map_err(|e| io_error("Darwin Core Archive", e.into_error()))?
            .sync_all()
            .map_err(|e| io_error("Darwin Core Archive fsync", e))
    }
}

/// The export's `eml.xml`.
fn eml(d: &super::Dataset) -> String {
    metadata::eml_xml(&metadata::Dataset {
        package_id: &d.package_id,
        title: &d.label,
        abstract_text: d.description.as_deref(),
        licence_name: d.licence_name.as_deref(),
        licence_url: d.licence_url.as_deref(),
        organization: &d.organization,
        email: d.email.as_deref(),
        pub_date: &d.pub_date,
        language: "fr",
    })
}
