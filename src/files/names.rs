//! File names of generated exports, as GeoNature makes them: the label made safe, then
//! `.<format>` in `schedules/` (the format's canonical name, where GeoNature's admin looks for
//! it: `Synthese.dwca`), or `<YYYY_MM_DD_HHhMMmSS>_<label>.<ext>` in `usr_generated/` (the
//! extension a desktop opens: `Synthese.dwca.zip`).
//!
//! Two exports never share a file: a label whose safe form is another export's is refused when
//! it is written (trigger on `gn_exports.t_exports`), and where an adopted catalog already has
//! such labels, the export with the lowest id keeps GeoNature's name and the others get `_<id>`.
//! Names are cut to fit the 255 bytes of file systems, and a file is only ever found again by
//! its exact name.

use crate::encode::format::FileFormat;
use crate::error::{GnError, GnResult, OrRaise};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

/// Longest stem: with the 20-byte stamp of user files and a 13-byte ending (`geojsonseq.gz`),
/// every name stays under 255 bytes (temporary names keep only the start of it).
pub const MAX_STEM: usize = 200;

/// Length of the `YYYY_MM_DD_HHhMMmSS_` prefix of user files.
pub const STAMP_LEN: usize = 20;

/// GeoNature's `removeDisallowedFilenameChars`: NFKD (accents lose their mark), spaces to
/// `_`, then only `[0-9A-Za-z_-]` kept.
pub fn safe_label(label: &str) -> String {
    label
        .nfkd()
        .map(|c| if c == ' ' { '_' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// The stem an export's label gives, before collisions are settled: the safe label cut to
/// `MAX_STEM` (ASCII, so bytes), or `export_<id>` when nothing of the label is left.
pub fn base_stem(id: i32, label: &str) -> String {
    let mut s = safe_label(label);
    s.truncate(MAX_STEM);
    if s.is_empty() {
        format!("export_{id}")
    } else {
        s
    }
}

/// The stems of all exports: the lowest id of a group that shares a base stem keeps it, the
/// others add `_<id>`.
pub fn stems(exports: &[(i32, String)]) -> HashMap<i32, String> {
    let mut first: HashMap<String, i32> = HashMap::new();
    for (id, label) in exports {
        let base = base_stem(*id, label);
        let e = first.entry(base).or_insert(*id);
        *e = (*e).min(*id);
    }
    exports
        .iter()
        .map(|(id, label)| {
            let base = base_stem(*id, label);
            let stem = if first[&base] == *id {
                base
            } else {
                format!("{base}_{id}")
            };
            (*id, stem)
        })
        .collect()
}

fn labels() -> GnResult<Vec<(i32, String)>> {
    crate::adopted::with(&[&crate::adopted::EXPORTS], labels_as_owner)
}

fn labels_as_owner() -> GnResult<Vec<(i32, String)>> {
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT id::int, label::text FROM gn_exports.t_exports",
            None,
            &[],
        )?;
        let mut out = Vec::new();
        for r in rows {
            out.push((
                r.get::<i32>(1)?.unwrap_or_default(),
                r.get::<String>(2)?.unwrap_or_default(),
            ));
        }
        Ok(out)
    })
}

/// The stem of one export's files.
pub fn stem(id_export: i32, label: &str) -> GnResult<String> {
    let mut all = labels()?;
    if !all.iter().any(|(id, _)| *id == id_export) {
        all.push((id_export, label.to_string()));
    }
    Ok(stems(&all)
        .remove(&id_export)
        .unwrap_or_else(|| base_stem(id_export, label)))
}

/// The stems of every export, by id.
pub fn all_stems() -> GnResult<HashMap<i32, String>> {
    Ok(stems(&labels()?))
}

/// A published file's name (`schedules/`): GeoNature's admin and beat find a schedule's file as
/// `<label>.<the schedule's format>`, so the format's canonical name ends it.
pub fn published_name(stem: &str, format: FileFormat) -> String {
    format!("{stem}.{}", format.name())
}

/// A user file's name after its stamp: the extension a desktop opens the file with.
pub fn user_name_tail(stem: &str, format: FileFormat) -> String {
    format!("{stem}.{}", format.extension())
}

/// Whether `s` is a `YYYY_MM_DD_HHhMMmSS_` stamp.
fn is_stamp(s: &[u8]) -> bool {
    let pattern = b"dddd_dd_dd_ddhddmdd_";
    s.len() == STAMP_LEN
        && s.iter().zip(pattern).all(|(c, p)| match p {
            b'd' => c.is_ascii_digit(),
            p => c == p,
        })
}

/// The part after the stamp of a user file name, if it has one.
pub fn after_stamp(name: &str) -> Option<&str> {
    (name.len() > STAMP_LEN && is_stamp(&name.as_bytes()[..STAMP_LEN])).then(|| &name[STAMP_LEN..])
}

/// Our names: user files `<stamp><stem>.<ext>`, schedule files `<stem>.<ext>`, temporary files
/// `.<name>.<random>.tmp`.
pub fn is_user_file(name: &str) -> bool {
    after_stamp(name).is_some_and(is_schedule_file)
}

pub fn is_schedule_file(name: &str) -> bool {
    FileFormat::of_file_name(name).is_some_and(|(stem, _)| {
        !stem.is_empty()
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// Refuses (23505) a label whose files would carry another export's name: GeoNature keeps
/// only `[0-9A-Za-z_-]` of a label, so `Flore été` and `Flore, ete !` would share
/// `Flore_ete.csv` and overwrite each other. Called by the trigger on gn_exports.t_exports
/// when a label is inserted or changed.
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
pub fn check_file_name(id: Option<i32>, label: Option<&str>) {
    let (Some(id), Some(label)) = (id, label) else {
        return; // NOT NULL constraints speak for themselves
    };
    let others: Vec<(i32, String)> = labels()
        .or_raise()
        .into_iter()
        .filter(|(i, _)| *i != id)
        .collect();
    let mine = base_stem(id, label);
    let taken = stems(&others);
    if let Some((other, _)) = taken.iter().find(|(_, s)| **s == mine) {
        let other_label = others
            .iter()
            .find(|(i, _)| i == other)
            .map(|(_, l)| l.clone())
            .unwrap_or_default();
        GnError::new(
            Code::ERRCODE_UNIQUE_VIOLATION,
            format!(
                "export \"{label}\": its files would be named {mine}.<format>, like those of export \"{other_label}\" (id {other})"
            ),
        )
        .hint("File names keep only letters without accents, digits, '_' and '-' of a label: choose a label that differs in those.")
        .raise();
    }
}

// pg_test: file names are recognised by the format registry, which a plain test binary cannot
// link (its container writers reach PostgreSQL)
#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::*;
    use crate::sink::names::is_temp_file;

    #[pg_test]
    fn labels_made_safe_like_geonature() {
        assert_eq!(safe_label("Synthese SINP"), "Synthese_SINP");
        assert_eq!(safe_label("Jeux de données"), "Jeux_de_donnees");
        assert_eq!(
            safe_label("Synthèse (données floutées) / 2024"),
            "Synthese_donnees_floutees__2024"
        );
        assert_eq!(safe_label("a-b_c.d"), "a-b_cd");
        assert_eq!(safe_label("漢字"), "");
    }

    #[pg_test]
    fn stems_are_unique_and_fit() {
        let all = vec![
            (3, "Flore été".to_string()),
            (7, "Flore  ete".to_string()),
            (5, "Flore ete".to_string()),
            (9, "漢字".to_string()),
            (11, "x".repeat(300)),
        ];
        let s = stems(&all);
        assert_eq!(s[&3], "Flore_ete");
        assert_eq!(s[&5], "Flore_ete_5");
        assert_eq!(s[&7], "Flore__ete");
        assert_eq!(s[&9], "export_9");
        assert_eq!(s[&11].len(), MAX_STEM);
    }

    #[pg_test]
    fn names() {
        assert!(is_user_file("2024_03_01_10h20m30_Synthese_SINP.csv"));
        assert!(is_user_file("2024_03_01_10h20m30_a-b.geojsonl"));
        assert!(!is_user_file("2024_03_01_10h20m30_.csv"));
        assert!(!is_user_file("2024-03-01_10h20m30_x.csv"));
        assert!(!is_user_file("notes.txt"));
        assert_eq!(
            after_stamp("2024_03_01_10h20m30_Suivi_SINP.csv"),
            Some("Suivi_SINP.csv")
        );
        assert_eq!(after_stamp("Suivi_SINP.csv"), None);
        assert!(is_schedule_file("Synthese_SINP.gpkg"));
        assert!(!is_schedule_file("Synthese SINP.csv"));
        assert!(!is_schedule_file(".Synthese_SINP.csv.0a1b.tmp"));
        assert!(!is_schedule_file("README"));
        assert!(is_temp_file(".Synthese_SINP.csv.0a1b.tmp"));
    }
}
