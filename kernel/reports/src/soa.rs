//! The Statement of Applicability: every control, applicable or not (with the
//! reason), its compliance and status, and the artefacts that implement it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use mmsm_engine::{Board, RiskRow};
use mmsm_kernel::services::AnswerNote;
use mmsm_model::{Answer, ControlId, Schema};

/// One row of the SoA: one control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoaRow {
    /// The control id.
    pub control: String,
    /// Its title.
    pub title: String,
    /// Its domain.
    pub domain: String,
    /// Whether it applies to the enterprise.
    pub applicable: bool,
    /// Why (or why not).
    pub reason: String,
    /// Compliance, 0..100 (none when not applicable).
    pub compliance: Option<f64>,
    /// red, amber, green or na.
    pub status: String,
    /// The documents, regulations and procedures that implement it.
    pub implemented_by: Vec<String>,
    /// yes, partial or no, from its compliance; empty when not applicable.
    pub implemented: String,
    /// The threats it treats, with the highest residual risk each has now, worst first.
    pub threats: Vec<String>,
    /// The requirements of other frameworks mapped to it (laws, contracts, standards).
    pub requirements: Vec<String>,
}

/// The threats `control` treats (the schema's threat-control matrix), each
/// with the highest residual risk it has now among the enterprise's assets
/// and its band, worst first.
fn treated_threats(
    schema: &Schema,
    control: &mmsm_model::ControlId,
    risks: &[RiskRow],
) -> Vec<String> {
    let bands = schema.risk_bands();
    let mut threats: Vec<(f64, String)> = schema
        .matrices
        .threat_control
        .iter()
        .filter(|tc| &tc.control == control)
        .filter_map(|tc| {
            let worst = risks
                .iter()
                .filter(|r| r.threat == tc.threat)
                .map(|r| r.residual)
                .fold(None, |acc: Option<f64>, r| {
                    Some(acc.map_or(r, |a| a.max(r)))
                })?;
            let name = schema
                .threats
                .iter()
                .find(|t| t.id == tc.threat)
                .map_or_else(|| tc.threat.to_string(), |t| t.name.clone());
            let band = bands
                .iter()
                .find(|b| worst >= b.from && worst < b.to)
                .or(bands.last())
                .map_or("", |b| b.label.as_str());
            Some((
                worst,
                format!("{} {name} (residual risk {worst:.1}, {band})", tc.threat),
            ))
        })
        .collect();
    threats.sort_by(|a, b| b.0.total_cmp(&a.0));
    threats.into_iter().map(|(_, t)| t).collect()
}

/// The SoA rows of an ISMS, in schema order.
pub fn soa_rows(
    schema: &Schema,
    board: &Board,
    risks: &[RiskRow],
    answers: &BTreeMap<mmsm_model::SubControlId, Answer>,
    notes: &BTreeMap<mmsm_model::SubControlId, AnswerNote>,
    business: &BTreeMap<mmsm_model::BusinessQuestionId, mmsm_model::Scalar>,
) -> Vec<SoaRow> {
    let m = &schema.matrices;
    let name_of = |id: &str| -> String {
        schema
            .artefacts
            .iter()
            .find(|a| a.id.as_str() == id)
            .map(|a| a.name.clone())
            .or_else(|| {
                schema
                    .regulations
                    .iter()
                    .find(|r| r.id.as_str() == id)
                    .map(|r| r.name.clone())
            })
            .unwrap_or_else(|| id.to_owned())
    };
    schema
        .controls
        .iter()
        // The management system's own requirements (clauses 4-10) are not selected.
        .filter(|control| !schema.is_requirement(control))
        .map(|control| {
            let row = board.controls.iter().find(|c| c.id == control.id);
            let compliance = row.and_then(|r| r.compliance);
            let status = row.map_or("na".to_owned(), |r| status_word(r.status).to_owned());
            let applicable = compliance.is_some();
            let n_na = control
                .subcontrols
                .iter()
                .filter(|s| answers.get(&s.id) == Some(&Answer::Na))
                .count();
            // The justifications given with the `na` answers, and the notes.
            // Questions with the same justification are named together.
            let mut by_text: Vec<(String, Vec<String>)> = Vec::new();
            for s in control
                .subcontrols
                .iter()
                .filter(|s| answers.get(&s.id) == Some(&Answer::Na))
            {
                if let Some(j) = notes.get(&s.id).and_then(|n| n.justification.as_ref()) {
                    match by_text.iter_mut().find(|(text, _)| text == j) {
                        Some((_, ids)) => ids.push(s.id.to_string()),
                        None => by_text.push((j.clone(), vec![s.id.to_string()])),
                    }
                }
            }
            let justified: Vec<String> = by_text
                .into_iter()
                .map(|(text, ids)| format!("{}: {text}", ids.join(", ")))
                .collect();
            let noted: Vec<String> = control
                .subcontrols
                .iter()
                .filter_map(|s| {
                    let n = notes.get(&s.id)?;
                    let mut said = n.note.clone().unwrap_or_default();
                    if !n.evidence.is_empty() {
                        if !said.is_empty() {
                            said.push(' ');
                        }
                        said.push_str(&format!("(evidence: {})", n.evidence.join(", ")));
                    }
                    (!said.is_empty()).then(|| format!("{}: {said}", s.id))
                })
                .collect();
            let threats = if applicable {
                treated_threats(schema, &control.id, risks)
            } else {
                Vec::new()
            };
            // The obligations of the legal catalogue that apply and name it, then the
            // requirements other frameworks map to it.
            let mut requirements: Vec<String> = schema
                .obligations
                .iter()
                .filter(|o| o.controls.contains(&control.id))
                .filter(|o| o.applicability(business) == mmsm_model::Applicability::Applies)
                .map(|o| o.label())
                .collect();
            requirements.extend(mapped_requirements(&schema.mappings, &control.id));
            let mut reason = if applicable {
                let mut why: Vec<String> = Vec::new();
                if let Some(worst) = threats.first() {
                    why.push(format!(
                        "treats {} threat{} of the risk analysis, the worst now {worst}",
                        threats.len(),
                        if threats.len() == 1 { "" } else { "s" }
                    ));
                }
                if !requirements.is_empty() {
                    why.push(format!("required by {}", requirements.join(", ")));
                }
                // The business answers that keep it in (a rule would exclude it otherwise).
                for question in &schema.business_checklist {
                    let Some(answer) = business.get(&question.id) else {
                        continue;
                    };
                    let decides = question
                        .not_applicable
                        .iter()
                        .any(|r| r.controls.contains(&control.id) && !answer.matches(&r.equals));
                    if decides {
                        why.push(format!(
                            "the business checklist answers {}: {}",
                            question.id,
                            answer.words()
                        ));
                    }
                }
                if why.is_empty() {
                    why.push(format!(
                        "a control of {} the enterprise answered for (no threat of its risk analysis is linked to it)",
                        schema.schema.name
                    ));
                }
                if n_na > 0 {
                    why.push(format!(
                        "{n_na} of {} questions answered not applicable",
                        control.subcontrols.len()
                    ));
                }
                format!("applies: {}", why.join("; "))
            } else if justified.is_empty() {
                format!(
                    "not applicable: all {} questions answered not applicable; INCOMPLETE: no justification was given for the exclusion",
                    control.subcontrols.len()
                )
            } else {
                "not applicable".to_owned()
            };
            if !justified.is_empty() {
                reason.push_str(&format!(" (why not: {})", justified.join("; ")));
            }
            if !noted.is_empty() {
                reason.push_str(&format!("; notes: {}", noted.join("; ")));
            }
            let mut implemented_by: Vec<String> = m
                .artefact_control
                .iter()
                .filter(|r| r.control == control.id)
                .map(|r| name_of(r.artefact.as_str()))
                .collect();
            implemented_by.extend(
                m.regulation_control
                    .iter()
                    .filter(|r| r.control == control.id)
                    .map(|r| format!("Regulation: {}", name_of(r.regulation.as_str()))),
            );
            implemented_by.extend(
                schema
                    .procedures
                    .iter()
                    .filter(|p| p.controls.contains(&control.id))
                    .map(|p| format!("Procedure: {}", p.name)),
            );
            let implemented = match compliance {
                None => String::new(),
                Some(c) if c >= 100.0 - 1e-9 => "yes".into(),
                Some(c) if c > 1e-9 => "partial".into(),
                Some(_) => "no".into(),
            };
            SoaRow {
                control: control.id.to_string(),
                title: control.title.clone(),
                domain: control.domain.to_string(),
                applicable,
                reason,
                compliance,
                status,
                implemented_by,
                implemented,
                threats,
                requirements,
            }
        })
        .collect()
}

const HEADER: [&str; 11] = [
    "Control",
    "Title",
    "Domain",
    "Applicable",
    "Reason",
    "Compliance (%)",
    "Status",
    "Implemented by",
    "Implemented",
    "Threats treated",
    "Requirements",
];

fn cells(row: &SoaRow) -> [String; 11] {
    [
        row.control.clone(),
        row.title.clone(),
        row.domain.clone(),
        if row.applicable {
            "yes".into()
        } else {
            "no".into()
        },
        row.reason.clone(),
        row.compliance
            .map(|c| format!("{c:.1}"))
            .unwrap_or_default(),
        row.status.clone(),
        row.implemented_by.join("; "),
        row.implemented.clone(),
        row.threats.join("; "),
        row.requirements.join("; "),
    ]
}

/// A text cell as a spreadsheet reads it safely: one that starts like a
/// formula (`=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`,
/// so that opening the CSV never runs what a schema or an import put there.
fn inert(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Writes the SoA as CSV; text cells that would start a formula are made inert.
pub fn write_soa_csv(rows: &[SoaRow], out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(HEADER)?;
    for row in rows {
        writer.write_record(cells(row).map(inert))?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes the SoA as an xlsx workbook with one row per control.
pub fn write_soa_xlsx(
    rows: &[SoaRow],
    title: &str,
    path: &Path,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Statement of Applicability")?;
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(0, 0, title, &bold)?;
    for (col, h) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(2, col as u16, *h, &bold)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        let c = cells(row);
        for (col, value) in c.iter().enumerate() {
            if col == 5 {
                if let Some(v) = row.compliance {
                    sheet.write_number(r, col as u16, (v * 10.0).round() / 10.0)?;
                }
                continue;
            }
            sheet.write_string(r, col as u16, value)?;
        }
    }
    sheet.set_column_width(1, 40)?;
    sheet.set_column_width(4, 50)?;
    sheet.set_column_width(7, 60)?;
    sheet.set_column_width(9, 60)?;
    sheet.set_column_width(10, 40)?;
    sheet.autofilter(2, 0, 2 + rows.len() as u32, HEADER.len() as u16 - 1)?;
    sheet.set_freeze_panes(3, 0)?;
    workbook.save(path)
}

/// The SoA as a printable PDF: a title page line, then one block per
/// control with the same columns as the table, the CSV and the workbook.
pub fn soa_pdf(title: &str, rows: &[SoaRow]) -> Vec<u8> {
    use crate::pdf::{render, Block, Document};
    let mut blocks = vec![
        Block::Heading(title.to_owned(), 18.0),
        Block::Paragraph(
            format!(
                "{} controls, {} applicable.",
                rows.len(),
                rows.iter().filter(|r| r.applicable).count()
            ),
            10.5,
        ),
        Block::Rule,
    ];
    for row in rows {
        let c = cells(row);
        blocks.push(Block::Heading(format!("{} {}", c[0], c[1]), 11.5));
        for (label, value) in HEADER.iter().zip(c.iter()).skip(2) {
            if !value.is_empty() {
                blocks.push(Block::Field((*label).to_owned(), value.clone()));
            }
        }
        blocks.push(Block::Space(6.0));
    }
    render(&Document {
        title: title.to_owned(),
        blocks,
        footer: Some(title.to_owned()),
        header: Some(title.to_owned()),
    })
}

fn status_word(status: mmsm_engine::Status) -> &'static str {
    use mmsm_engine::Status;
    match status {
        Status::Red => "red",
        Status::Amber => "amber",
        Status::Green => "green",
        Status::Na => "na",
    }
}

/// The requirements of other frameworks mapped to a control, one entry per
/// framework: `nist-csf-2.0 gv.po-01, gv.po-02`.
fn mapped_requirements(mappings: &[mmsm_model::Mapping], control: &ControlId) -> Vec<String> {
    let mut by_framework: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for other in mappings.iter().filter_map(|m| m.other_end(control)) {
        let (framework, node) = other.split_once(':').unwrap_or(("", other));
        let nodes = by_framework.entry(framework).or_default();
        if !nodes.contains(&node) {
            nodes.push(node);
        }
    }
    by_framework
        .into_iter()
        .map(|(framework, nodes)| {
            if framework.is_empty() {
                nodes.join(", ")
            } else {
                format!("{framework} {}", nodes.join(", "))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(title: &str) -> SoaRow {
        SoaRow {
            control: "5.1".into(),
            title: title.into(),
            domain: "Organizational".into(),
            applicable: true,
            reason: "applies".into(),
            compliance: Some(55.0),
            status: "amber".into(),
            implemented_by: vec!["Security policy".into()],
            implemented: "partial".into(),
            threats: vec!["=A.24 Denial of service (residual risk 12.0, low)".into()],
            requirements: Vec::new(),
        }
    }

    #[test]
    fn csv_cells_that_would_start_a_formula_are_made_inert_and_others_are_kept() {
        let mut out = Vec::new();
        let rows = [
            row("=HYPERLINK(\"http://x\")"),
            row("@SUM(A1)"),
            row("-1+2"),
            row("Policies"),
        ];
        write_soa_csv(&rows, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains("'@SUM(A1)"), "{text}");
        assert!(text.contains("'-1+2"), "{text}");
        assert!(text.contains(",Policies,"), "{text}");
        assert!(text.contains(",55.0,"), "numbers stay numbers: {text}");
        assert!(
            text.contains("\"'=A.24 Denial"),
            "the new columns are inert too: {text}"
        );
        assert!(
            !text.contains("'Policies") && !text.contains("'55"),
            "{text}"
        );
    }
}
