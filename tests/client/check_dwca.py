"""Opens a Darwin Core Archive with python-dwca-reader (as GBIF's tools read them) and compares
it with the export's view. Prints one line per check for the shell test to compare.

    check_dwca.py archive.zip truth.csv key
truth.csv: the view as COPY ... (FORMAT csv, HEADER) writes it; key: the export's key column.
"""
import csv
import sys

from dwca.read import DwCAReader

DWC = "http://rs.tdwg.org/dwc/terms/"
DCTERMS = "http://purl.org/dc/terms/"
DCTERMS_TERMS = {"type", "modified", "language", "license", "rightsHolder", "accessRights",
                 "bibliographicCitation", "references"}


def iri(name):
    return (DCTERMS if name in DCTERMS_TERMS else DWC) + name


def main(path, truth_path, key):
    with open(truth_path, newline="", encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    with DwCAReader(path) as dwca:
        core = dwca.descriptor.core
        print("core row type:", core.type)
        print("core encoding:", core.file_encoding)
        rows = list(dwca)
        print("rows: archive = view:", len(rows) == len(truth), len(rows))
        by_id = {r.id: r for r in rows}
        terms = [t for t in truth[0].keys() if t != key] if truth else []
        wrong = 0
        for t in truth:
            row = by_id.get(t[key])
            if row is None:
                wrong += 1
                continue
            for name in terms:
                expected = " ".join(t[name].replace("\r", " ").replace("\t", " ").split("\n")) if t[name] else ""
                got = row.data.get(iri(name), "")
                if got != expected.replace("\n", " "):
                    wrong += 1
                    if wrong < 3:
                        print("  differs:", t[key], name, repr(got), repr(expected))
        print("rows whose values differ from the view:", wrong)
        print("fields are terms:", all(f["term"].startswith((DWC, DCTERMS)) for f in core.fields))
        eml = dwca.metadata
        title = eml.find("dataset/title")
        print("eml title:", title.text if title is not None else None)
        print("eml packageId:", eml.get("packageId"))
        rights = eml.find("dataset/intellectualRights/para")
        print("eml has a licence:", rights is not None and "".join(rights.itertext()).strip() != "")
        print("eml language:", eml.findtext("dataset/language"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
