//! Differences between two versions of a schema, per kind of element.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use mmsm_model::{natural_cmp, Schema};

/// Whether an element was added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only in the newer version.
    Added,
    /// Only in the older version.
    Removed,
    /// In both, with other content.
    Changed,
}

/// One element that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Added, removed or changed.
    pub change: ChangeKind,
    /// The element's id (a matrix row's key, e.g. `HW/A.24`).
    pub id: String,
    /// For a change: the fields that differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// For a change: each differing field with its value before and after
    /// (`null` where the field is absent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<FieldChange>,
}

/// A field of an element, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// Its value in the older version.
    pub before: Value,
    /// Its value in the newer version.
    pub after: Value,
}

/// The differences of two schema versions, per kind (`control`, `subcontrol`, `threat_control`...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaDiff {
    /// Kind -> the elements of that kind that differ, in natural id order.
    pub kinds: BTreeMap<String, Vec<Change>>,
}

impl SchemaDiff {
    /// Whether the versions hold the same elements.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

/// Compares `old` with `new` element by element.
pub fn diff(old: &Schema, new: &Schema) -> SchemaDiff {
    let (old, new) = (elements(old), elements(new));
    let mut kinds: BTreeMap<String, Vec<Change>> = BTreeMap::new();
    let empty = BTreeMap::new();
    let all_kinds: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for kind in all_kinds {
        let before = old.get(kind).unwrap_or(&empty);
        let after = new.get(kind).unwrap_or(&empty);
        let mut changes = Vec::new();
        for (id, value) in before {
            match after.get(id) {
                None => changes.push(Change {
                    change: ChangeKind::Removed,
                    id: id.clone(),
                    fields: vec![],
                    values: vec![],
                }),
                Some(other) if other != value => {
                    let values = changed_values(value, other);
                    changes.push(Change {
                        change: ChangeKind::Changed,
                        id: id.clone(),
                        fields: values.iter().map(|v| v.field.clone()).collect(),
                        values,
                    })
                }
                Some(_) => {}
            }
        }
        for id in after.keys().filter(|id| !before.contains_key(*id)) {
            changes.push(Change {
                change: ChangeKind::Added,
                id: id.clone(),
                fields: vec![],
                values: vec![],
            });
        }
        if !changes.is_empty() {
            changes.sort_by(|a, b| natural_cmp(&a.id, &b.id).then(a.change.cmp(&b.change)));
            kinds.insert(kind.clone(), changes);
        }
    }
    SchemaDiff { kinds }
}

/// A field's value as people read it in a diff: text as written, yes/no,
/// lists joined with commas, maps as `key value` pairs, `(none)` for absent.
pub fn value_words(value: &Value) -> String {
    match value {
        Value::Null => "(none)".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        // 80.0 reads 80: schema numbers are often whole.
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "(none)".into(),
        Value::Array(items) => items.iter().map(value_words).collect::<Vec<_>>().join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k} {}", value_words(v)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The fields of two versions of an element that differ, sorted, with
/// their values (a whole value that is not an object is one field, `value`).
fn changed_values(a: &Value, b: &Value) -> Vec<FieldChange> {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a
                .keys()
                .chain(b.keys())
                .filter(|k| a.get(*k) != b.get(*k))
                .collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .map(|k| FieldChange {
                    field: k.clone(),
                    before: a.get(k).cloned().unwrap_or(Value::Null),
                    after: b.get(k).cloned().unwrap_or(Value::Null),
                })
                .collect()
        }
        _ => vec![FieldChange {
            field: "value".into(),
            before: a.clone(),
            after: b.clone(),
        }],
    }
}

type Elements = BTreeMap<String, BTreeMap<String, Value>>;

/// Every element keyed by kind and id; controls without their subcontrols,
/// which are a kind of their own.
fn elements(schema: &Schema) -> Elements {
    let mut out: Elements = BTreeMap::new();
    let mut add = |kind: &str, id: String, value: Value| {
        out.entry(kind.to_owned()).or_default().insert(id, value);
    };
    let json = |v: &dyn erased::Ser| v.to_json();
    let mut header = json(&schema.schema);
    if let Value::Object(h) = &mut header {
        h.remove("version");
    }
    add("schema", schema.schema.id.to_string(), header);
    macro_rules! section {
        ($kind:literal, $items:expr, $id:expr) => {
            for item in $items {
                add($kind, $id(item), json(item));
            }
        };
    }
    section!("role", &schema.roles, |r: &mmsm_model::Role| r
        .id
        .to_string());
    section!("sector", &schema.sectors, |r: &mmsm_model::Sector| r
        .id
        .to_string());
    section!("size", &schema.sizes, |r: &mmsm_model::Size| r
        .id
        .to_string());
    section!(
        "maturity level",
        &schema.maturity_levels,
        |r: &mmsm_model::MaturityLevel| r.level.to_string()
    );
    if let Some(b) = &schema.status_bands {
        add("status_bands", "status_bands".into(), json(b));
    }
    section!("domain", &schema.domains, |r: &mmsm_model::Domain| r
        .id
        .to_string());
    section!(
        "objective",
        &schema.objectives,
        |r: &mmsm_model::Objective| r.id.to_string()
    );
    for control in &schema.controls {
        let mut value = json(control);
        if let Value::Object(c) = &mut value {
            c.remove("subcontrols");
        }
        add("control", control.id.to_string(), value);
        for s in &control.subcontrols {
            add("subcontrol", s.id.to_string(), json(s));
        }
    }
    section!(
        "business question",
        &schema.business_checklist,
        |r: &mmsm_model::BusinessQuestion| r.id.to_string()
    );
    section!(
        "asset type",
        &schema.asset_types,
        |r: &mmsm_model::AssetType| r.id.to_string()
    );
    section!("threat", &schema.threats, |r: &mmsm_model::Threat| r
        .id
        .to_string());
    section!(
        "vulnerability",
        &schema.vulnerabilities,
        |r: &mmsm_model::Vulnerability| r.id.to_string()
    );
    section!(
        "risk criterion",
        &schema.risk_criteria,
        |r: &mmsm_model::RiskCriterion| json(&r.id).as_str().unwrap_or_default().to_owned()
    );
    let m = &schema.matrices;
    section!(
        "asset_type_vulnerability",
        &m.asset_type_vulnerability,
        |r: &mmsm_model::AssetTypeVulnerability| format!("{}/{}", r.asset_type, r.vulnerability)
    );
    section!(
        "asset_type_threat",
        &m.asset_type_threat,
        |r: &mmsm_model::AssetTypeThreat| format!("{}/{}", r.asset_type, r.threat)
    );
    section!(
        "threat_vulnerability",
        &m.threat_vulnerability,
        |r: &mmsm_model::ThreatVulnerability| format!("{}/{}", r.threat, r.vulnerability)
    );
    section!(
        "threat_control",
        &m.threat_control,
        |r: &mmsm_model::ThreatControl| format!("{}/{}", r.threat, r.control)
    );
    section!(
        "procedure_artefact",
        &m.procedure_artefact,
        |r: &mmsm_model::ProcedureArtefact| format!("{}/{}", r.procedure, r.artefact)
    );
    section!(
        "regulation_artefact",
        &m.regulation_artefact,
        |r: &mmsm_model::RegulationArtefact| format!("{}/{}", r.regulation, r.artefact)
    );
    section!(
        "regulation_control",
        &m.regulation_control,
        |r: &mmsm_model::RegulationControl| format!("{}/{}", r.regulation, r.control)
    );
    section!(
        "artefact_control",
        &m.artefact_control,
        |r: &mmsm_model::ArtefactControl| format!("{}/{}", r.artefact, r.control)
    );
    section!(
        "role_regulation",
        &m.role_regulation,
        |r: &mmsm_model::RoleRegulation| format!("{}/{}", r.role, r.regulation)
    );
    section!(
        "procedure",
        &schema.procedures,
        |r: &mmsm_model::Procedure| r.id.to_string()
    );
    section!(
        "regulation",
        &schema.regulations,
        |r: &mmsm_model::Regulation| r.id.to_string()
    );
    section!("artefact", &schema.artefacts, |r: &mmsm_model::Artefact| r
        .id
        .to_string());
    section!("metric", &schema.metrics, |r: &mmsm_model::MetricDef| r
        .id
        .to_string());
    if let Some(c) = &schema.culture {
        let mut settings = json(c);
        if let Value::Object(s) = &mut settings {
            s.remove("questions");
        }
        add("culture", "settings".into(), settings);
        section!(
            "culture question",
            &c.questions,
            |r: &mmsm_model::CultureQuestion| r.id.to_string()
        );
    }
    if let Some(c) = &schema.certification {
        let mut settings = json(c);
        if let Value::Object(s) = &mut settings {
            s.remove("audits");
        }
        add("certification", "settings".into(), settings);
        section!("audit", &c.audits, |r: &mmsm_model::AuditPlan| r
            .id
            .to_string());
    }
    section!(
        "obligation source",
        &schema.obligation_sources,
        |r: &mmsm_model::ObligationSource| r.id.to_string()
    );
    section!(
        "obligation",
        &schema.obligations,
        |r: &mmsm_model::Obligation| r.id.to_string()
    );
    section!(
        "mapping",
        &schema.mappings,
        |r: &mmsm_model::Mapping| format!("{} -> {}", r.from, r.to)
    );
    out
}

mod erased {
    //! A tiny object-safe "to JSON" so one closure serves every element type.
    pub trait Ser {
        fn to_json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}
