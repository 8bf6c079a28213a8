//! The matrix engine (DESIGN.md 4): compliance, maturity, risk, improvement plan
//! and control board of one ISMS, recomputed incrementally.
//!
//! The engine knows no storage, does no I/O and has no async: it holds the
//! schema's relations as dense indices ([`SchemaIndex`]) and an ISMS's
//! [`Inputs`], derives everything of DESIGN.md 4.1-4.5 once in
//! [`Engine::new`], then takes one input change at a time through
//! [`Engine::apply`], which updates only what depends on that input and
//! returns the derived values that changed ([`Deltas`]).
//!
//! Invariant (DESIGN.md 4.6): after any sequence of changes, the incremental
//! state equals a full recompute from the inputs (within 1e-9). Every running
//! aggregate is a fixed-shape tree ([`tree`]), so in fact the two agree bit for bit.
//!
//! ```
//! use std::sync::Arc;
//! use mmsm_engine::{synth, Change, Engine, Subject};
//! use mmsm_model::{Answer, SubControlId};
//!
//! let (schema, inputs) = synth::generate(&synth::Params::small(), 7);
//! let mut engine = Engine::new(Arc::new(schema), inputs);
//! let first = engine.index().schema().controls[0].subcontrols[0].id.clone();
//! let deltas = engine
//!     .apply(Change::Answer { subcontrol: first, answer: Some(Answer::Yes) })
//!     .unwrap();
//! for delta in deltas.iter() {
//!     println!("{}: {:?} -> {:?}", delta.subject, delta.before, delta.after);
//! }
//! let board = engine.board();
//! assert_eq!(board.controls.len(), engine.index().schema().controls.len());
//! let explanation = engine.explain(&Subject::Isms).unwrap();
//! assert!(explanation.formula.starts_with("compliance(isms)"));
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod board;
mod compliance;
mod delta;
mod explain;
mod index;
mod inputs;
mod maturity;
mod plan;
mod risk;
pub mod synth;
mod tree;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub use board::{
    Board, ControlRow, DomainRow, LevelRow, Maturity as MaturityView, ObjectiveRow, PlanItem,
    RiskRow, RiskSummary, SchemaTag,
};
pub use delta::{Delta, Deltas, Subject};
pub use explain::{Explanation, ExplanationInput};
pub use index::{SchemaIndex, Status};
pub use inputs::{Change, EngineError, Inputs};

use compliance::Compliance;
use delta::{really_changed, Key, RawDelta};
use mmsm_model::{
    Answer, Asset, AssetId, AssetTypeId, BusinessQuestionId, ControlId, Dimension, Scalar, Schema,
    SubControlId, ThreatId,
};

use index::{dimension_slot, DIMENSIONS};
use inputs::AssetIds;
use maturity::MaturityState;
use risk::RiskState;

/// The engine of one ISMS: its inputs and everything derived from them.
#[derive(Debug, Clone)]
pub struct Engine {
    index: Arc<SchemaIndex>,
    answers: Vec<Option<Answer>>,
    measured: Vec<Option<f64>>,
    /// The cap of each control's subcontrol values, 0..1 (open major non-conformities).
    caps: Vec<Option<f64>>,
    /// Shared with clones and recomputes until an asset changes (copy on write).
    assets: Arc<Vec<Asset>>,
    asset_ids: AssetIds,
    asset_index: Arc<HashMap<String, u32>>,
    /// Asset type of each asset, when the schema knows it.
    asset_types: Vec<Option<u32>>,
    probability: BTreeMap<(u32, u32), f64>,
    degradation: BTreeMap<(u32, u32, usize), f64>,
    target_explicit: Option<u8>,
    employees: Option<u32>,
    turnover: Option<f64>,
    business: BTreeMap<BusinessQuestionId, Scalar>,
    problems: Vec<String>,
    compliance: Compliance,
    maturity: MaturityState,
    risk: RiskState,
}

/// Clamps a value into its scale; `None` for NaN.
fn on_scale(value: f64, low: f64, high: f64) -> Option<f64> {
    (!value.is_nan()).then(|| value.clamp(low, high))
}

/// Whether two optional values are the same bits (what backdating compares).
fn same(a: Option<f64>, b: Option<f64>) -> bool {
    a.map(f64::to_bits) == b.map(f64::to_bits)
}

/// Where `apply` records what changed.
#[derive(Debug, Default)]
pub(crate) struct Log {
    pub(crate) raw: Vec<RawDelta>,
}

impl Log {
    /// Records `key` if it really changed (DESIGN.md: more than 1e-12, or a null change).
    pub(crate) fn record(&mut self, key: Key, before: Option<f64>, after: Option<f64>) {
        if really_changed(before, after) {
            self.raw.push(RawDelta {
                key,
                before: delta::pack(before),
                after: delta::pack(after),
            });
        }
    }

    /// Merges the deltas recorded since `start` into one per subject (the
    /// first before, the last after) and drops those that came back to where
    /// they were: a change that re-values several subcontrols in turn.
    pub(crate) fn coalesce(&mut self, start: usize) {
        let mut merged: Vec<RawDelta> = Vec::new();
        for delta in self.raw.drain(start..) {
            match merged.iter_mut().find(|m| m.key == delta.key) {
                Some(m) => m.after = delta.after,
                None => merged.push(delta),
            }
        }
        self.raw.extend(
            merged
                .into_iter()
                .filter(|m| really_changed(delta::unpack(m.before), delta::unpack(m.after))),
        );
    }

    /// Records a change between two numbers already known to differ in their bits.
    #[inline(always)]
    pub(crate) fn record_number(&mut self, key: Key, before: f64, after: f64) {
        if (before - after).abs() > 1e-12 {
            self.raw.push(RawDelta { key, before, after });
        }
    }
}

impl Engine {
    /// Compiles `schema` and derives everything from `inputs` (a full compute).
    ///
    /// Never fails: inputs naming ids the schema does not know are left out and
    /// listed in [`Engine::problems`]; values outside their scale are clamped.
    pub fn new(schema: Arc<Schema>, inputs: Inputs) -> Engine {
        Engine::with_index(Arc::new(SchemaIndex::new(schema)), inputs)
    }

    /// Derives everything from `inputs` over an already compiled schema.
    pub fn with_index(index: Arc<SchemaIndex>, inputs: Inputs) -> Engine {
        let mut problems: Vec<String> = Vec::new();
        let n_subs = index.subs.len();
        let mut answers = vec![None; n_subs];
        for (id, answer) in inputs.answers {
            match index.sub_ids.get(id.as_str()) {
                Some(s) => answers[*s as usize] = Some(answer),
                None => problems.push(format!("answer for unknown subcontrol `{id}` left out")),
            }
        }
        let mut measured = vec![None; n_subs];
        for (id, value) in inputs.measured {
            match (index.sub_ids.get(id.as_str()), on_scale(value, 0.0, 1.0)) {
                (Some(s), Some(value)) => measured[*s as usize] = Some(value),
                (None, _) => problems.push(format!(
                    "measured value of unknown subcontrol `{id}` left out"
                )),
                (_, None) => problems.push(format!("measured value of `{id}` is not a number")),
            }
        }
        let mut caps = vec![None; index.controls.len()];
        for (id, value) in inputs.caps {
            match (
                index.control_ids.get(id.as_str()),
                on_scale(value, 0.0, 1.0),
            ) {
                (Some(c), Some(value)) => caps[*c as usize] = Some(value),
                (None, _) => problems.push(format!("cap of unknown control `{id}` left out")),
                (_, None) => problems.push(format!("cap of control `{id}` is not a number")),
            }
        }
        let mut assets = Vec::with_capacity(inputs.assets.len());
        let mut asset_index = HashMap::with_capacity(inputs.assets.len());
        for asset in inputs.assets {
            if asset_index.contains_key(asset.id.as_str()) {
                problems.push(format!("asset `{}` listed twice, the first kept", asset.id));
                continue;
            }
            if !index.type_ids.contains_key(asset.asset_type.as_str()) {
                problems.push(format!(
                    "asset `{}`: unknown asset type `{}`, no threat applies",
                    asset.id, asset.asset_type
                ));
            }
            asset_index.insert(asset.id.0.clone(), assets.len() as u32);
            assets.push(asset);
        }
        let mut probability = BTreeMap::new();
        for ((asset_type, threat), value) in inputs.probability {
            match resolve_pair(&index, &asset_type, &threat) {
                Ok(key) => match on_scale(value, 0.0, 100.0) {
                    Some(value) => {
                        probability.insert(key, value);
                    }
                    None => problems.push(format!(
                        "probability of ({asset_type}, {threat}) is not a number"
                    )),
                },
                Err(error) => problems.push(format!("probability change left out: {error}")),
            }
        }
        let mut degradation = BTreeMap::new();
        for ((asset_type, threat, dimension), value) in inputs.degradation {
            match resolve_pair(&index, &asset_type, &threat) {
                Ok((t, h)) => match on_scale(value, 0.0, 100.0) {
                    Some(value) => {
                        degradation.insert((t, h, dimension_slot(dimension)), value);
                    }
                    None => problems.push(format!(
                        "degradation of ({asset_type}, {threat}, {}) is not a number",
                        dimension.letter()
                    )),
                },
                Err(error) => problems.push(format!("degradation change left out: {error}")),
            }
        }
        let asset_types = assets
            .iter()
            .map(|a| index.type_ids.get(a.asset_type.as_str()).copied())
            .collect();
        let mut engine = Engine {
            asset_ids: Arc::new(assets.iter().map(|a| a.id.clone()).collect()),
            index,
            answers,
            measured,
            caps,
            assets: Arc::new(assets),
            asset_index: Arc::new(asset_index),
            asset_types,
            probability,
            degradation,
            target_explicit: inputs.target_level,
            employees: inputs.employees,
            turnover: inputs.turnover_eur.filter(|t| !t.is_nan()),
            business: inputs.business,
            problems,
            compliance: Compliance::default(),
            maturity: MaturityState::default(),
            risk: RiskState::default(),
        };
        engine.compute_all();
        engine
    }

    /// Derives everything again from the inputs the engine holds: what
    /// [`Engine::apply`] must always agree with (DESIGN.md 4.6).
    pub fn recompute(&self) -> Engine {
        let mut engine = Engine {
            index: self.index.clone(),
            answers: self.answers.clone(),
            measured: self.measured.clone(),
            caps: self.caps.clone(),
            assets: self.assets.clone(),
            asset_ids: self.asset_ids.clone(),
            asset_index: self.asset_index.clone(),
            asset_types: self.asset_types.clone(),
            probability: self.probability.clone(),
            degradation: self.degradation.clone(),
            target_explicit: self.target_explicit,
            employees: self.employees,
            turnover: self.turnover,
            business: self.business.clone(),
            problems: self.problems.clone(),
            compliance: Compliance::default(),
            maturity: MaturityState::default(),
            risk: RiskState::default(),
        };
        engine.compute_all();
        engine
    }

    fn compute_all(&mut self) {
        self.compliance =
            Compliance::compute(&self.index, &self.answers, &self.measured, &self.caps);
        self.maturity = MaturityState::compute(self);
        self.risk = RiskState::compute(self);
    }

    /// The compiled schema.
    pub fn index(&self) -> &Arc<SchemaIndex> {
        &self.index
    }

    /// The schema.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.index.schema
    }

    /// What was left out or clamped while reading the schema and the inputs.
    pub fn problems(&self) -> Vec<String> {
        self.index
            .problems()
            .iter()
            .chain(&self.problems)
            .cloned()
            .collect()
    }

    /// The inputs as they are now (after every applied change).
    pub fn inputs(&self) -> Inputs {
        let index = &self.index;
        let sub_id = |s: usize| SubControlId::new(index.subs[s].id.clone());
        let type_id = |t: u32| AssetTypeId::new(index.types[t as usize].id.clone());
        let threat_id = |t: u32| ThreatId::new(index.threats[t as usize].id.clone());
        let control_id = |c: usize| ControlId::new(index.controls[c].id.clone());
        Inputs {
            answers: self
                .answers
                .iter()
                .enumerate()
                .filter_map(|(s, a)| a.map(|a| (sub_id(s), a)))
                .collect(),
            measured: self
                .measured
                .iter()
                .enumerate()
                .filter_map(|(s, m)| m.map(|m| (sub_id(s), m)))
                .collect(),
            caps: self
                .caps
                .iter()
                .enumerate()
                .filter_map(|(c, cap)| cap.map(|cap| (control_id(c), cap)))
                .collect(),
            assets: self.assets.to_vec(),
            probability: self
                .probability
                .iter()
                .map(|((t, h), v)| ((type_id(*t), threat_id(*h)), *v))
                .collect(),
            degradation: self
                .degradation
                .iter()
                .map(|((t, h, d), v)| ((type_id(*t), threat_id(*h), Dimension::ALL[*d]), *v))
                .collect(),
            target_level: self.target_explicit,
            employees: self.employees,
            turnover_eur: self.turnover,
            business: self.business.clone(),
        }
    }

    /// Applies one input change, updating only what depends on it, and returns
    /// every derived value that changed. Setting an input to the value it has
    /// changes nothing and returns no delta. On error nothing changed.
    pub fn apply(&mut self, change: Change) -> Result<Deltas, EngineError> {
        let mut log = Log {
            raw: Vec::with_capacity(64),
        };
        let risk_before = self.risk.summary();
        let maturity_before = (self.maturity.current, self.maturity.target);
        match change {
            Change::Answer { subcontrol, answer } => {
                let s = self.subcontrol_index(&subcontrol)?;
                if self.answers[s] != answer {
                    self.answers[s] = answer;
                    self.subcontrol_changed(s, &mut log);
                }
            }
            Change::Measured { subcontrol, value } => {
                let s = self.subcontrol_index(&subcontrol)?;
                let value = match value {
                    Some(v) => {
                        Some(
                            on_scale(v, 0.0, 1.0).ok_or_else(|| EngineError::NotANumber {
                                what: format!("the measured value of `{subcontrol}`"),
                            })?,
                        )
                    }
                    None => None,
                };
                if !same(self.measured[s], value) {
                    self.measured[s] = value;
                    self.subcontrol_changed(s, &mut log);
                }
            }
            Change::Cap { control, value } => {
                let c = self.lookup("control", &self.index.control_ids, control.as_str())?;
                let value = match value {
                    Some(v) => {
                        Some(
                            on_scale(v, 0.0, 1.0).ok_or_else(|| EngineError::NotANumber {
                                what: format!("the cap of control `{control}`"),
                            })?,
                        )
                    }
                    None => None,
                };
                if !same(self.caps[c], value) {
                    self.caps[c] = value;
                    let start = log.raw.len();
                    for s in self.index.clone().controls[c].subs.clone() {
                        self.subcontrol_changed(s as usize, &mut log);
                    }
                    log.coalesce(start);
                }
            }
            Change::AssetValue { asset } => self.asset_changed(asset, &mut log)?,
            Change::Probability {
                asset_type,
                threat,
                value,
            } => {
                let key = resolve_pair(&self.index, &asset_type, &threat)?;
                let value = checked_percent(value, "the probability")?;
                let old = self.probability.get(&key).copied();
                if !same(old, value) {
                    match value {
                        Some(v) => self.probability.insert(key, v),
                        None => self.probability.remove(&key),
                    };
                    self.profile_changed(key.0, key.1, &mut log);
                }
            }
            Change::Degradation {
                asset_type,
                threat,
                dimension,
                value,
            } => {
                let (t, h) = resolve_pair(&self.index, &asset_type, &threat)?;
                let key = (t, h, dimension_slot(dimension));
                let value = checked_percent(value, "the degradation")?;
                let old = self.degradation.get(&key).copied();
                if !same(old, value) {
                    match value {
                        Some(v) => self.degradation.insert(key, v),
                        None => self.degradation.remove(&key),
                    };
                    self.profile_changed(t, h, &mut log);
                }
            }
            Change::TargetLevel { level } => {
                self.target_explicit = level;
                self.target_changed();
            }
            Change::Employees { employees } => {
                self.employees = employees;
                self.target_changed();
            }
            Change::Turnover { turnover } => {
                self.turnover = turnover.filter(|t| !t.is_nan());
                self.target_changed();
            }
            Change::Business { question, value } => {
                match value {
                    Some(v) => self.business.insert(question, v),
                    None => self.business.remove(&question),
                };
                self.target_changed();
            }
        }
        self.risk.record_summary(&risk_before, &mut log);
        let to_level = |level: u8| Some(f64::from(level));
        log.record(
            Key::MaturityCurrent,
            to_level(maturity_before.0),
            to_level(self.maturity.current),
        );
        log.record(
            Key::MaturityTarget,
            to_level(maturity_before.1),
            to_level(self.maturity.target),
        );
        Ok(Deltas {
            index: self.index.clone(),
            assets: self.asset_ids.clone(),
            raw: log.raw,
        })
    }

    /// The current value of `subject`, on the scale of the board and of [`Delta`]s
    /// (compliance 0..100; `None` when not applicable).
    pub fn value(&self, subject: &Subject) -> Result<Option<f64>, EngineError> {
        let percent = |x: Option<f64>| x.map(|x| x * 100.0);
        Ok(match subject {
            Subject::Subcontrol(id) => percent(self.compliance.x[self.subcontrol_index(id)?]),
            Subject::Control(id) => percent(
                self.compliance.control
                    [self.lookup("control", &self.index.control_ids, id.as_str())?],
            ),
            Subject::Objective(id) => percent(
                self.compliance.objective
                    [self.lookup("objective", &self.index.objective_ids, id.as_str())?]
                .value(),
            ),
            Subject::Domain(id) => percent(
                self.compliance.domain
                    [self.lookup("domain", &self.index.domain_ids, id.as_str())?]
                .value(),
            ),
            Subject::Isms => percent(self.compliance.isms.value()),
            Subject::Level(level) => percent(self.level_state(*level)?.compliance),
            Subject::MaturityCurrent => Some(f64::from(self.maturity.current)),
            Subject::MaturityTarget => Some(f64::from(self.maturity.target)),
            Subject::Flagged => Some(self.compliance.n_flagged as f64),
            Subject::Vulnerability(id) => {
                Some(self.risk.vul[self.lookup("threat", &self.index.threat_ids, id.as_str())?])
            }
            Subject::Impact { asset, threat } => Some(self.pair(asset, threat)?.0.impact),
            Subject::Potential { asset, threat } => Some(self.pair(asset, threat)?.0.potential),
            Subject::Residual { asset, threat } => Some(self.pair(asset, threat)?.0.residual),
            Subject::AssetRisk(id) => Some(self.risk.asset_risk[self.asset_position(id)?]),
            Subject::RiskMax => Some(self.risk.max()),
            Subject::RiskMean => Some(self.risk.mean()),
            Subject::RiskTotal => Some(self.risk.total()),
            Subject::RiskByLevel(level) => {
                Some(*self.risk.by_level.get(*level as usize).ok_or_else(|| {
                    EngineError::Unknown {
                        kind: "risk band",
                        id: level.to_string(),
                    }
                })? as f64)
            }
            Subject::PlanItem { control, level } => {
                Some(self.plan_item(control, *level)?.risk_reduction)
            }
        })
    }

    fn lookup(
        &self,
        kind: &'static str,
        ids: &HashMap<String, u32>,
        id: &str,
    ) -> Result<usize, EngineError> {
        ids.get(id)
            .map(|i| *i as usize)
            .ok_or_else(|| EngineError::Unknown {
                kind,
                id: id.to_owned(),
            })
    }

    fn subcontrol_index(&self, id: &SubControlId) -> Result<usize, EngineError> {
        self.lookup("subcontrol", &self.index.sub_ids, id.as_str())
    }

    fn asset_position(&self, id: &AssetId) -> Result<usize, EngineError> {
        self.lookup("asset", &self.asset_index, id.as_str())
    }

    fn level_state(&self, level: u8) -> Result<&maturity::LevelState, EngineError> {
        level
            .checked_sub(1)
            .and_then(|l| self.maturity.levels.get(l as usize))
            .ok_or_else(|| EngineError::Unknown {
                kind: "maturity level",
                id: level.to_string(),
            })
    }

    fn pair(
        &self,
        asset: &AssetId,
        threat: &ThreatId,
    ) -> Result<(&risk::Pair, &risk::Profile), EngineError> {
        let a = self.asset_position(asset)?;
        let t = self.lookup("threat", &self.index.threat_ids, threat.as_str())? as u32;
        self.risk
            .pair_of(a as u32, t)
            .map(|p| {
                (
                    &self.risk.pairs[p as usize],
                    &self.risk.profiles[p as usize],
                )
            })
            .ok_or_else(|| EngineError::NotAPair {
                asset: asset.0.clone(),
                threat: threat.0.clone(),
            })
    }
}

fn resolve_pair(
    index: &SchemaIndex,
    asset_type: &AssetTypeId,
    threat: &ThreatId,
) -> Result<(u32, u32), EngineError> {
    let t = index
        .type_ids
        .get(asset_type.as_str())
        .ok_or_else(|| EngineError::Unknown {
            kind: "asset type",
            id: asset_type.0.clone(),
        })?;
    let h = index
        .threat_ids
        .get(threat.as_str())
        .ok_or_else(|| EngineError::Unknown {
            kind: "threat",
            id: threat.0.clone(),
        })?;
    Ok((*t, *h))
}

fn checked_percent(value: Option<f64>, what: &str) -> Result<Option<f64>, EngineError> {
    match value {
        None => Ok(None),
        Some(v) => on_scale(v, 0.0, 100.0)
            .map(Some)
            .ok_or_else(|| EngineError::NotANumber {
                what: what.to_owned(),
            }),
    }
}

/// Asset values as a row per dimension.
pub(crate) type Values = [f64; DIMENSIONS];
