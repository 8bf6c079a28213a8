//! One test per rule: a small document and the exact messages it must give.

use std::path::PathBuf;

use super::*;

const HEADER: &str = r#"
schema: { id: t, name: Test, applies_to: { sectors: ["*"], sizes: [small] }, target_level: { small: 2 } }
sizes: [{ id: small, name: Small, max_employees: 49 }]
roles: [{ id: AGS, name: Architect, zone: schemas }]
domains: [{ id: "8", name: Technological }]
threats: [{ id: A.24, name: Denial of service, origin: attack, dimensions: [D] }]
asset_types: [{ id: HW, name: Hardware }]
"#;

fn load(docs: &[(&str, &str)]) -> Result<Loaded, Problems> {
    load_files(
        docs.iter()
            .map(|(path, text)| SourceFile {
                path: PathBuf::from(path),
                text: (*text).to_owned(),
            })
            .collect(),
    )
}

/// Loads HEADER plus `body` (as `b.yaml`) and compares the messages.
fn check(body: &str, expected: &[&str]) {
    let problems = load(&[("a.yaml", HEADER), ("b.yaml", body)])
        .err()
        .unwrap_or_default();
    let messages: Vec<String> = problems.0.iter().map(|p| p.to_string()).collect();
    assert_eq!(messages, expected, "\nfull report:\n{problems}");
}

#[test]
fn a_valid_schema_loads() {
    check(
        r#"
controls:
  - id: "8.13"
    domain: "8"
    title: Backup
    subcontrols: [{ id: "8.13.1", text: Do you back up daily?, level: 1 }]
"#,
        &[],
    );
}

#[test]
fn duplicate_ids_name_both_places() {
    check(
        r#"
threats: [{ id: A.24, name: Again, origin: attack, dimensions: [D] }]
"#,
        &["b.yaml: threat `A.24`: duplicate threat id (first defined in a.yaml); expected ids unique per kind"],
    );
}

#[test]
fn duplicate_subcontrols_across_controls() {
    check(
        r#"
controls:
  - { id: "8.1", domain: "8", title: A, subcontrols: [{ id: "8.1.1", text: Q?, level: 1 }] }
  - { id: "8.2", domain: "8", title: B, subcontrols: [{ id: "8.1.1", text: Q?, level: 1 }] }
"#,
        &["b.yaml: subcontrol `8.1.1`: duplicate subcontrol id (also in control `8.1`); expected ids unique per kind"],
    );
}

#[test]
fn dangling_references_suggest_the_nearest_id() {
    check(
        r#"
controls:
  - { id: "8.1", domain: "9", title: A, subcontrols: [{ id: "8.1.1", text: Q?, level: 1 }] }
matrices:
  threat_control: [{ threat: A.25, control: "8.1", effect: 50 }]
"#,
        &[
            "b.yaml: control `8.1`: domain: unknown domain `9`; expected a domain id of the schema",
            "b.yaml: threat_control `A.25/8.1`: unknown threat `A.25`; expected a threat id of the schema (did you mean `A.24`?)",
        ],
    );
}

#[test]
fn subcontrol_levels_and_weights_are_in_range() {
    check(
        r#"
controls:
  - id: "8.1"
    domain: "8"
    title: A
    subcontrols:
      - { id: "8.1.1", text: Q?, level: 4 }
      - { id: "8.1.2", text: Q?, level: 1, weight: 0 }
"#,
        &[
            "b.yaml: subcontrol `8.1.1`: level 4 is out of range; expected 1, 2 or 3",
            "b.yaml: subcontrol `8.1.2`: weight 0 is out of range; expected a number > 0",
        ],
    );
}

#[test]
fn thresholds_are_in_the_unit_interval() {
    check(
        "maturity_levels: [{ level: 1, name: One, threshold: 1.5 }, { level: 2, name: Two, threshold: 0 }]",
        &[
            "b.yaml: maturity level `1`: threshold 1.5 is out of range; expected a value in (0,1]",
            "b.yaml: maturity level `2`: threshold 0 is out of range; expected a value in (0,1]",
        ],
    );
}

#[test]
fn probabilities_degradations_and_effects_are_percentages() {
    check(
        r#"
controls:
  - { id: "8.1", domain: "8", title: A, subcontrols: [{ id: "8.1.1", text: Q?, level: 1 }] }
matrices:
  asset_type_threat: [{ asset_type: HW, threat: A.24, probability: 120, degradation: { D: -5 } }]
  threat_control: [{ threat: A.24, control: "8.1", effect: 101 }]
"#,
        &[
            "b.yaml: asset_type_threat `HW/A.24`: probability 120 is out of range; expected 0..100",
            "b.yaml: asset_type_threat `HW/A.24`: degradation of D -5 is out of range; expected 0..100",
            "b.yaml: threat_control `A.24/8.1`: effect 101 is out of range; expected 0..100",
        ],
    );
}

#[test]
fn asset_type_cycles_are_refused() {
    check(
        r#"
asset_types:
  - { id: SW, name: Software, parent: SW.os }
  - { id: SW.os, name: Operating systems, parent: SW }
"#,
        &[
            "b.yaml: asset type `SW`: its parents form a cycle; expected a tree",
            "b.yaml: asset type `SW.os`: its parents form a cycle; expected a tree",
        ],
    );
}

#[test]
fn procedure_phases_must_resolve() {
    check(
        r#"
procedures:
  - id: p
    name: P
    start: begin
    phases:
      - { id: open, name: Open, roles: [AGS, Cl/XX], next: [close] }
"#,
        &[
            "b.yaml: procedure `p`: start: unknown phase `begin`; expected a phase id of the schema",
            "b.yaml: phase `p/open`: roles: unknown role `Cl/XX`; expected a role id of the schema",
            "b.yaml: phase `p/open`: next: unknown phase `close`; expected a phase id of the schema",
        ],
    );
}

#[test]
fn schedules_must_be_periods() {
    check(
        r#"
procedures:
  - { id: p, name: P, start: a, schedule: 6x, phases: [{ id: a, name: A, roles: [AGS] }] }
  - { id: q, name: Q, start: a, schedule: 6mo, phases: [{ id: a, name: A, roles: [AGS] }] }
metrics:
  - { id: m, name: M, source: s, schedule: 0d }
  - { id: n, name: N, source: s, schedule: 1y }
"#,
        &[
            "b.yaml: procedure `p`: schedule: `6x` is not a period: expected a whole number > 0 \
             followed by s, m (minutes), h, d, w, mo (months) or y, e.g. 30s, 15m, 1h, 1d, 2w, 6mo, 1y",
            "b.yaml: metric `m`: schedule: `0d` is not a period: expected a whole number > 0 \
             followed by s, m (minutes), h, d, w, mo (months) or y, e.g. 30s, 15m, 1h, 1d, 2w, 6mo, 1y",
        ],
    );
    assert_eq!(parse_period("6m"), Some(360));
    assert_eq!(parse_period("6mo"), Some(180 * 86_400));
    assert_eq!(parse_period("1y"), Some(365 * 86_400));
    assert_eq!(parse_period("30s"), Some(30));
    assert_eq!(parse_period("6x"), None);
}

#[test]
fn schedules_under_an_hour_are_warnings_not_problems() {
    let body = r#"
procedures:
  - { id: p, name: P, start: a, schedule: 6m, phases: [{ id: a, name: A, roles: [AGS] }] }
  - { id: q, name: Q, start: a, schedule: 6mo, phases: [{ id: a, name: A, roles: [AGS] }] }
  - { id: r, name: R, start: a, schedule: 60m, phases: [{ id: a, name: A, roles: [AGS] }] }
  - { id: u, name: U, start: a, phases: [{ id: a, name: A, roles: [AGS] }] }
metrics:
  - { id: m, name: M, source: s, schedule: 15m }
  - { id: n, name: N, source: s, schedule: 30s }
  - { id: o, name: O, source: s, schedule: 1h }
  - { id: x, name: X, source: s, schedule: 6x }
"#;
    let loaded = load(&[("a.yaml", HEADER), ("b.yaml", body)]);
    let problems = loaded.expect_err("`6x` is a problem");
    assert_eq!(problems.len(), 1, "{problems}");

    let valid = body.replace("schedule: 6x", "schedule: 1d");
    let loaded =
        load(&[("a.yaml", HEADER), ("b.yaml", &valid)]).expect("warnings do not fail a load");
    assert!(validate(&loaded.schema, None).is_empty());
    let messages: Vec<String> = warnings(&loaded.schema, Some(&loaded.provenance))
        .iter()
        .map(|w| w.to_string())
        .collect();
    assert_eq!(
        messages,
        [
            "b.yaml: procedure `p`: schedule: `6m` is six minutes, under an hour; for six months write `6mo`",
            "b.yaml: metric `m`: schedule: `15m` is 15 minutes, under an hour; for 15 months write `15mo`",
            "b.yaml: metric `n`: schedule: `30s` is 30 seconds, under an hour; \
             write a longer period unless so short a one is meant",
        ]
    );
    assert_eq!(
        warnings(&loaded.schema, None)[0].to_string(),
        "procedure `p`: schedule: `6m` is six minutes, under an hour; for six months write `6mo`"
    );
}

#[test]
fn culture_answers_must_be_an_option_and_questions_name_a_regulation() {
    check(
        r#"
regulations: [{ id: passwords, name: Passwords, rules: [] }]
culture:
  questions:
    - { id: q1, regulation: passwords, text: Q?, options: [a, b, c], answer: 3 }
    - { id: q2, regulation: pasword, text: Q?, options: [a, b], answer: 0 }
"#,
        &[
            "b.yaml: culture question `q1`: answer index 3 is outside its 3 options; expected 0..2",
            "b.yaml: culture question `q2`: regulation: unknown regulation `pasword`; expected a regulation id of the schema (did you mean `passwords`?)",
        ],
    );
}

#[test]
fn obligations_name_their_source_controls_and_answerable_conditions() {
    check(
        r#"
controls:
  - { id: "8.13", domain: "8", title: Backup, subcontrols: [{ id: "8.13.1", text: Q?, level: 1 }] }
business_checklist:
  - { id: card_payments, text: Cards?, kind: bool }
  - { id: ens_category, text: ENS?, kind: choice, options: [none, basic, medium, high] }
  - { id: employees, text: Staff?, kind: number }
obligation_sources: [{ id: GDPR, name: General Data Protection Regulation }]
obligations:
  - { id: GDPR-32, source: GDPR, reference: "Art. 32", title: Security, controls: ["8.13"], applies_when: [{ question: employees, at_least: 1 }] }
  - { id: PCI-1, source: PCI, reference: "Req. 1", title: Firewalls, controls: ["8.20"],
      applies_when: [{ question: card_payments, equals: maybe }, { question: card_payment, equals: true }] }
  - { id: ENS-op.acc.1, source: GDPR, reference: "", title: Identification,
      applies_when: [{ question: ens_category, one_of: [basic, extreme] }, { question: card_payments, at_least: 1 }, { question: employees }] }
"#,
        &[
            "b.yaml: obligation `PCI-1`: source: unknown obligation source `PCI`; expected an obligation source id of the schema",
            "b.yaml: obligation `PCI-1`: controls: unknown control `8.20`; expected a control id of the schema (did you mean `8.13`?)",
            "b.yaml: obligation `PCI-1`: applies_when: card_payments cannot be `maybe`; expected true or false",
            "b.yaml: obligation `PCI-1`: applies_when: unknown business question `card_payment`; expected a business question id of the schema (did you mean `card_payments`?)",
            "b.yaml: obligation `ENS-op.acc.1`: an empty reference or title; expected the article or measure as its source numbers it and a short title",
            "b.yaml: obligation `ENS-op.acc.1`: applies_when: ens_category cannot be `extreme`; expected one of none, basic, medium, high",
            "b.yaml: obligation `ENS-op.acc.1`: applies_when: `at_least` on card_payments, which is not answered with a number",
            "b.yaml: obligation `ENS-op.acc.1`: applies_when: the condition on employees tests nothing; expected `equals`, `at_least` or `one_of`",
        ],
    );
}

#[test]
fn a_requirement_of_the_management_system_cannot_be_made_not_applicable() {
    check(
        r#"
domains: [{ id: MS, name: Management system, in_soa: false }]
controls:
  - { id: C9.2, domain: MS, title: Internal audit, subcontrols: [{ id: "C9.2.1", text: Q?, level: 1 }] }
business_checklist:
  - id: small_office
    text: Small?
    kind: bool
    not_applicable: [{ equals: true, controls: [C9.2], justification: too small }]
"#,
        &["b.yaml: business question `small_office`: not_applicable: C9.2 is a requirement of the management system (its domain has `in_soa: false`); it cannot be made not applicable"],
    );
}

#[test]
fn exactly_one_header() {
    let none = load(&[("a.yaml", "domains: [{ id: \"5\", name: Org }]")]).unwrap_err();
    assert_eq!(
        none.0[0].to_string(),
        "schema: no `schema:` header in any document; expected exactly one (schema: { id, name, ... })"
    );
    let two = load(&[("a.yaml", HEADER), ("b.yaml", "schema: { id: u, name: U }")]).unwrap_err();
    assert_eq!(
        two.0[0].to_string(),
        "b.yaml: schema `u`: a second `schema:` header (the first is in a.yaml); expected exactly one per schema"
    );
}

#[test]
fn malformed_documents_give_line_and_column() {
    let yaml = load(&[("a.yaml", "schema:\n  id: t\n  name: [unclosed\n")]).unwrap_err();
    let p = &yaml.0[0];
    assert_eq!(p.file, Some(PathBuf::from("a.yaml")));
    assert!(p.line.is_some() && p.column.is_some(), "{p}");

    let json = load(&[("a.json", "{\"schema\": {\"id\": \"t\",, }}")]).unwrap_err();
    assert_eq!(
        (json.0[0].line, json.0[0].column),
        (Some(1), Some(23)),
        "{}",
        json.0[0]
    );

    let toml = load(&[("a.toml", "[schema]\nid = \"t\"\nname = \n")]).unwrap_err();
    assert_eq!(toml.0[0].line, Some(3), "{}", toml.0[0]);
}

#[test]
fn unknown_fields_and_sections_are_errors() {
    let typo = load(&[("a.yaml", "schema: { id: t, name: T, nmae: x }")]).unwrap_err();
    assert!(
        typo.0[0].message.contains("unknown field `nmae`"),
        "{}",
        typo.0[0]
    );
    let section = load(&[("a.yaml", "schema: { id: t, name: T }\ncontrol: []")]).unwrap_err();
    assert!(
        section.0[0].message.contains("unknown field `control`"),
        "{}",
        section.0[0]
    );
}

#[test]
fn every_problem_of_every_file_is_reported_at_once() {
    let problems = load(&[
        ("a.yaml", "schema: { id: t, name: T, nmae: x }"),
        ("b.json", "{ broken"),
        ("c.yaml", "domains: [{ id: 5 }]"),
    ])
    .unwrap_err();
    let files: Vec<_> = problems.0.iter().map(|p| p.file.clone().unwrap()).collect();
    assert_eq!(
        files,
        [
            PathBuf::from("a.yaml"),
            PathBuf::from("b.json"),
            PathBuf::from("c.yaml")
        ]
    );
}

#[test]
fn json_and_toml_documents_merge_with_yaml() {
    let loaded = load(&[
        ("a.yaml", HEADER),
        (
            "b.json",
            r#"{"vulnerabilities": [{"id": "v1", "name": "No offline backup"}]}"#,
        ),
        (
            "c.toml",
            "[[vulnerabilities]]\nid = \"v2\"\nname = \"Shared accounts\"\n",
        ),
    ])
    .unwrap();
    let ids: Vec<_> = loaded
        .schema
        .vulnerabilities
        .iter()
        .map(|v| v.id.as_str())
        .collect();
    assert_eq!(ids, ["v1", "v2"]);
    assert_eq!(
        loaded.provenance.file("vulnerabilities", 1),
        Some(PathBuf::from("c.toml"))
    );
}

#[test]
fn export_then_import_gives_back_an_equal_schema() {
    let loaded = load(&[("a.yaml", HEADER), ("b.yaml", r#"
asset_types: [{ id: HW.pc, name: PCs, parent: HW }]
vulnerabilities: [{ id: v1, name: Unpatched software }]
matrices:
  asset_type_threat: [{ asset_type: HW, threat: A.24, probability: 60, degradation: { D: 90 } }]
  asset_type_vulnerability: [{ asset_type: HW, vulnerability: v1 }]
  threat_control: [{ threat: A.24, control: "8.1", effect: 80 }]
"#), ("c.yaml", r#"
controls:
  - { id: "8.1", domain: "8", title: A, effort: 2.5, subcontrols: [{ id: "8.1.1", text: "Q: yes?", level: 1, weight: 0.25, mandatory: true }] }
culture: { pass_mark: 0.75, questions: [] }
"#)])
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    export_to_dir(&loaded.schema, dir.path()).unwrap();
    let again = load_path(dir.path()).unwrap();
    assert_eq!(again.schema, loaded.schema);
    // and as one document
    let text = export_to_text(&loaded.schema);
    let single = load(&[("all.yaml", text.as_str())]).unwrap();
    assert_eq!(single.schema, loaded.schema);
}

#[test]
fn diff_names_added_removed_and_changed_elements() {
    let old = load(&[("a.yaml", HEADER)]).unwrap().schema;
    let mut new = old.clone();
    new.threats[0].name = "DoS".into();
    new.threats.push(mmsm_model::Threat {
        id: "A.25".into(),
        name: "Theft".into(),
        origin: mmsm_model::Origin::Attack,
        dimensions: vec![],
        description: None,
    });
    new.asset_types.clear();
    let d = diff(&old, &new);
    let render: Vec<String> = d
        .kinds
        .iter()
        .flat_map(|(k, cs)| {
            cs.iter()
                .map(move |c| format!("{k} {:?} {} {:?}", c.change, c.id, c.fields))
        })
        .collect();
    assert_eq!(
        render,
        [
            "asset type Removed HW []",
            "threat Changed A.24 [\"name\"]",
            "threat Added A.25 []",
        ]
    );
}

#[test]
fn ids_follow_one_grammar() {
    // Issue 18: an OSCAL import made the domain `../../etc` and the control `=1+1`.
    check(
        r#"
domains: [{ id: "../../etc", name: Escape }]
controls:
  - id: "=1+1"
    domain: "8"
    title: Formula
    subcontrols: [{ id: "a b/c", text: A question?, level: 1 }]
"#,
        &[
            "b.yaml: domain `../../etc`: the domain id holds '/'; expected letters, digits, `.`, `-` and `_`, starting with a letter or digit",
            "b.yaml: control `=1+1`: the control id holds '='; expected letters, digits, `.`, `-` and `_`, starting with a letter or digit",
            "b.yaml: subcontrol `a b/c`: the subcontrol id holds ' '; expected letters, digits, `.`, `-` and `_`, starting with a letter or digit",
        ],
    );
    assert!(check_id("role", "Cl/RS").is_ok());
    assert!(check_id("role", "Cl/").is_err());
    assert!(check_id("threat", "N.*").is_ok());
    assert!(check_id("control", "N.*").is_err());
    assert!(check_id("control", ".hidden").is_err());
    assert!(check_id("control", &"x".repeat(MAX_ID + 1)).is_err());
    assert!(check_id("subcontrol", "ac-2.1_smt.a").is_ok());
}

#[test]
fn phase_requirements_rules_and_clocks_name_fields_of_the_registers_and_phases_of_the_procedure() {
    check(
        r#"
artefacts:
  - id: reg
    kind: register
    name: Register
    fields:
      - { id: severity, label: Severity, kind: choice, options: [low, critical] }
      - { id: cause, label: Cause, kind: longtext }
procedures:
  - id: p
    name: P
    start: open
    clocks:
      - { name: Tell someone, when: severity, in: [critical], hours: 0, until: told }
    phases:
      - { id: open, name: Open, roles: [AGS], next: [close], objects: [reg] }
      - id: close
        name: Close
        roles: [AGS]
        objects: [reg]
        requires: [cause, why]
        rules:
          - { when: severity, in: [critical], passed: [review] }
"#,
        &[
            "b.yaml: phase `p/close`: rules.passed: unknown phase `review`; expected a phase id of the schema",
            "b.yaml: phase `p/close`: requires: `why` is not a field of the phase's registers; expected one of cause, severity",
            "b.yaml: procedure `p`: clocks `Tell someone`: until `told` is not a field of the procedure's registers; expected one of cause, severity",
            "b.yaml: procedure `p`: clocks `Tell someone`: hours is 0; expected the hours allowed, e.g. 72",
        ],
    );
}
