"""Reads a Darwin-SW Turtle file with rdflib and checks it as its readers would. Prints one
line per check, "name: value", for the shell test to compare.

    check_dsw.py export.ttl truth.csv
truth.csv: permId;y_centroid;x_centroid of every row of the exported view (duplicates kept).
"""
import csv
import sys

from rdflib import Graph, Literal, Namespace, RDF, URIRef
from rdflib.namespace import XSD

DWC = Namespace("http://rs.tdwg.org/dwc/terms/")
DWCIRI = Namespace("http://rs.tdwg.org/dwc/iri/")
DSW = Namespace("http://purl.org/dsw/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")

# Darwin Core terms (https://dwc.tdwg.org/list/, the dwc: namespace), Darwin-SW's object
# properties (dsw.owl), the dcterms record-level terms Darwin Core uses, and foaf's Agent/name.
DWC_TERMS = set("""
Occurrence Event Location Organism Identification Taxon MaterialEntity GeologicalContext
basisOfRecord occurrenceID occurrenceStatus occurrenceRemarks organismQuantity organismQuantityType
individualCount establishmentMeans degreeOfEstablishment lifeStage sex recordedBy recordedByID
dataGeneralizations informationWithheld datasetID datasetName ownerInstitutionCode institutionCode
eventID parentEventID eventDate eventRemarks samplingProtocol decimalLatitude decimalLongitude
geodeticDatum coordinateUncertaintyInMeters footprintWKT footprintSRS minimumElevationInMeters
maximumElevationInMeters minimumDepthInMeters maximumDepthInMeters verbatimIdentification
identifiedBy identificationRemarks identificationVerificationStatus taxonID acceptedNameUsageID
scientificName nameAccordingTo taxonRank kingdom phylum class order family genus vernacularName
country countryCode stateProvince county municipality locality
""".split())
DWCIRI_TERMS = {"toTaxon", "recordedBy", "identifiedBy"}
DSW_TERMS = set("""
atEvent derivedFrom eventOf evidenceFor georefBy hasDerivative hasEvidence hasIdentification
hasOccurrence idBasedOn idBy identifies individualOrganismRemarks isBasisForId locatedAt locates
occurrenceOf recBy taxonOfId toTaxon
""".split())
DCTERMS_TERMS = {"Location", "language", "modified", "license", "rightsHolder", "accessRights",
                 "bibliographicCitation", "references", "type"}
FOAF_TERMS = {"Agent", "name"}


def known(iri):
    s = str(iri)
    for ns, terms in ((DWC, DWC_TERMS), (DWCIRI, DWCIRI_TERMS), (DSW, DSW_TERMS),
                      (DCTERMS, DCTERMS_TERMS), (FOAF, FOAF_TERMS)):
        if s.startswith(str(ns)):
            return s[len(str(ns)):] in terms
    return s == str(RDF.type)


def main(path, truth_path):
    g = Graph()
    g.parse(path, format="turtle")
    with open(truth_path, newline="") as f:
        truth = [r for r in csv.reader(f, delimiter=";")]
    perm_ids = {r[0] for r in truth}
    occurrences = set(g.subjects(RDF.type, DWC.Occurrence))
    print("rows in the view:", len(truth))
    counted = g.query("SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?o a dwc:Occurrence }",
                      initNs={"dwc": DWC})
    print("occurrences = distinct permId:", int(next(iter(counted))[0]) == len(perm_ids))
    print("occurrence IRIs are urn:uuid of permId:",
          {str(o) for o in occurrences} == {f"urn:uuid:{p}" for p in perm_ids})
    nones = g.query('SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER (isLiteral(?o) && STR(?o) = "None") }')
    print("literals 'None':", int(next(iter(nones))[0]))
    unknown = sorted({str(p) for p in g.predicates() if not known(p)}
                     | {str(c) for c in g.objects(None, RDF.type) if not known(c)})
    print("terms outside Darwin Core, Darwin-SW, dcterms, foaf:", unknown)
    print("IRIs under http://purl.org/dc/terms without its slash:",
          sum(1 for t in g for x in t if isinstance(x, URIRef)
              and str(x).startswith("http://purl.org/dc/terms") and not str(x).startswith(str(DCTERMS))))
    bad_lat = 0
    for perm, y, x in truth:
        loc = URIRef(f"urn:uuid:{perm}#location")
        lat = g.value(loc, DWC.decimalLatitude)
        lon = g.value(loc, DWC.decimalLongitude)
        if y == "":
            bad_lat += lat is not None
        elif lat is None or abs(float(lat) - float(y)) > 1e-9 or abs(float(lon) - float(x)) > 1e-9:
            bad_lat += 1
    print("latitudes that are not ST_Y (or longitudes not ST_X):", bad_lat)
    types = {(str(p).rsplit("/", 1)[-1], str(o.datatype).rsplit("#", 1)[-1])
             for p in (DWC.decimalLatitude, DCTERMS.modified) for o in g.objects(None, p)}
    print("datatypes:", sorted(types))
    print("event dates with fractions of seconds:",
          sum(1 for o in g.objects(None, DWC.eventDate) if "." in str(o)))
    linked = all(
        (o, DSW.atEvent, URIRef(f"{o}#event")) in g
        and (URIRef(f"{o}#event"), DSW.locatedAt, URIRef(f"{o}#location")) in g
        and (o, DSW.occurrenceOf, URIRef(f"{o}#organism")) in g
        and (URIRef(f"{o}#identification"), DSW.identifies, URIRef(f"{o}#organism")) in g
        and (URIRef(f"{o}#identification"), DSW.toTaxon, URIRef(f"{o}#taxon")) in g
        for o in occurrences)
    print("every occurrence linked to its event, location, organism, identification, taxon:", linked)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
