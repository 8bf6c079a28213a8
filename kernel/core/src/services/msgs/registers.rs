//! Register data of procedure instances, checked against the artefact's
//! typed fields (DESIGN.md 6.2): text, number, date, bool, choice, threat,
//! assets, damage, user. Every problem is reported, each naming the
//! register, the field and what was expected.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use mmsm_model::{Artefact, ArtefactId, ArtefactKind, Dimension, FieldKind, Schema};

use super::IsmsRecord;

/// The registers among a phase's objects.
pub fn phase_registers<'a>(schema: &'a Schema, objects: &[ArtefactId]) -> Vec<&'a Artefact> {
    objects
        .iter()
        .filter_map(|id| schema.artefacts.iter().find(|a| &a.id == id))
        .filter(|a| a.kind == ArtefactKind::Register)
        .collect()
}

/// Splits the data given for a phase into one entry per register: keyed by
/// register id, or flat fields when the phase has exactly one register.
pub fn split_by_register(
    registers: &[&Artefact],
    phase: &str,
    data: &Map<String, Value>,
) -> Result<BTreeMap<ArtefactId, Map<String, Value>>, Vec<String>> {
    if data.is_empty() {
        return Ok(BTreeMap::new());
    }
    let names: Vec<&str> = registers.iter().map(|r| r.id.as_str()).collect();
    if registers.is_empty() {
        return Err(vec![format!(
            "phase `{phase}` has no register to fill; give no data for it"
        )]);
    }
    let keyed = data.keys().all(|k| names.contains(&k.as_str()));
    if keyed {
        let mut entries = BTreeMap::new();
        let mut problems = Vec::new();
        for (register, fields) in data {
            match fields {
                Value::Object(map) => {
                    entries.insert(ArtefactId::new(register.as_str()), map.clone());
                }
                _ => problems.push(format!(
                    "register `{register}`: expected a map of field -> value"
                )),
            }
        }
        return if problems.is_empty() {
            Ok(entries)
        } else {
            Err(problems)
        };
    }
    if registers.len() == 1 {
        return Ok(BTreeMap::from([(registers[0].id.clone(), data.clone())]));
    }
    Err(vec![format!(
        "phase `{phase}` has the registers {}: key the data by register id",
        names.join(", ")
    )])
}

/// Checks one register entry against its fields and returns it normalised
/// (a single asset id becomes a list). Every problem is listed.
pub fn validate_entry(
    schema: &Schema,
    record: &IsmsRecord,
    files: &[String],
    register: &Artefact,
    entry: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<String>> {
    let mut problems = Vec::new();
    let mut normalised = Map::new();
    for (key, value) in entry {
        let Some(field) = register.fields.iter().find(|f| &f.id == key) else {
            let known: Vec<&str> = register.fields.iter().map(|f| f.id.as_str()).collect();
            problems.push(format!(
                "register `{}`: unknown field `{key}`; its fields are {}",
                register.id,
                known.join(", ")
            ));
            continue;
        };
        let bad = |expected: String| {
            format!(
                "register `{}`, field `{key}` ({}): {expected}, found {value}",
                register.id, field.label
            )
        };
        let checked: Result<Value, String> = match field.kind {
            FieldKind::Text | FieldKind::Longtext => match value.as_str() {
                Some(text) => mmsm_model::check_length(
                    &format!(
                        "register `{}`, field `{key}` ({})",
                        register.id, field.label
                    ),
                    text,
                    mmsm_model::MAX_TEXT,
                )
                .map(|()| value.clone()),
                None => Err(bad("expected text".into())),
            },
            FieldKind::Number => value
                .as_f64()
                .map(|_| value.clone())
                .ok_or_else(|| bad("expected a number".into())),
            FieldKind::Bool => value
                .as_bool()
                .map(|_| value.clone())
                .ok_or_else(|| bad("expected true or false".into())),
            FieldKind::Date => value
                .as_str()
                .filter(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok())
                .map(|_| value.clone())
                .ok_or_else(|| bad("expected a date YYYY-MM-DD".into())),
            FieldKind::Choice => value
                .as_str()
                .filter(|s| field.options.iter().any(|o| o == s))
                .map(|_| value.clone())
                .ok_or_else(|| bad(format!("expected one of {}", field.options.join(", ")))),
            FieldKind::Threat => value
                .as_str()
                .filter(|s| schema.threats.iter().any(|t| t.id.as_str() == *s))
                .map(|_| value.clone())
                .ok_or_else(|| {
                    bad(format!(
                        "expected a threat id of schema {}",
                        schema.schema.id
                    ))
                }),
            FieldKind::User => value
                .as_str()
                .filter(|s| record.users.iter().any(|u| u.id.as_str() == *s))
                .map(|_| value.clone())
                .ok_or_else(|| {
                    bad(format!(
                        "expected a user id of the ISMS ({})",
                        super::users::user_list(record)
                    ))
                }),
            FieldKind::Assets => check_assets(record, value).map_err(bad),
            FieldKind::Evidence => check_files(record, files, value).map_err(bad),
            FieldKind::Damage => check_damage(value).map_err(bad),
        };
        match checked {
            Ok(v) => {
                normalised.insert(key.clone(), v);
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(normalised)
    } else {
        Err(problems)
    }
}

/// Attachments: a list of the ISMS's evidence file names.
fn check_files(record: &IsmsRecord, files: &[String], value: &Value) -> Result<Value, String> {
    let names: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if names.is_empty() || matches!(value, Value::Array(items) if items.len() != names.len()) {
        return Err("expected a list of evidence file names".into());
    }
    if let Some(missing) = names.iter().find(|n| !files.iter().any(|f| f == *n)) {
        return Err(format!(
            "`{missing}` is not an evidence file of ISMS {}: upload it first (the Metrics page, `mmsm isms evidence add {} FILE`)",
            record.id, record.id
        ));
    }
    Ok(json!(names))
}

fn check_assets(record: &IsmsRecord, value: &Value) -> Result<Value, String> {
    let ids: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let known: Vec<&str> = record.inputs.assets.iter().map(|a| a.id.as_str()).collect();
    if ids.is_empty() || matches!(value, Value::Array(items) if items.len() != ids.len()) {
        return Err(format!(
            "expected a list of asset ids of the ISMS ({})",
            known.join(", ")
        ));
    }
    let unknown: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !known.contains(id))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "unknown assets {}; the ISMS's assets are {}",
            unknown.join(", "),
            known.join(", ")
        ));
    }
    Ok(Value::from(ids))
}

fn check_damage(value: &Value) -> Result<Value, String> {
    let expected = "expected a map of dimension (D, I, C, A, T) -> damage 0..100".to_owned();
    let Value::Object(map) = value else {
        return Err(expected);
    };
    if map.is_empty() {
        return Err(expected);
    }
    for (dimension, damage) in map {
        let fine = Dimension::parse(dimension).is_some()
            && damage.as_f64().is_some_and(|d| (0.0..=100.0).contains(&d));
        if !fine {
            return Err(expected);
        }
    }
    Ok(value.clone())
}

/// The required fields of `register` that `filled` lacks.
pub fn missing_required(register: &Artefact, filled: Option<&Map<String, Value>>) -> Vec<String> {
    register
        .fields
        .iter()
        .filter(|f| f.required && filled.is_none_or(|m| m.get(&f.id).is_none_or(Value::is_null)))
        .map(|f| f.id.clone())
        .collect()
}

/// Parses a data file (YAML, or JSON which YAML reads too) into JSON.
pub fn parse_data(text: &str) -> Result<Value, String> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
}
