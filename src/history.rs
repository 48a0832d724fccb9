//! The run history: every generate() and every scheduled generation leaves a row in
//! `gn_export.t_runs` (the extension's own state; dumped by pg_dump with the extension).

use crate::error::GnResult;
use pgrx::prelude::*;

/// How a generation ended; the text is what `t_runs.status` holds (its CHECK lists them all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Status {
    /// the file was written and published
    #[default]
    Done,
    /// a file young enough was kept
    Skipped,
    /// nothing was published: the error says why
    Failed,
    /// another session was generating the same schedule
    Busy,
}

impl Status {
    #[cfg(any(test, feature = "pg_test"))]
    pub const ALL: [Status; 4] = [Status::Done, Status::Skipped, Status::Failed, Status::Busy];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Busy => "busy",
        }
    }
}

/// One finished (or refused) generation.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub id_export: i32,
    pub label: String,
    pub format: String,
    pub id_role: Option<i32>,
    pub id_export_schedule: Option<i32>,
    /// the database role that asked
    pub requested_by: String,
    pub status: Status,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
    pub path: Option<String>,
    pub url: Option<String>,
    pub error: Option<String>,
    pub sqlstate: Option<String>,
    pub started_at: Option<pgrx::datum::TimestampWithTimeZone>,
    /// the published content's version, for a writer that stamps its file with a time
    pub version: Option<crate::encode::ContentVersion>,
}

/// Writes the history row as the extension's owner: whoever may generate records their run,
/// and nobody needs a privilege on the table itself.
pub fn record(r: &Run) -> GnResult<i64> {
    let versions = has_versions()?;
    let id = crate::identity::as_extension_owner(|| {
        // before ALTER EXTENSION UPDATE to 0.6.0, the table has no version columns yet
        let (columns, values) = if versions {
            (
                ", content_hash, content_since",
                ", $15, $16::pg_catalog.timestamptz",
            )
        } else {
            ("", "")
        };
        let sql = format!(
            "INSERT INTO gn_export.t_runs (id_export, label, format, id_role, id_export_schedule, status,
                                          rows, bytes, path, url, error, sqlstate, started_at, finished_at,
                                          requested_by{columns})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                     COALESCE($13, pg_catalog.clock_timestamp()), pg_catalog.clock_timestamp(), $14{values})
             RETURNING id_run"
        );
        let mut args = vec![
            r.id_export.into(),
            r.label.clone().into(),
            r.format.clone().into(),
            r.id_role.into(),
            r.id_export_schedule.into(),
            r.status.as_str().into(),
            r.rows.into(),
            r.bytes.into(),
            r.path.clone().into(),
            r.url.clone().into(),
            r.error.clone().into(),
            r.sqlstate.clone().into(),
            r.started_at.into(),
            r.requested_by.clone().into(),
        ];
        if versions {
            args.push(r.version.as_ref().map(|v| v.hash.clone()).into());
            args.push(r.version.as_ref().map(|v| v.since.clone()).into());
        }
        Ok(Spi::get_one_with_args::<i64>(&sql, &args)?)
    })?;
    Ok(id.unwrap_or(0))
}

/// Whether the run history has the version columns (0.6.0): a library newer than the
/// extension's SQL, between a package upgrade and ALTER EXTENSION UPDATE, still records runs.
fn has_versions() -> GnResult<bool> {
    Ok(crate::spi::one::<bool>(
        "SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM pg_catalog.pg_attribute
          WHERE attrelid OPERATOR(pg_catalog.=) 'gn_export.t_runs'::pg_catalog.regclass
            AND attname OPERATOR(pg_catalog.=) 'content_hash' AND NOT attisdropped",
        &[],
    )?
    .unwrap_or(false))
}

/// The version of the content last published at `path`: the next generation of the same
/// content keeps its time, so that an unchanged export gives the same bytes.
pub fn last_version(id_export: i32, path: &str) -> GnResult<Option<crate::encode::ContentVersion>> {
    if !has_versions()? {
        return Ok(None);
    }
    crate::identity::as_extension_owner(|| {
        // one row always: NULLs when nothing was published there, or when the last file
        // published there has no version (stable_files was off): an older version's time
        // would make last_change go back
        let (hash, since) = crate::spi::two::<String, String>(
            "SELECT r.content_hash,
                    pg_catalog.to_char(pg_catalog.timezone('UTC', r.content_since),
                                       'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
               FROM (SELECT) o
               LEFT JOIN LATERAL (
                    SELECT content_hash, content_since FROM gn_export.t_runs
                     WHERE id_export OPERATOR(pg_catalog.=) $1 AND path OPERATOR(pg_catalog.=) $2
                       AND status OPERATOR(pg_catalog.=) 'done'
                     ORDER BY started_at DESC, id_run DESC LIMIT 1) r ON true",
            &[id_export.into(), path.into()],
        )?;
        Ok(hash
            .zip(since)
            .map(|(hash, since)| crate::encode::ContentVersion { hash, since }))
    })
}

pgrx::extension_sql!(
    r#"
CREATE TABLE gn_export.t_runs (
    id_run             bigserial PRIMARY KEY,
    id_export          integer NOT NULL,
    label              text,
    format             text NOT NULL,
    id_role            integer,
    id_export_schedule integer,
    requested_by       name NOT NULL DEFAULT current_user,
    started_at         timestamptz NOT NULL,
    finished_at        timestamptz,
    status             text NOT NULL CHECK (status IN ('done', 'skipped', 'failed', 'busy')),
    rows               bigint,
    bytes              bigint,
    path               text,
    url                text,
    error              text,
    sqlstate           text,
    content_hash       text,
    content_since      timestamptz
);
CREATE INDEX t_runs_export_started ON gn_export.t_runs (id_export, started_at DESC);
COMMENT ON COLUMN gn_export.t_runs.content_hash IS 'For a published file stamped with a time (a GeoPackage''s last_change): a hash of its bytes but that time.';
COMMENT ON COLUMN gn_export.t_runs.content_since IS 'For a published file stamped with a time: since when this content is published, the time its file is stamped with.';
COMMENT ON TABLE gn_export.t_runs IS 'History of gn_export generations: who (id_role, or the schedule), what, when, the outcome.';
SELECT pg_catalog.pg_extension_config_dump('gn_export.t_runs', '');
SELECT pg_catalog.pg_extension_config_dump('gn_export.t_runs_id_run_seq', '');

CREATE VIEW gn_export.v_runs AS
SELECT r.id_run, r.id_export, r.label, r.format,
       CASE WHEN r.id_export_schedule IS NOT NULL
                 THEN 'schedule ' OPERATOR(pg_catalog.||) r.id_export_schedule::text
            WHEN r.id_role IS NOT NULL THEN 'user ' OPERATOR(pg_catalog.||) r.id_role::text
            ELSE 'admin (' OPERATOR(pg_catalog.||) r.requested_by::text OPERATOR(pg_catalog.||) ')'
       END AS requested_for,
       r.status, r.rows, r.bytes, pg_catalog.pg_size_pretty(r.bytes) AS size,
       r.started_at, r.finished_at, r.finished_at OPERATOR(pg_catalog.-) r.started_at AS duration,
       r.path, r.url, r.error, r.sqlstate
FROM gn_export.t_runs r;
COMMENT ON VIEW gn_export.v_runs IS 'The run history for administrators (labels as they were at run time).';
REVOKE ALL ON gn_export.t_runs, gn_export.v_runs FROM PUBLIC;
-- rows are written by generate() as the extension's owner; reading them is granted by the DBA
"#,
    name = "history"
);

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::Status;
    use pgrx::prelude::*;

    #[pg_test]
    fn every_status_passes_the_history_check() {
        let check = Spi::get_one::<String>(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint
              WHERE conrelid = 'gn_export.t_runs'::regclass AND contype = 'c'",
        )
        .unwrap()
        .unwrap();
        for s in Status::ALL {
            assert!(check.contains(&format!("'{}'", s.as_str())), "{check}");
        }
        assert_eq!(
            check.matches("::text").count(),
            Status::ALL.len(),
            "{check}"
        );
    }
}
