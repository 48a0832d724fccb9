//! The archive's descriptor (`meta.xml`, Darwin Core text guide) and its metadata (`eml.xml`,
//! GBIF's metadata profile of EML 2.1.1).

/// Text for XML: escaped, and without the characters XML 1.0 forbids (control characters but
/// tab and line breaks, U+FFFE, U+FFFF), which a description pasted from a word processor may
/// hold: they become spaces.
fn escape(s: &str) -> String {
    let allowed: String = s
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => ' ',
            c => c,
        })
        .collect();
    quick_xml::escape::escape(allowed.as_str()).into_owned()
}

/// `meta.xml`: an Occurrence core in `occurrence.txt`, tab-separated, UTF-8, one header line,
/// nothing enclosing fields, the id in column 0, then one field per term.
pub fn meta_xml(term_iris: &[String]) -> String {
    let mut fields = String::new();
    for (i, iri) in term_iris.iter().enumerate() {
        fields.push_str(&format!(
            "    <field index=\"{}\" term=\"{}\"/>\n",
            i + 1,
            escape(iri)
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<archive xmlns="http://rs.tdwg.org/dwc/text/" metadata="eml.xml">
  <core encoding="UTF-8" fieldsTerminatedBy="\t" linesTerminatedBy="\n" fieldsEnclosedBy="" ignoreHeaderLines="1" rowType="http://rs.tdwg.org/dwc/terms/Occurrence">
    <files>
      <location>occurrence.txt</location>
    </files>
    <id index="0"/>
{fields}  </core>
</archive>
"#
    )
}

/// What `eml.xml` says of the dataset.
pub struct Dataset<'a> {
    /// changes with each version: `<stable uuid of the export>/v<timestamp>`
    pub package_id: &'a str,
    pub title: &'a str,
    pub abstract_text: Option<&'a str>,
    pub licence_name: Option<&'a str>,
    pub licence_url: Option<&'a str>,
    /// creator, metadata provider and contact
    pub organization: &'a str,
    pub email: Option<&'a str>,
    /// YYYY-MM-DD
    pub pub_date: &'a str,
    pub language: &'a str,
}

fn party(tag: &str, d: &Dataset) -> String {
    let email = d
        .email
        .map(|e| {
            format!(
                "<electronicMailAddress>{}</electronicMailAddress>",
                escape(e)
            )
        })
        .unwrap_or_default();
    format!(
        "    <{tag}><organizationName>{}</organizationName>{email}</{tag}>\n",
        escape(d.organization)
    )
}

/// `eml.xml`: title, creator, metadata provider, publication date, language, abstract, licence
/// and contact, in the order GBIF's schema wants them.
pub fn eml_xml(d: &Dataset) -> String {
    let rights = match (gbif_licence(d.licence_name, d.licence_url), d.licence_name, d.licence_url) {
        // the IPT's sentence, and the one URL GBIF's registry reads for the licence: another
        // form of it (https, no legalcode) is not recognised, and GBIF applies its default
        (Some((url, title)), _, _) => format!(
            "<para>This work is licensed under a <ulink url=\"{url}\"><citetitle>{title}</citetitle></ulink>.</para>"
        ),
        (None, Some(n), Some(u)) => format!(
            "<para>This work is licensed under <ulink url=\"{}\"><citetitle>{}</citetitle></ulink>.</para>",
            escape(u),
            escape(n)
        ),
        (None, Some(n), None) => format!("<para>{}</para>", escape(n)),
        (None, None, Some(u)) => format!("<para><ulink url=\"{u}\"><citetitle>{u}</citetitle></ulink></para>", u = escape(u)),
        (None, None, None) => "<para>No licence is declared for this export.</para>".into(),
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<eml:eml xmlns:eml="eml://ecoinformatics.org/eml-2.1.1" xmlns:dc="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="eml://ecoinformatics.org/eml-2.1.1 http://rs.gbif.org/schema/eml-gbif-profile/1.2/eml.xsd" packageId="{package}" system="http://gbif.org" scope="system" xml:lang="{lang}">
  <dataset>
    <title xml:lang="{lang}">{title}</title>
{creator}{provider}    <pubDate>{date}</pubDate>
    <language>{lang}</language>
    <abstract><para>{abstract_text}</para></abstract>
    <intellectualRights>{rights}</intellectualRights>
{contact}  </dataset>
</eml:eml>
"#,
        package = escape(d.package_id),
        lang = escape(d.language),
        title = escape(d.title),
        creator = party("creator", d),
        provider = party("metadataProvider", d),
        date = escape(d.pub_date),
        abstract_text = escape(d.abstract_text.unwrap_or("")),
        contact = party("contact", d),
    )
}

/// The licences GBIF accepts (CC0 1.0, CC BY 4.0, CC BY-NC 4.0): how a catalog may name them
/// (by name or URL), and the URL and title GBIF's registry and the IPT write for each.
const GBIF_LICENCES: [(&[&str], &str, &str); 3] = [
    (
        &["cc0-1.0", "cc0 1.0", "publicdomain/zero/1.0"],
        "http://creativecommons.org/publicdomain/zero/1.0/legalcode",
        "Public Domain (CC0 1.0)",
    ),
    (
        &["cc-by-nc-4.0", "cc by-nc 4.0", "licenses/by-nc/4.0"],
        "http://creativecommons.org/licenses/by-nc/4.0/legalcode",
        "Creative Commons Attribution Non Commercial (CC-BY-NC) 4.0 License",
    ),
    (
        &["cc-by-4.0", "cc by 4.0", "licenses/by/4.0"],
        "http://creativecommons.org/licenses/by/4.0/legalcode",
        "Creative Commons Attribution (CC-BY) 4.0 License",
    ),
];

/// The licence GBIF accepts that the catalog's name or URL names: its URL and title as GBIF
/// reads them; None for any other licence.
pub fn gbif_licence(name: Option<&str>, url: Option<&str>) -> Option<(&'static str, &'static str)> {
    let text = format!("{} {}", name.unwrap_or(""), url.unwrap_or("")).to_lowercase();
    GBIF_LICENCES
        .iter()
        .find(|(keys, _, _)| keys.iter().any(|k| text.contains(k)))
        .map(|&(_, url, title)| (url, title))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn licences_gbif_takes() {
        let url = |n, u| gbif_licence(n, u).map(|l| l.0);
        assert_eq!(
            url(None, Some("https://creativecommons.org/licenses/by/4.0/")),
            Some("http://creativecommons.org/licenses/by/4.0/legalcode")
        );
        assert_eq!(
            url(
                Some("CC-BY-NC-4.0"),
                Some("https://spdx.org/licenses/CC-BY-NC-4.0.html")
            ),
            Some("http://creativecommons.org/licenses/by-nc/4.0/legalcode")
        );
        assert_eq!(
            url(Some("CC0-1.0"), None),
            Some("http://creativecommons.org/publicdomain/zero/1.0/legalcode")
        );
        assert_eq!(
            url(
                Some("Open Data Commons Open Database License v1.0 (ODbL-1.0)"),
                Some("https://spdx.org/licenses/ODbL-1.0.html")
            ),
            None
        );
        assert_eq!(
            url(
                Some("Creative Commons Attribution 1.0 Generic (CC-BY-1.0)"),
                None
            ),
            None
        );
        assert_eq!(url(None, None), None);
    }

    #[test]
    fn gbif_reads_its_own_licence_urls() {
        let e = eml_xml(&Dataset {
            package_id: "p/v1",
            title: "T",
            abstract_text: None,
            licence_name: Some("Creative Commons Zero v1.0 Universal (CC0-1.0)"),
            licence_url: Some("https://creativecommons.org/publicdomain/zero/1.0/"),
            organization: "O",
            email: None,
            pub_date: "2026-01-01",
            language: "fr",
        });
        assert!(e.contains("<intellectualRights><para>This work is licensed under a <ulink url=\"http://creativecommons.org/publicdomain/zero/1.0/legalcode\"><citetitle>Public Domain (CC0 1.0)</citetitle></ulink>.</para></intellectualRights>"), "{e}");
    }

    #[test]
    fn escaped() {
        let e = eml_xml(&Dataset {
            package_id: "p/v1",
            title: "A & <B>",
            abstract_text: None,
            licence_name: Some("L"),
            licence_url: Some("https://x/?a=1&b=2"),
            organization: "Parc \"national\"",
            email: None,
            pub_date: "2026-01-01",
            language: "fr",
        });
        assert!(e.contains("<title xml:lang=\"fr\">A &amp; &lt;B&gt;</title>"));
        assert!(e.contains("url=\"https://x/?a=1&amp;b=2\""));
        assert!(
            meta_xml(&["http://rs.tdwg.org/dwc/terms/occurrenceID".into()]).contains(
                "<field index=\"1\" term=\"http://rs.tdwg.org/dwc/terms/occurrenceID\"/>"
            )
        );
    }
}
