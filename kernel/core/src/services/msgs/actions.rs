//! Phase actions (DESIGN.md 6.2, 7): a script or plugin that runs when a
//! procedure instance enters a phase. The services know them only through
//! [`PhaseActions`]; the scripting host implements it. A failing action
//! refuses the move and leaves the instance where it was.

use serde::Deserialize;
use serde_json::{Map, Value};

use mmsm_engine::Change;

/// Runs the action a phase names, with the context of the move.
pub trait PhaseActions: Send + Sync {
    /// Runs action `action` for `instance` (the instance as JSON, already in
    /// its new phase) with `ctx` (enterprise, users, assets, acting user,
    /// time). An `Err` says why the action failed; the move is refused.
    fn run(&self, action: &str, ctx: &Value, instance: &Value) -> Result<ActionOutcome, String>;
}

/// What an action returns: fields for the phase's registers, events to
/// record, and a suggestion for the risk model.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionOutcome {
    /// Register data, validated like the user's: flat fields when the phase
    /// has one register, else keyed by register id.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// Events to record in the information repository (any JSON).
    #[serde(default)]
    pub events: Vec<Value>,
    /// A suggestion for the security officer.
    #[serde(default)]
    pub suggestion: Option<ActionSuggestion>,
}

/// A suggestion raised by an action: why, and the input changes it proposes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSuggestion {
    /// Why, in words.
    pub reason: String,
    /// The changes (engine [`Change`]s as JSON, e.g. `{kind: probability, asset_type, threat, value}`).
    pub changes: Vec<Change>,
}

impl ActionOutcome {
    /// Reads the table an action returned (`null` is an empty outcome).
    pub fn from_json(mut value: Value) -> Result<ActionOutcome, String> {
        // Lua cannot tell an empty table from an empty list: read `[]` as `{}`.
        let empty = |v: &Value| v.as_array().is_some_and(Vec::is_empty);
        if value.is_null() || empty(&value) {
            return Ok(ActionOutcome::default());
        }
        if let Some(map) = value.as_object_mut() {
            map.retain(|_, v| !empty(v) && !v.is_null());
        }
        serde_json::from_value(value).map_err(|e| {
            format!("the action returned an unexpected table ({e}); expected {{ fields = {{...}}, events = {{...}}, suggestion = {{ reason, changes }} }}")
        })
    }
}

/// The runner of a kernel without a scripting host: every action fails, so
/// a phase that names one cannot be entered until a host is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoActions;

impl PhaseActions for NoActions {
    fn run(&self, action: &str, _ctx: &Value, _instance: &Value) -> Result<ActionOutcome, String> {
        Err(format!(
            "action `{action}` cannot run: this kernel has no scripting host for procedure actions"
        ))
    }
}
