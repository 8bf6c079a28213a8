//! The worked examples of DESIGN.md 4.2 and 4.3, and the edge cases of issue 3.

use super::*;

fn sub(id: &str, level: u8, mandatory: bool) -> SubControl {
    SubControl {
        id: SubControlId::new(id),
        text: format!("{id}?"),
        level,
        weight: 1.0,
        mandatory,
    }
}

/// DESIGN.md 4.2: 10 subcontrols at level 1 (2 mandatory), 8 at level 2, 6 at level 3.
fn maturity_example() -> (Arc<Schema>, Inputs) {
    let mut subcontrols = Vec::new();
    let mut answers = std::collections::BTreeMap::new();
    let level1 = ["yes"; 8].iter().chain(&["partial", "no"]).copied();
    for (i, answer) in level1.enumerate() {
        subcontrols.push(sub(&format!("1.{}", i + 1), 1, i < 2));
        answers.insert(
            SubControlId::new(format!("1.{}", i + 1)),
            Answer::parse(answer).unwrap(),
        );
    }
    let level2 = ["yes", "yes", "yes", "yes", "partial", "partial", "no", "no"];
    for (i, answer) in level2.iter().enumerate() {
        subcontrols.push(sub(&format!("2.{}", i + 1), 2, false));
        answers.insert(
            SubControlId::new(format!("2.{}", i + 1)),
            Answer::parse(answer).unwrap(),
        );
    }
    for i in 0..6 {
        subcontrols.push(sub(&format!("3.{}", i + 1), 3, false));
        answers.insert(SubControlId::new(format!("3.{}", i + 1)), Answer::Yes);
    }
    let mut schema =
        (*schema("schema: { id: m, name: Maturity }\ndomains: [{ id: '5', name: D }]")).clone();
    schema.controls.push(Control {
        id: ControlId::new("5.1"),
        domain: DomainId::new("5"),
        objective: None,
        title: "All of them".into(),
        description: None,
        effort: 1.0,
        subcontrols,
    });
    (
        Arc::new(schema),
        Inputs {
            answers,
            ..Inputs::default()
        },
    )
}

#[test]
fn maturity_worked_example_of_design_4_2() {
    let (schema, inputs) = maturity_example();
    let engine = Engine::new(schema, inputs);
    let board = engine.board();
    let levels = &board.maturity.levels;
    close(levels[0].compliance.unwrap(), 85.0);
    assert!(levels[0].reached);
    close(levels[1].compliance.unwrap(), 62.5);
    assert!(!levels[1].rule && !levels[1].reached);
    close(levels[1].threshold, 80.0);
    // Level 3 meets its own rule, but level 2 is not reached.
    assert!(levels[2].rule && !levels[2].reached);
    assert_eq!(board.maturity.current, 1);
    let explanation = engine.explain(&Subject::Level(2)).unwrap();
    assert!(
        explanation
            .formula
            .starts_with("C_2 = 5 / 8 = 0.625; R_2: 0.625 >= 0.8 is false"),
        "{}",
        explanation.formula
    );
}

#[test]
fn a_failing_mandatory_subcontrol_blocks_its_level_and_8_of_10_meets_080() {
    let (schema, mut inputs) = maturity_example();
    // 8 yes, 2 no at level 1: C_1 = 0.8 exactly meets the threshold 0.80.
    inputs.answers.insert(SubControlId::new("1.9"), Answer::No);
    let mut engine = Engine::new(schema, inputs);
    close(value(&engine, "level:1"), 80.0);
    assert_eq!(engine.board().maturity.current, 1);
    let deltas = engine
        .apply(Change::Answer {
            subcontrol: SubControlId::new("1.1"),
            answer: Some(Answer::Partial),
        })
        .unwrap();
    assert_eq!(engine.board().maturity.current, 0);
    assert_eq!(engine.board().maturity.levels[0].mandatory_failing, 1);
    let current = deltas.get(&Subject::MaturityCurrent).unwrap();
    assert_eq!((current.before, current.after), (Some(1.0), Some(0.0)));
}

const ERP_SCHEMA: &str = r#"
schema: { id: erp, name: ERP example }
domains: [{ id: '8', name: Technological }]
controls:
  - id: c1
    domain: '8'
    title: Control one
    effort: 2
    subcontrols:
      - { id: c1.1, text: a, level: 1 }
      - { id: c1.2, text: b, level: 2 }
  - id: c2
    domain: '8'
    title: Control two
    subcontrols: [{ id: c2.1, text: c, level: 1 }]
asset_types: [{ id: HW, name: Hardware }]
threats: [{ id: A.24, name: Denial of service, origin: attack, dimensions: [D] }]
matrices:
  asset_type_threat: [{ asset_type: HW, threat: A.24, probability: 60, degradation: { D: 90 } }]
  threat_control:
    - { threat: A.24, control: c1, effect: 80 }
    - { threat: A.24, control: c2, effect: 40 }
"#;

const ERP_INPUTS: &str = r#"
answers: { c1.1: yes, c1.2: no, c2.1: yes }
target_level: 2
assets:
  - { id: erp, name: ERP server, type: HW, strategic_value: 8, requirements: { D: 3, I: 3, C: 2 } }
"#;

#[test]
fn erp_server_worked_example_of_design_4_3_b() {
    let mut engine = Engine::new(schema(ERP_SCHEMA), inputs(ERP_INPUTS));
    close(value(&engine, "impact:erp/A.24"), 72.0);
    close(value(&engine, "potential:erp/A.24"), 43.2);
    close(value(&engine, "vul:A.24"), 36.0);
    close(value(&engine, "risk:erp/A.24"), 15.552);
    let risks = engine.risks();
    assert_eq!(risks.len(), 1);
    assert_eq!(risks[0].level, 2, "medium");
    close(risks[0].probability, 60.0);

    let residual = engine.explain(&"risk:erp/A.24".parse().unwrap()).unwrap();
    assert_eq!(
        residual.formula,
        "residual(erp, A.24) = 43.2 * 36 / 100 = 15.552 (level 2, medium)"
    );
    let vul = engine.explain(&"vul:A.24".parse().unwrap()).unwrap();
    assert_eq!(
        vul.formula,
        "Vul(A.24) = 100 * (1 - 0.5*0.8) * (1 - 1*0.4) = 36"
    );
    let impact = engine.explain(&"impact:erp/A.24".parse().unwrap()).unwrap();
    assert_eq!(impact.formula, "impact(erp, A.24) = max(D: 8/10*90) = 72");

    // The plan: c1 at level 2 drops the total residual by 43.2 * (36 - 12) / 100.
    let plan = engine.plan();
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].control.as_str(), "c1");
    assert_eq!(plan[0].subcontrols, vec![SubControlId::new("c1.2")]);
    assert_eq!((plan[0].rank, plan[0].level), (1, 2));
    close(plan[0].effort, 2.0);
    close(plan[0].risk_reduction, 10.368);
    let item = engine.explain(&"plan:c1@2".parse().unwrap()).unwrap();
    assert_eq!(
        item.formula,
        "risk_reduction(c1@2) = 43.2 * (36 - 12) / 100 = 10.368"
    );

    // With c1 fully met: M = 0.88, Vul = 12, R = 5.18 (low); the drop is the item's reduction.
    let before = engine.board().risk.total;
    let deltas = engine
        .apply(Change::Answer {
            subcontrol: SubControlId::new("c1.2"),
            answer: Some(Answer::Yes),
        })
        .unwrap();
    close(value(&engine, "vul:A.24"), 12.0);
    close(value(&engine, "risk:erp/A.24"), 5.184);
    assert_eq!(engine.risks()[0].level, 1, "low");
    close(before - engine.board().risk.total, 10.368);
    assert!(engine.plan().is_empty());
    let residual = deltas.get(&"risk:erp/A.24".parse().unwrap()).unwrap();
    close(residual.before.unwrap(), 15.552);
    close(residual.after.unwrap(), 5.184);
    let control = deltas.get(&"control:c1".parse().unwrap()).unwrap();
    assert_eq!((control.before, control.after), (Some(50.0), Some(100.0)));
}

#[test]
fn emarisma_rows_of_design_4_3_a() {
    let schema = schema(
        r#"
schema: { id: em, name: eMARISMA rows }
domains: [{ id: '5', name: D }]
controls:
  - id: c
    domain: '5'
    title: Eight subcontrols
    subcontrols:
      - { id: s1, text: a, level: 1 }
      - { id: s2, text: a, level: 1 }
      - { id: s3, text: a, level: 1 }
      - { id: s4, text: a, level: 1 }
      - { id: s5, text: a, level: 1 }
      - { id: s6, text: a, level: 1 }
      - { id: s7, text: a, level: 1 }
      - { id: s8, text: a, level: 1 }
asset_types: [{ id: D, name: Data }]
threats:
  - { id: t1, name: One, origin: error }
  - { id: t2, name: Two, origin: error }
matrices:
  asset_type_threat:
    - { asset_type: D, threat: t1, probability: 60, degradation: { I: 60 } }
    - { asset_type: D, threat: t2, probability: 20, degradation: { C: 100 } }
  threat_control: [{ threat: t1, control: c }]
"#,
    );
    let inputs = inputs(
        r#"
answers: { s1: yes, s2: yes, s3: yes, s4: yes, s5: yes, s6: no, s7: no, s8: no }
assets: [{ id: db, name: Database, type: D, values: { I: 10, C: 10 } }]
"#,
    );
    let engine = Engine::new(schema, inputs);
    close(value(&engine, "control:c"), 62.5);
    close(value(&engine, "impact:db/t1"), 60.0);
    close(value(&engine, "potential:db/t1"), 36.0);
    close(value(&engine, "vul:t1"), 37.5);
    close(value(&engine, "risk:db/t1"), 13.5);
    close(value(&engine, "impact:db/t2"), 100.0);
    close(value(&engine, "potential:db/t2"), 20.0);
    close(value(&engine, "vul:t2"), 100.0);
    close(value(&engine, "risk:db/t2"), 20.0);
    let board = engine.board();
    close(board.risk.max, 20.0);
    close(board.risk.mean, 20.0);
    close(board.risk.total, 33.5);
    assert_eq!(board.risk.by_level, vec![0, 1, 1, 0, 0]);
}

#[test]
fn a_threat_without_control_has_vul_100() {
    let engine = Engine::new(schema(ERP_SCHEMA.replace("  threat_control:\n    - { threat: A.24, control: c1, effect: 80 }\n    - { threat: A.24, control: c2, effect: 40 }\n", "").as_str()), inputs(ERP_INPUTS));
    close(value(&engine, "vul:A.24"), 100.0);
    close(value(&engine, "risk:erp/A.24"), 43.2);
    let explanation = engine.explain(&"vul:A.24".parse().unwrap()).unwrap();
    assert_eq!(
        explanation.formula,
        "Vul(A.24) = 100: no applicable control"
    );
}

#[test]
fn a_level_with_no_applicable_subcontrol_has_no_compliance_and_is_met() {
    let mut engine = Engine::new(
        schema(ERP_SCHEMA),
        inputs("answers: { c1.1: yes, c1.2: na, c2.1: yes }"),
    );
    let board = engine.board();
    assert_eq!(board.maturity.levels[1].compliance, None);
    assert!(board.maturity.levels[1].reached);
    assert!(
        board.maturity.levels[2].reached,
        "level 3 has no subcontrol at all"
    );
    assert_eq!(board.maturity.current, 3);
    let deltas = engine
        .apply(Change::Answer {
            subcontrol: SubControlId::new("c1.2"),
            answer: Some(Answer::No),
        })
        .unwrap();
    assert_eq!(engine.board().maturity.current, 1);
    let level = deltas.get(&Subject::Level(2)).unwrap();
    assert_eq!((level.before, level.after), (None, Some(0.0)));
}

#[test]
fn a_control_with_every_subcontrol_na_is_left_out_everywhere() {
    let mut engine = Engine::new(
        schema(ERP_SCHEMA),
        inputs("answers: { c1.1: na, c1.2: na, c2.1: no }\ntarget_level: 3"),
    );
    let board = engine.board();
    let c1 = &board.controls[0];
    assert_eq!((c1.compliance, c1.status), (None, Status::Na));
    close(board.domains[0].compliance.unwrap(), 0.0);
    close(board.compliance.unwrap(), 0.0);
    // Left out of the product: only c2 (C 0) counts.
    close(value(&engine, "vul:A.24"), 100.0);
    assert!(engine
        .plan()
        .iter()
        .all(|item| item.control.as_str() != "c1"));
    assert_eq!(engine.plan().len(), 1);
    let vul = engine.explain(&"vul:A.24".parse().unwrap()).unwrap();
    assert_eq!(vul.formula, "Vul(A.24) = 100 * (1 - 0*0.4) = 100");
    // Every control n/a: the domain and the ISMS are not applicable either.
    engine
        .apply(Change::Answer {
            subcontrol: SubControlId::new("c2.1"),
            answer: Some(Answer::Na),
        })
        .unwrap();
    let board = engine.board();
    assert_eq!(board.domains[0].compliance, None);
    assert_eq!(board.compliance, None);
    assert!(board.controls.iter().all(|c| c.status == Status::Na));
    assert!(engine.plan().is_empty());
}

const TREE_SCHEMA: &str = r#"
schema: { id: tree, name: Asset-type tree }
asset_types:
  - { id: HW, name: Hardware }
  - { id: HW.pc, name: Computers, parent: HW }
  - { id: HW.pc.laptop, name: Laptops, parent: HW.pc }
  - { id: SW, name: Software }
threats:
  - { id: t1, name: Inherited, origin: industrial }
  - { id: t2, name: Gated in, origin: attack }
  - { id: t3, name: Gated out, origin: attack }
  - { id: t4, name: Not gated, origin: error }
vulnerabilities:
  - { id: V1, name: One }
  - { id: V2, name: Two }
matrices:
  asset_type_vulnerability: [{ asset_type: HW, vulnerability: V1 }]
  threat_vulnerability:
    - { threat: t2, vulnerability: V1 }
    - { threat: t3, vulnerability: V2 }
  asset_type_threat:
    - { asset_type: HW, threat: t1, probability: 20, degradation: { D: 50 } }
    - { asset_type: HW.pc, threat: t1, probability: 60, degradation: { D: 100, C: 10 } }
    - { asset_type: HW, threat: t2, probability: 40, degradation: { I: 50 } }
    - { asset_type: HW, threat: t3, probability: 40, degradation: { I: 50 } }
    - { asset_type: SW, threat: t4, probability: 80, degradation: { A: 30 } }
    - { asset_type: SW, threat: t2, probability: 80, degradation: { A: 30 } }
"#;

#[test]
fn an_asset_type_inherits_tad_rows_and_vulnerabilities_and_the_nearest_row_wins() {
    let engine = Engine::new(
        schema(TREE_SCHEMA),
        inputs(
            r#"
assets:
  - { id: server, name: Server, type: HW, values: { D: 10, I: 10, C: 10, A: 10 } }
  - { id: laptop, name: Laptop, type: HW.pc.laptop, values: { D: 10, I: 10, C: 10, A: 10 } }
  - { id: app, name: App, type: SW, values: { D: 10, I: 10, C: 10, A: 10 } }
"#,
        ),
    );
    let pairs: Vec<(String, String, f64, f64)> = engine
        .risks()
        .into_iter()
        .map(|r| (r.asset.0, r.threat.0, r.probability, r.impact))
        .collect();
    let expected = [
        ("server", "t1", 20.0, 50.0),
        ("server", "t2", 40.0, 50.0),
        ("laptop", "t1", 60.0, 100.0),
        ("laptop", "t2", 40.0, 50.0),
        ("app", "t4", 80.0, 30.0),
    ];
    assert_eq!(pairs.len(), expected.len(), "{pairs:?}");
    for (row, (asset, threat, probability, impact)) in pairs.iter().zip(expected) {
        assert_eq!((row.0.as_str(), row.1.as_str()), (asset, threat));
        close(row.2, probability);
        close(row.3, impact);
    }
    assert!(matches!(
        engine.value(&"risk:app/t2".parse().unwrap()),
        Err(EngineError::NotAPair { .. })
    ));
}

#[test]
fn overrides_replace_the_resolved_row_for_that_asset_type_only() {
    let mut engine = Engine::new(
        schema(TREE_SCHEMA),
        inputs(
            r#"
assets:
  - { id: pc, name: PC, type: HW.pc, values: { D: 10, I: 10, C: 5 } }
  - { id: laptop, name: Laptop, type: HW.pc.laptop, values: { D: 10, C: 5 } }
"#,
        ),
    );
    close(value(&engine, "potential:pc/t1"), 60.0);
    let deltas = engine
        .apply(Change::Probability {
            asset_type: AssetTypeId::new("HW.pc"),
            threat: ThreatId::new("t1"),
            value: Some(80.0),
        })
        .unwrap();
    close(value(&engine, "potential:pc/t1"), 80.0);
    close(value(&engine, "potential:laptop/t1"), 60.0);
    assert!(deltas.get(&"risk:pc/t1".parse().unwrap()).is_some());
    assert!(deltas.get(&"risk:laptop/t1".parse().unwrap()).is_none());
    let degrade = |dimension, value| Change::Degradation {
        asset_type: AssetTypeId::new("HW.pc"),
        threat: ThreatId::new("t1"),
        dimension,
        value,
    };
    engine.apply(degrade(Dimension::D, Some(30.0))).unwrap();
    close(value(&engine, "impact:pc/t1"), 30.0);
    // A change on a dimension the row does not list makes it count.
    engine.apply(degrade(Dimension::I, Some(100.0))).unwrap();
    close(value(&engine, "impact:pc/t1"), 100.0);
    engine.apply(degrade(Dimension::I, None)).unwrap();
    close(value(&engine, "impact:pc/t1"), 30.0);
    engine
        .apply(Change::Probability {
            asset_type: AssetTypeId::new("HW.pc"),
            threat: ThreatId::new("t1"),
            value: None,
        })
        .unwrap();
    close(value(&engine, "potential:pc/t1"), 18.0);
}

#[test]
fn a_group_takes_the_maximum_of_its_members_and_follows_their_changes() {
    let mut engine = Engine::new(
        schema(TREE_SCHEMA),
        inputs(
            r#"
assets:
  - { id: a, name: A, type: HW, values: { D: 4 } }
  - { id: b, name: B, type: HW, values: { D: 6 } }
  - { id: farm, name: Farm, type: HW, members: [a, b] }
"#,
        ),
    );
    close(value(&engine, "impact:farm/t1"), 30.0);
    let mut b: Asset = engine.inputs().assets[1].clone();
    b.values.insert(Dimension::D, 2.0);
    let deltas = engine.apply(Change::AssetValue { asset: b }).unwrap();
    close(value(&engine, "impact:farm/t1"), 20.0);
    assert!(deltas.get(&"risk:farm/t1".parse().unwrap()).is_some());
    assert!(deltas.get(&"risk:a/t1".parse().unwrap()).is_none());
}

#[test]
fn a_supporting_asset_accumulates_the_value_of_what_rests_on_it() {
    let mut engine = Engine::new(
        schema(TREE_SCHEMA),
        inputs(
            r#"
assets:
  - { id: server, name: Server, type: HW, values: { D: 2 } }
  - { id: rack, name: Rack, type: HW, values: { D: 1 } }
  - { id: records, name: Records, type: SW, values: { D: 8 }, depends_on: [app] }
  - { id: app, name: App, type: SW, values: { D: 3 }, depends_on: [server] }
"#,
        ),
    );
    // records -> app -> server: the server weighs the records' D 8 (t1: Deg 50 on D).
    close(value(&engine, "impact:server/t1"), 40.0);
    close(value(&engine, "impact:rack/t1"), 5.0);
    let mut records: Asset = engine.inputs().assets[2].clone();
    records.values.insert(Dimension::D, 6.0);
    let deltas = engine
        .apply(Change::AssetValue {
            asset: records.clone(),
        })
        .unwrap();
    close(value(&engine, "impact:server/t1"), 30.0);
    assert!(deltas.get(&"risk:server/t1".parse().unwrap()).is_some());
    assert!(deltas.get(&"risk:rack/t1".parse().unwrap()).is_none());
    // The app moves to the rack: the server keeps its own value, the rack takes the chain's.
    let mut app: Asset = engine.inputs().assets[3].clone();
    app.depends_on = vec![AssetId::new("rack")];
    engine.apply(Change::AssetValue { asset: app }).unwrap();
    close(value(&engine, "impact:server/t1"), 10.0);
    close(value(&engine, "impact:rack/t1"), 30.0);
    assert_eq!(engine.risks(), engine.recompute().risks());
    // A dependency never lowers the supporting asset below its own value.
    records.values.insert(Dimension::D, 0.0);
    engine.apply(Change::AssetValue { asset: records }).unwrap();
    close(value(&engine, "impact:rack/t1"), 15.0);
}

#[test]
fn a_new_asset_or_a_new_type_rebuilds_only_that_assets_pairs() {
    let mut engine = Engine::new(schema(TREE_SCHEMA), inputs("assets: []"));
    let mut asset: Asset =
        serde_json::from_str(r#"{"id": "x", "name": "X", "type": "SW", "values": {"A": 10}}"#)
            .unwrap();
    let deltas = engine
        .apply(Change::AssetValue {
            asset: asset.clone(),
        })
        .unwrap();
    let added = deltas.get(&"risk:x/t4".parse().unwrap()).unwrap();
    assert_eq!(added.before, None);
    close(added.after.unwrap(), 24.0);
    asset.asset_type = AssetTypeId::new("HW");
    let deltas = engine.apply(Change::AssetValue { asset }).unwrap();
    assert_eq!(
        deltas.get(&"risk:x/t4".parse().unwrap()).unwrap().after,
        None
    );
    assert_eq!(engine.risks().len(), 2);
    let full = engine.recompute();
    assert_eq!(engine.board(), full.board());
    assert_eq!(engine.risks(), full.risks());
}

#[test]
fn unanswered_and_unknown_count_as_no_and_are_flagged() {
    let mut engine = Engine::new(schema(ERP_SCHEMA), inputs("answers: { c1.1: unknown }"));
    assert_eq!(engine.board().flagged, 3);
    close(value(&engine, "control:c1"), 0.0);
    let deltas = engine
        .apply(Change::Answer {
            subcontrol: SubControlId::new("c1.1"),
            answer: Some(Answer::No),
        })
        .unwrap();
    assert_eq!(engine.board().flagged, 2);
    let flagged = deltas.get(&Subject::Flagged).unwrap();
    assert_eq!((flagged.before, flagged.after), (Some(3.0), Some(2.0)));
    assert!(
        deltas.get(&"control:c1".parse().unwrap()).is_none(),
        "0 before and after"
    );
}

#[test]
fn a_measured_value_overrides_the_answer_and_removing_it_falls_back() {
    let mut engine = Engine::new(schema(ERP_SCHEMA), inputs(ERP_INPUTS));
    let measure = |value| Change::Measured {
        subcontrol: SubControlId::new("c1.2"),
        value,
    };
    engine.apply(measure(Some(0.75))).unwrap();
    close(value(&engine, "control:c1"), 87.5);
    engine.apply(measure(None)).unwrap();
    close(value(&engine, "control:c1"), 50.0);
    // A measured value makes an `na` subcontrol applicable.
    engine
        .apply(Change::Answer {
            subcontrol: SubControlId::new("c1.2"),
            answer: Some(Answer::Na),
        })
        .unwrap();
    close(value(&engine, "control:c1"), 100.0);
    engine.apply(measure(Some(0.0))).unwrap();
    close(value(&engine, "control:c1"), 50.0);
    assert!(engine.apply(measure(Some(f64::NAN))).is_err());
}

#[test]
fn setting_an_input_to_the_value_it_has_changes_nothing() {
    let mut engine = Engine::new(schema(ERP_SCHEMA), inputs(ERP_INPUTS));
    let same = [
        Change::Answer {
            subcontrol: SubControlId::new("c1.1"),
            answer: Some(Answer::Yes),
        },
        Change::Measured {
            subcontrol: SubControlId::new("c1.1"),
            value: None,
        },
        Change::AssetValue {
            asset: engine.inputs().assets[0].clone(),
        },
        Change::TargetLevel { level: Some(2) },
    ];
    for change in same {
        assert!(engine.apply(change).unwrap().is_empty());
    }
    // `unknown` to `no`: the value stays 0, only the flag moves; nothing downstream.
    let deltas = engine
        .apply(Change::Answer {
            subcontrol: SubControlId::new("c1.2"),
            answer: Some(Answer::Unknown),
        })
        .unwrap();
    let subjects: Vec<String> = deltas.iter().map(|d| d.subject.to_string()).collect();
    assert_eq!(subjects, ["flagged"]);
}

#[test]
fn one_answer_revalues_its_control_its_threats_their_pairs_and_the_aggregates_only() {
    let schema = schema(&format!(
        "{ERP_SCHEMA}    - {{ threat: B.1, control: c3, effect: 50 }}\n"
    )
    .replace(
        "threats: [{ id: A.24, name: Denial of service, origin: attack, dimensions: [D] }]",
        "threats:\n  - { id: A.24, name: DoS, origin: attack }\n  - { id: B.1, name: Other, origin: attack }",
    )
    .replace(
        "    subcontrols: [{ id: c2.1, text: c, level: 1 }]",
        "    subcontrols: [{ id: c2.1, text: c, level: 1 }]\n  - { id: c3, domain: '8', title: Three, subcontrols: [{ id: c3.1, text: d, level: 1 }] }",
    )
    .replace(
        "  asset_type_threat: [{ asset_type: HW, threat: A.24, probability: 60, degradation: { D: 90 } }]",
        "  asset_type_threat:\n    - { asset_type: HW, threat: A.24, probability: 60, degradation: { D: 90 } }\n    - { asset_type: HW, threat: B.1, probability: 60, degradation: { D: 90 } }",
    ));
    let mut engine = Engine::new(schema, inputs(ERP_INPUTS));
    let deltas = engine
        .apply(Change::Answer {
            subcontrol: SubControlId::new("c3.1"),
            answer: Some(Answer::Yes),
        })
        .unwrap();
    let subjects: Vec<String> = deltas.iter().map(|d| d.subject.to_string()).collect();
    assert_eq!(
        subjects,
        [
            "flagged",
            "level:1",
            "control:c3",
            "domain:8",
            "isms",
            "vul:B.1",
            "risk:erp/B.1",
            "asset:erp",
            "risk.max",
            "risk.mean",
            "risk.total",
            "risk.by_level:2",
            "risk.by_level:3",
            "maturity.current",
        ]
    );
    let json = serde_json::to_value(&deltas).unwrap();
    assert_eq!(json[2]["subject"], "control:c3");
    assert_eq!(json[2]["before"], 0.0);
    assert_eq!(json[2]["after"], 100.0);
}

#[test]
fn the_target_level_comes_from_size_business_rules_or_an_explicit_level() {
    let schema = schema(
        r#"
schema:
  id: t
  name: Targets
  target_level: { micro: 1, small: 2, medium: 3 }
sizes:
  - { id: micro, name: Micro, max_employees: 9, max_turnover_eur: 2000000 }
  - { id: small, name: Small, max_employees: 49, max_turnover_eur: 10000000 }
  - { id: medium, name: Medium, max_employees: 249 }
business_checklist:
  - id: special_category_data
    text: Special categories of personal data?
    kind: bool
    target_rules: [{ equals: true, level: 3 }]
  - id: sites
    text: How many sites?
    kind: number
    target_rules: [{ at_least: 5, level: 2 }]
"#,
    );
    let mut engine = Engine::new(schema, inputs("employees: 5"));
    assert_eq!(engine.board().maturity.target, 1);
    engine
        .apply(Change::Turnover {
            turnover: Some(5e6),
        })
        .unwrap();
    assert_eq!(engine.board().maturity.target, 2, "turnover over micro's");
    engine
        .apply(Change::Employees {
            employees: Some(1000),
        })
        .unwrap();
    assert_eq!(
        engine.board().maturity.target,
        3,
        "the largest size otherwise"
    );
    engine
        .apply(Change::Employees { employees: Some(5) })
        .unwrap();
    engine.apply(Change::Turnover { turnover: None }).unwrap();
    let deltas = engine
        .apply(Change::Business {
            question: BusinessQuestionId::new("sites"),
            value: Some(Scalar::Number(7.0)),
        })
        .unwrap();
    assert_eq!(engine.board().maturity.target, 2);
    assert!(deltas.get(&Subject::MaturityTarget).is_some());
    engine
        .apply(Change::Business {
            question: BusinessQuestionId::new("special_category_data"),
            value: Some(Scalar::Bool(true)),
        })
        .unwrap();
    assert_eq!(engine.board().maturity.target, 3);
    let explanation = engine.explain(&Subject::MaturityTarget).unwrap();
    assert_eq!(
        explanation.formula,
        "target = 3 (size class micro -> 1; raised by special_category_data -> 3)"
    );
    engine
        .apply(Change::TargetLevel { level: Some(1) })
        .unwrap();
    assert_eq!(engine.board().maturity.target, 1, "explicit wins");
    engine
        .apply(Change::TargetLevel { level: Some(9) })
        .unwrap();
    assert_eq!(engine.board().maturity.target, 3, "clamped to the levels");
}

#[test]
fn the_plan_orders_by_level_reduction_mandatory_compliance_then_natural_id() {
    let schema = schema(
        r#"
schema: { id: p, name: Plan order }
domains: [{ id: '5', name: D }]
controls:
  - { id: '5.10', domain: '5', title: a, subcontrols: [{ id: a1, text: a, level: 1 }] }
  - { id: '5.2', domain: '5', title: b, subcontrols: [{ id: b1, text: b, level: 1 }] }
  - { id: '5.3', domain: '5', title: c, subcontrols: [{ id: c1, text: c, level: 1, mandatory: true }] }
  - { id: '5.4', domain: '5', title: d, subcontrols: [{ id: d1, text: d, level: 1 }, { id: d2, text: d, level: 1 }] }
  - { id: '5.5', domain: '5', title: e, subcontrols: [{ id: e1, text: e, level: 1 }, { id: e2, text: e, level: 2 }] }
  - { id: '5.6', domain: '5', title: f, subcontrols: [{ id: f1, text: f, level: 1 }] }
asset_types: [{ id: HW, name: Hardware }]
threats: [{ id: t, name: T, origin: attack }]
matrices:
  asset_type_threat: [{ asset_type: HW, threat: t, probability: 100, degradation: { D: 100 } }]
  threat_control: [{ threat: t, control: '5.6', effect: 50 }]
"#,
    );
    let inputs = inputs(
        r#"
answers: { a1: no, b1: no, c1: no, d1: yes, d2: no, e1: yes, e2: no, f1: no }
target_level: 2
assets: [{ id: x, name: X, type: HW, values: { D: 10 } }]
"#,
    );
    let engine = Engine::new(schema, inputs);
    let order: Vec<String> = engine
        .plan()
        .iter()
        .map(|item| format!("{}@{}", item.control, item.level))
        .collect();
    assert_eq!(
        order,
        ["5.6@1", "5.3@1", "5.2@1", "5.10@1", "5.4@1", "5.5@2"]
    );
    let ranks: Vec<usize> = engine.plan().iter().map(|item| item.rank).collect();
    assert_eq!(ranks, [1, 2, 3, 4, 5, 6]);
    close(engine.plan()[0].risk_reduction, 50.0);
}

#[test]
fn bands_and_thresholds_come_from_the_schema() {
    let schema = schema(&format!(
        "{ERP_SCHEMA}status_bands: {{ red: 60, amber: 95 }}\nmaturity_levels:\n  - {{ level: 1, name: One, threshold: 0.5 }}\nrisk_criteria:\n  - id: risk\n    name: Risk\n    bands: [{{ from: 0, to: 20, label: fine }}, {{ from: 20, to: 100, label: bad }}]\n"
    ));
    let engine = Engine::new(schema, inputs(ERP_INPUTS));
    let board = engine.board();
    assert_eq!(board.controls[0].status, Status::Red, "50 < 60");
    close(board.maturity.levels[0].threshold, 50.0);
    assert_eq!(board.risk.by_level, vec![1, 0]);
    assert_eq!(engine.risks()[0].level, 0);
}

#[test]
fn bad_changes_are_refused_and_change_nothing() {
    let mut engine = Engine::new(schema(ERP_SCHEMA), inputs(ERP_INPUTS));
    let before = engine.board();
    let error = engine
        .apply(Change::Answer {
            subcontrol: SubControlId::new("nope"),
            answer: Some(Answer::Yes),
        })
        .unwrap_err();
    assert_eq!(error.to_string(), "unknown subcontrol `nope`");
    let mut asset = engine.inputs().assets[0].clone();
    asset.asset_type = AssetTypeId::new("ZZ");
    assert!(engine.apply(Change::AssetValue { asset }).is_err());
    assert!(engine
        .apply(Change::Probability {
            asset_type: AssetTypeId::new("HW"),
            threat: ThreatId::new("A.24"),
            value: Some(f64::NAN),
        })
        .is_err());
    assert_eq!(engine.board(), before);
}

#[test]
fn inputs_and_subjects_round_trip_through_json_and_text() {
    let mut engine = Engine::new(schema(ERP_SCHEMA), inputs(ERP_INPUTS));
    engine
        .apply(Change::Probability {
            asset_type: AssetTypeId::new("HW"),
            threat: ThreatId::new("A.24"),
            value: Some(80.0),
        })
        .unwrap();
    let inputs = engine.inputs();
    let json = serde_json::to_string(&inputs).unwrap();
    assert!(json.contains(r#""probability":[{"asset_type":"HW","threat":"A.24","value":80.0}]"#));
    let back: Inputs = serde_json::from_str(&json).unwrap();
    assert_eq!(back, inputs);
    for text in [
        "control:8.13",
        "objective:O1",
        "domain:8",
        "isms",
        "level:2",
        "maturity.current",
        "maturity.target",
        "flagged",
        "subcontrol:8.13.1",
        "vul:A.24",
        "impact:erp/A.24",
        "potential:erp/A.24",
        "risk:erp/A.24",
        "asset:erp",
        "risk.max",
        "risk.mean",
        "risk.total",
        "risk.by_level:2",
        "plan:8.13@2",
    ] {
        let subject: Subject = text.parse().unwrap();
        assert_eq!(subject.to_string(), text);
    }
    assert!("risk:erp".parse::<Subject>().is_err());
    let change: Change =
        serde_json::from_str(r#"{"kind": "answer", "subcontrol": "c1.2", "answer": "partial"}"#)
            .unwrap();
    assert!(!engine.apply(change).unwrap().is_empty());
}

#[test]
fn the_board_has_the_shape_of_design_5() {
    let engine = Engine::new(schema(ERP_SCHEMA), inputs(ERP_INPUTS));
    let board = serde_json::to_value(engine.board()).unwrap();
    for field in [
        "isms",
        "schema",
        "compliance",
        "maturity",
        "domains",
        "controls",
        "risk",
    ] {
        assert!(board.get(field).is_some(), "{field}");
    }
    assert_eq!(
        board["schema"],
        serde_json::json!({ "id": "erp", "version": 1 })
    );
    assert_eq!(board["controls"][0]["status"], "amber");
    assert_eq!(board["maturity"]["levels"][0]["level"], 1);
    let risks = serde_json::to_value(engine.risks()).unwrap();
    let mut keys: Vec<&str> = risks[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "asset",
            "impact",
            "level",
            "potential",
            "probability",
            "residual",
            "threat",
            "vulnerability"
        ]
    );
    let plan = serde_json::to_value(engine.plan()).unwrap();
    for field in [
        "rank",
        "control",
        "subcontrols",
        "level",
        "effort",
        "risk_reduction",
    ] {
        assert!(plan[0].get(field).is_some(), "{field}");
    }
}

#[test]
fn a_cap_holds_a_control_down_until_it_is_freed_and_says_why() {
    let (schema, inputs) = maturity_example();
    let mut engine = Engine::new(schema, inputs);
    let control = Subject::Control(ControlId::new("5.1"));
    let before = engine.value(&control).unwrap().unwrap();
    assert_eq!(engine.maturity.current, 1);
    let deltas = engine
        .apply(Change::Cap {
            control: ControlId::new("5.1"),
            value: Some(0.0),
        })
        .unwrap();
    assert_eq!(engine.value(&control).unwrap(), Some(0.0));
    assert_eq!(engine.maturity.current, 0, "level 1 is lost");
    let subjects: Vec<String> = deltas.iter().map(|d| d.subject.to_string()).collect();
    assert_eq!(
        subjects.iter().filter(|s| *s == "control:5.1").count(),
        1,
        "{subjects:?}"
    );
    assert!(subjects.contains(&"maturity.current".to_owned()));
    let why = engine
        .explain(&Subject::Subcontrol(SubControlId::new("1.1")))
        .unwrap();
    assert!(
        why.formula.contains("major non-conformity"),
        "{}",
        why.formula
    );
    assert_eq!(engine.inputs().caps.len(), 1);
    engine
        .apply(Change::Cap {
            control: ControlId::new("5.1"),
            value: None,
        })
        .unwrap();
    assert_eq!(engine.value(&control).unwrap(), Some(before));
    assert_eq!(engine.maturity.current, 1);
    assert!(engine.inputs().caps.is_empty());
    assert!(matches!(
        engine.apply(Change::Cap {
            control: ControlId::new("9.9"),
            value: Some(0.0)
        }),
        Err(EngineError::Unknown {
            kind: "control",
            ..
        })
    ));
}
