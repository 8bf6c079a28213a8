//! Importers (DESIGN.md 7.1): the kernel parses a catalogue (CSV, JSON or
//! YAML) into one JSON value, hands it to an importer script
//! (`import(ctx, input)`), merges the schema sections it returns into the
//! target schema by id, validates the result like any schema document, and
//! stores it as a new schema or a new version in one transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::access::Principal;
use mmsm_model::{AppliesTo, Control, Document, Schema, SchemaHeader, SchemaId, SubControl, Zone};
use mmsm_schema as schema_docs;

use super::host::ImporterRunner;
use super::{ImportOutcome, Kernel, Result, ServiceError};

/// The sections an importer may return (besides `skipped` and `notes`).
pub const IMPORTABLE: &[&str] = &[
    "domains",
    "objectives",
    "controls",
    "asset_types",
    "threats",
    "vulnerabilities",
    "matrices",
    "mappings",
];

/// Where an import stands, for a progress bar.
pub trait ImportProgress {
    /// Bytes of the input read so far, of `total`.
    fn read(&self, done: u64, total: u64);
    /// A new stage: `parse`, `script`, `merge`, `validate`, `store`.
    fn stage(&self, name: &str);
}

/// A progress that shows nothing.
pub struct NoProgress;

impl ImportProgress for NoProgress {
    fn read(&self, _: u64, _: u64) {}
    fn stage(&self, _: &str) {}
}

/// What an import did to one kind of element.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindSummary {
    /// New ids.
    pub added: usize,
    /// Ids whose content changed.
    pub changed: usize,
    /// Ids imported with the content they had.
    pub unchanged: usize,
}

/// The summary of `mmsm import`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportSummary {
    /// The importer.
    pub importer: String,
    /// The input file.
    pub file: String,
    /// What the store did: created, new version, unchanged.
    pub outcome: ImportOutcome,
    /// Added, changed and unchanged elements per kind (`controls`, `subcontrols`, ...).
    pub kinds: BTreeMap<String, KindSummary>,
    /// What the importer skipped, by reason (e.g. `withdrawn controls`).
    pub skipped: BTreeMap<String, u64>,
    /// Notes of the importer.
    pub notes: Vec<String>,
    /// Milliseconds per stage (`parse`, `script`, `merge`, `validate`, `store`).
    pub timings_ms: BTreeMap<String, f64>,
}

/// Reads `path` as `csv` (records keyed by the header row; empty fields left
/// out), `json` or `yaml`, by its extension, into one JSON value.
pub fn parse_input(path: &Path, progress: &dyn ImportProgress) -> Result<(String, Value)> {
    let format = format_of(path)?;
    let text = read_with_progress(path, progress)?;
    progress.stage("parse");
    let value = parse_input_text(&path.display().to_string(), &format, &text)?;
    Ok((format, value))
}

/// Parses the text of an importer's input (`csv`, `json`, anything else as YAML)
/// into one JSON value; `shown` names it in the error. Pure: the fuzz targets
/// call it with arbitrary text.
pub fn parse_input_text(shown: &str, format: &str, text: &str) -> Result<Value> {
    Ok(match format {
        "csv" => parse_csv(text).map_err(|e| invalid_input(&format!("{shown}: {e}")))?,
        "json" => serde_json::from_str(text)
            .map_err(|e| invalid_input(&format!("{shown}:{}:{}: {e}", e.line(), e.column())))?,
        _ => serde_saphyr::from_str(text).map_err(|e| invalid_input(&format!("{shown}: {e}")))?,
    })
}

fn invalid_input(message: &str) -> ServiceError {
    ServiceError::Refused(format!("the input is not readable: {message}"))
}

fn format_of(path: &Path) -> Result<String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "json" => Ok(ext),
        "yaml" | "yml" => Ok("yaml".into()),
        _ => Err(ServiceError::Refused(format!(
            "{}: unknown input format `{ext}`; expected a .csv, .json, .yaml or .yml file",
            path.display()
        ))),
    }
}

fn read_with_progress(path: &Path, progress: &dyn ImportProgress) -> Result<String> {
    use std::io::Read;
    let io = |source| ServiceError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(total as usize);
    let mut chunk = vec![0u8; 1 << 18];
    loop {
        let n = file.read(&mut chunk).map_err(io)?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        progress.read(bytes.len() as u64, total);
    }
    String::from_utf8(bytes)
        .map_err(|e| ServiceError::Refused(format!("{}: not UTF-8 text: {e}", path.display())))
}

/// Records keyed by the header row, empty fields left out. A row with more or
/// fewer fields than the header, or a quote never closed, is refused with its
/// line: read anyway, it would shift or swallow fields silently.
fn parse_csv(text: &str) -> std::result::Result<Value, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let mut rows = Vec::new();
    let mut records = reader.records().peekable();
    while let Some(record) = records.next() {
        let record = record.map_err(|e| e.to_string())?;
        let (line, start) = record
            .position()
            .map_or((0, 0), |p| (p.line(), p.byte() as usize));
        let last = records.peek().is_none();
        // A quote left open runs to the end of the text: the last record then
        // holds a line break and an odd number of quotes.
        if last && record.iter().any(|f| f.contains('\n')) {
            let raw = text.get(start..).unwrap_or_default();
            if raw.matches('"').count() % 2 == 1 {
                return Err(format!(
                    "line {line}: a quote opened in this row is never closed"
                ));
            }
        }
        if record.len() != headers.len() {
            return Err(format!(
                "line {line}: the row has {} fields, the header has {}: a field is missing or extra, or a comma in a text is not quoted",
                record.len(),
                headers.len()
            ));
        }
        let mut row = Map::new();
        for (name, field) in headers.iter().zip(record.iter()) {
            if !field.is_empty() {
                row.insert(name.to_owned(), Value::from(field));
            }
        }
        if !row.is_empty() {
            rows.push(Value::Object(row));
        }
    }
    Ok(Value::Array(rows))
}

impl Kernel {
    /// `mmsm import IMPORTER FILE --schema ID [--new]`: parses `file`, runs the
    /// importer, merges its sections into the latest version of schema `id`
    /// (or, with `new`, into a new schema with a minimal header), validates
    /// and stores the result in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn import_with_script(
        &self,
        principal: &Principal,
        registry: &dyn ImporterRunner,
        importer: &str,
        file: &Path,
        id: &str,
        new: bool,
        progress: &dyn ImportProgress,
    ) -> Result<ImportSummary> {
        principal.require(Zone::Schemas, "import a catalogue into a schema")?;
        let mut timings = BTreeMap::new();
        let formats = registry
            .importer_formats(importer)
            .map_err(ServiceError::Refused)?;
        let base = self.import_target(principal, id, new, importer, file)?;

        let started = Instant::now();
        let (format, input) = parse_input(file, progress)?;
        if !formats.is_empty() && !formats.contains(&format) {
            return Err(ServiceError::Refused(format!(
                "importer `{importer}` reads {}, not {format}",
                formats.join(", ")
            )));
        }
        lap(&mut timings, "parse", started);

        progress.stage("script");
        let started = Instant::now();
        let ctx = import_ctx(&base, new, file, &format);
        let result = registry
            .import(importer, &ctx, &input)
            .map_err(ServiceError::Refused)?;
        drop(input);
        lap(&mut timings, "script", started);

        progress.stage("merge");
        let started = Instant::now();
        let (doc, skipped, notes) = read_result(importer, result)?;
        let mut schema = base;
        let kinds = merge(&mut schema, doc);
        lap(&mut timings, "merge", started);

        progress.stage("validate");
        let started = Instant::now();
        let problems = schema_docs::validate(&schema, None);
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        lap(&mut timings, "validate", started);

        progress.stage("store");
        let started = Instant::now();
        let outcome = self.import_schema(principal, schema)?;
        lap(&mut timings, "store", started);
        Ok(ImportSummary {
            importer: importer.to_owned(),
            file: file.display().to_string(),
            outcome,
            kinds,
            skipped,
            notes,
            timings_ms: timings,
        })
    }

    /// The schema an import starts from: the latest version of `id`, or with
    /// `new` an empty schema with a minimal header.
    fn import_target(
        &self,
        principal: &Principal,
        id: &str,
        new: bool,
        importer: &str,
        file: &Path,
    ) -> Result<Schema> {
        let exists = !self.store().schema_versions(id)?.is_empty();
        match (new, exists) {
            (true, true) => Err(ServiceError::Exists {
                kind: "schema",
                id: id.to_owned(),
                hint: "; leave out --new to store a new version of it".into(),
            }),
            (false, false) => Err(ServiceError::NotFound {
                kind: "schema",
                id: id.to_owned(),
                hint: "; add --new to create it, or run `mmsm schema list`".into(),
            }),
            (false, true) => Ok(self.schema(principal, id, None)?.schema),
            (true, false) => {
                let name = file
                    .file_stem()
                    .map_or_else(|| id.to_owned(), |s| s.to_string_lossy().into_owned());
                Ok(Document::default().with_header(SchemaHeader {
                    id: SchemaId::new(id),
                    name: format!("{name} (imported with {importer})"),
                    version: 1,
                    based_on: None,
                    description: Some(format!(
                        "Imported from {} by the `{importer}` importer.",
                        file.file_name()
                            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
                    )),
                    applies_to: AppliesTo::default(),
                    target_level: BTreeMap::new(),
                    min_sample: None,
                }))
            }
        }
    }
}

fn lap(timings: &mut BTreeMap<String, f64>, stage: &str, started: Instant) {
    timings.insert(stage.into(), started.elapsed().as_secs_f64() * 1000.0);
}

/// What the importer's `ctx` holds: the target schema's id, whether it is new,
/// and the ids it has, so that a script can tell new elements from existing ones.
fn import_ctx(schema: &Schema, new: bool, file: &Path, format: &str) -> Map<String, Value> {
    let ids =
        |items: Vec<&str>| Value::from(items.into_iter().map(Value::from).collect::<Vec<_>>());
    let mut target = Map::new();
    target.insert("id".into(), Value::from(schema.schema.id.as_str()));
    target.insert("new".into(), Value::from(new));
    target.insert(
        "domains".into(),
        ids(schema.domains.iter().map(|d| d.id.as_str()).collect()),
    );
    target.insert(
        "controls".into(),
        ids(schema.controls.iter().map(|c| c.id.as_str()).collect()),
    );
    target.insert(
        "subcontrols".into(),
        ids(schema.subcontrols().map(|(_, s)| s.id.as_str()).collect()),
    );
    target.insert(
        "threats".into(),
        ids(schema.threats.iter().map(|t| t.id.as_str()).collect()),
    );
    target.insert(
        "asset_types".into(),
        ids(schema.asset_types.iter().map(|t| t.id.as_str()).collect()),
    );
    let mut data = Map::new();
    data.insert("schema".into(), Value::Object(target));
    let name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    data.insert("file".into(), Value::from(name));
    data.insert("format".into(), Value::from(format));
    data
}

/// Splits an importer's result into schema sections, skip counts and notes.
fn read_result(
    importer: &str,
    result: Value,
) -> Result<(Document, BTreeMap<String, u64>, Vec<String>)> {
    let Value::Object(mut map) = result else {
        return Err(ServiceError::Refused(format!(
            "importer `{importer}` returned no table"
        )));
    };
    let mut skipped = BTreeMap::new();
    if let Some(Value::Object(counts)) = map.remove("skipped") {
        for (reason, count) in counts {
            if let Some(n) = count.as_u64().filter(|n| *n > 0) {
                skipped.insert(reason, n);
            }
        }
    }
    let notes = match map.remove("notes") {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let unknown: Vec<&String> = map
        .keys()
        .filter(|k| !IMPORTABLE.contains(&k.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(ServiceError::Refused(format!(
            "importer `{importer}` returned {}; expected only {}, skipped and notes",
            unknown
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", "),
            IMPORTABLE.join(", ")
        )));
    }
    // An empty Lua table comes back as an empty object: no elements.
    map.retain(|_, v| !is_empty_table(v));
    if let Some(Value::Object(matrices)) = map.get_mut("matrices") {
        matrices.retain(|_, v| !is_empty_table(v));
    }
    let doc: Document = serde_json::from_value(Value::Object(map)).map_err(|e| {
        ServiceError::Refused(format!(
            "importer `{importer}` returned elements that are not schema sections: {e}"
        ))
    })?;
    Ok((doc, skipped, notes))
}

fn is_empty_table(value: &Value) -> bool {
    match value {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// Merges `doc` into `schema` by id (rows of matrices and mappings by their
/// keys): new ids are added, existing ones replaced. A control that comes
/// without subcontrols keeps the ones it has; one that comes with some has
/// them merged by id (existing subcontrols it does not name are kept); what a
/// domain or control leaves out (description, objective, effort) stays.
pub fn merge(schema: &mut Schema, doc: Document) -> BTreeMap<String, KindSummary> {
    let mut kinds = BTreeMap::new();
    let old_subs: BTreeMap<String, SubControl> = schema
        .subcontrols()
        .map(|(_, s)| (s.id.to_string(), s.clone()))
        .collect();
    let mut put = |kind: &str, summary: KindSummary| {
        if summary != KindSummary::default() {
            kinds.insert(kind.to_owned(), summary);
        }
    };
    put(
        "domains",
        merge_by(
            &mut schema.domains,
            doc.domains,
            |d| d.id.to_string(),
            |old, mut new| {
                new.description = new.description.or_else(|| old.description.clone());
                new
            },
        ),
    );
    put(
        "objectives",
        merge_by(
            &mut schema.objectives,
            doc.objectives,
            |o| o.id.to_string(),
            keep_new,
        ),
    );
    let had_controls = !doc.controls.is_empty();
    put(
        "controls",
        merge_by(
            &mut schema.controls,
            doc.controls,
            |c| c.id.to_string(),
            merge_control,
        ),
    );
    if had_controls {
        let mut subs = KindSummary::default();
        for (_, s) in schema.subcontrols() {
            match old_subs.get(s.id.as_str()) {
                None => subs.added += 1,
                Some(old) if old != s => subs.changed += 1,
                Some(_) => {}
            }
        }
        put("subcontrols", subs);
    }
    put(
        "asset_types",
        merge_by(
            &mut schema.asset_types,
            doc.asset_types,
            |t| t.id.to_string(),
            keep_new,
        ),
    );
    put(
        "threats",
        merge_by(
            &mut schema.threats,
            doc.threats,
            |t| t.id.to_string(),
            keep_new,
        ),
    );
    put(
        "vulnerabilities",
        merge_by(
            &mut schema.vulnerabilities,
            doc.vulnerabilities,
            |v| v.id.to_string(),
            keep_new,
        ),
    );
    let m = doc.matrices;
    put(
        "asset_type_threat",
        merge_by(
            &mut schema.matrices.asset_type_threat,
            m.asset_type_threat,
            |r| format!("{}|{}", r.asset_type, r.threat),
            keep_new,
        ),
    );
    put(
        "threat_control",
        merge_by(
            &mut schema.matrices.threat_control,
            m.threat_control,
            |r| format!("{}|{}", r.threat, r.control),
            keep_new,
        ),
    );
    put(
        "asset_type_vulnerability",
        merge_by(
            &mut schema.matrices.asset_type_vulnerability,
            m.asset_type_vulnerability,
            |r| format!("{}|{}", r.asset_type, r.vulnerability),
            keep_new,
        ),
    );
    put(
        "threat_vulnerability",
        merge_by(
            &mut schema.matrices.threat_vulnerability,
            m.threat_vulnerability,
            |r| format!("{}|{}", r.threat, r.vulnerability),
            keep_new,
        ),
    );
    put(
        "mappings",
        merge_by(
            &mut schema.mappings,
            doc.mappings,
            |r| format!("{}|{}", r.from, r.to),
            keep_new,
        ),
    );
    kinds
}

fn keep_new<T>(_old: &T, new: T) -> T {
    new
}

/// A control merged into the one it replaces: what the import leaves out
/// (objective, description, an effort of the default 1, subcontrols) stays.
fn merge_control(old: &Control, mut new: Control) -> Control {
    new.objective = new.objective.or_else(|| old.objective.clone());
    new.description = new.description.or_else(|| old.description.clone());
    if new.effort == 1.0 {
        new.effort = old.effort;
    }
    if new.subcontrols.is_empty() {
        new.subcontrols = old.subcontrols.clone();
        return new;
    }
    let named: BTreeSet<String> = new.subcontrols.iter().map(|s| s.id.to_string()).collect();
    let mut subs: Vec<SubControl> = old
        .subcontrols
        .iter()
        .map(|s| {
            new.subcontrols
                .iter()
                .find(|n| n.id == s.id)
                .cloned()
                .unwrap_or_else(|| s.clone())
        })
        .collect();
    let existing: BTreeSet<String> = old.subcontrols.iter().map(|s| s.id.to_string()).collect();
    subs.extend(
        new.subcontrols
            .iter()
            .filter(|s| named.contains(s.id.as_str()) && !existing.contains(s.id.as_str()))
            .cloned(),
    );
    new.subcontrols = subs;
    new
}

/// Merges `incoming` into `items` by `key`, keeping the order of `items` and
/// appending new ones in their order; a repeated key in `incoming` counts once.
fn merge_by<T: Clone + PartialEq>(
    items: &mut Vec<T>,
    incoming: Vec<T>,
    key: impl Fn(&T) -> String,
    combine: impl Fn(&T, T) -> T,
) -> KindSummary {
    let mut summary = KindSummary::default();
    let mut at: BTreeMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (key(item), i))
        .collect();
    let mut seen = BTreeSet::new();
    for item in incoming {
        let k = key(&item);
        let first = seen.insert(k.clone());
        match at.get(&k) {
            Some(&i) => {
                let merged = combine(&items[i], item);
                if merged != items[i] {
                    items[i] = merged;
                    if first {
                        summary.changed += 1;
                    }
                } else if first {
                    summary.unchanged += 1;
                }
            }
            None => {
                at.insert(k, items.len());
                items.push(item);
                summary.added += 1;
            }
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsm_model::{ControlId, DomainId, SubControlId};

    fn sub(id: &str, text: &str) -> SubControl {
        SubControl {
            id: SubControlId::new(id),
            text: text.into(),
            level: 1,
            weight: 1.0,
            mandatory: false,
        }
    }

    fn control(id: &str, title: &str, subs: Vec<SubControl>) -> Control {
        Control {
            id: ControlId::new(id),
            domain: DomainId::new("5"),
            objective: None,
            title: title.into(),
            description: None,
            effort: 1.0,
            subcontrols: subs,
        }
    }

    fn header() -> SchemaHeader {
        SchemaHeader {
            id: SchemaId::new("t"),
            name: "T".into(),
            version: 1,
            based_on: None,
            description: None,
            applies_to: AppliesTo::default(),
            target_level: BTreeMap::new(),
            min_sample: None,
        }
    }

    #[test]
    fn merge_keeps_subcontrols_of_controls_that_come_without_any() {
        let mut schema = Document::default().with_header(header());
        schema.controls = vec![control("5.1", "Old", vec![sub("5.1.1", "q")])];
        let doc = Document {
            controls: vec![
                control("5.1", "Policies", Vec::new()),
                control("5.2", "Roles", vec![sub("5.2.1", "r")]),
            ],
            ..Document::default()
        };
        let kinds = merge(&mut schema, doc);
        assert_eq!(schema.controls[0].title, "Policies");
        assert_eq!(schema.controls[0].subcontrols, vec![sub("5.1.1", "q")]);
        assert_eq!(kinds["controls"].added, 1);
        assert_eq!(kinds["controls"].changed, 1);
        assert_eq!(kinds["subcontrols"].added, 1);
    }

    #[test]
    fn merge_updates_named_subcontrols_and_keeps_the_others() {
        let mut schema = Document::default().with_header(header());
        schema.controls = vec![control(
            "5.1",
            "P",
            vec![sub("5.1.1", "a"), sub("5.1.2", "b")],
        )];
        let doc = Document {
            controls: vec![control(
                "5.1",
                "P",
                vec![sub("5.1.2", "B"), sub("5.1.3", "c")],
            )],
            ..Document::default()
        };
        let kinds = merge(&mut schema, doc);
        let texts: Vec<&str> = schema.controls[0]
            .subcontrols
            .iter()
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(texts, ["a", "B", "c"]);
        assert_eq!(kinds["subcontrols"].added, 1);
        assert_eq!(kinds["subcontrols"].changed, 1);
    }

    #[test]
    fn ragged_rows_and_open_quotes_are_refused_with_their_line() {
        let short = parse_csv("id,title,theme\n5.1,Policies,org\n5.2,Roles\n").unwrap_err();
        assert!(
            short.starts_with("line 3: the row has 2 fields, the header has 3"),
            "{short}"
        );
        let long = parse_csv("id,title\n5.1,Policies, and rules\n").unwrap_err();
        assert!(
            long.starts_with("line 2: the row has 3 fields, the header has 2"),
            "{long}"
        );
        let open = parse_csv("id,title,theme\n5.1,\"Policies,org\n5.2,Roles,org\n").unwrap_err();
        assert_eq!(open, "line 2: a quote opened in this row is never closed");
        let open_last = parse_csv("id,title\n5.1,\"Policies\n5.2,Roles\n").unwrap_err();
        assert_eq!(
            open_last,
            "line 2: a quote opened in this row is never closed"
        );
        // Quoted commas, quotes and line breaks are text, not problems.
        let rows = parse_csv("id,title\n5.1,\"Policies, \"\"rules\"\"\nand more\"\n").unwrap();
        assert_eq!(rows[0]["title"], "Policies, \"rules\"\nand more");
    }

    #[test]
    fn csv_rows_leave_out_empty_fields() {
        let rows = parse_csv("id,title,theme\n5.1, Policies ,\n\n").unwrap();
        assert_eq!(
            rows,
            serde_json::json!([{ "id": "5.1", "title": "Policies" }])
        );
    }

    #[test]
    fn an_importer_may_not_return_other_sections() {
        let err = read_result(
            "x",
            serde_json::json!({ "schema": { "id": "x" }, "controls": {} }),
        )
        .unwrap_err();
        assert!(err.to_string().contains("`schema`"), "{err}");
        let (doc, skipped, _) = read_result(
            "x",
            serde_json::json!({ "controls": {}, "skipped": { "withdrawn controls": 3 } }),
        )
        .unwrap();
        assert!(doc.controls.is_empty());
        assert_eq!(skipped["withdrawn controls"], 3);
    }
}
