//! The printable level certificate (issue 15.2): what the auditor issued,
//! with the figures of that day and its state when printed.

use mmsm_kernel::services::{CertificateView, IsmsRecord};
use mmsm_model::Schema;

use crate::pdf::{Block, Document};

fn day(at: u64) -> String {
    chrono::DateTime::from_timestamp(at as i64, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn percent(value: Option<f64>) -> String {
    value.map_or("n/a".into(), |v| format!("{v:.1} %"))
}

/// The certificate of `view` for `record` as a document to print.
pub fn certificate_document(
    schema: &Schema,
    record: &IsmsRecord,
    view: &CertificateView,
) -> Document {
    let c = &view.certificate;
    let level = schema.maturity_levels.iter().find(|l| l.level == c.level);
    let level_name = level.map_or_else(|| format!("level {}", c.level), |l| l.name.clone());
    let mut blocks = vec![
        Block::Heading("Certificate of information security maturity".into(), 20.0),
        Block::Paragraph(
            "Certification by levels of the MMSM-SME methodology".into(),
            11.0,
        ),
        Block::Rule,
        Block::Space(12.0),
        Block::Paragraph("This certifies that".into(), 12.0),
        Block::Heading(record.enterprise.name.clone(), 18.0),
        Block::Paragraph(
            format!(
                "has reached maturity level {} ({level_name}) of its information security management system, as audited on {}.",
                c.level,
                day(c.issued_at)
            ),
            12.0,
        ),
    ];
    if let Some(description) = level.and_then(|l| l.description.as_ref()) {
        blocks.push(Block::Paragraph(description.clone(), 11.0));
    }
    blocks.extend([
        Block::Space(8.0),
        Block::Field("ISMS".into(), record.id.to_string()),
        Block::Field(
            "Schema".into(),
            format!("{} (version {})", schema.schema.name, c.schema_version),
        ),
        Block::Field(
            format!("Compliance of level {}", c.level),
            percent(c.level_compliance),
        ),
        Block::Field("Overall compliance".into(), percent(c.compliance)),
        Block::Field("Issued by".into(), c.issued_by.clone()),
        Block::Field("Issued on".into(), day(c.issued_at)),
        Block::Field("Valid until".into(), day(c.expires_at)),
        Block::Space(8.0),
        Block::Rule,
    ]);
    let state = match &view.reason {
        Some(reason) => format!("State when printed: {} ({reason}).", view.state),
        None => format!("State when printed: {}.", view.state),
    };
    blocks.push(Block::Paragraph(state, 11.0));
    blocks.push(Block::Paragraph(
        format!(
            "A certificate is valid while the level holds, no major non-conformity on its controls is open and its validity runs. Check its state now with `mmsm isms certificates {}`.",
            record.id
        ),
        9.0,
    ));
    Document {
        title: format!(
            "{}: maturity level {} certificate",
            record.enterprise.name, c.level
        ),
        blocks,
        footer: None,
        header: None,
    }
}
