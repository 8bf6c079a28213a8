//! DESIGN.md 4.1: subcontrol values, control compliance and the plain means of
//! objectives, domains and the ISMS.

use super::delta::Key;
use super::index::{DomainChild, SchemaIndex};
use super::tree::{Op, Tree};
use super::{same, Engine, Log};
use mmsm_model::Answer;

/// x(s): the measured value when there is one (it makes the subcontrol applicable),
/// else the answer's value; unanswered counts as `no`.
pub(crate) fn effective_value(answer: Option<Answer>, measured: Option<f64>) -> Option<f64> {
    match measured {
        Some(value) => Some(value),
        None => answer.map_or(Some(0.0), Answer::value),
    }
}

/// x(s) under its control's cap (an open major non-conformity): the lower of the two.
pub(crate) fn capped_value(
    answer: Option<Answer>,
    measured: Option<f64>,
    cap: Option<f64>,
) -> Option<f64> {
    let value = effective_value(answer, measured)?;
    Some(cap.map_or(value, |cap| value.min(cap)))
}

/// Whether a subcontrol is flagged for review: unanswered or `unknown`, without a measured value.
pub(crate) fn is_flagged(answer: Option<Answer>, measured: Option<f64>) -> bool {
    measured.is_none() && matches!(answer, None | Some(Answer::Unknown))
}

/// C(c) = sum(w*x) / sum(w) over the applicable subcontrols; `None` when there is none
/// (or their weights add up to 0). `x` gives the value of subcontrol `s`.
pub(crate) fn control_compliance(
    index: &SchemaIndex,
    control: usize,
    x: impl Fn(usize) -> Option<f64>,
) -> Option<f64> {
    let mut weighted = 0.0;
    let mut weights = 0.0;
    for s in index.controls[control].subs.clone() {
        if let Some(value) = x(s as usize) {
            let weight = index.subs[s as usize].weight;
            weighted += weight * value;
            weights += weight;
        }
    }
    (weights > 0.0).then(|| weighted / weights)
}

/// The plain mean of the applicable children of one node, kept in a sum tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mean {
    sum: Tree,
    applicable: usize,
}

impl Mean {
    fn new(children: impl ExactSizeIterator<Item = Option<f64>>) -> Mean {
        let mut applicable = 0;
        let sum = Tree::new(
            Op::Sum,
            children.map(|child| {
                applicable += usize::from(child.is_some());
                child.unwrap_or(0.0)
            }),
        );
        Mean { sum, applicable }
    }

    /// The mean, `None` when no child is applicable.
    pub(crate) fn value(&self) -> Option<f64> {
        (self.applicable > 0).then(|| self.sum.total() / self.applicable as f64)
    }

    /// Child `slot` went from `before` to `after`; returns the mean before and after.
    fn update(
        &mut self,
        slot: u32,
        before: Option<f64>,
        after: Option<f64>,
    ) -> (Option<f64>, Option<f64>) {
        let old = self.value();
        self.applicable =
            self.applicable + usize::from(after.is_some()) - usize::from(before.is_some());
        self.sum.set(slot as usize, after.unwrap_or(0.0));
        (old, self.value())
    }
}

impl Default for Mean {
    fn default() -> Mean {
        Mean::new(std::iter::empty())
    }
}

/// The compliance side of the derived state.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Compliance {
    /// x(s) per subcontrol, 0..1; `None` when not applicable.
    pub(crate) x: Vec<Option<f64>>,
    pub(crate) flagged: Vec<bool>,
    pub(crate) n_flagged: usize,
    /// C(c) per control, 0..1.
    pub(crate) control: Vec<Option<f64>>,
    pub(crate) objective: Vec<Mean>,
    pub(crate) domain: Vec<Mean>,
    pub(crate) isms: Mean,
}

impl Compliance {
    /// The full compute from the answers and measured values.
    pub(crate) fn compute(
        index: &SchemaIndex,
        answers: &[Option<Answer>],
        measured: &[Option<f64>],
        caps: &[Option<f64>],
    ) -> Compliance {
        let x: Vec<Option<f64>> = answers
            .iter()
            .zip(measured)
            .enumerate()
            .map(|(s, (a, m))| capped_value(*a, *m, caps[index.subs[s].control as usize]))
            .collect();
        let flagged: Vec<bool> = answers
            .iter()
            .zip(measured)
            .map(|(a, m)| is_flagged(*a, *m))
            .collect();
        let n_flagged = flagged.iter().filter(|f| **f).count();
        let control: Vec<Option<f64>> = (0..index.controls.len())
            .map(|c| control_compliance(index, c, |s| x[s]))
            .collect();
        let objective: Vec<Mean> = index
            .objectives
            .iter()
            .map(|o| Mean::new(o.controls.iter().map(|c| control[*c as usize])))
            .collect();
        let domain: Vec<Mean> = index
            .domains
            .iter()
            .map(|d| {
                Mean::new(d.children.iter().map(|child| match child {
                    DomainChild::Objective(o) => objective[*o as usize].value(),
                    DomainChild::Control(c) => control[*c as usize],
                }))
            })
            .collect();
        let isms = Mean::new(domain.iter().map(Mean::value));
        Compliance {
            x,
            flagged,
            n_flagged,
            control,
            objective,
            domain,
            isms,
        }
    }
}

impl Engine {
    /// The answer, measured value or control cap of subcontrol `s` changed: re-values it, its
    /// level, its control and, unless the control's compliance comes out
    /// unchanged (backdating), what depends on the control.
    pub(crate) fn subcontrol_changed(&mut self, s: usize, log: &mut Log) {
        let (answer, measured) = (self.answers[s], self.measured[s]);
        let flagged = is_flagged(answer, measured);
        if flagged != self.compliance.flagged[s] {
            let before = self.compliance.n_flagged as f64;
            self.compliance.flagged[s] = flagged;
            if flagged {
                self.compliance.n_flagged += 1;
            } else {
                self.compliance.n_flagged -= 1;
            }
            log.record(
                Key::Flagged,
                Some(before),
                Some(self.compliance.n_flagged as f64),
            );
        }
        let before = self.compliance.x[s];
        let after = capped_value(
            answer,
            measured,
            self.caps[self.index.subs[s].control as usize],
        );
        if same(before, after) {
            return;
        }
        self.compliance.x[s] = after;
        self.level_subcontrol_changed(s, before, after, log);

        let control = self.index.controls.get(self.index.subs[s].control as usize);
        let Some(control) = control else { return };
        let c = self.index.subs[s].control as usize;
        let x = &self.compliance.x;
        let new = control_compliance(&self.index, c, |s| x[s]);
        let old = self.compliance.control[c];
        if same(old, new) {
            return;
        }
        self.compliance.control[c] = new;
        let percent = |x: Option<f64>| x.map(|x| x * 100.0);
        log.record(Key::Control(c as u32), percent(old), percent(new));

        // Roll up: objective, domain, ISMS; each stops when its mean is unchanged.
        let index = self.index.clone();
        let domain = control.domain as usize;
        let (domain_before, domain_after) = match control.objective {
            Some(o) => {
                let (ob, oa) =
                    self.compliance.objective[o as usize].update(control.parent_slot, old, new);
                log.record(Key::Objective(o), percent(ob), percent(oa));
                if same(ob, oa) {
                    (None, None)
                } else {
                    let slot = index.objectives[o as usize].domain_slot;
                    let (db, da) = self.compliance.domain[domain].update(slot, ob, oa);
                    (Some(db), Some(da))
                }
            }
            None => {
                let (db, da) = self.compliance.domain[domain].update(control.parent_slot, old, new);
                (Some(db), Some(da))
            }
        };
        if let (Some(db), Some(da)) = (domain_before, domain_after) {
            log.record(Key::Domain(domain as u32), percent(db), percent(da));
            if !same(db, da) {
                let (ib, ia) = self.compliance.isms.update(domain as u32, db, da);
                log.record(Key::Isms, percent(ib), percent(ia));
            }
        }
        self.control_changed(c, log);
    }
}
