//! DESIGN.md 4.2: per-level compliance, the rules R_L, the current and the target level.

use super::delta::Key;
use super::tree::{Op, Tree};
use super::{Engine, Log};
use mmsm_model::{BusinessQuestionId, Scalar, SizeId};

/// The tolerance of the level rules on the 0..1 scale, so that 8/10 meets 0.80.
pub(crate) const LEVEL_TOLERANCE: f64 = 1e-9;

/// One maturity level: sums over its applicable subcontrols.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LevelState {
    weighted: Tree,
    weights: Tree,
    pub(crate) applicable: usize,
    pub(crate) mandatory_failing: usize,
    /// C_L on 0..1, `None` without applicable subcontrol.
    pub(crate) compliance: Option<f64>,
    /// R_L without the chain: threshold met and no mandatory subcontrol failing.
    pub(crate) rule: bool,
    /// R_1..R_L all true.
    pub(crate) reached: bool,
}

impl LevelState {
    fn settle(&mut self, threshold: f64) {
        let weights = self.weights.total();
        self.compliance =
            (self.applicable > 0 && weights > 0.0).then(|| self.weighted.total() / weights);
        self.rule = self.mandatory_failing == 0
            && self
                .compliance
                .is_none_or(|c| c >= threshold - LEVEL_TOLERANCE);
    }
}

/// Why the target level is what it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TargetBasis {
    pub(crate) size: Option<SizeId>,
    pub(crate) from_size: Option<u8>,
    pub(crate) raised_by: Vec<(BusinessQuestionId, u8)>,
    pub(crate) explicit: Option<u8>,
}

/// The maturity side of the derived state.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MaturityState {
    pub(crate) levels: Vec<LevelState>,
    pub(crate) current: u8,
    pub(crate) target: u8,
    pub(crate) basis: TargetBasis,
}

/// Whether a mandatory subcontrol fails: applicable and x < 1.
pub(crate) fn fails_mandatory(mandatory: bool, x: Option<f64>) -> bool {
    mandatory && x.is_some_and(|x| x < 1.0 - LEVEL_TOLERANCE)
}

impl MaturityState {
    /// The full compute from the subcontrol values of `engine.compliance`.
    pub(crate) fn compute(engine: &Engine) -> MaturityState {
        let index = &engine.index;
        let x = &engine.compliance.x;
        let mut levels: Vec<LevelState> = index
            .levels
            .iter()
            .map(|level| {
                let leaf = |s: &u32| (index.subs[*s as usize].weight, x[*s as usize]);
                let weighted = Tree::new(
                    Op::Sum,
                    level
                        .subs
                        .iter()
                        .map(leaf)
                        .map(|(w, x)| x.map_or(0.0, |x| w * x)),
                );
                let weights = Tree::new(
                    Op::Sum,
                    level
                        .subs
                        .iter()
                        .map(leaf)
                        .map(|(w, x)| x.map_or(0.0, |_| w)),
                );
                let applicable = level
                    .subs
                    .iter()
                    .filter(|s| x[**s as usize].is_some())
                    .count();
                let mandatory_failing = level
                    .subs
                    .iter()
                    .filter(|s| {
                        fails_mandatory(index.subs[**s as usize].mandatory, x[**s as usize])
                    })
                    .count();
                let mut state = LevelState {
                    weighted,
                    weights,
                    applicable,
                    mandatory_failing,
                    compliance: None,
                    rule: true,
                    reached: false,
                };
                state.settle(level.threshold);
                state
            })
            .collect();
        let current = chain(&mut levels);
        let (target, basis) = target_level(engine, levels.len() as u8);
        MaturityState {
            levels,
            current,
            target,
            basis,
        }
    }
}

/// Sets `reached` along the chain and returns the current level.
fn chain(levels: &mut [LevelState]) -> u8 {
    let mut reached = true;
    let mut current = 0;
    for (index, level) in levels.iter_mut().enumerate() {
        reached = reached && level.rule;
        level.reached = reached;
        if reached {
            current = index as u8 + 1;
        }
    }
    current
}

impl Engine {
    /// x(s) went from `before` to `after`: updates the sums of its level and the chain.
    pub(crate) fn level_subcontrol_changed(
        &mut self,
        s: usize,
        before: Option<f64>,
        after: Option<f64>,
        log: &mut Log,
    ) {
        let sub = &self.index.subs[s];
        let l = sub.level as usize - 1;
        let threshold = self.index.levels[l].threshold;
        let level = &mut self.maturity.levels[l];
        let old = level.compliance;
        let slot = sub.level_slot as usize;
        level
            .weighted
            .set(slot, after.map_or(0.0, |x| sub.weight * x));
        level.weights.set(slot, after.map_or(0.0, |_| sub.weight));
        level.applicable =
            level.applicable + usize::from(after.is_some()) - usize::from(before.is_some());
        level.mandatory_failing = level.mandatory_failing
            + usize::from(fails_mandatory(sub.mandatory, after))
            - usize::from(fails_mandatory(sub.mandatory, before));
        level.settle(threshold);
        let percent = |x: Option<f64>| x.map(|x| x * 100.0);
        log.record(
            Key::Level(sub.level),
            percent(old),
            percent(level.compliance),
        );
        self.maturity.current = chain(&mut self.maturity.levels);
    }

    /// An input of the target level changed.
    pub(crate) fn target_changed(&mut self) {
        let (target, basis) = target_level(self, self.maturity.levels.len() as u8);
        self.maturity.target = target;
        self.maturity.basis = basis;
    }
}

/// DESIGN.md 4.2's target: the size class's level, raised by the business rules; an
/// explicit level wins; clamped to 1..=top.
fn target_level(engine: &Engine, top: u8) -> (u8, TargetBasis) {
    let schema = &engine.index.schema;
    let answer_for = |field: &str| {
        schema
            .business_checklist
            .iter()
            .filter(|q| q.maps_to.as_deref() == Some(field))
            .find_map(|q| match engine.business.get(&q.id) {
                Some(Scalar::Number(n)) if !n.is_nan() => Some(*n),
                _ => None,
            })
    };
    let employees = engine
        .employees
        .map(f64::from)
        .or_else(|| answer_for("employees"));
    let turnover = engine.turnover.or_else(|| answer_for("turnover"));
    let fits = |size: &mmsm_model::Size| {
        let employees_fit = match (employees, size.max_employees) {
            (Some(e), Some(max)) => f64::from(max) >= e,
            _ => true,
        };
        let turnover_fits = match (turnover, size.max_turnover_eur) {
            (Some(t), Some(max)) => max >= t,
            _ => true,
        };
        employees_fit && turnover_fits
    };
    let size = schema
        .sizes
        .iter()
        .find(|s| fits(s))
        .or_else(|| schema.sizes.last());
    let mut basis = TargetBasis {
        size: size.map(|s| s.id.clone()),
        from_size: size.and_then(|s| schema.schema.target_level.get(&s.id).copied()),
        raised_by: Vec::new(),
        explicit: engine.target_explicit,
    };
    let mut target = basis.from_size.unwrap_or(1);
    for question in &schema.business_checklist {
        let Some(answer) = engine.business.get(&question.id) else {
            continue;
        };
        for rule in &question.target_rules {
            let equals = rule.equals.as_ref().map(|e| answer.matches(e));
            let at_least = rule
                .at_least
                .map(|min| matches!(answer, Scalar::Number(n) if *n >= min));
            let matched = match (equals, at_least) {
                (None, None) => false,
                (e, a) => e.unwrap_or(true) && a.unwrap_or(true),
            };
            if matched && rule.level > target {
                target = rule.level;
                basis.raised_by.push((question.id.clone(), rule.level));
            }
        }
    }
    if let Some(explicit) = engine.target_explicit {
        target = explicit;
    }
    (target.clamp(1, top.max(1)), basis)
}
