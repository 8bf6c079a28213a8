//! Explanations: for any derived value, the rule and the inputs that produced it.

use serde::{Deserialize, Serialize};

use super::delta::Subject;
use super::maturity::LEVEL_TOLERANCE;
use super::{Engine, EngineError};
use mmsm_model::Dimension;

/// How a derived value came to be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// What is explained.
    pub subject: Subject,
    /// Its value, on the scale of the board (compliance 0..100).
    pub value: Option<f64>,
    /// The rule of DESIGN.md that produced it.
    pub rule: String,
    /// The rule with the numbers put in, e.g. `residual(erp, A.24) = 43.2 * 36 / 100 = 15.552`.
    pub formula: String,
    /// The values it was computed from.
    pub inputs: Vec<ExplanationInput>,
}

/// One value an explanation was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplanationInput {
    /// What it is, as a subject or an input name (`subcontrol:8.13.1`, `E(8.13, A.24)`).
    pub name: String,
    /// Its value (`None`: not applicable).
    pub value: Option<f64>,
    /// A note, e.g. `na: left out`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A number as people write it: no trailing zeros, at most 6 decimals.
pub(crate) fn num(value: f64) -> String {
    if value.is_infinite() || value.is_nan() {
        return value.to_string();
    }
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), num)
}

fn input(name: impl Into<String>, value: Option<f64>, note: Option<String>) -> ExplanationInput {
    ExplanationInput {
        name: name.into(),
        value,
        note,
    }
}

fn mean_formula(name: &str, children: &[(String, Option<f64>)], value: Option<f64>) -> String {
    let applicable: Vec<String> = children.iter().filter_map(|(_, v)| v.map(num)).collect();
    if applicable.is_empty() {
        format!("compliance({name}) = n/a: no applicable child")
    } else {
        format!(
            "compliance({name}) = ({}) / {} = {}",
            applicable.join(" + "),
            applicable.len(),
            opt(value)
        )
    }
}

impl Engine {
    /// Explains `subject`: its value, the rule, the formula with numbers and the inputs.
    pub fn explain(&self, subject: &Subject) -> Result<Explanation, EngineError> {
        let value = self.value(subject)?;
        let index = &self.index;
        let percent = |x: Option<f64>| x.map(|x| x * 100.0);
        let (rule, formula, inputs): (&str, String, Vec<ExplanationInput>) = match subject {
            Subject::Subcontrol(id) => {
                let s = self.subcontrol_index(id)?;
                let formula = match (self.measured[s], self.answers[s]) {
                    (Some(m), _) => format!("x({id}) = measured {}", num(m)),
                    (None, Some(a)) => match a.value() {
                        Some(v) => format!("x({id}) = {a} = {}", num(v)),
                        None => format!("x({id}) = na: not applicable, left out of every sum"),
                    },
                    (None, None) => format!("x({id}) = unanswered = 0 (flagged)"),
                };
                let control = &index.controls[index.subs[s].control as usize];
                let formula = match self.caps[index.subs[s].control as usize] {
                    Some(cap) => format!(
                        "{formula}, held at most at {} by an open major non-conformity on control {}",
                        num(cap),
                        control.id
                    ),
                    None => formula,
                };
                (
                    "DESIGN.md 4.1: x(s) = the measured value when there is one, else yes 1, partial 0.5, no 0, unknown 0 (flagged), unanswered 0 (flagged); na is left out",
                    formula,
                    vec![],
                )
            }
            Subject::Control(id) => {
                let c = self.lookup("control", &index.control_ids, id.as_str())?;
                let mut weighted = Vec::new();
                let mut weights = Vec::new();
                let mut inputs = Vec::new();
                for s in index.controls[c].subs.clone() {
                    let sub = &index.subs[s as usize];
                    let x = self.compliance.x[s as usize];
                    match x {
                        Some(x) => {
                            weighted.push(format!("{}*{}", num(sub.weight), num(x)));
                            weights.push(num(sub.weight));
                            inputs.push(input(format!("subcontrol:{}", sub.id), Some(x), None));
                        }
                        None => inputs.push(input(
                            format!("subcontrol:{}", sub.id),
                            None,
                            Some("na: left out".into()),
                        )),
                    }
                }
                let c_value = self.compliance.control[c];
                let formula = if weights.is_empty() {
                    format!("C({id}) = n/a: no applicable subcontrol")
                } else {
                    format!(
                        "C({id}) = ({}) / ({}) = {}",
                        weighted.join(" + "),
                        weights.join(" + "),
                        opt(c_value)
                    )
                };
                (
                    "DESIGN.md 4.1: C(c) = sum(w*x) / sum(w) over the applicable subcontrols (0..1; shown 0..100)",
                    formula,
                    inputs,
                )
            }
            Subject::Objective(id) => {
                let o = self.lookup("objective", &index.objective_ids, id.as_str())?;
                let children: Vec<(String, Option<f64>)> = index.objectives[o]
                    .controls
                    .iter()
                    .map(|c| {
                        (
                            format!("control:{}", index.controls[*c as usize].id),
                            self.compliance.control[*c as usize],
                        )
                    })
                    .collect();
                let formula = mean_formula(
                    &format!("objective {id}"),
                    &children,
                    self.compliance.objective[o].value(),
                );
                (
                    "DESIGN.md 4.1: the plain mean of the applicable controls",
                    formula,
                    children.into_iter().map(|(n, v)| input(n, v, None)).collect(),
                )
            }
            Subject::Domain(id) => {
                let d = self.lookup("domain", &index.domain_ids, id.as_str())?;
                let children = self.domain_children(d);
                let formula = mean_formula(
                    &format!("domain {id}"),
                    &children,
                    self.compliance.domain[d].value(),
                );
                (
                    "DESIGN.md 4.1: the plain mean of the applicable objectives and controls without objective",
                    formula,
                    children.into_iter().map(|(n, v)| input(n, v, None)).collect(),
                )
            }
            Subject::Isms => {
                let children: Vec<(String, Option<f64>)> = index
                    .domains
                    .iter()
                    .zip(&self.compliance.domain)
                    .map(|(d, mean)| (format!("domain:{}", d.id), mean.value()))
                    .collect();
                let formula = mean_formula("isms", &children, self.compliance.isms.value());
                (
                    "DESIGN.md 4.1: the plain mean of the applicable domains",
                    formula,
                    children.into_iter().map(|(n, v)| input(n, v, None)).collect(),
                )
            }
            Subject::Level(level) => {
                let state = self.level_state(*level)?;
                let info = &index.levels[*level as usize - 1];
                let mut inputs = Vec::new();
                let (mut weighted, mut weights) = (0.0, 0.0);
                for s in &info.subs {
                    let sub = &index.subs[*s as usize];
                    let x = self.compliance.x[*s as usize];
                    if let Some(x) = x {
                        weighted += sub.weight * x;
                        weights += sub.weight;
                    }
                    let note = match (x, sub.mandatory) {
                        (None, _) => Some("na: left out".to_owned()),
                        (Some(x), true) if x < 1.0 - LEVEL_TOLERANCE => {
                            Some("mandatory, not met: the level fails".to_owned())
                        }
                        (Some(_), true) => Some("mandatory".to_owned()),
                        _ => None,
                    };
                    inputs.push(input(format!("subcontrol:{}", sub.id), x, note));
                }
                let below = if *level == 1 {
                    String::new()
                } else {
                    format!(
                        "; level {} reached: {}",
                        level - 1,
                        self.maturity.levels[*level as usize - 2].reached
                    )
                };
                let formula = match state.compliance {
                    Some(c) => format!(
                        "C_{level} = {} / {} = {}; R_{level}: {} >= {} is {}, mandatory failing {}{below}; reached: {}",
                        num(weighted),
                        num(weights),
                        num(c),
                        num(c),
                        num(info.threshold),
                        c >= info.threshold - LEVEL_TOLERANCE,
                        state.mandatory_failing,
                        state.reached
                    ),
                    None => format!(
                        "C_{level} = n/a: no applicable subcontrol; R_{level} holds unless a mandatory one fails (failing {}){below}; reached: {}",
                        state.mandatory_failing, state.reached
                    ),
                };
                (
                    "DESIGN.md 4.2: C_L = sum(w*x)/sum(w) over the applicable subcontrols of level L; R_L: C_L >= threshold_L (tolerance 1e-9), every mandatory subcontrol of L has x = 1, and L-1 is reached",
                    formula,
                    inputs,
                )
            }
            Subject::MaturityCurrent => {
                let rules: Vec<String> = self
                    .maturity
                    .levels
                    .iter()
                    .enumerate()
                    .map(|(l, s)| format!("R_{} {}", l + 1, s.rule))
                    .collect();
                (
                    "DESIGN.md 4.2: the largest L with R_1..R_L all true; 0 when R_1 fails",
                    format!("current = {} ({})", self.maturity.current, rules.join(", ")),
                    self.maturity
                        .levels
                        .iter()
                        .enumerate()
                        .map(|(l, s)| input(format!("level:{}", l + 1), percent(s.compliance), None))
                        .collect(),
                )
            }
            Subject::MaturityTarget => {
                let basis = &self.maturity.basis;
                let mut parts = Vec::new();
                match (&basis.size, basis.from_size) {
                    (Some(size), Some(level)) => parts.push(format!("size class {size} -> {level}")),
                    (Some(size), None) => {
                        parts.push(format!("size class {size} has no target_level -> 1"))
                    }
                    (None, _) => parts.push("no size class -> 1".to_owned()),
                }
                for (question, level) in &basis.raised_by {
                    parts.push(format!("raised by {question} -> {level}"));
                }
                if let Some(explicit) = basis.explicit {
                    parts.push(format!("set explicitly -> {explicit}"));
                }
                (
                    "DESIGN.md 4.2: the size class's target_level, raised by the business-checklist rules; an explicit level wins; clamped to the schema's levels",
                    format!("target = {} ({})", self.maturity.target, parts.join("; ")),
                    vec![
                        input("employees", self.employees.map(f64::from), None),
                        input("turnover_eur", self.turnover, None),
                    ],
                )
            }
            Subject::Flagged => (
                "DESIGN.md 4.1: unanswered and unknown subcontrols count as 0 and are flagged for review",
                format!("flagged = {}", self.compliance.n_flagged),
                index
                    .subs
                    .iter()
                    .zip(&self.compliance.flagged)
                    .filter(|(_, f)| **f)
                    .map(|(s, _)| input(format!("subcontrol:{}", s.id), Some(0.0), None))
                    .collect(),
            ),
            Subject::Vulnerability(id) => {
                let t = self.lookup("threat", &index.threat_ids, id.as_str())?;
                let mut factors = Vec::new();
                let mut inputs = Vec::new();
                for link in &index.threats[t].links {
                    let control = &index.controls[link.control as usize];
                    let c = self.compliance.control[link.control as usize];
                    if let Some(c) = c {
                        factors.push(format!("(1 - {}*{})", num(c), num(link.effect / 100.0)));
                    }
                    inputs.push(input(
                        format!("control:{}", control.id),
                        percent(c),
                        Some(match c {
                            Some(_) => format!("E = {}", num(link.effect)),
                            None => "not applicable: left out of the product".to_owned(),
                        }),
                    ));
                }
                let formula = if factors.is_empty() {
                    format!("Vul({id}) = 100: no applicable control")
                } else {
                    format!("Vul({id}) = 100 * {} = {}", factors.join(" * "), opt(value))
                };
                (
                    "DESIGN.md 4.3: Vul(t) = 100 * (1 - M(t)), M(t) = 1 - prod over the applicable controls c of t of (1 - C(c) * E(c,t)/100)",
                    formula,
                    inputs,
                )
            }
            Subject::Impact { asset, threat } => {
                let (pair, profile) = self.pair(asset, threat)?;
                let values = &self.risk.values[pair.asset as usize];
                let mut terms = Vec::new();
                let mut inputs = Vec::new();
                for (d, dimension) in Dimension::ALL.iter().enumerate() {
                    if profile.listed[d] {
                        terms.push(format!(
                            "{}: {}/10*{}",
                            dimension.letter(),
                            num(values[d]),
                            num(profile.degradation[d])
                        ));
                        inputs.push(input(format!("V({asset}, {})", dimension.letter()), Some(values[d]), None));
                        inputs.push(input(
                            format!("Deg({threat}, {})", dimension.letter()),
                            Some(profile.degradation[d]),
                            None,
                        ));
                    }
                }
                (
                    "DESIGN.md 4.3: I(a,t) = max over the dimensions the TAD row lists of V(a,d)/10 * Deg(T,t,d)",
                    format!("impact({asset}, {threat}) = max({}) = {}", terms.join(", "), opt(value)),
                    inputs,
                )
            }
            Subject::Potential { asset, threat } => {
                let (pair, profile) = self.pair(asset, threat)?;
                let row = &index.tad_rows[profile.row as usize];
                let source = if profile.probability.to_bits() == row.probability.to_bits() {
                    format!("TAD row of {}", index.types[row.asset_type as usize].id)
                } else {
                    "accepted change".to_owned()
                };
                (
                    "DESIGN.md 4.3: R0(a,t) = I(a,t) * P(T,t) / 100",
                    format!(
                        "potential({asset}, {threat}) = {} * {} / 100 = {}",
                        num(pair.impact),
                        num(profile.probability),
                        opt(value)
                    ),
                    vec![
                        input(format!("impact:{asset}/{threat}"), Some(pair.impact), None),
                        input(format!("P({threat})"), Some(profile.probability), Some(source)),
                    ],
                )
            }
            Subject::Residual { asset, threat } => {
                let (pair, _) = self.pair(asset, threat)?;
                let vul = self.risk.vul[pair.threat as usize];
                let band = &index.risk_bands[pair.level as usize];
                (
                    "DESIGN.md 4.3: R(a,t) = R0(a,t) * Vul(t) / 100; its level is the risk band holding it",
                    format!(
                        "residual({asset}, {threat}) = {} * {} / 100 = {} (level {}, {})",
                        num(pair.potential),
                        num(vul),
                        opt(value),
                        pair.level,
                        band.label
                    ),
                    vec![
                        input(format!("potential:{asset}/{threat}"), Some(pair.potential), None),
                        input(format!("vul:{threat}"), Some(vul), None),
                    ],
                )
            }
            Subject::AssetRisk(id) => {
                let a = self.asset_position(id)?;
                let inputs: Vec<ExplanationInput> = self.risk.asset_pairs[a]
                    .iter()
                    .map(|p| {
                        let pair = &self.risk.pairs[*p as usize];
                        input(
                            format!("risk:{id}/{}", index.threats[pair.threat as usize].id),
                            Some(pair.residual),
                            None,
                        )
                    })
                    .collect();
                (
                    "DESIGN.md 4.3: asset risk = max over its threats of R(a,t) (0 without threat)",
                    format!("risk({id}) = max over {} threats = {}", inputs.len(), opt(value)),
                    inputs,
                )
            }
            Subject::RiskMax => (
                "DESIGN.md 4.3: max = the max residual over all pairs; 0 without pair",
                format!("max = {}", opt(value)),
                vec![],
            ),
            Subject::RiskMean => (
                "DESIGN.md 4.3: mean = the mean over the assets with at least one pair of their asset risk; 0 without pair",
                format!(
                    "mean = sum of asset risks / {} = {}",
                    self.risk.assets_with_pairs,
                    opt(value)
                ),
                self.asset_ids
                    .iter()
                    .zip(&self.risk.asset_risk)
                    .zip(&self.risk.asset_pairs)
                    .filter(|(_, pairs)| !pairs.is_empty())
                    .map(|((id, risk), _)| input(format!("asset:{id}"), Some(*risk), None))
                    .collect(),
            ),
            Subject::RiskTotal => (
                "DESIGN.md 4.4: the total residual, the sum of R(a,t) over all pairs",
                format!("total = {}", opt(value)),
                vec![],
            ),
            Subject::RiskByLevel(level) => {
                let band = &index.risk_bands[*level as usize];
                (
                    "DESIGN.md 4.3: the number of pairs whose residual the band holds (from <= R < to; the last band also holds its upper bound)",
                    format!(
                        "by_level[{level}] ({}, [{}, {})) = {}",
                        band.label,
                        num(band.from),
                        num(band.to),
                        opt(value)
                    ),
                    vec![],
                )
            }
            Subject::PlanItem { control, level } => {
                let c = self.lookup("control", &index.control_ids, control.as_str())?;
                let candidate = self
                    .candidates(c)
                    .into_iter()
                    .find(|item| item.level == *level)
                    .ok_or_else(|| EngineError::Unknown {
                        kind: "plan item",
                        id: format!("{control}@{level}"),
                    })?;
                let parts = self.reduction_by_threat(c, candidate.compliance_after);
                let terms: Vec<String> = parts
                    .iter()
                    .map(|(t, before, after, _)| {
                        format!(
                            "{} * ({} - {}) / 100",
                            num(self.risk.potential_sum(*t as usize)),
                            num(*before),
                            num(*after)
                        )
                    })
                    .collect();
                let mut inputs: Vec<ExplanationInput> = candidate
                    .subs
                    .iter()
                    .map(|s| {
                        let sub = &index.subs[*s as usize];
                        input(
                            format!("subcontrol:{}", sub.id),
                            self.compliance.x[*s as usize],
                            Some("set to 1".into()),
                        )
                    })
                    .collect();
                inputs.push(input(
                    format!("control:{control}"),
                    percent(self.compliance.control[c]),
                    Some(format!("after: {}", opt(percent(candidate.compliance_after)))),
                ));
                for (t, before, after, reduction) in &parts {
                    inputs.push(input(
                        format!("vul:{}", index.threats[*t as usize].id),
                        Some(*before),
                        Some(format!("after: {}; reduction {}", num(*after), num(*reduction))),
                    ));
                }
                let formula = if terms.is_empty() {
                    format!("risk_reduction({control}@{level}) = 0: the control mitigates no threat")
                } else {
                    format!(
                        "risk_reduction({control}@{level}) = {} = {}",
                        terms.join(" + "),
                        opt(value)
                    )
                };
                (
                    "DESIGN.md 4.4: the drop of the total residual if the item's subcontrols were yes: sum over the control's threats of (sum of R0) * (Vul before - Vul after) / 100",
                    formula,
                    inputs,
                )
            }
        };
        Ok(Explanation {
            subject: subject.clone(),
            value,
            rule: rule.to_owned(),
            formula,
            inputs,
        })
    }
}
