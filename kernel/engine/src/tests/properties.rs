//! Property tests: the incremental state equals a full recompute after every
//! change (DESIGN.md 4.6), the full compute equals the plain reference, the
//! deltas are exactly the values that changed, risk is monotone, and the plan
//! is deterministic and ordered as DESIGN.md 4.4 says.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::reference::{self, Reference};
use super::*;

/// A change drawn by proptest, turned into a [`Change`] on a given engine.
type RawChange = (u8, u32, u32, u32, f64);

fn raw_changes() -> impl Strategy<Value = Vec<RawChange>> {
    prop::collection::vec(
        (
            0u8..10,
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            0.0f64..=1.0,
        ),
        0..24,
    )
}

fn nth<T>(items: &[T], i: u32) -> Option<&T> {
    (!items.is_empty()).then(|| &items[i as usize % items.len()])
}

const ANSWERS: [Option<Answer>; 6] = [
    None,
    Some(Answer::Yes),
    Some(Answer::Partial),
    Some(Answer::No),
    Some(Answer::Na),
    Some(Answer::Unknown),
];

/// Turns a raw change into a valid change of `engine`, or `None` when the schema has
/// nothing of that kind.
fn to_change(engine: &Engine, (kind, i, j, k, v): RawChange) -> Option<Change> {
    let schema = engine.schema();
    let subs: Vec<&SubControl> = schema.subcontrols().map(|(_, s)| s).collect();
    let inputs = engine.inputs();
    Some(match kind {
        0 | 1 => Change::Answer {
            subcontrol: nth(&subs, i)?.id.clone(),
            answer: ANSWERS[j as usize % ANSWERS.len()],
        },
        2 => Change::Measured {
            subcontrol: nth(&subs, i)?.id.clone(),
            value: (j % 3 != 0).then_some(v),
        },
        3 => {
            let asset_type = nth(&schema.asset_types, k)?.id.clone();
            let mut asset = match nth(&inputs.assets, i) {
                Some(asset) if j % 5 != 0 => asset.clone(),
                _ => Asset {
                    id: AssetId::new(format!("new{}", i % 4)),
                    name: "New".into(),
                    asset_type: asset_type.clone(),
                    values: BTreeMap::new(),
                    strategic_value: None,
                    requirements: BTreeMap::new(),
                    members: Vec::new(),
                    depends_on: Vec::new(),
                    description: None,
                },
            };
            match j % 5 {
                0 => asset.asset_type = asset_type,
                1 => {
                    asset.values.clear();
                    asset.strategic_value = Some((v * 10.0).round());
                }
                2 => {
                    asset
                        .values
                        .insert(Dimension::ALL[k as usize % 5], v * 10.0);
                }
                3 => {
                    // Dependencies may dangle, repeat or form cycles: the engine must
                    // take each assets' value once whatever the graph.
                    asset.depends_on = inputs
                        .assets
                        .iter()
                        .skip(k as usize % 4)
                        .take(i as usize % 3)
                        .map(|a| a.id.clone())
                        .chain((v > 0.8).then(|| AssetId::new("gone")))
                        .collect();
                }
                _ => {
                    asset.members = inputs
                        .assets
                        .iter()
                        .filter(|a| a.id != asset.id)
                        .take(1 + k as usize % 3)
                        .map(|a| a.id.clone())
                        .collect();
                }
            }
            Change::AssetValue { asset }
        }
        4 => Change::Probability {
            asset_type: nth(&schema.asset_types, k)?.id.clone(),
            threat: nth(&schema.threats, i)?.id.clone(),
            value: (j % 3 != 0).then_some(v * 100.0),
        },
        5 => Change::Degradation {
            asset_type: nth(&schema.asset_types, k)?.id.clone(),
            threat: nth(&schema.threats, i)?.id.clone(),
            dimension: Dimension::ALL[j as usize % 5],
            value: (j % 3 != 0).then_some(v * 100.0),
        },
        6 => Change::TargetLevel {
            level: (j % 4 != 0).then_some(1 + (k % 3) as u8),
        },
        8 => Change::Cap {
            control: nth(&schema.controls, i)?.id.clone(),
            value: (j % 3 != 0).then_some(v * f64::from(k % 2)),
        },
        7 => Change::Employees {
            employees: Some([5, 30, 120, 400][j as usize % 4]),
        },
        _ => Change::Turnover {
            turnover: (j % 2 == 0).then_some(v * 2e7),
        },
    })
}

/// Every derived value by subject, on the scale of the deltas.
fn snapshot(engine: &Engine) -> BTreeMap<String, Option<f64>> {
    let board = engine.board();
    let mut values = BTreeMap::new();
    for control in &board.controls {
        values.insert(format!("control:{}", control.id), control.compliance);
    }
    for objective in &board.objectives {
        values.insert(format!("objective:{}", objective.id), objective.compliance);
    }
    for domain in &board.domains {
        values.insert(format!("domain:{}", domain.id), domain.compliance);
    }
    values.insert("isms".into(), board.compliance);
    for level in &board.maturity.levels {
        values.insert(format!("level:{}", level.level), level.compliance);
    }
    values.insert(
        "maturity.current".into(),
        Some(f64::from(board.maturity.current)),
    );
    values.insert(
        "maturity.target".into(),
        Some(f64::from(board.maturity.target)),
    );
    values.insert("flagged".into(), Some(board.flagged as f64));
    for threat in &engine.schema().threats {
        values.insert(
            format!("vul:{}", threat.id),
            engine
                .value(&Subject::Vulnerability(threat.id.clone()))
                .unwrap(),
        );
    }
    for row in engine.risks() {
        values.insert(
            format!("potential:{}/{}", row.asset, row.threat),
            Some(row.potential),
        );
        values.insert(
            format!("risk:{}/{}", row.asset, row.threat),
            Some(row.residual),
        );
    }
    for asset in engine.inputs().assets {
        values.insert(
            format!("asset:{}", asset.id),
            engine.value(&Subject::AssetRisk(asset.id)).unwrap(),
        );
    }
    values.insert("risk.max".into(), Some(board.risk.max));
    values.insert("risk.mean".into(), Some(board.risk.mean));
    values.insert("risk.total".into(), Some(board.risk.total));
    for (level, count) in board.risk.by_level.iter().enumerate() {
        values.insert(format!("risk.by_level:{level}"), Some(*count as f64));
    }
    values
}

fn near(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9,
        (None, None) => true,
        _ => false,
    }
}

/// The incremental engine equals a full recompute within 1e-9 (and in fact bit for bit).
fn assert_same_as_full(engine: &Engine) -> Result<(), TestCaseError> {
    let full = Engine::new(engine.schema().clone(), engine.inputs());
    let (ours, theirs) = (snapshot(engine), snapshot(&full));
    prop_assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>()
    );
    for (subject, value) in &ours {
        prop_assert!(
            near(*value, theirs[subject]),
            "{}: {:?} vs full {:?}",
            subject,
            value,
            theirs[subject]
        );
    }
    let (plan, full_plan) = (engine.plan(), full.plan());
    prop_assert_eq!(plan.len(), full_plan.len());
    for (a, b) in plan.iter().zip(&full_plan) {
        prop_assert_eq!(
            (&a.control, a.level, &a.subcontrols, a.rank),
            (&b.control, b.level, &b.subcontrols, b.rank)
        );
        prop_assert!((a.risk_reduction - b.risk_reduction).abs() <= 1e-9);
    }
    prop_assert_eq!(engine.board(), full.board(), "bit for bit");
    prop_assert_eq!(engine.risks(), full.risks(), "bit for bit");
    prop_assert_eq!(plan, full_plan, "bit for bit");
    Ok(())
}

/// The engine's full compute equals the plain reference of DESIGN.md 4.1-4.3.
fn assert_matches_reference(engine: &Engine) -> Result<(), TestCaseError> {
    let reference: Reference = reference::derive(engine.schema(), &engine.inputs());
    let board = engine.board();
    let percent = |x: Option<f64>| x.map(|x| x * 100.0);
    for (row, expected) in board.controls.iter().zip(&reference.controls) {
        prop_assert!(
            near(row.compliance, percent(*expected)),
            "control {}",
            row.id
        );
        prop_assert_eq!(row.status == Status::Na, expected.is_none());
    }
    for (row, expected) in board.objectives.iter().zip(&reference.objectives) {
        prop_assert!(
            near(row.compliance, percent(*expected)),
            "objective {}",
            row.id
        );
    }
    for row in &board.domains {
        prop_assert!(
            near(row.compliance, percent(reference.domains[row.id.as_str()])),
            "domain {}",
            row.id
        );
    }
    prop_assert!(near(board.compliance, percent(reference.isms)));
    for (row, expected) in board.maturity.levels.iter().zip(&reference.levels) {
        prop_assert!(
            near(row.compliance, percent(*expected)),
            "level {}",
            row.level
        );
    }
    prop_assert_eq!(board.maturity.current, reference.current);
    for (threat, vul) in &reference.vul {
        let ours = engine
            .value(&Subject::Vulnerability(ThreatId::new(threat.clone())))
            .unwrap();
        prop_assert!(near(ours, Some(*vul)), "vul {}", threat);
    }
    let risks = engine.risks();
    prop_assert_eq!(risks.len(), reference.pairs.len());
    for row in risks {
        let (impact, potential, residual) =
            reference.pairs[&(row.asset.0.clone(), row.threat.0.clone())];
        prop_assert!(near(Some(row.impact), Some(impact)));
        prop_assert!(near(Some(row.potential), Some(potential)));
        prop_assert!(near(Some(row.residual), Some(residual)));
    }
    prop_assert!(near(Some(board.risk.max), Some(reference.max)));
    prop_assert!(near(Some(board.risk.mean), Some(reference.mean)));
    prop_assert!(near(Some(board.risk.total), Some(reference.total)));
    Ok(())
}

/// The plan is ordered as DESIGN.md 4.4 says, and leaves out what is not applicable.
fn assert_plan_ordered(engine: &Engine) -> Result<(), TestCaseError> {
    let plan = engine.plan();
    let board = engine.board();
    let schema = engine.schema();
    let compliance: BTreeMap<&str, Option<f64>> = board
        .controls
        .iter()
        .map(|c| (c.id.as_str(), c.compliance))
        .collect();
    let round = |x: f64| (x * 1e6).round() as i64;
    for pair in plan.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let key = |item: &PlanItem| {
            (
                item.level,
                -round(item.risk_reduction),
                !item.mandatory,
                round(item.compliance),
            )
        };
        let (ka, kb) = (key(a), key(b));
        prop_assert!(ka <= kb, "{:?} before {:?}", a, b);
        if ka == kb {
            prop_assert_eq!(
                natural_cmp(a.control.as_str(), b.control.as_str()),
                std::cmp::Ordering::Less
            );
        }
    }
    let inputs = engine.inputs();
    for item in &plan {
        prop_assert!(
            compliance[item.control.as_str()].is_some(),
            "n/a control {} in the plan",
            item.control
        );
        prop_assert!(item.level <= board.maturity.target);
        for id in &item.subcontrols {
            let applicable =
                inputs.measured.contains_key(id) || inputs.answers.get(id) != Some(&Answer::Na);
            prop_assert!(applicable, "n/a subcontrol {} in the plan", id);
            let (_, sub) = schema.subcontrols().find(|(_, s)| &s.id == id).unwrap();
            prop_assert_eq!(sub.level, item.level);
        }
    }
    prop_assert_eq!(plan, engine.recompute().plan(), "deterministic");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn incremental_state_equals_a_full_recompute_after_every_change(
        seed in any::<u64>(),
        changes in raw_changes(),
    ) {
        let (schema, inputs) = synth::generate(&synth::Params::tiny(seed), seed);
        let mut engine = Engine::new(Arc::new(schema), inputs);
        assert_matches_reference(&engine)?;
        for raw in changes {
            let Some(change) = to_change(&engine, raw) else { continue };
            let before = snapshot(&engine);
            let deltas = engine.apply(change.clone()).expect("valid change");
            assert_same_as_full(&engine)?;
            assert_matches_reference(&engine)?;
            // The deltas are exactly the values that changed.
            let after = snapshot(&engine);
            let mut changed = BTreeMap::new();
            for subject in before.keys().chain(after.keys()) {
                let (b, a) = (before.get(subject).copied().flatten(), after.get(subject).copied().flatten());
                let existed = (before.contains_key(subject), after.contains_key(subject));
                if existed == (true, true) && !super::super::delta::really_changed(b, a) {
                    continue;
                }
                changed.insert(subject.clone(), (b, a));
            }
            let reported: BTreeMap<String, (Option<f64>, Option<f64>)> =
                deltas.iter().map(|d| (d.subject.to_string(), (d.before, d.after))).collect();
            prop_assert_eq!(reported.len(), deltas.len(), "one delta per subject");
            prop_assert_eq!(reported.keys().collect::<Vec<_>>(), changed.keys().collect::<Vec<_>>(), "after {:?}", change);
            for (subject, (b, a)) in &changed {
                let (rb, ra) = reported[subject];
                prop_assert!(near(rb, *b) && near(ra, *a), "{}", subject);
            }
        }
        assert_plan_ordered(&engine)?;
    }

    #[test]
    fn risk_never_decreases_when_a_probability_or_degradation_rises(
        seed in any::<u64>(),
        (t, h, d) in (any::<u32>(), any::<u32>(), 0usize..5),
        (low, high) in (0.0f64..=100.0, 0.0f64..=100.0),
        degradation in any::<bool>(),
    ) {
        let (schema, inputs) = synth::generate(&synth::Params::tiny(seed), seed);
        let mut engine = Engine::new(Arc::new(schema), inputs);
        let schema = engine.schema().clone();
        let (Some(asset_type), Some(threat)) = (nth(&schema.asset_types, t), nth(&schema.threats, h)) else {
            return Ok(());
        };
        let (low, high) = (low.min(high), low.max(high));
        let set = |value| if degradation {
            Change::Degradation { asset_type: asset_type.id.clone(), threat: threat.id.clone(), dimension: Dimension::ALL[d], value: Some(value) }
        } else {
            Change::Probability { asset_type: asset_type.id.clone(), threat: threat.id.clone(), value: Some(value) }
        };
        engine.apply(set(low)).unwrap();
        let before = engine.risks();
        let max_before = engine.board().risk.max;
        engine.apply(set(high)).unwrap();
        for (old, new) in before.iter().zip(engine.risks()) {
            prop_assert!(new.residual >= old.residual - 1e-12, "{:?} -> {:?}", old, new);
        }
        prop_assert!(engine.board().risk.max >= max_before - 1e-12);
    }

    #[test]
    fn risk_never_rises_when_a_compliance_rises(
        seed in any::<u64>(),
        s in any::<u32>(),
        to_yes in any::<bool>(),
        measured in 0.0f64..=1.0,
    ) {
        let (schema, inputs) = synth::generate(&synth::Params::tiny(seed), seed);
        let mut engine = Engine::new(Arc::new(schema), inputs);
        let schema = engine.schema().clone();
        let subs: Vec<&SubControl> = schema.subcontrols().map(|(_, s)| s).collect();
        let Some(sub) = nth(&subs, s) else { return Ok(()) };
        let Some(x) = engine.value(&Subject::Subcontrol(sub.id.clone())).unwrap() else {
            return Ok(()); // not applicable: making it applicable may lower its control
        };
        let change = if engine.inputs().measured.contains_key(&sub.id) || measured * 100.0 > x && !to_yes {
            Change::Measured { subcontrol: sub.id.clone(), value: Some((x / 100.0).max(measured)) }
        } else {
            Change::Answer { subcontrol: sub.id.clone(), answer: Some(if to_yes || x >= 50.0 { Answer::Yes } else { Answer::Partial }) }
        };
        let before = engine.risks();
        let board_before = engine.board();
        engine.apply(change).unwrap();
        let board = engine.board();
        for (old, new) in board_before.controls.iter().zip(&board.controls) {
            prop_assert!(new.compliance.unwrap_or(0.0) >= old.compliance.unwrap_or(0.0) - 1e-12);
        }
        for (old, new) in before.iter().zip(engine.risks()) {
            prop_assert!(new.residual <= old.residual + 1e-12, "{:?} -> {:?}", old, new);
            prop_assert!(new.vulnerability <= old.vulnerability + 1e-12);
        }
        prop_assert!(board.risk.total <= board_before.risk.total + 1e-9);
    }
}
