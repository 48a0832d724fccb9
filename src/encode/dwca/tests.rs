//! The Darwin Core Archive writer from the facts generate() gives it to a file, read back with
//! the zip crate.

use crate::encode::testing::{dataset, layout, view_column, warnings, write};
use crate::encode::{Format, Value};
use crate::relation::ColumnType;
use std::io::Read;

fn entry(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> String {
    let mut s = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn core_descriptor_and_metadata() {
    let types = vec![
        view_column("occurrenceID", "uuid", ColumnType::Uuid),
        view_column("basisOfRecord", "text", ColumnType::Text),
        view_column("scientificName", "text", ColumnType::Text),
        view_column("eventDate", "date", ColumnType::Date),
        view_column("decimalLatitude", "double precision", ColumnType::Float8),
    ];
    let layout = layout(&types, None, None);
    let id = [0x1bu8; 16];
    let rows = vec![
        vec![
            Value::Uuid(id),
            Value::Text("HumanObservation"),
            Value::Text("Lynx lynx (Linnaeus, 1758)\tboréal"),
            Value::Date(9_473),
            Value::Float8(44.5),
        ],
        vec![
            Value::Uuid([0; 16]),
            Value::Text("HumanObservation"),
            Value::Text("Aquila chrysaetos"),
            Value::Null,
            Value::Null,
        ],
    ];
    let file = write(
        Format::Dwca,
        &dataset("occurrenceID"),
        &types,
        &layout,
        4326,
        &rows,
    )
    .unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file.path()).unwrap()).unwrap();
    let mut names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["eml.xml", "meta.xml", "occurrence.txt"]);
    let core = entry(&mut zip, "occurrence.txt");
    let lines: Vec<&str> = core.lines().collect();
    assert_eq!(
        lines[0],
        "id\toccurrenceID\tbasisOfRecord\tscientificName\teventDate\tdecimalLatitude"
    );
    let uuid = "1b1b1b1b-1b1b-1b1b-1b1b-1b1b1b1b1b1b";
    // a tab inside a value would split the field: the text guide's files have no quoting
    assert_eq!(
        lines[1],
        format!(
            "{uuid}\t{uuid}\tHumanObservation\tLynx lynx (Linnaeus, 1758) boréal\t2025-12-08\t44.5"
        )
    );
    assert!(
        lines[2].ends_with("\tAquila chrysaetos\t\t"),
        "{}",
        lines[2]
    );
    assert_eq!(lines.len(), 3);
    let meta = entry(&mut zip, "meta.xml");
    assert!(meta.contains("rowType=\"http://rs.tdwg.org/dwc/terms/Occurrence\""));
    assert!(
        meta.contains("<field index=\"4\" term=\"http://rs.tdwg.org/dwc/terms/eventDate\"/>"),
        "{meta}"
    );
    let eml = entry(&mut zip, "eml.xml");
    assert!(
        eml.contains("packageId=\"1b3f6a8e-3c8e-4c1e-9a8e-5c2f0d1e2a3b/v20261207130000\""),
        "{eml}"
    );
    assert!(
        eml.contains("<title xml:lang=\"fr\">Faune</title>"),
        "{eml}"
    );
    assert!(eml.contains("<pubDate>2026-12-07</pubDate>"), "{eml}");
}

#[test]
fn a_view_without_gbifs_required_terms_is_refused() {
    let types = vec![view_column("occurrenceID", "text", ColumnType::Text)];
    let e = write(
        Format::Dwca,
        &dataset("occurrenceID"),
        &types,
        &layout(&types, None, None),
        4326,
        &[],
    )
    .err()
    .unwrap();
    assert_eq!(
        e.code,
        pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
    );
    assert!(e
        .message
        .ends_with("needs the columns basisOfRecord, scientificName (GBIF's required terms)"));
}

#[test]
fn columns_that_are_not_terms_and_a_licence_gbif_refuses_are_warned_of() {
    let types = vec![
        view_column("occurrenceID", "text", ColumnType::Text),
        view_column("basisOfRecord", "text", ColumnType::Text),
        view_column("scientificName", "text", ColumnType::Text),
        view_column("id_synthese", "integer", ColumnType::Int4),
        view_column("nom_vern", "text", ColumnType::Text),
    ];
    let mut d = dataset("id_synthese");
    d.licence_name = Some("Licence Ouverte 2.0".into());
    d.licence_url = None;
    let row = vec![
        Value::Text("a"),
        Value::Text("HumanObservation"),
        Value::Text("Lynx lynx"),
        Value::Int(1),
        Value::Text("Lynx"),
    ];
    let file = write(
        Format::Dwca,
        &d,
        &types,
        &layout(&types, None, None),
        4326,
        &[row],
    )
    .unwrap();
    assert_eq!(
        warnings(),
        [
            "gn_export: export \"Faune\" (id 7): columns that are not Darwin Core terms are left out of the archive: nom_vern",
            "gn_export: export \"Faune\" (id 7): GBIF accepts only CC0 1.0, CC BY 4.0 and CC BY-NC 4.0, not the export's licence (Licence Ouverte 2.0)",
        ]
    );
    // the key is the archive's id, though it is no term
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file.path()).unwrap()).unwrap();
    assert_eq!(
        entry(&mut zip, "occurrence.txt"),
        "id\toccurrenceID\tbasisOfRecord\tscientificName\n1\ta\tHumanObservation\tLynx lynx\n"
    );
}
