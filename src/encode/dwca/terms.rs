//! Darwin Core's terms (https://dwc.tdwg.org/list/), as a column name says them: the full IRI of
//! a term that an occurrence core's row may hold. Dublin Core's record-level terms that Darwin
//! Core uses are in their own namespace.

const DWC: &str = "http://rs.tdwg.org/dwc/terms/";
const DCTERMS: &str = "http://purl.org/dc/terms/";

const DCTERMS_TERMS: &[&str] = &[
    "type",
    "modified",
    "language",
    "license",
    "rightsHolder",
    "accessRights",
    "bibliographicCitation",
    "references",
];

/// Record-level, Occurrence, Organism, MaterialEntity, Event, Location, GeologicalContext,
/// Identification and Taxon terms.
#[rustfmt::skip]
const DWC_TERMS: &[&str] = &[
    // record level
    "institutionID", "collectionID", "datasetID", "institutionCode", "collectionCode",
    "datasetName", "ownerInstitutionCode", "basisOfRecord", "informationWithheld",
    "dataGeneralizations", "dynamicProperties",
    // occurrence
    "occurrenceID", "catalogNumber", "recordNumber", "recordedBy", "recordedByID",
    "individualCount", "organismQuantity", "organismQuantityType", "sex", "lifeStage",
    "reproductiveCondition", "caste", "behavior", "vitality", "establishmentMeans",
    "degreeOfEstablishment", "pathway", "georeferenceVerificationStatus", "occurrenceStatus",
    "associatedMedia", "associatedOccurrences", "associatedReferences", "associatedTaxa",
    "otherCatalogNumbers", "occurrenceRemarks",
    // organism
    "organismID", "organismName", "organismScope", "associatedOrganisms",
    "previousIdentifications", "organismRemarks",
    // material entity and sample
    "materialEntityID", "preparations", "disposition", "verbatimLabel",
    "associatedSequences", "materialEntityRemarks", "materialSampleID",
    // event
    "eventID", "parentEventID", "eventType", "fieldNumber", "eventDate", "eventTime",
    "startDayOfYear", "endDayOfYear", "year", "month", "day", "verbatimEventDate", "habitat",
    "samplingProtocol", "sampleSizeValue", "sampleSizeUnit", "samplingEffort", "fieldNotes",
    "eventRemarks",
    // location
    "locationID", "higherGeographyID", "higherGeography", "continent", "waterBody",
    "islandGroup", "island", "country", "countryCode", "stateProvince", "county",
    "municipality", "locality", "verbatimLocality", "minimumElevationInMeters",
    "maximumElevationInMeters", "verbatimElevation", "verticalDatum", "minimumDepthInMeters",
    "maximumDepthInMeters", "verbatimDepth", "minimumDistanceAboveSurfaceInMeters",
    "maximumDistanceAboveSurfaceInMeters", "locationAccordingTo", "locationRemarks",
    "decimalLatitude", "decimalLongitude", "geodeticDatum", "coordinateUncertaintyInMeters",
    "coordinatePrecision", "pointRadiusSpatialFit", "verbatimCoordinates", "verbatimLatitude",
    "verbatimLongitude", "verbatimCoordinateSystem", "verbatimSRS", "footprintWKT",
    "footprintSRS", "footprintSpatialFit", "georeferencedBy", "georeferencedDate",
    "georeferenceProtocol", "georeferenceSources", "georeferenceRemarks",
    // geological context
    "geologicalContextID", "earliestEonOrLowestEonothem", "latestEonOrHighestEonothem",
    "earliestEraOrLowestErathem", "latestEraOrHighestErathem", "earliestPeriodOrLowestSystem",
    "latestPeriodOrHighestSystem", "earliestEpochOrLowestSeries", "latestEpochOrHighestSeries",
    "earliestAgeOrLowestStage", "latestAgeOrHighestStage", "lowestBiostratigraphicZone",
    "highestBiostratigraphicZone", "lithostratigraphicTerms", "group", "formation", "member",
    "bed",
    // identification
    "identificationID", "verbatimIdentification", "identificationQualifier", "typeStatus",
    "identifiedBy", "identifiedByID", "dateIdentified", "identificationReferences",
    "identificationVerificationStatus", "identificationRemarks",
    // taxon
    "taxonID", "scientificNameID", "acceptedNameUsageID", "parentNameUsageID",
    "originalNameUsageID", "nameAccordingToID", "namePublishedInID", "taxonConceptID",
    "scientificName", "acceptedNameUsage", "parentNameUsage", "originalNameUsage",
    "nameAccordingTo", "namePublishedIn", "namePublishedInYear", "higherClassification",
    "kingdom", "phylum", "class", "order", "superfamily", "family", "subfamily", "tribe",
    "subtribe", "genus", "genericName", "subgenus", "infragenericEpithet", "specificEpithet",
    "infraspecificEpithet", "cultivarEpithet", "taxonRank", "verbatimTaxonRank",
    "scientificNameAuthorship", "vernacularName", "nomenclaturalCode", "taxonomicStatus",
    "nomenclaturalStatus", "taxonRemarks",
];

/// The IRI of the term a column is named after, if it is one (names are case-sensitive).
pub fn iri(column: &str) -> Option<String> {
    if DWC_TERMS.contains(&column) {
        Some(format!("{DWC}{column}"))
    } else if DCTERMS_TERMS.contains(&column) {
        Some(format!("{DCTERMS}{column}"))
    } else {
        None
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn terms_and_their_namespaces() {
        assert_eq!(
            iri("occurrenceID").as_deref(),
            Some("http://rs.tdwg.org/dwc/terms/occurrenceID")
        );
        assert_eq!(
            iri("license").as_deref(),
            Some("http://purl.org/dc/terms/license")
        );
        assert_eq!(iri("OccurrenceID"), None);
        assert_eq!(iri("id_synthese"), None);
        let mut all: Vec<&str> = DWC_TERMS.iter().chain(DCTERMS_TERMS).copied().collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a term is listed twice");
    }
}
