//! Reading schema documents from disk or memory and merging their sections.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mmsm_model::{Culture, Document, Schema};

use super::problem::{Problem, Problems};
use super::validate::validate;

/// The text of one schema document and the path it is known by.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path shown in problems.
    pub path: PathBuf,
    /// The document's text.
    pub text: String,
}

/// Which file each element of a merged schema came from.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    header: Option<PathBuf>,
    sections: HashMap<&'static str, Vec<PathBuf>>,
    single: HashMap<&'static str, PathBuf>,
}

impl Provenance {
    /// The file of element `index` of `section` (e.g. `"controls"`,
    /// `"matrices.threat_control"`), or of a single-valued section
    /// (`"schema"`, `"culture"`, `"status_bands"`) when `index` is 0.
    pub fn file(&self, section: &str, index: usize) -> Option<PathBuf> {
        if section == "schema" {
            return self.header.clone();
        }
        self.sections
            .get(section)
            .and_then(|files| files.get(index))
            .or_else(|| self.single.get(section))
            .cloned()
    }

    fn push(&mut self, section: &'static str, path: &Path, count: usize) {
        let files = self.sections.entry(section).or_default();
        files.extend(std::iter::repeat_n(path.to_path_buf(), count));
    }
}

/// A schema loaded and validated, with the file of each element.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The merged schema.
    pub schema: Schema,
    /// Where each element came from.
    pub provenance: Provenance,
}

const EXTENSIONS: [&str; 4] = ["yaml", "yml", "json", "toml"];

/// Loads a folder (recursively, in path order) or a single file of schema
/// documents, merges and validates them. Every problem is reported at once.
pub fn load_path(path: &Path) -> Result<Loaded, Problems> {
    let files = read_sources(path).map_err(|p| Problems(vec![*p]))?;
    load_files(files)
}

/// Merges and validates documents already in memory (e.g. the schemas embedded in the binary).
pub fn load_files(files: Vec<SourceFile>) -> Result<Loaded, Problems> {
    let mut problems = Vec::new();
    let mut documents = Vec::new();
    for file in &files {
        match parse_document(file) {
            Ok(Some(doc)) => documents.push((file.path.clone(), doc)),
            Ok(None) => {}
            Err(problem) => problems.push(*problem),
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    let (schema, provenance) = merge(documents).map_err(Problems)?;
    let problems = validate(&schema, Some(&provenance));
    if problems.is_empty() {
        Ok(Loaded { schema, provenance })
    } else {
        Err(problems)
    }
}

fn read_sources(path: &Path) -> Result<Vec<SourceFile>, Box<Problem>> {
    let located = |message: String| {
        Box::new(
            Problem::new("path", path.display().to_string(), message)
                .in_file(Some(path.to_path_buf())),
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| located(format!("cannot be read: {e}")))?;
    let mut paths = Vec::new();
    if meta.is_dir() {
        collect_files(path, &mut paths).map_err(|e| located(format!("cannot be listed: {e}")))?;
        paths.sort();
        if paths.is_empty() {
            return Err(located(
                "holds no schema document; expected .yaml, .yml, .json or .toml files".into(),
            ));
        }
    } else {
        paths.push(path.to_path_buf());
    }
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| {
                Box::new(
                    Problem::new(
                        "path",
                        p.display().to_string(),
                        format!("cannot be read: {e}"),
                    )
                    .in_file(Some(p.clone())),
                )
            })?;
            Ok(SourceFile { path: p, text })
        })
        .collect()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if entry.file_type()?.is_dir() {
            collect_files(&path, out)?;
        } else if has_schema_extension(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn has_schema_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Parses one document by its extension; `None` for a document with no content.
fn parse_document(file: &SourceFile) -> Result<Option<Document>, Box<Problem>> {
    let extension = file
        .path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("yaml")
        .to_ascii_lowercase();
    let located = |line: Option<u64>, column: Option<u64>, message: String| {
        Box::new(Problem {
            file: Some(file.path.clone()),
            line,
            column,
            kind: "document".into(),
            id: String::new(),
            message,
        })
    };
    match extension.as_str() {
        "json" => serde_json::from_str(&file.text).map(Some).map_err(|e| {
            located(
                Some(e.line() as u64),
                Some(e.column() as u64),
                strip_json_position(&e.to_string()),
            )
        }),
        "toml" => toml::from_str(&file.text).map(Some).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| line_column(&file.text, s.start))
                .unwrap_or((0, 0));
            located(Some(line), Some(column), e.message().trim().to_owned())
        }),
        _ => {
            if is_blank_yaml(&file.text) {
                return Ok(None);
            }
            serde_saphyr::from_str(&file.text).map(Some).map_err(|e| {
                let location = e.location();
                located(
                    location.map(|l| l.line()),
                    location.map(|l| l.column()),
                    yaml_message(&e),
                )
            })
        }
    }
}

fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---"
    })
}

fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or_default();
    // The location is reported separately: drop the " at line L, column C" suffix.
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    }
}

fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn line_column(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u64 + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, column)
}

/// Merges documents: lists concatenate, exactly one header, single sections once.
fn merge(documents: Vec<(PathBuf, Document)>) -> Result<(Schema, Provenance), Vec<Problem>> {
    let mut problems = Vec::new();
    let mut provenance = Provenance::default();
    let mut header = None;
    let mut merged = Document::default();
    for (path, doc) in documents {
        if let Some(h) = doc.schema {
            match &provenance.header {
                Some(first) => problems.push(
                    Problem::new(
                        "schema",
                        h.id.to_string(),
                        format!(
                            "a second `schema:` header (the first is in {}); expected exactly one per schema",
                            first.display()
                        ),
                    )
                    .in_file(Some(path.clone())),
                ),
                None => {
                    provenance.header = Some(path.clone());
                    header = Some(h);
                }
            }
        }
        macro_rules! extend {
            ($($section:ident),*) => {$(
                provenance.push(stringify!($section), &path, doc.$section.len());
                merged.$section.extend(doc.$section);
            )*};
        }
        extend!(
            roles,
            sectors,
            sizes,
            maturity_levels,
            domains,
            objectives,
            controls,
            business_checklist,
            asset_types,
            threats,
            vulnerabilities,
            risk_criteria,
            procedures,
            regulations,
            artefacts,
            metrics,
            mappings,
            obligation_sources,
            obligations
        );
        macro_rules! extend_matrix {
            ($($matrix:ident),*) => {$(
                provenance.push(
                    concat!("matrices.", stringify!($matrix)),
                    &path,
                    doc.matrices.$matrix.len(),
                );
                merged.matrices.$matrix.extend(doc.matrices.$matrix);
            )*};
        }
        extend_matrix!(
            asset_type_vulnerability,
            asset_type_threat,
            threat_vulnerability,
            threat_control,
            procedure_artefact,
            regulation_artefact,
            regulation_control,
            artefact_control,
            role_regulation
        );
        if let Some(bands) = doc.status_bands {
            if let Some(first) = provenance.single.get("status_bands") {
                problems.push(
                    Problem::new(
                        "status_bands",
                        "",
                        format!(
                            "set a second time (first in {}); expected once",
                            first.display()
                        ),
                    )
                    .in_file(Some(path.clone())),
                );
            } else {
                provenance.single.insert("status_bands", path.clone());
                merged.status_bands = Some(bands);
            }
        }
        if let Some(certification) = doc.certification {
            if let Some(first) = provenance.single.get("certification") {
                problems.push(
                    Problem::new(
                        "certification",
                        "",
                        format!(
                            "set a second time (first in {}); expected once",
                            first.display()
                        ),
                    )
                    .in_file(Some(path.clone())),
                );
            } else {
                provenance.single.insert("certification", path.clone());
                merged.certification = Some(certification);
            }
        }
        if let Some(culture) = doc.culture {
            merge_culture(
                &mut merged.culture,
                culture,
                &path,
                &mut provenance,
                &mut problems,
            );
        }
    }
    let Some(header) = header else {
        problems.push(Problem::new(
            "schema",
            "",
            "no `schema:` header in any document; expected exactly one (schema: { id, name, ... })",
        ));
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok((merged.with_header(header), provenance))
}

/// Culture settings come from one document; questions may be spread over several.
fn merge_culture(
    merged: &mut Option<Culture>,
    culture: Culture,
    path: &Path,
    provenance: &mut Provenance,
    problems: &mut Vec<Problem>,
) {
    provenance.push("culture.questions", path, culture.questions.len());
    match merged {
        None => {
            provenance.single.insert("culture", path.to_path_buf());
            *merged = Some(culture);
        }
        Some(existing) => {
            let defaults = Culture::default();
            let settings = |c: &Culture| {
                (
                    c.pass_mark,
                    c.regulation_min,
                    c.valid_days,
                    c.per_regulation,
                )
            };
            if settings(&culture) != settings(&defaults) && settings(&culture) != settings(existing)
            {
                let first = provenance.single.get("culture").cloned();
                problems.push(
                    Problem::new(
                        "culture",
                        "",
                        format!(
                            "settings differ from those in {}; expected them in one document",
                            first.map(|p| p.display().to_string()).unwrap_or_default()
                        ),
                    )
                    .in_file(Some(path.to_path_buf())),
                );
            }
            existing.questions.extend(culture.questions);
        }
    }
}
