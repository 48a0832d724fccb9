//! Darwin-SW 1.0 in Turtle: per observation, an occurrence with its record-level terms, the
//! event it was recorded at, the event's location, the organism, its identification, the taxon
//! identified, and the agents who recorded and identified it, linked by Darwin-SW's object
//! properties. It keeps the structure of GeoNature's semantic export (`rdf.py` of the EXPORT
//! module) over the columns of its view `gn_exports.v_exports_synthese_sinp_rdf`, without its
//! defects: real terms only, the dcterms namespace with its slash, latitude from y, no triple
//! for NULL, typed literals, and IRIs minted from the SINP UUID (`urn:uuid:…`, one fragment per
//! node), so that two runs or two providers merge and repeated rows collapse in the graph.
//! Streamed row by row; blank nodes only for agents and for rows without a UUID.

mod lexical;

use super::value::{write_text, Value};
use super::{EncodeError, Encoder, Layout};
use crate::error::{GnError, GnResult};
use crate::fnv::{fnv1a, fnv1a_more};
use lexical::{basis_of_record, is_xsd_datetime, occurrence_status, string, uuid_text};
use pgrx::PgSqlErrorCode as Code;
use std::fmt::Write as _;

const PREFIXES: &str = "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dwc: <http://rs.tdwg.org/dwc/terms/> .
@prefix dwciri: <http://rs.tdwg.org/dwc/iri/> .
@prefix dsw: <http://purl.org/dsw/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .

";

/// The columns without which rows cannot be written as Darwin-SW (the registry says so too).
pub const REQUIRED: &[&str] = &["permId"];

/// The view's columns Darwin-SW reads, in the module's names, then the terms the SINP diffusion
/// rule adds (`gn_exports.v_synthese_dsw`), all optional.
pub const COLUMNS: [&str; 31] = [
    "permId",
    "permIdGrp",
    "dateDebut",
    "dateFin",
    "obsCtx",
    "geom",
    "x_centroid",
    "y_centroid",
    "altMin",
    "altMax",
    "statObs",
    "statSource",
    "obsDescr",
    "denbrMin",
    "objDenbr",
    "ocNat",
    "ocStade",
    "ocSex",
    "observer",
    "determiner",
    "difNivPrec",
    "jddId",
    "jddCode",
    "ownerInstitutionCode",
    "lastact",
    "nomCite",
    "coordinateUncertaintyInMeters",
    "municipality",
    "county",
    "dataGeneralizations",
    "informationWithheld",
];
/// ... and the taxon's.
pub const TAXON_COLUMNS: [&str; 4] = ["cdNom", "cdRef", "nom_complet", "vTAXREF"];

/// The registry's constructor: refuses rows without `permId`, naming what Darwin-SW reads.
pub fn encoder(layout: &Layout) -> GnResult<Box<dyn Encoder>> {
    let find = |name: &str| layout.columns.iter().position(|c| c.name == name);
    if REQUIRED.iter().any(|c| find(c).is_none()) {
        return Err(GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            "Darwin-SW (ttl) needs a column \"permId\" (the SINP UUID of each observation)",
        )
        .hint(format!(
            "Darwin-SW reads the columns of GeoNature's view gn_exports.v_exports_synthese_sinp_rdf: {}, {}. Name the view's columns so.",
            COLUMNS.join(", "),
            TAXON_COLUMNS.join(", ")
        )));
    }
    Ok(Box::new(Dsw {
        cols: COLUMNS.map(find),
        taxon: TAXON_COLUMNS.map(find),
        text: Vec::with_capacity(256),
    }))
}

pub struct Dsw {
    cols: [Option<usize>; 31],
    taxon: [Option<usize>; 4],
    text: Vec<u8>,
}

/// A node of one observation: `<urn:uuid:U#part>`, or `_:rH_part` without a UUID, H a hash of
/// the row's values. Labels never depend on a row's place in the output: pages of dsw() or of
/// run() concatenated into one document keep their observations apart, and an unchanged export
/// gives the same bytes.
#[derive(Clone, Copy)]
enum Base<'a> {
    Uuid(&'a str),
    Blank(u64),
}

impl Base<'_> {
    /// The blank node label of the observation's `k`th agent of `part`:
    /// `_:u<the UUID's digits>_<part><k>`, or `_:r<the row's hash>_<part><k>`.
    fn agent_label(self, part: &str, k: usize) -> String {
        let mut label = String::with_capacity(56);
        match self {
            Base::Uuid(u) => {
                label.push_str("_:u");
                label.extend(u.chars().filter(|c| *c != '-'));
            }
            Base::Blank(h) => {
                let _ = write!(label, "_:r{h:016x}");
            }
        }
        let _ = write!(label, "_{part}{k}");
        label
    }

    /// Written straight into the output: a row refers to its nodes some twenty times.
    fn node(self, part: &str, out: &mut Vec<u8>) {
        match self {
            Base::Uuid(u) => {
                out.extend_from_slice(b"<urn:uuid:");
                out.extend_from_slice(u.as_bytes());
                if !part.is_empty() {
                    out.push(b'#');
                    out.extend_from_slice(part.as_bytes());
                }
                out.push(b'>');
            }
            Base::Blank(h) => {
                let _ = std::io::Write::write_fmt(out, format_args!("_:r{h:016x}_{part}"));
            }
        }
    }
}

/// The index of a column name in [`COLUMNS`], found at compile time (see `col!`).
const fn at(name: &str) -> usize {
    let mut i = 0;
    while i < COLUMNS.len() {
        let (a, b) = (COLUMNS[i].as_bytes(), name.as_bytes());
        let mut same = a.len() == b.len();
        let mut k = 0;
        while same && k < a.len() {
            same = a[k] == b[k];
            k += 1;
        }
        if same {
            return i;
        }
        i += 1;
    }
    panic!("not a column Darwin-SW reads")
}

/// A column of [`COLUMNS`] by name, resolved when compiling: rows look nothing up by name.
macro_rules! col {
    ($name:literal) => {{
        const I: usize = at($name);
        I
    }};
}

/// One subject's triples: `S a C ; p o ; … .`
struct Subject<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> Subject<'o> {
    fn start(out: &'o mut Vec<u8>, base: Base, part: &str, class: &str) -> Subject<'o> {
        base.node(part, out);
        out.extend_from_slice(b" a ");
        out.extend_from_slice(class.as_bytes());
        Subject { out }
    }

    fn pred(&mut self, p: &str) -> &mut Vec<u8> {
        self.out.extend_from_slice(b" ;\n\t");
        self.out.extend_from_slice(p.as_bytes());
        self.out.push(b' ');
        self.out
    }

    fn literal(&mut self, p: &str, text: &[u8]) {
        string(text, self.pred(p));
    }

    fn typed(&mut self, p: &str, text: &[u8], datatype: &str) {
        let out = self.pred(p);
        string(text, out);
        out.extend_from_slice(b"^^");
        out.extend_from_slice(datatype.as_bytes());
    }

    /// A typed literal whose text needs no escaping (a number).
    fn number(&mut self, p: &str, n: impl std::fmt::Display, datatype: &str) {
        use std::io::Write;
        let out = self.pred(p);
        let _ = write!(out, "\"{n}\"^^{datatype}");
    }

    fn node(&mut self, p: &str, base: Base, part: &str) {
        base.node(part, self.pred(p));
    }

    fn end(self) {
        self.out.extend_from_slice(b" .\n");
    }
}

impl Dsw {
    /// The text of a column's non-null value in `self.text`.
    fn text_of(&mut self, values: &[Value], col: Option<usize>) -> bool {
        self.text.clear();
        col.and_then(|i| values.get(i))
            .is_some_and(|v| write_text(v, &mut self.text))
    }

    /// FNV-1a of the row's values as text, each followed by 0xff (which UTF-8 text never
    /// holds): the stable label of an observation without a UUID.
    fn hash(&mut self, values: &[Value]) -> u64 {
        let mut h = fnv1a(b"");
        for v in values {
            self.text.clear();
            write_text(v, &mut self.text);
            self.text.push(0xff);
            h = fnv1a_more(h, &self.text);
        }
        h
    }

    /// Where the rows hold column `i` of [`COLUMNS`] (`col!("name")`), if they do.
    fn column(&self, i: usize) -> Option<usize> {
        self.cols[i]
    }

    /// A plain literal of a column, when it is not NULL.
    fn literal(&mut self, s: &mut Subject, p: &str, values: &[Value], col: usize) {
        if self.text_of(values, self.column(col)) {
            s.literal(p, &self.text);
        }
    }

    /// A number (`xsd:decimal`, or `xsd:integer` for integers), when it is finite.
    fn number(&mut self, s: &mut Subject, p: &str, values: &[Value], col: usize) {
        let v = self.column(col).and_then(|i| values.get(i));
        match v {
            Some(Value::Int(i)) => s.number(p, i, "xsd:integer"),
            // Display never writes an exponent, which xsd:decimal has none of
            Some(Value::Float8(f)) if f.is_finite() => s.number(p, f, "xsd:decimal"),
            Some(Value::Float4(f)) if f.is_finite() => s.number(p, f, "xsd:decimal"),
            Some(Value::Numeric(n))
                if n.bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') =>
            {
                s.number(p, n, "xsd:decimal")
            }
            _ => {}
        }
    }

    /// One `foaf:Agent` per name of a column's comma-separated list, linked from `s` by
    /// `link`; their blank node labels are the observation's (see [`Base::agent_label`]).
    fn agents(
        &mut self,
        s: &mut Subject,
        link: &str,
        values: &[Value],
        col: usize,
        (base, part): (Base, &str),
    ) -> Vec<(String, String)> {
        if !self.text_of(values, self.column(col)) {
            return Vec::new();
        }
        let text = String::from_utf8_lossy(&self.text).into_owned();
        let mut agents = Vec::new();
        for (k, name) in text
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .enumerate()
        {
            let label = base.agent_label(part, k);
            s.pred(link).extend_from_slice(label.as_bytes());
            agents.push((label, name.to_string()));
        }
        agents
    }
}

fn write_agents(agents: &[(String, String)], out: &mut Vec<u8>) {
    for (label, name) in agents {
        out.extend_from_slice(label.as_bytes());
        out.extend_from_slice(b" a foaf:Agent ;\n\tfoaf:name ");
        string(name.as_bytes(), out);
        out.extend_from_slice(b" .\n");
    }
}

impl Encoder for Dsw {
    fn header(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(PREFIXES.as_bytes());
    }

    fn row(&mut self, values: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let id = if self.text_of(values, self.column(col!("permId"))) {
            uuid_text(&self.text)
        } else {
            None
        };
        let base = match &id {
            Some(u) => Base::Uuid(u),
            None => Base::Blank(self.hash(values)),
        };
        let mut agents = self.occurrence(values, base, out);
        self.event(values, base, out);
        self.location(values, base, out);
        let mut o = Subject::start(out, base, "organism", "dwc:Organism");
        o.node("dsw:hasOccurrence", base, "");
        o.node("dsw:hasIdentification", base, "identification");
        o.end();
        agents.extend(self.identification(values, base, out));
        self.taxon(values, base, out);
        write_agents(&agents, out);
        Ok(())
    }

    fn footer(&mut self, _out: &mut Vec<u8>) {}
}

impl Dsw {
    /// The occurrence and its record-level terms; returns the agents who recorded it.
    fn occurrence(
        &mut self,
        values: &[Value],
        base: Base,
        out: &mut Vec<u8>,
    ) -> Vec<(String, String)> {
        let mut s = Subject::start(out, base, "", "dwc:Occurrence");
        self.literal(&mut s, "dwc:occurrenceID", values, col!("permId"));
        let basis = if self.text_of(values, self.column(col!("statSource"))) {
            basis_of_record(&String::from_utf8_lossy(&self.text))
        } else {
            "Occurrence"
        };
        s.literal("dwc:basisOfRecord", basis.as_bytes());
        // what the diffusion rule did, or else the module's diffusion level
        let generalizations = if self.column(col!("dataGeneralizations")).is_some() {
            col!("dataGeneralizations")
        } else {
            col!("difNivPrec")
        };
        if self.text_of(values, self.column(col!("statObs"))) {
            let status = occurrence_status(&String::from_utf8_lossy(&self.text));
            s.literal("dwc:occurrenceStatus", status.as_bytes());
        }
        for (p, c) in [
            ("dwc:occurrenceRemarks", col!("obsDescr")),
            ("dwc:organismQuantity", col!("denbrMin")),
            ("dwc:organismQuantityType", col!("objDenbr")),
            ("dwc:establishmentMeans", col!("ocNat")),
            ("dwc:lifeStage", col!("ocStade")),
            ("dwc:sex", col!("ocSex")),
            ("dwc:recordedBy", col!("observer")),
            ("dwc:dataGeneralizations", generalizations),
            ("dwc:informationWithheld", col!("informationWithheld")),
            ("dwc:datasetID", col!("jddId")),
            ("dwc:datasetName", col!("jddCode")),
            ("dwc:ownerInstitutionCode", col!("ownerInstitutionCode")),
        ] {
            self.literal(&mut s, p, values, c);
        }
        s.literal("dcterms:language", b"fr");
        if self.text_of(values, self.column(col!("lastact"))) {
            if is_xsd_datetime(&self.text) {
                s.typed("dcterms:modified", &self.text, "xsd:dateTime");
            } else {
                s.literal("dcterms:modified", &self.text);
            }
        }
        s.node("dsw:atEvent", base, "event");
        s.node("dsw:occurrenceOf", base, "organism");
        let agents = self.agents(
            &mut s,
            "dsw:recBy",
            values,
            col!("observer"),
            (base, "recordedBy"),
        );
        s.end();
        agents
    }

    fn event(&mut self, values: &[Value], base: Base, out: &mut Vec<u8>) {
        let mut s = Subject::start(out, base, "event", "dwc:Event");
        let start = self
            .text_of(values, self.column(col!("dateDebut")))
            .then(|| self.text.clone());
        let end = self
            .text_of(values, self.column(col!("dateFin")))
            .then(|| self.text.clone());
        let date = match (start, end) {
            (Some(a), Some(b)) if a != b => Some([a, b"/".to_vec(), b].concat()),
            (Some(a), _) => Some(a),
            (None, b) => b,
        };
        if let Some(d) = date {
            s.literal("dwc:eventDate", &d);
        }
        self.literal(&mut s, "dwc:eventRemarks", values, col!("obsCtx"));
        let grp = self
            .text_of(values, self.column(col!("permIdGrp")))
            .then(|| self.text.clone());
        let occ = self
            .text_of(values, self.column(col!("permId")))
            .then(|| self.text.clone());
        if let Some(g) = grp.filter(|g| Some(g) != occ.as_ref()) {
            s.literal("dwc:parentEventID", &g);
        }
        s.node("dsw:eventOf", base, "");
        s.node("dsw:locatedAt", base, "location");
        s.end();
    }

    fn location(&mut self, values: &[Value], base: Base, out: &mut Vec<u8>) {
        let mut s = Subject::start(out, base, "location", "dcterms:Location");
        // GeoNature's RDF view gives the centroid and the WKT in EPSG:4326
        let before = s.out.len();
        self.number(&mut s, "dwc:decimalLatitude", values, col!("y_centroid"));
        self.number(&mut s, "dwc:decimalLongitude", values, col!("x_centroid"));
        if s.out.len() > before {
            s.literal("dwc:geodeticDatum", b"EPSG:4326");
        }
        self.number(
            &mut s,
            "dwc:coordinateUncertaintyInMeters",
            values,
            col!("coordinateUncertaintyInMeters"),
        );
        if self.text_of(values, self.column(col!("geom"))) {
            s.literal("dwc:footprintWKT", &self.text);
            s.literal("dwc:footprintSRS", b"EPSG:4326");
        }
        self.number(
            &mut s,
            "dwc:minimumElevationInMeters",
            values,
            col!("altMin"),
        );
        self.number(
            &mut s,
            "dwc:maximumElevationInMeters",
            values,
            col!("altMax"),
        );
        self.literal(&mut s, "dwc:municipality", values, col!("municipality"));
        self.literal(&mut s, "dwc:county", values, col!("county"));
        s.end();
    }

    /// The identification; returns the agents who made it.
    fn identification(
        &mut self,
        values: &[Value],
        base: Base,
        out: &mut Vec<u8>,
    ) -> Vec<(String, String)> {
        let mut s = Subject::start(out, base, "identification", "dwc:Identification");
        self.literal(
            &mut s,
            "dwc:verbatimIdentification",
            values,
            col!("nomCite"),
        );
        self.literal(&mut s, "dwc:identifiedBy", values, col!("determiner"));
        s.node("dsw:identifies", base, "organism");
        s.node("dsw:toTaxon", base, "taxon");
        self.text.clear();
        let cd_ref = self.taxon[1].and_then(|i| values.get(i));
        if cd_ref.is_some_and(|v| write_text(v, &mut self.text))
            && !self.text.is_empty()
            && self.text.iter().all(u8::is_ascii_digit)
        {
            let iri = format!(
                "<http://taxref.mnhn.fr/lod/taxon/{}>",
                String::from_utf8_lossy(&self.text)
            );
            s.pred("dwciri:toTaxon").extend_from_slice(iri.as_bytes());
        }
        let agents = self.agents(
            &mut s,
            "dsw:idBy",
            values,
            col!("determiner"),
            (base, "identifiedBy"),
        );
        s.end();
        agents
    }

    fn taxon(&mut self, values: &[Value], base: Base, out: &mut Vec<u8>) {
        let mut s = Subject::start(out, base, "taxon", "dwc:Taxon");
        for (k, p) in [
            "dwc:taxonID",
            "dwc:acceptedNameUsageID",
            "dwc:scientificName",
            "dwc:nameAccordingTo",
        ]
        .iter()
        .enumerate()
        {
            if self.text_of(values, self.taxon[k]) {
                s.literal(p, &self.text);
            }
        }
        s.end();
    }
}
