//! DESIGN.md 4.4: the improvement plan, ordered, with each item's risk reduction.

use std::cmp::Reverse;

use super::board::PlanItem;
use super::compliance::control_compliance;
use super::maturity::LEVEL_TOLERANCE;
use super::risk::factor;
use super::{Engine, EngineError};
use mmsm_model::{ControlId, SubControlId};

/// A plan item in dense indices, before ranking.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) control: u32,
    pub(crate) level: u8,
    pub(crate) subs: Vec<u32>,
    pub(crate) mandatory: bool,
    /// C(c) if the subcontrols were met, 0..1.
    pub(crate) compliance_after: Option<f64>,
    pub(crate) risk_reduction: f64,
}

/// Rounded to 6 decimals, so that equal values tie whatever the floating-point path.
fn rounded(value: f64) -> i64 {
    (value * 1e6).round() as i64
}

impl Engine {
    /// The improvement plan: one item per control and level <= the target level with
    /// applicable subcontrols not fully met, ordered by level, risk reduction
    /// (descending), mandatory first, the control's compliance (ascending) and
    /// its id in natural order.
    pub fn plan(&self) -> Vec<PlanItem> {
        let mut candidates: Vec<Candidate> = (0..self.index.controls.len())
            .flat_map(|c| self.candidates(c))
            .collect();
        let key = |item: &Candidate| {
            let c = item.control as usize;
            (
                item.level,
                Reverse(rounded(item.risk_reduction)),
                !item.mandatory,
                rounded(self.compliance.control[c].unwrap_or(0.0) * 100.0),
                self.index.controls[c].natural_rank,
            )
        };
        candidates.sort_by_cached_key(key);
        candidates
            .into_iter()
            .enumerate()
            .map(|(rank, item)| self.plan_view(rank + 1, &item))
            .collect()
    }

    fn plan_view(&self, rank: usize, item: &Candidate) -> PlanItem {
        let control = &self.index.controls[item.control as usize];
        PlanItem {
            rank,
            control: ControlId::new(control.id.clone()),
            subcontrols: item
                .subs
                .iter()
                .map(|s| SubControlId::new(self.index.subs[*s as usize].id.clone()))
                .collect(),
            level: item.level,
            effort: control.effort,
            risk_reduction: item.risk_reduction,
            mandatory: item.mandatory,
            compliance: self.compliance.control[item.control as usize].unwrap_or(0.0) * 100.0,
        }
    }

    /// The plan items of control `c`, one per level up to the target.
    pub(crate) fn candidates(&self, c: usize) -> Vec<Candidate> {
        let index = &self.index;
        let x = &self.compliance.x;
        let mut by_level: Vec<(u8, Vec<u32>)> = Vec::new();
        for s in index.controls[c].subs.clone() {
            let sub = &index.subs[s as usize];
            let open = x[s as usize].is_some_and(|x| x < 1.0 - LEVEL_TOLERANCE);
            if !open || sub.level > self.maturity.target {
                continue;
            }
            match by_level.iter_mut().find(|(level, _)| *level == sub.level) {
                Some((_, subs)) => subs.push(s),
                None => by_level.push((sub.level, vec![s])),
            }
        }
        by_level.sort_by_key(|(level, _)| *level);
        by_level
            .into_iter()
            .map(|(level, subs)| {
                let compliance_after = control_compliance(index, c, |s| {
                    if subs.contains(&(s as u32)) {
                        Some(1.0)
                    } else {
                        x[s]
                    }
                });
                Candidate {
                    control: c as u32,
                    level,
                    mandatory: subs.iter().any(|s| index.subs[*s as usize].mandatory),
                    risk_reduction: self.risk_reduction(c, compliance_after),
                    compliance_after,
                    subs,
                }
            })
            .collect()
    }

    /// The drop of the total residual if C(c) became `compliance_after`: only the threats
    /// the control mitigates change, by R0 sum * (Vul before - Vul after) / 100.
    pub(crate) fn risk_reduction(&self, c: usize, compliance_after: Option<f64>) -> f64 {
        self.reduction_by_threat(c, compliance_after)
            .iter()
            .map(|(_, _, _, reduction)| reduction)
            .sum()
    }

    /// Per threat of control `c`: (threat, Vul before, Vul after, reduction).
    pub(crate) fn reduction_by_threat(
        &self,
        c: usize,
        compliance_after: Option<f64>,
    ) -> Vec<(u32, f64, f64, f64)> {
        let index = &self.index;
        index.controls[c]
            .threats
            .iter()
            .map(|&(t, slot)| {
                let link = index.threats[t as usize].links[slot as usize];
                let before = self.risk.vul[t as usize];
                let after = 100.0
                    * self.risk.factors[t as usize]
                        .total_with(slot as usize, factor(compliance_after, link.effect));
                let reduction = self.risk.potential_sum(t as usize) * (before - after) / 100.0;
                (t, before, after, reduction)
            })
            .collect()
    }

    /// The plan item of `control` at `level`, as ranked in the plan.
    pub(crate) fn plan_item(
        &self,
        control: &ControlId,
        level: u8,
    ) -> Result<PlanItem, EngineError> {
        self.plan()
            .into_iter()
            .find(|item| &item.control == control && item.level == level)
            .ok_or_else(|| EngineError::Unknown {
                kind: "plan item",
                id: format!("{control}@{level}"),
            })
    }
}
