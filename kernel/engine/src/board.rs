//! The output shapes of DESIGN.md 5: board, risks and plan, with serde and
//! unrounded numbers (compliance, thresholds, impact, probability,
//! vulnerability and risks on 0..100).

use serde::{Deserialize, Serialize};

use super::index::{DomainChild, Status};
use super::Engine;
use mmsm_model::{AssetId, ControlId, DomainId, ObjectiveId, SchemaId, SubControlId, ThreatId};

/// The control board (DESIGN.md 4.5, 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Board {
    /// The ISMS's id: unknown to the engine, left empty for the caller to set.
    pub isms: String,
    /// The schema version the board was computed with.
    pub schema: SchemaTag,
    /// The ISMS's compliance, 0..100; null when no domain is applicable.
    pub compliance: Option<f64>,
    /// Maturity: current and target level, and each level's compliance.
    pub maturity: Maturity,
    /// Per domain.
    pub domains: Vec<DomainRow>,
    /// Per objective (an addition to DESIGN.md 5).
    pub objectives: Vec<ObjectiveRow>,
    /// Per control, in schema order.
    pub controls: Vec<ControlRow>,
    /// Risk aggregates.
    pub risk: RiskSummary,
    /// Subcontrols unanswered or `unknown`, without a measured value: to review.
    pub flagged: usize,
}

/// A schema id and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaTag {
    /// The schema id.
    pub id: SchemaId,
    /// Its version.
    pub version: u32,
}

/// The maturity part of the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Maturity {
    /// The current level, 0 below level 1.
    pub current: u8,
    /// The target level.
    pub target: u8,
    /// Every level, 1 first.
    pub levels: Vec<LevelRow>,
}

/// One maturity level on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelRow {
    /// 1..
    pub level: u8,
    /// C_L, 0..100; null without applicable subcontrol.
    pub compliance: Option<f64>,
    /// The threshold, 0..100.
    pub threshold: f64,
    /// R_1..R_L all hold.
    pub reached: bool,
    /// R_L alone holds (threshold met, no mandatory subcontrol failing).
    pub rule: bool,
    /// Mandatory subcontrols of the level that are applicable and not fully met.
    pub mandatory_failing: usize,
}

/// One domain on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainRow {
    /// The domain.
    pub id: DomainId,
    /// 0..100; null when no child is applicable.
    pub compliance: Option<f64>,
}

/// One objective on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveRow {
    /// The objective.
    pub id: ObjectiveId,
    /// 0..100; null when no control is applicable.
    pub compliance: Option<f64>,
}

/// One control on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlRow {
    /// The control.
    pub id: ControlId,
    /// 0..100; null when not applicable.
    pub compliance: Option<f64>,
    /// red, amber, green or na, by the schema's status bands.
    pub status: Status,
}

/// The risk aggregates of the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskSummary {
    /// The max residual over all pairs; 0 without pair.
    pub max: f64,
    /// The mean over the assets with at least one pair of their asset risk; 0 without pair.
    pub mean: f64,
    /// The number of pairs in each risk band, by band index.
    pub by_level: Vec<usize>,
    /// The sum of the residuals of all pairs (an addition to DESIGN.md 5).
    pub total: f64,
    /// The number of (asset, threat) pairs.
    pub pairs: usize,
}

/// One (asset, threat) pair of the risk analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskRow {
    /// The asset.
    pub asset: AssetId,
    /// The threat.
    pub threat: ThreatId,
    /// I(a,t), 0..100.
    pub impact: f64,
    /// P, 0..100.
    pub probability: f64,
    /// R0(a,t), 0..100.
    pub potential: f64,
    /// Vul(t), 0..100.
    pub vulnerability: f64,
    /// R(a,t), 0..100.
    pub residual: f64,
    /// The index of the risk band holding the residual.
    pub level: u8,
}

/// One item of the improvement plan (DESIGN.md 4.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    /// 1 first.
    pub rank: usize,
    /// The control to reinforce.
    pub control: ControlId,
    /// Its applicable subcontrols of that level not fully met.
    pub subcontrols: Vec<SubControlId>,
    /// The level.
    pub level: u8,
    /// The control's effort.
    pub effort: f64,
    /// The drop of the total residual risk if those subcontrols were met.
    pub risk_reduction: f64,
    /// Whether one of the subcontrols is mandatory for the level.
    pub mandatory: bool,
    /// The control's current compliance, 0..100.
    pub compliance: f64,
}

impl Engine {
    /// The control board.
    pub fn board(&self) -> Board {
        let index = &self.index;
        let schema = &index.schema;
        let percent = |x: Option<f64>| x.map(|x| x * 100.0);
        let compliance = &self.compliance;
        Board {
            isms: String::new(),
            schema: SchemaTag {
                id: schema.schema.id.clone(),
                version: schema.schema.version,
            },
            compliance: percent(compliance.isms.value()),
            maturity: Maturity {
                current: self.maturity.current,
                target: self.maturity.target,
                levels: index
                    .levels
                    .iter()
                    .zip(&self.maturity.levels)
                    .map(|(info, state)| LevelRow {
                        level: info.level,
                        compliance: percent(state.compliance),
                        threshold: info.threshold * 100.0,
                        reached: state.reached,
                        rule: state.rule,
                        mandatory_failing: state.mandatory_failing,
                    })
                    .collect(),
            },
            domains: index
                .domains
                .iter()
                .zip(&compliance.domain)
                .map(|(info, mean)| DomainRow {
                    id: DomainId::new(info.id.clone()),
                    compliance: percent(mean.value()),
                })
                .collect(),
            objectives: index
                .objectives
                .iter()
                .zip(&compliance.objective)
                .map(|(info, mean)| ObjectiveRow {
                    id: ObjectiveId::new(info.id.clone()),
                    compliance: percent(mean.value()),
                })
                .collect(),
            controls: index
                .controls
                .iter()
                .zip(&compliance.control)
                .map(|(info, c)| ControlRow {
                    id: ControlId::new(info.id.clone()),
                    compliance: percent(*c),
                    status: index.status(percent(*c)),
                })
                .collect(),
            risk: RiskSummary {
                max: self.risk.max(),
                mean: self.risk.mean(),
                by_level: self.risk.by_level.clone(),
                total: self.risk.total(),
                pairs: self.risk.asset_pairs.iter().map(Vec::len).sum(),
            },
            flagged: compliance.n_flagged,
        }
    }

    /// Every (asset, threat) pair, by asset (in input order) then threat (in schema order).
    pub fn risks(&self) -> Vec<RiskRow> {
        let index = &self.index;
        self.risk
            .asset_pairs
            .iter()
            .flatten()
            .map(|p| {
                let pair = &self.risk.pairs[*p as usize];
                RiskRow {
                    asset: self.asset_ids[pair.asset as usize].clone(),
                    threat: ThreatId::new(index.threats[pair.threat as usize].id.clone()),
                    impact: pair.impact,
                    probability: self.risk.profiles[*p as usize].probability,
                    potential: pair.potential,
                    vulnerability: self.risk.vul[pair.threat as usize],
                    residual: pair.residual,
                    level: pair.level,
                }
            })
            .collect()
    }

    /// The children of a domain, for explanations.
    pub(crate) fn domain_children(&self, d: usize) -> Vec<(String, Option<f64>)> {
        self.index.domains[d]
            .children
            .iter()
            .map(|child| match child {
                DomainChild::Objective(o) => (
                    format!("objective:{}", self.index.objectives[*o as usize].id),
                    self.compliance.objective[*o as usize].value(),
                ),
                DomainChild::Control(c) => (
                    format!("control:{}", self.index.controls[*c as usize].id),
                    self.compliance.control[*c as usize],
                ),
            })
            .collect()
    }
}
