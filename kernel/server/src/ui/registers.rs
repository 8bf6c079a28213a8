//! Registers as HTML forms: the view of a phase's registers for a template
//! (one input per typed field, filled with the values known so far) and the
//! reading of a submitted form back into register data. The kernel checks
//! the data ([`mmsm_kernel::services::msgs::registers::validate_entry`]); this
//! module only turns form fields into JSON of the right shape.
//!
//! Field names: `f.REGISTER.FIELD`, and `f.REGISTER.FIELD.DIM` for damage.

use serde_json::{json, Map, Value};

use mmsm_kernel::services::IsmsRecord;
use mmsm_model::{Artefact, FieldKind, Schema};

/// The dimensions of the risk model (damage fields, asset values), with their names.
pub const DIMENSIONS: [(&str, &str); 5] = [
    ("D", "availability"),
    ("I", "integrity"),
    ("C", "confidentiality"),
    ("A", "authenticity"),
    ("T", "traceability"),
];

fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "text",
        FieldKind::Longtext => "longtext",
        FieldKind::Number => "number",
        FieldKind::Date => "date",
        FieldKind::Bool => "bool",
        FieldKind::Choice => "choice",
        FieldKind::Threat => "threat",
        FieldKind::Assets => "assets",
        FieldKind::Damage => "damage",
        FieldKind::User => "user",
        FieldKind::Evidence => "evidence",
    }
}

/// The template's view of `registers`: each field with its input kind, its
/// choices and its current value (from `values`, keyed by register id).
pub fn form_view(
    schema: &Schema,
    record: &IsmsRecord,
    files: &[String],
    registers: &[&Artefact],
    values: &Map<String, Value>,
) -> Vec<Value> {
    registers
        .iter()
        .map(|register| {
            let current = values.get(register.id.as_str()).and_then(Value::as_object);
            let fields: Vec<Value> = register
                .fields
                .iter()
                .map(|f| {
                    let value = current.and_then(|m| m.get(&f.id)).cloned().unwrap_or(Value::Null);
                    let choices: Vec<Value> = match f.kind {
                        FieldKind::Choice => f.options.iter().map(|o| json!({ "id": o, "name": o })).collect(),
                        FieldKind::Threat => schema
                            .threats
                            .iter()
                            .map(|t| json!({ "id": t.id, "name": format!("{} {}", t.id, t.name) }))
                            .collect(),
                        FieldKind::User => record
                            .users
                            .iter()
                            .map(|u| json!({ "id": u.id, "name": format!("{} ({})", u.name, u.id) }))
                            .collect(),
                        FieldKind::Assets => record
                            .inputs
                            .assets
                            .iter()
                            .map(|a| json!({ "id": a.id, "name": a.name }))
                            .collect(),
                        FieldKind::Evidence => files.iter().map(|f| json!({ "id": f, "name": f })).collect(),
                        FieldKind::Damage => DIMENSIONS
                            .iter()
                            .map(|(d, n)| json!({ "id": d, "name": format!("{d} {n}") }))
                            .collect(),
                        _ => Vec::new(),
                    };
                    let selected: Vec<String> = match &value {
                        Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                        Value::String(s) => vec![s.clone()],
                        Value::Bool(b) => vec![b.to_string()],
                        _ => Vec::new(),
                    };
                    json!({
                        "id": f.id, "label": f.label, "kind": kind_name(f.kind), "required": f.required,
                        "choices": choices, "value": value, "selected": selected,
                        "name": format!("f.{}.{}", register.id, f.id),
                        "dom": format!("f-{}-{}", register.id, f.id),
                    })
                })
                .collect();
            json!({ "id": register.id, "name": register.name, "fields": fields })
        })
        .collect()
}

/// The register data of a submitted form, keyed by register id: empty inputs
/// are left out; a number that does not parse is reported by its label.
pub fn read_form(
    registers: &[&Artefact],
    fields: &[(String, String)],
) -> Result<Map<String, Value>, Vec<String>> {
    let values = |name: &str| -> Vec<&str> {
        fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let mut data = Map::new();
    let mut problems = Vec::new();
    for register in registers {
        let mut entry = Map::new();
        for f in &register.fields {
            let name = format!("f.{}.{}", register.id, f.id);
            let mut number = |text: &str, what: &str| -> Option<Value> {
                match text.parse::<f64>() {
                    Ok(x) => Some(json!(x)),
                    Err(_) => {
                        problems.push(format!("{}: `{text}` is not a number; {what}", f.label));
                        None
                    }
                }
            };
            let value = match f.kind {
                FieldKind::Assets | FieldKind::Evidence => {
                    let ids = values(&name);
                    (!ids.is_empty()).then(|| json!(ids))
                }
                FieldKind::Damage => {
                    let mut map = Map::new();
                    for (dim, _) in DIMENSIONS {
                        if let Some(text) = values(&format!("{name}.{dim}")).first() {
                            if let Some(x) = number(text, "give the damage from 0 to 100") {
                                map.insert(dim.to_owned(), x);
                            }
                        }
                    }
                    (!map.is_empty()).then_some(Value::Object(map))
                }
                FieldKind::Number => values(&name)
                    .first()
                    .and_then(|t| number(t, "give a number")),
                FieldKind::Bool => values(&name).first().map(|t| json!(*t == "true")),
                _ => values(&name).first().map(|t| json!(t)),
            };
            if let Some(v) = value {
                entry.insert(f.id.clone(), v);
            }
        }
        if !entry.is_empty() {
            data.insert(register.id.to_string(), Value::Object(entry));
        }
    }
    if problems.is_empty() {
        Ok(data)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register() -> Artefact {
        serde_saphyr::from_str(
            "id: reg-incidents\nkind: register\nname: Incidents\nfields:\n  - { id: title, label: Title, kind: text, required: true }\n  - { id: assets, label: Assets, kind: assets }\n  - { id: damage, label: Damage, kind: damage }\n  - { id: cost, label: Cost, kind: number }\n  - { id: fixed, label: Fixed, kind: bool }\n",
        )
        .unwrap()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_form_becomes_typed_register_data() {
        let r = register();
        let data = read_form(
            &[&r],
            &pairs(&[
                ("f.reg-incidents.title", " Server down "),
                ("f.reg-incidents.assets", "srv"),
                ("f.reg-incidents.assets", "erp"),
                ("f.reg-incidents.damage.D", "60"),
                ("f.reg-incidents.damage.C", ""),
                ("f.reg-incidents.cost", "1200.5"),
                ("f.reg-incidents.fixed", "false"),
            ]),
        )
        .unwrap();
        assert_eq!(
            data["reg-incidents"],
            json!({ "title": "Server down", "assets": ["srv", "erp"], "damage": { "D": 60.0 }, "cost": 1200.5, "fixed": false })
        );
    }

    #[test]
    fn empty_inputs_are_left_out_and_bad_numbers_are_named() {
        let r = register();
        assert!(read_form(&[&r], &pairs(&[("f.reg-incidents.title", "")]))
            .unwrap()
            .is_empty());
        let problems = read_form(
            &[&r],
            &pairs(&[
                ("f.reg-incidents.cost", "a lot"),
                ("f.reg-incidents.damage.I", "x"),
            ]),
        )
        .unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("Damage: `x`"), "{problems:?}");
        assert!(problems[1].starts_with("Cost: `a lot`"), "{problems:?}");
    }
}
