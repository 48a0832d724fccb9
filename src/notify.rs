//! Telling people a file is ready: a GeoNature notification (EXPORT-DONE, method DB) for user
//! generations, and `pg_notify('gn_export', json)` for every finished generation.

use crate::adopted;
use crate::error::GnResult;
use crate::export::Export;
use crate::settings;
use pgrx::prelude::*;
use serde_json::json;

/// Whether this database has GeoNature's notification tables.
fn has_notifications() -> GnResult<bool> {
    Ok(crate::spi::one::<bool>(
        "SELECT count(*) = 2 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'gn_notifications' AND c.relname IN ('t_notifications', 't_notifications_rules')", &[])?
    .unwrap_or(false))
}

/// The user's effective rule for EXPORT-DONE by method DB: their own row overrides the default
/// (id_role NULL) row, as GeoNature's dispatch does. No rule at all means no notification.
fn subscribed(id_role: i32) -> GnResult<bool> {
    adopted::with(&[&adopted::NOTIFICATION_RULES], || {
        Ok(crate::spi::one::<bool>(
            "SELECT subscribed FROM gn_notifications.t_notifications_rules
              WHERE code_category::text OPERATOR(pg_catalog.=) 'EXPORT-DONE'
                AND code_method::text OPERATOR(pg_catalog.=) 'DB'
                AND (id_role OPERATOR(pg_catalog.=) $1 OR id_role IS NULL)
              ORDER BY id_role NULLS LAST LIMIT 1",
            &[id_role.into()],
        )?
        .unwrap_or(false))
    })
}

/// Text for HTML, in an element or a quoted attribute: GeoNature shows a notification's
/// content as HTML, and labels, licences, URLs and error messages are anyone's text.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link to `url` saying `text`, for http(s) URLs only (a `javascript:` URL survives escaping):
/// any other is shown as text.
fn link(url: &str, text: &str) -> String {
    let lower = url.trim_start().to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        format!("<a href='{}'>{}</a>", html(url), html(text))
    } else if url == text {
        html(text)
    } else {
        format!("{} ({})", html(text), html(url))
    }
}

/// The text GeoNature's EXPORT-DONE template says, in French as GeoNature does, as HTML.
pub fn content(export: &Export, url: Option<&str>, error: Option<&str>, keep_days: i32) -> String {
    let label = html(&export.label);
    match error {
        Some(e) => format!(
            "La génération du fichier de l'export « {label} » a échoué : {}",
            html(e)
        ),
        None => {
            let file = url
                .map(|u| format!(" : {}", link(u, u)))
                .unwrap_or_default();
            let licence = match (&export.licence_name, &export.licence_url) {
                (Some(n), Some(u)) => format!(" Licence : {}.", link(u, n)),
                (Some(n), None) => format!(" Licence : {}.", html(n)),
                _ => String::new(),
            };
            format!(
                "Le fichier de l'export « {label} » est disponible{file}.{licence} Il sera conservé {keep_days} jours."
            )
        }
    }
}

/// Inserts the EXPORT-DONE notification for a user generation, when GeoNature's tables exist
/// and the user is subscribed. Returns whether a row was written.
pub fn notify_user(
    export: &Export,
    id_role: i32,
    url: Option<&str>,
    error: Option<&str>,
) -> GnResult<bool> {
    if !has_notifications()? || !subscribed(id_role)? {
        return Ok(false);
    }
    let title = adopted::with(&[&adopted::NOTIFICATION_CATEGORIES], || {
        Ok(crate::spi::one::<String>(
            "SELECT label::text FROM gn_notifications.bib_notifications_categories
              WHERE code::text OPERATOR(pg_catalog.=) 'EXPORT-DONE'",
            &[],
        )?)
    })?
    .unwrap_or_else(|| "Fichier d'export généré".into());
    let text = content(export, url, error, settings::keep_days());
    // as the table's owner: GeoNature's triggers run with GeoNature's rights, not the caller's
    adopted::with(&[&adopted::NOTIFICATIONS], || {
        Spi::run_with_args(
            "INSERT INTO gn_notifications.t_notifications (id_role, title, content, url, code_status, creation_date)
             VALUES ($1, $2, $3, $4, 'UNREAD', pg_catalog.timezone('UTC', pg_catalog.now()))",
            &[id_role.into(), title.into(), text.into(), url.map(str::to_string).into()],
        )?;
        Ok(())
    })?;
    Ok(true)
}

/// `pg_notify('gn_export', …)` with what a listener needs and no secret: never a token.
pub fn announce(payload: serde_json::Value) -> GnResult<()> {
    let mut text = payload.to_string();
    if text.len() > 7900 {
        // NOTIFY payloads are limited to 8000 bytes; errors are the only long field
        let mut p = payload;
        p["error"] = json!("(too long, see gn_export.t_runs)");
        text = p.to_string();
    }
    Spi::run_with_args(
        "SELECT pg_catalog.pg_notify('gn_export', $1)",
        &[text.into()],
    )?;
    Ok(())
}

#[cfg(test)]
mod unit {
    use super::*;

    fn export() -> Export {
        Export {
            id: 1,
            label: "Synthese SINP".into(),
            description: None,
            schema_name: "s".into(),
            view_name: "v".into(),
            geometry_field: None,
            geometry_srid: None,
            public: false,
            view_pk_column: "id".into(),
            licence_name: Some("ODbL".into()),
            licence_url: Some("https://l".into()),
        }
    }

    #[test]
    fn texts() {
        assert_eq!(
            content(&export(), Some("https://x/f.csv"), None, 15),
            "Le fichier de l'export « Synthese SINP » est disponible : <a href='https://x/f.csv'>https://x/f.csv</a>. Licence : <a href='https://l'>ODbL</a>. Il sera conservé 15 jours."
        );
        assert_eq!(
            content(&export(), None, Some("boom"), 15),
            "La génération du fichier de l'export « Synthese SINP » a échoué : boom"
        );
        let mut e = export();
        e.label = "<img src=x onerror=alert(1)>".into();
        e.licence_name = Some("A&B".into());
        e.licence_url = Some("x' onmouseover='y".into());
        let c = content(&e, Some("https://x/f.csv?a=1&b='2'"), None, 15);
        assert!(
            !c.contains("<img") && c.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{c}"
        );
        assert!(
            c.contains("Licence : A&amp;B (x&#39; onmouseover=&#39;y)."),
            "{c}"
        );
        e.licence_url = Some("JavaScript:alert(1)".into());
        let j = content(&e, Some("https://x/f.csv"), None, 15);
        assert!(
            !j.contains("href='JavaScript") && j.contains("A&amp;B (JavaScript:alert(1))"),
            "{j}"
        );
        assert!(
            c.contains("href='https://x/f.csv?a=1&amp;b=&#39;2&#39;'"),
            "{c}"
        );
        assert!(content(&e, None, Some("<script>"), 15).ends_with("&lt;script&gt;"));
    }
}
