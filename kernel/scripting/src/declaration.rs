//! What a script or plugin declares about itself (DESIGN.md 7.1): id, kind,
//! name, and the fields of its kind.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use mmsm_model::Period;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The three kinds of script and plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptKind {
    /// A measurement: `collect(ctx) -> number`, optional `score(value) -> [0,1]`.
    Metric,
    /// The action of a procedure phase: `run(ctx, instance) -> table`.
    ProcedureAction,
    /// An importer of catalogs: `import(ctx, input) -> table`.
    Importer,
}

impl ScriptKind {
    /// Every kind, in the order of their folders.
    pub const ALL: [ScriptKind; 3] = [
        ScriptKind::Metric,
        ScriptKind::ProcedureAction,
        ScriptKind::Importer,
    ];

    /// The word used in declarations: `metric`, `procedure_action`, `importer`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptKind::Metric => "metric",
            ScriptKind::ProcedureAction => "procedure_action",
            ScriptKind::Importer => "importer",
        }
    }

    /// Reads the word of a declaration.
    pub fn parse(word: &str) -> Option<ScriptKind> {
        ScriptKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == word)
    }

    /// The folder of `scripts/` holding scripts of this kind.
    pub fn folder(self) -> &'static str {
        match self {
            ScriptKind::Metric => "metrics",
            ScriptKind::ProcedureAction => "procedures",
            ScriptKind::Importer => "importers",
        }
    }

    /// The functions a script of this kind must have.
    pub fn required_functions(self) -> &'static [&'static str] {
        match self {
            ScriptKind::Metric => &["collect"],
            ScriptKind::ProcedureAction => &["run"],
            ScriptKind::Importer => &["import"],
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            ScriptKind::Metric => &["unit", "subcontrols", "schedule"],
            ScriptKind::ProcedureAction => &[],
            ScriptKind::Importer => &["formats"],
        }
    }
}

impl fmt::Display for ScriptKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields particular to a kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum KindFields {
    /// A metric's defaults, which a schema's `metrics` entry may override.
    Metric {
        /// The unit of its value (`days`, `ratio`).
        #[serde(skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
        /// The subcontrols its score feeds.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        subcontrols: Vec<String>,
        /// How often it runs: a [`Period`], a number and a unit `s`, `m`
        /// (minutes), `h`, `d`, `w`, `mo` (months) or `y` (`1d`, `15m`).
        #[serde(skip_serializing_if = "Option::is_none")]
        schedule: Option<String>,
    },
    /// A procedure action has no fields of its own.
    ProcedureAction {},
    /// An importer's accepted input formats (`csv`, `json`, `yaml`, `xlsx`).
    Importer {
        /// The formats, lowercase.
        formats: Vec<String>,
    },
}

/// A validated declaration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Declaration {
    /// The id, unique among scripts and plugins: letters, digits, `.`, `_`, `-`.
    pub id: String,
    /// The kind.
    pub kind: ScriptKind,
    /// A name for people.
    pub name: String,
    /// An optional description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The fields of its kind.
    #[serde(flatten)]
    pub fields: KindFields,
    /// The functions it provides, sorted.
    pub functions: BTreeSet<String>,
}

impl Declaration {
    /// Validates a declaration given as JSON fields (every non-function field of
    /// a Lua declaration table, or a plugin's descriptor) and the functions it
    /// provides. Unknown fields are errors, so that a typo never passes.
    pub fn from_fields(
        mut fields: Map<String, Value>,
        functions: BTreeSet<String>,
    ) -> Result<Declaration, String> {
        let id = take_string(&mut fields, "id")?.ok_or("the declaration has no id")?;
        if !is_valid_id(&id) {
            return Err(format!(
                "the id {id:?} must be letters, digits, '.', '_' and '-', starting with a letter or digit"
            ));
        }
        let kind_word = take_string(&mut fields, "kind")?.ok_or("the declaration has no kind")?;
        let kind = ScriptKind::parse(&kind_word).ok_or_else(|| {
            format!("the kind {kind_word:?} is not one of metric, procedure_action, importer")
        })?;
        let name = take_string(&mut fields, "name")?
            .filter(|name| !name.trim().is_empty())
            .ok_or("the declaration has no name")?;
        let description = take_string(&mut fields, "description")?;
        let kind_fields = match kind {
            ScriptKind::Metric => {
                let schedule = take_string(&mut fields, "schedule")?;
                if let Some(schedule) = &schedule {
                    schedule
                        .parse::<Period>()
                        .map_err(|error| format!("the schedule {error}"))?;
                }
                KindFields::Metric {
                    unit: take_string(&mut fields, "unit")?,
                    subcontrols: take_strings(&mut fields, "subcontrols")?.unwrap_or_default(),
                    schedule,
                }
            }
            ScriptKind::ProcedureAction => KindFields::ProcedureAction {},
            ScriptKind::Importer => {
                let formats = take_strings(&mut fields, "formats")?.unwrap_or_default();
                if formats.is_empty() {
                    return Err(
                        "an importer must declare its formats (e.g. formats = { \"csv\" })".into(),
                    );
                }
                KindFields::Importer {
                    formats: formats
                        .into_iter()
                        .map(|f| f.to_ascii_lowercase())
                        .collect(),
                }
            }
        };
        if let Some(unknown) = fields.keys().next() {
            let mut known = vec!["id", "kind", "name", "description"];
            known.extend(kind.fields());
            return Err(format!(
                "unknown field {unknown:?} for a {kind} (expected one of {})",
                known.join(", ")
            ));
        }
        for required in kind.required_functions() {
            if !functions.contains(*required) {
                return Err(format!("a {kind} must have a function {required}"));
            }
        }
        Ok(Declaration {
            id,
            kind,
            name,
            description,
            fields: kind_fields,
            functions,
        })
    }
}

/// Reads a schedule, a [`Period`] such as `30s`, `15m` (minutes), `12h`,
/// `1d`, `2w`, `6mo` (months of 30 days) or `1y`.
pub fn parse_schedule(schedule: &str) -> Option<Duration> {
    schedule.parse::<Period>().ok().map(Period::as_duration)
}

fn is_valid_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn take_string(fields: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match fields.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "the field {key} must be a string, found {}",
            describe(&other)
        )),
    }
}

fn take_strings(fields: &mut Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, String> {
    let wrong = |found: &Value| {
        format!(
            "the field {key} must be a list of strings, found {}",
            describe(found)
        )
    };
    match fields.remove(key) {
        None | Some(Value::Null) => Ok(None),
        // An empty Lua table reaches us as an empty object.
        Some(Value::Object(map)) if map.is_empty() => Ok(Some(Vec::new())),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                other => Err(wrong(&other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(wrong(&other)),
    }
}

/// Describes a value for an error: `nil`, `a number 3`, `a string "x"`, `a table`.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nil".into(),
        Value::Bool(b) => format!("a boolean {b}"),
        Value::Number(n) => format!("a number {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            format!("a string {:?}...", s.chars().take(40).collect::<String>())
        }
        Value::String(s) => format!("a string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a table".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn declare(fields: Value, functions: &[&str]) -> Result<Declaration, String> {
        let Value::Object(fields) = fields else {
            unreachable!()
        };
        Declaration::from_fields(fields, functions.iter().map(|f| f.to_string()).collect())
    }

    #[test]
    fn a_metric_declares_its_defaults() {
        let decl = declare(
            json!({"id": "backup-freshness", "kind": "metric", "name": "Days since the last backup",
                   "unit": "days", "subcontrols": ["8.13.2"], "schedule": "1d"}),
            &["collect", "score"],
        )
        .unwrap();
        assert_eq!(decl.kind, ScriptKind::Metric);
        assert_eq!(
            decl.fields,
            KindFields::Metric {
                unit: Some("days".into()),
                subcontrols: vec!["8.13.2".into()],
                schedule: Some("1d".into())
            }
        );
        assert_eq!(parse_schedule("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_schedule("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_schedule("15m"), Some(Duration::from_secs(900)));
        assert_eq!(
            parse_schedule("6mo"),
            Some(Duration::from_secs(180 * 86_400))
        );
        assert_eq!(parse_schedule("0d"), None);
        assert_eq!(parse_schedule("daily"), None);
    }

    #[test]
    fn wrong_declarations_say_what_is_wrong() {
        let cases = [
            (
                json!({"kind": "metric", "name": "x"}),
                &["collect"][..],
                "the declaration has no id",
            ),
            (
                json!({"id": "a b", "kind": "metric", "name": "x"}),
                &["collect"],
                "must be letters",
            ),
            (
                json!({"id": "a", "kind": "report", "name": "x"}),
                &[],
                "is not one of metric",
            ),
            (
                json!({"id": "a", "kind": "metric", "name": "x"}),
                &[],
                "must have a function collect",
            ),
            (
                json!({"id": "a", "kind": "metric", "name": "x", "unti": "d"}),
                &["collect"],
                "unknown field \"unti\"",
            ),
            (
                json!({"id": "a", "kind": "importer", "name": "x"}),
                &["import"],
                "must declare its formats",
            ),
            (
                json!({"id": "a", "kind": "metric", "name": "x", "schedule": "often"}),
                &["collect"],
                "the schedule `often` is not a period: expected a whole number > 0 followed by s, m (minutes)",
            ),
            (
                json!({"id": "a", "kind": "procedure_action", "name": "x", "unit": "d"}),
                &["run"],
                "unknown field",
            ),
            (
                json!({"id": "a", "kind": "metric", "name": 3}),
                &["collect"],
                "name must be a string, found a number 3",
            ),
        ];
        for (fields, functions, expected) in cases {
            let err = declare(fields.clone(), functions).unwrap_err();
            assert!(err.contains(expected), "{fields}: {err}");
        }
    }
}
