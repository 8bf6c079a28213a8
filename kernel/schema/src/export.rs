//! Writing a schema back to a folder of YAML documents a person can review.

use std::path::{Path, PathBuf};

use mmsm_model::{Culture, Document, Matrices, Schema};

/// Splits a schema into named YAML documents: header, master tables, one file
/// per domain of controls, risk tables, matrices, artefact library, culture,
/// business checklist, metrics and mappings. Empty documents are left out.
pub fn export_to_files(schema: &Schema) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut push = |name: String, doc: Document| {
        if doc != Document::default() {
            files.push((name, to_yaml(&doc)));
        }
    };
    push(
        "00-schema.yaml".into(),
        Document {
            schema: Some(schema.schema.clone()),
            ..Document::default()
        },
    );
    push(
        "01-master.yaml".into(),
        Document {
            roles: schema.roles.clone(),
            sectors: schema.sectors.clone(),
            sizes: schema.sizes.clone(),
            maturity_levels: schema.maturity_levels.clone(),
            status_bands: schema.status_bands.clone(),
            ..Document::default()
        },
    );
    for (n, domain) in schema.domains.iter().enumerate() {
        push(
            format!("1{n}-domain-{}.yaml", file_safe(domain.id.as_str())),
            Document {
                domains: vec![domain.clone()],
                objectives: schema
                    .objectives
                    .iter()
                    .filter(|o| o.domain == domain.id)
                    .cloned()
                    .collect(),
                controls: schema
                    .controls
                    .iter()
                    .filter(|c| c.domain == domain.id)
                    .cloned()
                    .collect(),
                ..Document::default()
            },
        );
    }
    // Controls whose domain does not resolve cannot be in a valid schema; keep them anyway.
    let orphans: Vec<_> = schema
        .controls
        .iter()
        .filter(|c| !schema.domains.iter().any(|d| d.id == c.domain))
        .cloned()
        .collect();
    push(
        "19-other-controls.yaml".into(),
        Document {
            controls: orphans,
            ..Document::default()
        },
    );
    let m = &schema.matrices;
    push(
        "20-risk-tables.yaml".into(),
        Document {
            asset_types: schema.asset_types.clone(),
            threats: schema.threats.clone(),
            vulnerabilities: schema.vulnerabilities.clone(),
            risk_criteria: schema.risk_criteria.clone(),
            ..Document::default()
        },
    );
    push(
        "21-risk-matrices.yaml".into(),
        Document {
            matrices: Matrices {
                asset_type_vulnerability: m.asset_type_vulnerability.clone(),
                asset_type_threat: m.asset_type_threat.clone(),
                threat_vulnerability: m.threat_vulnerability.clone(),
                threat_control: m.threat_control.clone(),
                ..Matrices::default()
            },
            ..Document::default()
        },
    );
    push(
        "30-artefact-library.yaml".into(),
        Document {
            procedures: schema.procedures.clone(),
            regulations: schema.regulations.clone(),
            artefacts: schema.artefacts.clone(),
            matrices: Matrices {
                procedure_artefact: m.procedure_artefact.clone(),
                regulation_artefact: m.regulation_artefact.clone(),
                regulation_control: m.regulation_control.clone(),
                artefact_control: m.artefact_control.clone(),
                role_regulation: m.role_regulation.clone(),
                ..Matrices::default()
            },
            ..Document::default()
        },
    );
    push(
        "40-culture.yaml".into(),
        Document {
            culture: schema.culture.clone().filter(|c| *c != Culture::default()),
            ..Document::default()
        },
    );
    push(
        "45-certification.yaml".into(),
        Document {
            certification: schema.certification.clone(),
            ..Document::default()
        },
    );
    push(
        "50-business-checklist.yaml".into(),
        Document {
            business_checklist: schema.business_checklist.clone(),
            ..Document::default()
        },
    );
    push(
        "55-obligations.yaml".into(),
        Document {
            obligation_sources: schema.obligation_sources.clone(),
            obligations: schema.obligations.clone(),
            ..Document::default()
        },
    );
    push(
        "60-metrics.yaml".into(),
        Document {
            metrics: schema.metrics.clone(),
            ..Document::default()
        },
    );
    push(
        "70-mappings.yaml".into(),
        Document {
            mappings: schema.mappings.clone(),
            ..Document::default()
        },
    );
    files
}

/// The whole schema as one YAML document (every section in one file): what
/// the web UI hands the architect to edit and import as the next version.
pub fn export_to_text(schema: &Schema) -> String {
    serde_saphyr::to_string(schema).expect("schema documents serialise to YAML")
}

/// Writes the documents of [`export_to_files`] into `dir` (created if needed).
/// Returns the paths written.
pub fn export_to_dir(schema: &Schema, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, text) in export_to_files(schema) {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

fn to_yaml(doc: &Document) -> String {
    // Serialising plain data to YAML cannot fail: every key is a string or a
    // unit enum and every value is a number, string, list or map.
    serde_saphyr::to_string(doc).expect("schema documents serialise to YAML")
}

fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
