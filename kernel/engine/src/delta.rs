//! What changed: the subjects of derived values and the deltas `apply` returns.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::index::SchemaIndex;
use super::inputs::{AssetIds, EngineError};
use mmsm_model::{AssetId, ControlId, DomainId, ObjectiveId, SubControlId, ThreatId};

/// A derived value (or an input) the engine can name, explain and report as changed.
///
/// Written as a short string: `control:8.13`, `objective:O1`, `domain:8`, `isms`,
/// `level:2`, `maturity.current`, `maturity.target`, `flagged`, `subcontrol:8.13.1`,
/// `vul:A.24`, `impact:erp/A.24`, `potential:erp/A.24`, `risk:erp/A.24` (the residual),
/// `asset:erp` (the asset's risk), `risk.max`, `risk.mean`, `risk.total`,
/// `risk.by_level:2`, `plan:8.13@2` (the plan item of control 8.13 at level 2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// x(s) of a subcontrol, 0..100 (explain only).
    Subcontrol(SubControlId),
    /// C(c), 0..100, none when not applicable.
    Control(ControlId),
    /// The mean of an objective's applicable controls.
    Objective(ObjectiveId),
    /// The mean of a domain's applicable children.
    Domain(DomainId),
    /// The mean of the applicable domains.
    Isms,
    /// C_L of a maturity level, 0..100, none without applicable subcontrol.
    Level(u8),
    /// The current maturity level.
    MaturityCurrent,
    /// The target maturity level.
    MaturityTarget,
    /// The number of unanswered or `unknown` subcontrols without a measured value.
    Flagged,
    /// Vul(t), 0..100.
    Vulnerability(ThreatId),
    /// I(a,t), 0..100.
    Impact {
        /// The asset.
        asset: AssetId,
        /// The threat.
        threat: ThreatId,
    },
    /// R0(a,t), 0..100.
    Potential {
        /// The asset.
        asset: AssetId,
        /// The threat.
        threat: ThreatId,
    },
    /// R(a,t), the residual risk, 0..100.
    Residual {
        /// The asset.
        asset: AssetId,
        /// The threat.
        threat: ThreatId,
    },
    /// The asset's risk: the max residual over its threats.
    AssetRisk(AssetId),
    /// The max residual over all pairs.
    RiskMax,
    /// The mean asset risk over the assets with at least one pair.
    RiskMean,
    /// The sum of the residuals of all pairs.
    RiskTotal,
    /// The number of pairs in risk band `k`.
    RiskByLevel(u8),
    /// A plan item: a control at a level (explain only).
    PlanItem {
        /// The control.
        control: ControlId,
        /// The level.
        level: u8,
    },
}

impl Subject {
    /// The subject in words for people, with the names `asset` and `threat`
    /// give for ids (the `Display` form is the machine syntax `explain` reads).
    pub fn describe(
        &self,
        asset: &dyn Fn(&AssetId) -> String,
        threat: &dyn Fn(&ThreatId) -> String,
    ) -> String {
        match self {
            Subject::Subcontrol(id) => format!("question {id}"),
            Subject::Control(id) => format!("control {id}"),
            Subject::Objective(id) => format!("objective {id}"),
            Subject::Domain(id) => format!("domain {id}"),
            Subject::Isms => "overall compliance".into(),
            Subject::Level(level) => format!("compliance of maturity level {level}"),
            Subject::MaturityCurrent => "current maturity level".into(),
            Subject::MaturityTarget => "target maturity level".into(),
            Subject::Flagged => "questions to review".into(),
            Subject::Vulnerability(t) => format!("vulnerability to {}", threat(t)),
            Subject::Impact {
                asset: a,
                threat: t,
            } => {
                format!("impact of {} on {}", threat(t), asset(a))
            }
            Subject::Potential {
                asset: a,
                threat: t,
            } => {
                format!("potential risk of {} to {}", threat(t), asset(a))
            }
            Subject::Residual {
                asset: a,
                threat: t,
            } => {
                format!("residual risk of {} to {}", threat(t), asset(a))
            }
            Subject::AssetRisk(a) => format!("risk to {}", asset(a)),
            Subject::RiskMax => "highest residual risk".into(),
            Subject::RiskMean => "mean asset risk".into(),
            Subject::RiskTotal => "total residual risk".into(),
            Subject::RiskByLevel(level) => format!("pairs in risk band {}", level + 1),
            Subject::PlanItem { control, level } => {
                format!("plan item: control {control} to level {level}")
            }
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Subcontrol(id) => write!(f, "subcontrol:{id}"),
            Subject::Control(id) => write!(f, "control:{id}"),
            Subject::Objective(id) => write!(f, "objective:{id}"),
            Subject::Domain(id) => write!(f, "domain:{id}"),
            Subject::Isms => f.write_str("isms"),
            Subject::Level(level) => write!(f, "level:{level}"),
            Subject::MaturityCurrent => f.write_str("maturity.current"),
            Subject::MaturityTarget => f.write_str("maturity.target"),
            Subject::Flagged => f.write_str("flagged"),
            Subject::Vulnerability(id) => write!(f, "vul:{id}"),
            Subject::Impact { asset, threat } => write!(f, "impact:{asset}/{threat}"),
            Subject::Potential { asset, threat } => write!(f, "potential:{asset}/{threat}"),
            Subject::Residual { asset, threat } => write!(f, "risk:{asset}/{threat}"),
            Subject::AssetRisk(id) => write!(f, "asset:{id}"),
            Subject::RiskMax => f.write_str("risk.max"),
            Subject::RiskMean => f.write_str("risk.mean"),
            Subject::RiskTotal => f.write_str("risk.total"),
            Subject::RiskByLevel(level) => write!(f, "risk.by_level:{level}"),
            Subject::PlanItem { control, level } => write!(f, "plan:{control}@{level}"),
        }
    }
}

impl FromStr for Subject {
    type Err = EngineError;

    fn from_str(text: &str) -> Result<Subject, EngineError> {
        let bad = || EngineError::BadSubject(text.to_owned());
        let pair = |rest: &str| -> Result<(AssetId, ThreatId), EngineError> {
            let (asset, threat) = rest.rsplit_once('/').ok_or_else(bad)?;
            if asset.is_empty() || threat.is_empty() {
                return Err(bad());
            }
            Ok((AssetId::new(asset), ThreatId::new(threat)))
        };
        let level = |rest: &str| rest.parse::<u8>().map_err(|_| bad());
        match text {
            "isms" => return Ok(Subject::Isms),
            "maturity.current" => return Ok(Subject::MaturityCurrent),
            "maturity.target" => return Ok(Subject::MaturityTarget),
            "flagged" => return Ok(Subject::Flagged),
            "risk.max" => return Ok(Subject::RiskMax),
            "risk.mean" => return Ok(Subject::RiskMean),
            "risk.total" => return Ok(Subject::RiskTotal),
            _ => {}
        }
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        Ok(match kind {
            "subcontrol" => Subject::Subcontrol(SubControlId::new(rest)),
            "control" => Subject::Control(ControlId::new(rest)),
            "objective" => Subject::Objective(ObjectiveId::new(rest)),
            "domain" => Subject::Domain(DomainId::new(rest)),
            "level" => Subject::Level(level(rest)?),
            "vul" => Subject::Vulnerability(ThreatId::new(rest)),
            "impact" => {
                let (asset, threat) = pair(rest)?;
                Subject::Impact { asset, threat }
            }
            "potential" => {
                let (asset, threat) = pair(rest)?;
                Subject::Potential { asset, threat }
            }
            "risk" => {
                let (asset, threat) = pair(rest)?;
                Subject::Residual { asset, threat }
            }
            "asset" => Subject::AssetRisk(AssetId::new(rest)),
            "risk.by_level" => Subject::RiskByLevel(level(rest)?),
            "plan" => {
                let (control, at) = rest.rsplit_once('@').ok_or_else(bad)?;
                Subject::PlanItem {
                    control: ControlId::new(control),
                    level: level(at)?,
                }
            }
            _ => return Err(bad()),
        })
    }
}

impl Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One derived value that changed, on the scale the board shows (compliance 0..100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// What changed.
    pub subject: Subject,
    /// Its value before the change (`None`: not applicable, or did not exist).
    pub before: Option<f64>,
    /// Its value after the change.
    pub after: Option<f64>,
}

/// A subject in dense indices: what `apply` records on its hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Control(u32),
    Objective(u32),
    Domain(u32),
    Isms,
    Level(u8),
    MaturityCurrent,
    MaturityTarget,
    Flagged,
    Vulnerability(u32),
    Potential { asset: u32, threat: u32 },
    Residual { asset: u32, threat: u32 },
    AssetRisk(u32),
    RiskMax,
    RiskMean,
    RiskTotal,
    RiskByLevel(u8),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RawDelta {
    pub(crate) key: Key,
    /// NaN for none (no derived value is NaN): 32 bytes a delta instead of 48.
    pub(crate) before: f64,
    pub(crate) after: f64,
}

/// `None` as NaN, for [`RawDelta`].
pub(crate) fn pack(value: Option<f64>) -> f64 {
    value.unwrap_or(f64::NAN)
}

pub(crate) fn unpack(value: f64) -> Option<f64> {
    (!value.is_nan()).then_some(value)
}

/// Whether two optional values differ enough to report: a null change, or more than 1e-12.
pub(crate) fn really_changed(before: Option<f64>, after: Option<f64>) -> bool {
    match (before, after) {
        (Some(b), Some(a)) => (b - a).abs() > 1e-12,
        (None, None) => false,
        _ => true,
    }
}

/// The deltas of one [`super::Engine::apply`]: every derived value that changed.
///
/// Recorded in dense indices (cheap on the update path) and named on demand:
/// [`Deltas::iter`] and [`Deltas::to_vec`] give [`Delta`]s, and the collection
/// serialises as a list of them.
#[derive(Debug, Clone)]
pub struct Deltas {
    pub(crate) index: Arc<SchemaIndex>,
    pub(crate) assets: AssetIds,
    pub(crate) raw: Vec<RawDelta>,
}

impl Deltas {
    /// The number of changed values.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The changed values, named.
    pub fn iter(&self) -> impl Iterator<Item = Delta> + '_ {
        self.raw.iter().map(|raw| Delta {
            subject: self.subject(raw.key),
            before: unpack(raw.before),
            after: unpack(raw.after),
        })
    }

    /// The changed values as a vector.
    pub fn to_vec(&self) -> Vec<Delta> {
        self.iter().collect()
    }

    /// The change of `subject`, if it changed.
    pub fn get(&self, subject: &Subject) -> Option<Delta> {
        self.iter().find(|delta| &delta.subject == subject)
    }

    fn subject(&self, key: Key) -> Subject {
        let index = &self.index;
        let threat = |t: u32| ThreatId::new(index.threats[t as usize].id.clone());
        let asset = |a: u32| self.assets[a as usize].clone();
        match key {
            Key::Control(c) => {
                Subject::Control(ControlId::new(index.controls[c as usize].id.clone()))
            }
            Key::Objective(o) => {
                Subject::Objective(ObjectiveId::new(index.objectives[o as usize].id.clone()))
            }
            Key::Domain(d) => Subject::Domain(DomainId::new(index.domains[d as usize].id.clone())),
            Key::Isms => Subject::Isms,
            Key::Level(level) => Subject::Level(level),
            Key::MaturityCurrent => Subject::MaturityCurrent,
            Key::MaturityTarget => Subject::MaturityTarget,
            Key::Flagged => Subject::Flagged,
            Key::Vulnerability(t) => Subject::Vulnerability(threat(t)),
            Key::Potential {
                asset: a,
                threat: t,
            } => Subject::Potential {
                asset: asset(a),
                threat: threat(t),
            },
            Key::Residual {
                asset: a,
                threat: t,
            } => Subject::Residual {
                asset: asset(a),
                threat: threat(t),
            },
            Key::AssetRisk(a) => Subject::AssetRisk(asset(a)),
            Key::RiskMax => Subject::RiskMax,
            Key::RiskMean => Subject::RiskMean,
            Key::RiskTotal => Subject::RiskTotal,
            Key::RiskByLevel(level) => Subject::RiskByLevel(level),
        }
    }
}

impl Serialize for Deltas {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod describe_tests {
    use super::*;

    #[test]
    fn subjects_read_as_words_with_names() {
        let asset = |id: &AssetId| {
            if id.as_str() == "erp" {
                "ERP server".into()
            } else {
                id.to_string()
            }
        };
        let threat = |id: &ThreatId| format!("Denial of service ({id})");
        let s = Subject::Residual {
            asset: AssetId::new("erp"),
            threat: ThreatId::new("A.24"),
        };
        assert_eq!(
            s.describe(&asset, &threat),
            "residual risk of Denial of service (A.24) to ERP server"
        );
        assert_eq!(
            Subject::RiskMax.describe(&asset, &threat),
            "highest residual risk"
        );
        // The machine form is unchanged.
        assert_eq!(s.to_string(), "risk:erp/A.24");
    }
}
