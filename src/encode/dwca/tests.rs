//! The Darwin Core Archive writer from the facts generate() gives it to a file, read back with
//! the zip crate.

use crate::encode::testing::{dataset, layout, view_column, warnings, write};
use crate::encode::{Format, Value};
use crate::relation::ColumnType;
use std::io::Read;

fn entry(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> String {
    entry_of(zip, name)
}

fn entry_of<R: Read + std::io::Seek>(zip: &mut zip::ZipArchive<R>, name: &str) -> String {
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
    // the version is the CRC-32 of occurrence.txt
    let version = format!("{:08x}", crc32fast::hash(core.as_bytes()));
    assert!(
        eml.contains(&format!(
            "packageId=\"1b3f6a8e-3c8e-4c1e-9a8e-5c2f0d1e2a3b/v{version}\""
        )),
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

/// Rows of an occurrence core with a `modified` term: the id, then its value.
fn archive_of(rows: &[(&'static str, &'static str)]) -> crate::error::GnResult<Vec<u8>> {
    let types = vec![
        view_column("occurrenceID", "text", ColumnType::Text),
        view_column("basisOfRecord", "text", ColumnType::Text),
        view_column("scientificName", "text", ColumnType::Text),
        view_column("modified", "text", ColumnType::Text),
    ];
    let rows: Vec<Vec<Value>> = rows
        .iter()
        .map(|(id, modified)| {
            vec![
                Value::Text(id),
                Value::Text("HumanObservation"),
                Value::Text("Lynx lynx"),
                Value::Text(modified),
            ]
        })
        .collect();
    let file = write(
        Format::Dwca,
        &dataset("occurrenceID"),
        &types,
        &layout(&types, None, None),
        4326,
        &rows,
    )?;
    Ok(std::fs::read(file.path()).unwrap())
}

#[test]
fn the_same_rows_give_the_same_bytes_dated_by_the_data() {
    let rows = [
        ("a", "2024-03-01T10:00:00"),
        ("b", "2025-06-30T08:00:00"),
        ("c", ""),
    ];
    let first = archive_of(&rows).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    assert!(
        first == archive_of(&rows).unwrap(),
        "two archives of the same rows differ"
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(first)).unwrap();
    for i in 0..zip.len() {
        let e = zip.by_index(i).unwrap();
        let t = e.last_modified().unwrap();
        assert_eq!(
            (t.year(), t.month(), t.day()),
            (1980, 1, 1),
            "{:?}",
            e.name()
        );
    }
    // each line: the id, then the terms, modified last (it is read, never written twice)
    let core = entry_of(&mut zip, "occurrence.txt");
    assert_eq!(
        core.lines().nth(1),
        Some("a\ta\tHumanObservation\tLynx lynx\t2024-03-01T10:00:00"),
        "{core}"
    );
    let mut eml = String::new();
    zip.by_name("eml.xml")
        .unwrap()
        .read_to_string(&mut eml)
        .unwrap();
    // the latest modified, not the generation's date
    assert!(eml.contains("<pubDate>2025-06-30</pubDate>"), "{eml}");
    // another row: another version
    let other = archive_of(&[("a", "2024-03-01T10:00:00"), ("b", "2025-06-30T08:00:01")]).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(other)).unwrap();
    let mut eml2 = String::new();
    zip.by_name("eml.xml")
        .unwrap()
        .read_to_string(&mut eml2)
        .unwrap();
    let package = |e: &str| {
        e.split("packageId=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_ne!(package(&eml), package(&eml2));
}

#[test]
fn repeated_ids_are_refused_naming_them() {
    let e = archive_of(&[
        ("a", ""),
        ("b", ""),
        ("b", ""),
        ("b", ""),
        ("c", ""),
        ("c", ""),
    ])
    .err()
    .unwrap();
    assert_eq!(e.code, pgrx::PgSqlErrorCode::ERRCODE_UNIQUE_VIOLATION);
    assert!(
        e.message
            .contains("occurrenceID values are on more than one row: \"b\", \"c\";"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("export \"Faune\" (id 7)"),
        "{}",
        e.message
    );
    // given up at the fifth: the rest is not read
    let many: Vec<(&str, &str)> = ["1", "1", "2", "2", "3", "3", "4", "4", "5", "5", "6", "6"]
        .iter()
        .map(|id| (*id, ""))
        .collect();
    let e = archive_of(&many).err().unwrap();
    assert!(
        e.message
            .contains("\"1\", \"2\", \"3\", \"4\", \"5\" (the first ones)"),
        "{}",
        e.message
    );
}
