//! The documents of an ISMS rendered (issue 14): a template's body or a
//! regulation's rules filled with what the ISMS knows and its fill-in field
//! values, as Markdown; then as HTML (pulldown-cmark) or as PDF blocks.

use std::collections::BTreeMap;

use minijinja::{context, Environment, UndefinedBehavior};
use pulldown_cmark::{html, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use mmsm_kernel::services::{DocKind, DocumentRow, IsmsRecord};
use mmsm_model::Schema;

use crate::pdf::Block;

/// A document rendered for one ISMS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedDocument {
    /// Where it stands: id, title, version, state, owner, approval, empty fields.
    #[serde(flatten)]
    pub row: DocumentRow,
    /// The enterprise's name.
    pub enterprise: String,
    /// The text, Markdown.
    pub markdown: String,
    /// Automatic fields the text names that the ISMS leaves empty (e.g.
    /// `officer.email` when the officer has no email): to complete in the ISMS.
    pub missing: Vec<String>,
}

fn day(at: u64) -> String {
    chrono::DateTime::from_timestamp(at as i64, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn name_of(record: &IsmsRecord, user: Option<&str>) -> String {
    let Some(user) = user else {
        return String::new();
    };
    record
        .users
        .iter()
        .find(|u| u.id.as_str() == user)
        .map_or_else(|| user.to_owned(), |u| u.name.clone())
}

/// The Markdown source of a document before its fields are filled.
fn source(schema: &Schema, row: &DocumentRow) -> String {
    if row.kind == DocKind::Regulation {
        let Some(r) = schema.regulations.iter().find(|r| r.id.as_str() == row.id) else {
            return String::new();
        };
        let mut text = format!("# {}\n\n", r.name);
        if let Some(d) = &r.description {
            text.push_str(d.trim());
            text.push_str("\n\n");
        }
        for (n, rule) in r.rules.iter().enumerate() {
            text.push_str(&format!("{}. {}", n + 1, rule.text.trim()));
            if let Some(p) = &rule.penalty {
                text.push_str(&format!(" *Breaking it:* {}", p.trim()));
            }
            text.push('\n');
        }
        return text;
    }
    schema
        .artefacts
        .iter()
        .find(|a| a.id.as_str() == row.id)
        .and_then(|a| a.body.clone())
        .unwrap_or_default()
}

/// Renders document `row` of `record`: automatic fields from the ISMS, fill-in
/// fields from `values` (an empty one prints as a blank with its label).
/// `today` is YYYY-MM-DD. An error names the template problem.
pub fn render_document(
    schema: &Schema,
    record: &IsmsRecord,
    row: &DocumentRow,
    values: &BTreeMap<String, String>,
    today: &str,
) -> Result<RenderedDocument, String> {
    let officer = record.users.iter().find(|u| {
        u.roles
            .iter()
            .any(|r| r.as_str() == mmsm_kernel::services::msgs::SECURITY_OFFICER)
    });
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for f in &row.fields {
        let value = values.get(&f.field.id).cloned().unwrap_or_default();
        // A required field still empty prints as a blank with its label; an
        // optional one as nothing, so that `{% if field %}` leaves it out.
        let shown = match (value.trim().is_empty(), f.field.required) {
            (true, true) => format!("________ ({})", f.field.label),
            (true, false) => String::new(),
            (false, _) => value,
        };
        fields.insert(f.field.id.clone(), shown);
    }
    let approval = row.approved.as_ref();
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let text = source(schema, row);
    let ctx = context! {
        enterprise => context! {
            name => record.enterprise.name.clone(),
            sector => record.enterprise.sector.to_string(),
            employees => record.enterprise.employees,
        },
        officer => context! {
            name => officer.map(|u| u.name.clone()).unwrap_or_default(),
            email => officer.and_then(|u| u.email.clone()).unwrap_or_default(),
        },
        speaker => context! {
            name => record.speaker.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
            email => record.speaker.as_ref().and_then(|s| s.email.clone()).unwrap_or_default(),
        },
        departments => record.departments.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
        schema => context! { name => schema.schema.name.clone(), version => schema.schema.version },
        today => today,
        document => context! {
            title => row.title.clone(),
            version => row.version,
            owner => name_of(record, row.owner.as_deref()),
            approver => name_of(record, approval.map(|a| a.by.as_str())),
            approved_on => approval.map(|a| day(a.at)).unwrap_or_default(),
            next_review => approval.map(|a| a.next_review.to_string()).unwrap_or_default(),
        },
        fields => fields.clone(),
        ..minijinja::Value::from(minijinja::value::Serde(&fields))
    };
    let template = env
        .template_from_str(&text)
        .map_err(|e| format!("{} ({}): {e}", row.title, row.id))?;
    // An automatic field the text names and the ISMS leaves empty.
    let mut missing: Vec<String> = template
        .undeclared_variables(true)
        .into_iter()
        .filter(|name| {
            name.contains('.') && {
                let value = name
                    .split('.')
                    .try_fold(ctx.clone(), |v, part| v.get_attr(part).ok());
                value.is_some_and(|v| v.is_undefined() || v.as_str() == Some(""))
            }
        })
        .filter(|name| !name.starts_with("document."))
        .collect();
    missing.sort();
    let markdown = template
        .render(&ctx)
        .map_err(|e| format!("{} ({}): {e}", row.title, row.id))?;
    Ok(RenderedDocument {
        row: row.clone(),
        enterprise: record.enterprise.name.clone(),
        markdown,
        missing,
    })
}

/// The Markdown of a document as an HTML fragment.
/// Raw HTML in the text (a field value, say) is shown as text, never run.
/// Headings go `shift` levels down (1 inside a page that has its own h1).
pub fn markdown_html(markdown: &str, shift: usize) -> String {
    const LEVELS: [HeadingLevel; 6] = [
        HeadingLevel::H1,
        HeadingLevel::H2,
        HeadingLevel::H3,
        HeadingLevel::H4,
        HeadingLevel::H5,
        HeadingLevel::H6,
    ];
    let down = |level: HeadingLevel| LEVELS[(level as usize - 1 + shift).min(5)];
    let mut out = String::new();
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS).map(
        |event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => Event::Start(Tag::Heading {
                level: down(level),
                id,
                classes,
                attrs,
            }),
            Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(down(level))),
            other => other,
        },
    );
    html::push_html(&mut out, events);
    out
}

/// The Markdown of a document as PDF blocks: headings, paragraphs, list
/// items and table rows (cells joined by ` | `).
pub fn markdown_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut text = String::new();
    let mut heading: Option<f32> = None;
    let mut items: Vec<Option<u64>> = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                text.clear();
                heading = Some(match level {
                    HeadingLevel::H1 => 16.0,
                    HeadingLevel::H2 => 13.0,
                    _ => 11.5,
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                blocks.push(Block::Heading(
                    std::mem::take(&mut text),
                    heading.unwrap_or(12.0),
                ));
                heading = None;
            }
            Event::Start(Tag::List(first)) => items.push(first),
            Event::End(TagEnd::List(_)) => {
                items.pop();
            }
            Event::Start(Tag::Item) => text.clear(),
            Event::End(TagEnd::Item) => {
                let marker = match items.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}.", *n - 1)
                    }
                    _ => "\u{2022}".to_owned(),
                };
                let indent = "    ".repeat(items.len().saturating_sub(1));
                blocks.push(Block::Paragraph(
                    format!("{indent}{marker} {}", std::mem::take(&mut text).trim()),
                    10.5,
                ));
            }
            Event::Start(Tag::Paragraph) if items.is_empty() => text.clear(),
            Event::End(TagEnd::Paragraph) if items.is_empty() => {
                blocks.push(Block::Paragraph(std::mem::take(&mut text), 10.5));
            }
            Event::End(TagEnd::Paragraph) => text.push(' '),
            Event::Start(Tag::TableCell) => text.clear(),
            Event::End(TagEnd::TableCell) => cells.push(std::mem::take(&mut text)),
            Event::End(TagEnd::TableHead) | Event::End(TagEnd::TableRow) => {
                blocks.push(Block::Paragraph(cells.join(" | "), 10.0));
                cells.clear();
            }
            Event::TaskListMarker(done) => text.push_str(if done { "[x] " } else { "[ ] " }),
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak => text.push(' '),
            Event::HardBreak => text.push('\n'),
            Event::Rule => blocks.push(Block::Rule),
            _ => {}
        }
    }
    blocks
}

/// The cover of a document: enterprise, title, version, owner, approver, dates.
fn cover(doc: &RenderedDocument) -> Vec<Block> {
    let row = &doc.row;
    let field = |label: &str, value: String| Block::Field(label.into(), value);
    let approved = row.approved.as_ref();
    vec![
        Block::Paragraph(doc.enterprise.clone(), 12.0),
        Block::Heading(row.title.clone(), 20.0),
        Block::Rule,
        field("Version", row.version.to_string()),
        field("State", row.state.to_owned()),
        field(
            "Owner",
            row.owner.clone().unwrap_or_else(|| "not set".into()),
        ),
        field(
            "Approved by",
            approved.map_or_else(|| "not approved yet".into(), |a| a.by.clone()),
        ),
        field(
            "Approved on",
            approved.map_or_else(|| "not yet".into(), |a| day(a.at)),
        ),
        field(
            "Next review",
            approved.map_or_else(
                || "a review period after approval".into(),
                |a| a.next_review.to_string(),
            ),
        ),
        Block::Rule,
        Block::Space(12.0),
    ]
}

/// One document as a PDF: its cover, its text, and its title, version and
/// page number at the foot of every page.
pub fn document_pdf(doc: &RenderedDocument) -> Vec<u8> {
    let mut blocks = cover(doc);
    blocks.extend(markdown_blocks(&doc.markdown));
    crate::pdf::render(&crate::pdf::Document {
        title: format!("{}: {}", doc.enterprise, doc.row.title),
        blocks,
        footer: Some(format!(
            "{} · {} · version {}",
            doc.enterprise, doc.row.title, doc.row.version
        )),
        header: Some(format!("{}: {}", doc.enterprise, doc.row.title)),
    })
}

/// Every document as one PDF: a title page with the table of contents, then
/// each document from a new page with its cover.
pub fn pack_pdf(enterprise: &str, docs: &[RenderedDocument]) -> Vec<u8> {
    let mut blocks = vec![
        Block::Heading(format!("Information security documents of {enterprise}"), 20.0),
        Block::Paragraph(
            format!(
                "{} documents in force. Each starts on a new page with its version, owner and approval.",
                docs.len()
            ),
            11.0,
        ),
        Block::Rule,
        Block::Heading("Contents".into(), 13.0),
    ];
    for (n, doc) in docs.iter().enumerate() {
        blocks.push(Block::Paragraph(
            format!(
                "{}. {} (version {}, {})",
                n + 1,
                doc.row.title,
                doc.row.version,
                doc.row.state
            ),
            10.5,
        ));
    }
    for doc in docs {
        blocks.push(Block::PageBreak);
        blocks.extend(cover(doc));
        blocks.extend(markdown_blocks(&doc.markdown));
    }
    crate::pdf::render(&crate::pdf::Document {
        title: format!("{enterprise}: information security documents"),
        blocks,
        footer: Some(format!("{enterprise} · information security documents")),
        header: Some(format!("{enterprise}: information security documents")),
    })
}

/// The enterprise's report as a PDF: the Markdown report's text laid out
/// with page numbers.
pub fn report_pdf(view: &crate::ReportView) -> Result<Vec<u8>, minijinja::Error> {
    let markdown = crate::render_markdown(view)?;
    Ok(crate::pdf::render(&crate::pdf::Document {
        title: format!("{}: information security report", view.enterprise),
        blocks: markdown_blocks(&markdown),
        footer: Some(format!("{} · information security report", view.enterprise)),
        header: Some(format!("{}: information security report", view.enterprise)),
    }))
}

/// A document as a Word file (docx-rs) the client can edit: its cover, its
/// text, and its title and page number in the footer.
pub fn document_docx(doc: &RenderedDocument) -> Vec<u8> {
    use docx_rs::{BreakType, Docx, Footer, PageNum, Paragraph, Run};
    let mut blocks = cover(doc);
    blocks.extend(markdown_blocks(&doc.markdown));
    let mut docx = Docx::new().footer(
        Footer::new().add_paragraph(
            Paragraph::new()
                .add_run(
                    Run::new()
                        .add_text(format!(
                            "{} · {} · version {} · page ",
                            doc.enterprise, doc.row.title, doc.row.version
                        ))
                        .size(16),
                )
                .add_page_num(PageNum::new()),
        ),
    );
    for block in blocks {
        let paragraph = match block {
            Block::Heading(text, size) => Paragraph::new()
                .add_run(Run::new().add_text(text).bold().size((size * 2.0) as usize)),
            Block::Paragraph(text, size) => {
                Paragraph::new().add_run(Run::new().add_text(text).size((size * 2.0) as usize))
            }
            Block::Field(label, value) => Paragraph::new()
                .add_run(Run::new().add_text(format!("{label}: ")).bold().size(21))
                .add_run(Run::new().add_text(value).size(21)),
            Block::Space(_) | Block::Rule => Paragraph::new(),
            Block::PageBreak => Paragraph::new().add_run(Run::new().add_break(BreakType::Page)),
        };
        docx = docx.add_paragraph(paragraph);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    // Writing to memory fails only on a bug of the writer: an empty file says so.
    match docx.build().pack(&mut out) {
        Ok(()) => out.into_inner(),
        Err(_) => Vec::new(),
    }
}

/// Every document in force as a ZIP: each as PDF and Word, and pack.pdf.
pub fn pack_zip(enterprise: &str, docs: &[RenderedDocument]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut add = |name: String, bytes: &[u8]| -> zip::result::ZipResult<()> {
        zip.start_file(name, options)?;
        zip.write_all(bytes)?;
        Ok(())
    };
    let mut written = add("pack.pdf".into(), &pack_pdf(enterprise, docs));
    for doc in docs {
        written = written
            .and_then(|()| add(format!("pdf/{}.pdf", doc.row.id), &document_pdf(doc)))
            .and_then(|()| add(format!("word/{}.docx", doc.row.id), &document_docx(doc)));
    }
    match written.and_then(|()| zip.finish()) {
        Ok(cursor) => cursor.into_inner(),
        Err(_) => Vec::new(),
    }
}

/// A document as a stand-alone HTML page.
pub fn document_html(doc: &RenderedDocument) -> String {
    let esc = |t: &str| minijinja::HtmlEscape(t).to_string();
    let row = &doc.row;
    let approved = row.approved.as_ref().map_or_else(
        || "not approved yet".to_owned(),
        |a| {
            format!(
                "approved by {} on {}, next review {}",
                a.by,
                day(a.at),
                a.next_review
            )
        },
    );
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}: {enterprise}</title>\
<style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto;line-height:1.45}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.2rem .5rem}}.meta{{color:#555}}</style></head>\n\
<body><p class=\"meta\">{enterprise} · version {version} · {state} · owner {owner} · {approved}</p>\n{body}</body></html>\n",
        title = esc(&row.title),
        enterprise = esc(&doc.enterprise),
        version = row.version,
        state = row.state,
        owner = esc(row.owner.as_deref().unwrap_or("not set")),
        approved = esc(&approved),
        body = markdown_html(&doc.markdown, 0),
    )
}

/// The index page of an HTML export: a link per document with its version and state.
pub fn pack_index_html(enterprise: &str, docs: &[RenderedDocument]) -> String {
    let esc = |t: &str| minijinja::HtmlEscape(t).to_string();
    let items: String = docs
        .iter()
        .map(|d| {
            format!(
                "<li><a href=\"{}.html\">{}</a>: version {}, {}</li>\n",
                esc(&d.row.id),
                esc(&d.row.title),
                d.row.version,
                d.row.state
            )
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Documents of {0}</title></head>\n<body><h1>Information security documents of {0}</h1>\n<ul>\n{items}</ul></body></html>\n",
        esc(enterprise)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_in_a_document_is_shown_as_text_never_run() {
        let html = markdown_html(
            "Call <script>alert(1)</script> now\n\n<img src=x onerror=alert(1)>",
            0,
        );
        assert!(markdown_html("# Title", 1).contains("<h2>"));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn markdown_becomes_headings_paragraphs_items_and_rows() {
        let blocks = markdown_blocks("# Title\n\nText **bold**.\n\n- one\n- two\n\n1. first\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert_eq!(blocks[0], Block::Heading("Title".into(), 16.0));
        assert_eq!(blocks[1], Block::Paragraph("Text bold.".into(), 10.5));
        assert_eq!(blocks[2], Block::Paragraph("\u{2022} one".into(), 10.5));
        assert_eq!(blocks[4], Block::Paragraph("1. first".into(), 10.5));
        assert_eq!(blocks[5], Block::Paragraph("a | b".into(), 10.0));
        assert_eq!(blocks[6], Block::Paragraph("1 | 2".into(), 10.0));
    }
}
