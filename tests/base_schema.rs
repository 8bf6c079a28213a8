//! The shipped base schema EB (issue 4): counts, coverage and the rules its content must
//! keep, checked on `schemas/base` as the kernel's loader reads it. Also checks the
//! `schemas/health-small` sector clone.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::OnceLock;

mod common;

use common::shipped_schemas;
use mmsm_model::*;
use mmsm_schema::load_path;

fn load(folder: &str) -> Schema {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(folder);
    match load_path(&path) {
        Ok(loaded) => loaded.schema,
        Err(problems) => panic!("schemas/{folder} does not load:\n{problems}"),
    }
}

fn base() -> &'static Schema {
    static BASE: OnceLock<Schema> = OnceLock::new();
    BASE.get_or_init(|| load("base"))
}

fn official_control_ids() -> Vec<String> {
    let ranges = [(5, 37), (6, 8), (7, 14), (8, 34)];
    ranges
        .iter()
        .flat_map(|&(theme, n)| (1..=n).map(move |i| format!("{theme}.{i}")))
        .collect()
}

const GROUPS: [&str; 12] = [
    "essential",
    "arch",
    "D",
    "K",
    "S",
    "SW",
    "HW",
    "COM",
    "Media",
    "AUX",
    "L",
    "P",
];

fn magerit_threat_ids() -> Vec<String> {
    let mut ids: Vec<String> = vec!["N.1".into(), "N.2".into(), "N.*".into()];
    ids.extend((1..=11).map(|i| format!("I.{i}")));
    ids.push("I.*".into());
    for e in [1, 2, 3, 4, 7, 8, 9, 10, 15, 18, 19, 20, 21, 23, 24, 25, 28] {
        ids.push(format!("E.{e}"));
    }
    for a in (3..=15).chain([18, 19]).chain(22..=30) {
        ids.push(format!("A.{a}"));
    }
    ids
}

/// The asset type and all its ancestors, nearest first.
fn lineage<'s>(schema: &'s Schema, id: &'s str) -> Vec<&'s str> {
    let parents: HashMap<&str, &str> = schema
        .asset_types
        .iter()
        .filter_map(|t| t.parent.as_ref().map(|p| (t.id.as_str(), p.as_str())))
        .collect();
    let mut out = vec![id];
    let mut current = id;
    while let Some(p) = parents.get(current) {
        out.push(p);
        current = p;
    }
    out
}

#[test]
fn controls_are_the_93_of_iso_27002_2022_in_four_domains_and_the_clauses_4_to_10() {
    let s = base();
    let annex: Vec<&Control> = s.controls.iter().filter(|c| !s.is_requirement(c)).collect();
    let ids: Vec<&str> = annex.iter().map(|c| c.id.as_str()).collect();
    let expected = official_control_ids();
    assert_eq!(ids.len(), 93);
    assert_eq!(
        ids.iter().copied().collect::<BTreeSet<_>>(),
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    let domains: BTreeSet<&str> = s.domains.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(domains, BTreeSet::from(["5", "6", "7", "8", "MS"]));
    for c in &annex {
        assert!(
            c.id.as_str().starts_with(&format!("{}.", c.domain)),
            "control {} is in domain {}",
            c.id,
            c.domain
        );
    }
    for c in &s.controls {
        assert!(!c.title.trim().is_empty(), "control {} has no title", c.id);
    }
    // ISO/IEC 27001:2022 clauses 4 to 10, as the standard numbers them (6.1.1 is
    // asked with 6.1.3), in a domain of requirements that the SoA leaves out.
    let clauses: Vec<&str> = s
        .controls
        .iter()
        .filter(|c| s.is_requirement(c))
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(
        clauses,
        [
            "C4.1", "C4.2", "C4.3", "C4.4", "C5.1", "C5.2", "C5.3", "C6.1.2", "C6.1.3", "C6.2",
            "C6.3", "C7.1", "C7.2", "C7.3", "C7.4", "C7.5", "C8.1", "C8.2", "C8.3", "C9.1", "C9.2",
            "C9.3", "C10.1", "C10.2"
        ]
    );
    // Each clause has the documented information it requires behind it.
    for clause in &clauses {
        assert!(
            s.matrices
                .artefact_control
                .iter()
                .any(|r| r.control.as_str() == *clause),
            "clause {clause} has no document"
        );
    }
}

#[test]
fn every_control_has_two_to_five_questions_with_one_of_level_1_or_2() {
    for c in &base().controls {
        let n = c.subcontrols.len();
        assert!((2..=5).contains(&n), "control {} has {n} subcontrols", c.id);
        assert!(
            c.subcontrols.iter().any(|s| s.level == 1 || s.level == 2),
            "control {} has no subcontrol of level 1 or 2",
            c.id
        );
        for (i, s) in c.subcontrols.iter().enumerate() {
            assert_eq!(s.id.as_str(), format!("{}.{}", c.id, i + 1));
            assert!(
                s.text.trim_end().ends_with('?'),
                "{} is not a question",
                s.id
            );
            assert!(
                !s.mandatory || s.level == 1,
                "{} is mandatory above level 1",
                s.id
            );
        }
    }
}

#[test]
fn subcontrols_number_at_least_280_and_each_level_holds_a_fifth() {
    let s = base();
    let mut per_level: BTreeMap<u8, usize> = BTreeMap::new();
    for (_, sub) in s.subcontrols() {
        *per_level.entry(sub.level).or_default() += 1;
    }
    let total: usize = per_level.values().sum();
    assert!(total >= 280, "{total} subcontrols");
    for level in 1..=3 {
        let n = per_level.get(&level).copied().unwrap_or(0);
        assert!(
            n * 5 >= total,
            "level {level} holds {n} of {total} subcontrols, under 20 %"
        );
    }
    let mandatory = s.subcontrols().filter(|(_, sub)| sub.mandatory).count();
    assert!(mandatory >= 10, "only {mandatory} mandatory essentials");
    let texts: HashSet<&str> = s.subcontrols().map(|(_, sub)| sub.text.as_str()).collect();
    assert_eq!(texts.len(), total, "a question is repeated");
}

#[test]
fn master_tables_hold_roles_sectors_sizes_and_levels() {
    let s = base();
    let zone: HashMap<&str, Zone> = s.roles.iter().map(|r| (r.id.as_str(), r.zone)).collect();
    assert_eq!(zone["AGS"], Zone::Schemas);
    assert_eq!(zone["GED"], Zone::Schemas);
    assert_eq!(zone["CoS"], Zone::Generation);
    assert_eq!(zone["AuS"], Zone::Audit);
    assert!(zone.contains_key("Int"));
    for id in [
        "Cl/RS", "Cl/US", "Cl/GDS", "Cl/PS", "Cl/PA", "Cl/GD", "Cl/RD", "Cl/RE", "Cl/RM", "Cl/RR",
        "Cl/T",
    ] {
        assert!(
            matches!(zone.get(id), Some(Zone::Maintenance | Zone::Client)),
            "role {id} missing or outside the client zones"
        );
    }
    assert!(s.sectors.len() >= 12, "{} sectors", s.sectors.len());
    assert!(s.sectors.iter().any(|x| x.id.as_str() == "health"));

    let sizes: Vec<(&str, Option<u32>, Option<f64>)> = s
        .sizes
        .iter()
        .map(|z| (z.id.as_str(), z.max_employees, z.max_turnover_eur))
        .collect();
    assert_eq!(
        sizes,
        vec![
            ("micro", Some(9), Some(2_000_000.0)),
            ("small", Some(49), Some(10_000_000.0)),
            ("medium", Some(249), Some(50_000_000.0)),
        ]
    );
    let levels: Vec<(u8, Option<f64>)> = s
        .maturity_levels
        .iter()
        .map(|m| (m.level, m.threshold))
        .collect();
    assert_eq!(
        levels,
        vec![(1, Some(0.80)), (2, Some(0.80)), (3, Some(0.90))]
    );
    assert!(s
        .maturity_levels
        .iter()
        .all(|m| !m.name.is_empty() && m.description.is_some()));
    assert_eq!(
        s.status_bands(),
        StatusBands {
            red: 50.0,
            amber: 80.0
        }
    );
    let target: Vec<(&str, u8)> = s
        .schema
        .target_level
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(target, vec![("medium", 3), ("micro", 1), ("small", 2)]);
}

#[test]
fn risk_tables_follow_magerit_v3() {
    let s = base();
    let types: HashSet<&str> = s.asset_types.iter().map(|t| t.id.as_str()).collect();
    for g in GROUPS {
        assert!(types.contains(g), "asset-type group {g} missing");
        assert!(lineage(s, g).len() == 1, "group {g} has a parent");
    }
    for (child, group) in [
        ("HW.pc", "HW"),
        ("SW.os", "SW"),
        ("D.backup", "D"),
        ("D.personal", "D"),
        ("Media.removable", "Media"),
    ] {
        assert_eq!(
            lineage(s, child).last(),
            Some(&group),
            "{child} is not under {group}"
        );
    }
    let threats: Vec<&str> = s.threats.iter().map(|t| t.id.as_str()).collect();
    let expected = magerit_threat_ids();
    assert_eq!(
        threats.iter().copied().collect::<BTreeSet<_>>(),
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    for t in &s.threats {
        let origin = match &t.id.as_str()[..1] {
            "N" => Origin::Natural,
            "I" => Origin::Industrial,
            "E" => Origin::Error,
            _ => Origin::Attack,
        };
        assert_eq!(t.origin, origin, "origin of {}", t.id);
        assert!(
            !t.dimensions.is_empty(),
            "threat {} affects no dimension",
            t.id
        );
    }
    assert!(
        s.vulnerabilities.len() >= 30,
        "{} vulnerabilities",
        s.vulnerabilities.len()
    );
    let risk_bands = s.risk_bands();
    let bands: Vec<(f64, f64, &str)> = risk_bands
        .iter()
        .map(|b| (b.from, b.to, b.label.as_str()))
        .collect();
    assert_eq!(
        bands,
        vec![
            (0.0, 3.0, "insignificant"),
            (3.0, 8.0, "low"),
            (8.0, 16.0, "medium"),
            (16.0, 30.0, "high"),
            (30.0, 100.0, "critical"),
        ]
    );
}

#[test]
fn every_tad_row_is_live_and_only_degrades_the_threats_dimensions() {
    let s = base();
    let m = &s.matrices;
    let mut by_type: HashMap<&str, HashSet<&str>> = HashMap::new();
    for r in &m.asset_type_vulnerability {
        by_type
            .entry(r.asset_type.as_str())
            .or_default()
            .insert(r.vulnerability.as_str());
    }
    let mut by_threat: HashMap<&str, HashSet<&str>> = HashMap::new();
    for r in &m.threat_vulnerability {
        by_threat
            .entry(r.threat.as_str())
            .or_default()
            .insert(r.vulnerability.as_str());
    }
    let dims: HashMap<&str, &Vec<Dimension>> = s
        .threats
        .iter()
        .map(|t| (t.id.as_str(), &t.dimensions))
        .collect();
    let empty = HashSet::new();
    for r in &m.asset_type_threat {
        let row = format!("{}/{}", r.asset_type, r.threat);
        if let Some(exploited) = by_threat.get(r.threat.as_str()) {
            let has: HashSet<&str> = lineage(s, r.asset_type.as_str())
                .into_iter()
                .flat_map(|t| by_type.get(t).unwrap_or(&empty).iter().copied())
                .collect();
            assert!(
                !has.is_disjoint(exploited),
                "TAD row {row} is dead: the type shares no vulnerability with the threat"
            );
        }
        for d in r.degradation.keys() {
            assert!(
                dims[r.threat.as_str()].contains(d),
                "TAD row {row} degrades {d:?}, which the threat does not affect"
            );
        }
        assert!(
            [20.0, 40.0, 60.0, 80.0, 100.0].contains(&r.probability),
            "TAD row {row}: probability {}",
            r.probability
        );
    }
}

#[test]
fn every_control_threat_and_asset_group_is_used_by_a_matrix() {
    let s = base();
    let m = &s.matrices;
    let used_controls: HashSet<&str> = m
        .threat_control
        .iter()
        .map(|r| r.control.as_str())
        .chain(m.regulation_control.iter().map(|r| r.control.as_str()))
        .chain(m.artefact_control.iter().map(|r| r.control.as_str()))
        .collect();
    for c in &s.controls {
        assert!(
            used_controls.contains(c.id.as_str()),
            "control {} is in no matrix row",
            c.id
        );
    }
    let mitigated: HashSet<&str> = m.threat_control.iter().map(|r| r.threat.as_str()).collect();
    let in_tad: HashSet<&str> = m
        .asset_type_threat
        .iter()
        .map(|r| r.threat.as_str())
        .collect();
    for t in &s.threats {
        assert!(
            mitigated.contains(t.id.as_str()),
            "threat {} has no control",
            t.id
        );
        assert!(
            in_tad.contains(t.id.as_str()),
            "threat {} has no TAD row",
            t.id
        );
    }
    for r in &m.threat_control {
        assert!(
            (20.0..=90.0).contains(&r.effect),
            "effect of {}/{} is {}",
            r.threat,
            r.control,
            r.effect
        );
    }
    let tad_groups: HashSet<&str> = m
        .asset_type_threat
        .iter()
        .filter_map(|r| lineage(s, r.asset_type.as_str()).last().copied())
        .collect();
    for g in GROUPS {
        assert!(
            tad_groups.contains(g),
            "asset-type group {g} has no TAD row"
        );
    }
}

#[test]
fn the_artefact_library_holds_the_required_procedures_regulations_and_artefacts() {
    let s = base();
    let procedures: HashMap<&str, &Procedure> =
        s.procedures.iter().map(|p| (p.id.as_str(), p)).collect();
    let schedules = [
        ("incident-management", None),
        ("access-management", None),
        ("backup-restore-test", Some("30d")),
        ("change-management", None),
        ("supplier-onboarding", None),
        ("asset-inventory-review", Some("180d")),
        ("awareness-certification", Some("365d")),
        ("continuity-test", Some("365d")),
        ("patch-management", Some("30d")),
        ("complaint-handling", None),
        ("management-review", Some("365d")),
    ];
    for (id, schedule) in schedules {
        let p = procedures
            .get(id)
            .unwrap_or_else(|| panic!("procedure {id} missing"));
        assert!(
            p.phases.len() >= 3,
            "procedure {id} has {} phases",
            p.phases.len()
        );
        if let Some(period) = schedule {
            assert_eq!(p.schedule.as_deref(), Some(period), "schedule of {id}");
        }
    }
    for p in &s.procedures {
        let next: HashMap<&str, &Vec<PhaseId>> = p
            .phases
            .iter()
            .map(|ph| (ph.id.as_str(), &ph.next))
            .collect();
        let mut seen = HashSet::from([p.start.as_str()]);
        let mut stack = vec![p.start.as_str()];
        while let Some(phase) = stack.pop() {
            for n in next[phase] {
                if seen.insert(n.as_str()) {
                    stack.push(n.as_str());
                }
            }
        }
        assert_eq!(
            seen.len(),
            p.phases.len(),
            "procedure {} has phases its paths never reach",
            p.id
        );
        assert!(
            p.phases.iter().any(|ph| ph.next.is_empty()),
            "procedure {} has no final phase",
            p.id
        );
        for ph in &p.phases {
            assert!(!ph.roles.is_empty(), "phase {}/{} has no role", p.id, ph.id);
            assert!(
                !ph.objects.is_empty(),
                "phase {}/{} uses no artefact",
                p.id,
                ph.id
            );
        }
    }

    assert!(
        s.regulations.len() >= 12,
        "{} regulations",
        s.regulations.len()
    );
    for r in &s.regulations {
        assert!(
            r.rules.len() >= 3,
            "regulation {} has {} rules",
            r.id,
            r.rules.len()
        );
    }
    assert!(s.artefacts.len() >= 30, "{} artefacts", s.artefacts.len());
    for kind in [
        ArtefactKind::Template,
        ArtefactKind::Register,
        ArtefactKind::Instruction,
    ] {
        assert!(
            s.artefacts.iter().any(|a| a.kind == kind),
            "no artefact of kind {kind:?}"
        );
    }
    let incidents = s
        .artefacts
        .iter()
        .find(|a| a.id.as_str() == "reg-incidents")
        .expect("the incident register");
    let kinds: Vec<FieldKind> = incidents.fields.iter().map(|f| f.kind).collect();
    for kind in [
        FieldKind::Threat,
        FieldKind::Assets,
        FieldKind::Damage,
        FieldKind::Date,
    ] {
        assert!(
            kinds.contains(&kind),
            "the incident register has no {kind:?} field"
        );
    }

    let m = &s.matrices;
    assert!(!m.procedure_artefact.is_empty());
    assert!(!m.regulation_artefact.is_empty());
    assert!(!m.regulation_control.is_empty());
    assert!(!m.artefact_control.is_empty());
    for r in &s.roles {
        if r.id.as_str().starts_with("Cl/") {
            let n = m.role_regulation.iter().filter(|x| x.role == r.id).count();
            assert!(
                n >= 2,
                "role {} must know {n} regulation(s), expected at least 2",
                r.id
            );
        }
    }
}

#[test]
fn the_culture_banks_measure_knowledge_not_test_taking() {
    // Issue 16.5: at least 8 questions per regulation, and the right answer is
    // the longest option in at most 40 % of a regulation's questions (always
    // picking the longest scored 81-85 % on the first bank).
    for name in shipped_schemas() {
        let s = load(&name);
        let culture = s.culture.as_ref().expect("a culture section");
        assert_eq!(
            (
                culture.pass_mark,
                culture.regulation_min,
                culture.valid_days
            ),
            (0.7, 0.5, 365),
            "{name}"
        );
        assert!(culture.per_regulation <= 5);
        let mut per_regulation: HashMap<&str, (usize, usize)> = HashMap::new();
        for q in &culture.questions {
            assert!(
                (3..=4).contains(&q.options.len()),
                "{name}: question {} has {} options",
                q.id,
                q.options.len()
            );
            assert!(
                q.answer < q.options.len(),
                "{name}: question {} answers outside its options",
                q.id
            );
            let right = q.options[q.answer].chars().count();
            let longest = q
                .options
                .iter()
                .enumerate()
                .all(|(i, o)| i == q.answer || o.chars().count() < right);
            let entry = per_regulation.entry(q.regulation.as_str()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(longest);
        }
        for r in &s.regulations {
            let (n, longest) = per_regulation.get(r.id.as_str()).copied().unwrap_or((0, 0));
            assert!(
                n >= 8,
                "{name}: regulation {} has {n} culture questions",
                r.id
            );
            assert!(
                longest * 10 <= n * 4,
                "{name}: in {longest} of the {n} questions of {} the right answer is the longest option",
                r.id
            );
        }
    }
}

#[test]
fn the_business_checklist_asks_what_drives_the_target_level() {
    let s = base();
    let questions: HashMap<&str, &BusinessQuestion> = s
        .business_checklist
        .iter()
        .map(|q| (q.id.as_str(), q))
        .collect();
    assert!(questions.len() >= 8);
    for id in [
        "employees",
        "turnover",
        "sector",
        "special_category_data",
        "online_sales",
        "remote_workers",
        "critical_suppliers",
        "certification_goal",
    ] {
        assert!(questions.contains_key(id), "business question {id} missing");
    }
    // The checklist decides applicability too (issue 16.7).
    let excludes = |id: &str, control: &str| {
        questions[id].not_applicable.iter().any(|r| {
            r.equals == Scalar::Bool(false) && r.controls.iter().any(|c| c.as_str() == control)
        })
    };
    assert!(excludes("own_software", "8.28"));
    assert!(excludes("remote_workers", "6.7"));
    assert_eq!(questions["employees"].maps_to.as_deref(), Some("employees"));
    assert_eq!(questions["turnover"].maps_to.as_deref(), Some("turnover"));
    assert_eq!(questions["sector"].maps_to.as_deref(), Some("sector"));
    let sectors: BTreeSet<&str> = s.sectors.iter().map(|x| x.id.as_str()).collect();
    let options: BTreeSet<&str> = questions["sector"]
        .options
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(options, sectors);
    assert!(questions["special_category_data"]
        .target_rules
        .iter()
        .any(|r| r.equals == Some(Scalar::Bool(true)) && r.level == 3));
    assert!(questions["online_sales"]
        .target_rules
        .iter()
        .any(|r| r.equals == Some(Scalar::Bool(true)) && r.level == 2));
    assert!(questions["certification_goal"]
        .target_rules
        .iter()
        .any(|r| r.equals == Some(Scalar::Text("iso27001".into())) && r.level == 3));
}

#[test]
fn the_retail_schema_is_about_taking_cards() {
    // Issue 16.3: a second real sector clone.
    let retail = load("retail-small");
    assert_eq!(
        retail.schema.based_on.as_ref().map(|b| b.id.as_str()),
        Some("base")
    );
    let r: Vec<&Control> = retail
        .controls
        .iter()
        .filter(|c| c.id.as_str().starts_with("R."))
        .collect();
    assert_eq!(r.len(), 5);
    for control in r {
        assert!(
            retail
                .matrices
                .threat_control
                .iter()
                .any(|x| x.control == control.id),
            "{}",
            control.id
        );
        assert!(
            retail
                .matrices
                .artefact_control
                .iter()
                .any(|x| x.control == control.id),
            "{}",
            control.id
        );
    }
    for kind in ["HW.pos", "S.shop", "D.card"] {
        assert!(
            retail.asset_types.iter().any(|t| t.id.as_str() == kind),
            "{kind}"
        );
    }
    assert!(retail
        .regulations
        .iter()
        .any(|x| x.id.as_str() == "card-payments"));
    assert!(retail
        .obligations
        .iter()
        .any(|o| o.id.as_str() == "PCI-DSS-6.4.3"));
    // Everything else is EB's.
    for control in &base().controls {
        assert!(
            retail.controls.contains(control),
            "{} differs in retail-small",
            control.id
        );
    }
}

#[test]
fn the_health_schema_is_about_health() {
    // Issue 16.3: more than the base schema renamed.
    let health = load("health-small");
    let base = base();
    for kind in ["HW.medical", "SW.clinical", "D.clinical"] {
        assert!(
            health.asset_types.iter().any(|t| t.id.as_str() == kind),
            "{kind}"
        );
        assert!(
            base.asset_types.iter().all(|t| t.id.as_str() != kind),
            "{kind} is health's own"
        );
        assert!(
            health
                .matrices
                .asset_type_threat
                .iter()
                .any(|r| r.asset_type.as_str() == kind)
                || kind == "SW.clinical",
            "{kind} has TAD rows of its own"
        );
    }
    let question = |needle: &str| {
        health
            .subcontrols()
            .filter(|(c, _)| c.id.as_str().starts_with("H."))
            .any(|(_, s)| s.text.contains(needle))
    };
    for needle in [
        "who opened",
        "two details",
        "five years",
        "data protection officer",
        "medical devices",
    ] {
        assert!(question(needle), "a health question on {needle}");
    }
    // Every health control treats a threat and has a document behind it.
    for control in health
        .controls
        .iter()
        .filter(|c| c.id.as_str().starts_with("H."))
    {
        assert!(
            health
                .matrices
                .threat_control
                .iter()
                .any(|r| r.control == control.id),
            "{} treats no threat",
            control.id
        );
        assert!(
            health
                .matrices
                .artefact_control
                .iter()
                .any(|r| r.control == control.id),
            "{} has no document",
            control.id
        );
    }
    assert!(health
        .regulations
        .iter()
        .any(|r| r.id.as_str() == "clinical-information"));
    let lap: Vec<&str> = health
        .obligations
        .iter()
        .filter(|o| o.source.as_str() == "LAP")
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(lap, ["LAP-14", "LAP-16", "LAP-17", "LAP-18", "LAP-19"]);
    // The demo clinic's X-ray unit is a medical device.
    let demo = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/examples/dental-clinic.yaml"),
    )
    .unwrap();
    assert!(demo
        .lines()
        .any(|l| l.contains("xray-unit") && l.contains("type: HW.medical")));
}

#[test]
fn the_health_clone_is_based_on_base_and_raises_targets_and_health_threats() {
    let health = load("health-small");
    let base = base();
    assert_eq!(health.schema.id.as_str(), "health-small");
    assert_eq!(
        health.schema.based_on,
        Some(SchemaRef {
            id: SchemaId::new("base"),
            version: base.schema.version
        })
    );
    let sectors: Vec<&str> = health
        .schema
        .applies_to
        .sectors
        .iter()
        .map(|x| x.as_str())
        .collect();
    assert_eq!(sectors, vec!["health"]);
    for (size, level) in &health.schema.target_level {
        assert!(
            *level > base.schema.target_level[size],
            "target of {size} is not raised"
        );
    }
    // The clone holds every base control as it is, and health controls of its own.
    for control in &base.controls {
        assert!(
            health.controls.contains(control),
            "{} differs in health-small",
            control.id
        );
    }
    let base_p: HashMap<(&str, &str), f64> = base
        .matrices
        .asset_type_threat
        .iter()
        .map(|r| ((r.asset_type.as_str(), r.threat.as_str()), r.probability))
        .collect();
    let raised: Vec<String> = health
        .matrices
        .asset_type_threat
        .iter()
        .filter(|r| {
            base_p
                .get(&(r.asset_type.as_str(), r.threat.as_str()))
                .is_some_and(|p| r.probability > *p)
        })
        .map(|r| format!("{}/{}", r.asset_type, r.threat))
        .collect();
    for row in ["D.personal/A.19", "D.personal/A.11", "D.backup/A.18"] {
        assert!(
            raised.iter().any(|r| r == row),
            "{row} is not raised in health-small: {raised:?}"
        );
    }
}

#[test]
fn metrics_bind_shipped_scripts_to_subcontrols_in_both_schemas() {
    let scripts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/metrics");
    for schema in [base(), &load("health-small")] {
        let scoring = schema
            .metrics
            .iter()
            .filter(|m| !m.subcontrols.is_empty())
            .count();
        assert!(scoring >= 40, "{scoring} metrics score a question");
        let subcontrols: HashSet<&str> = schema.subcontrols().map(|(_, s)| s.id.as_str()).collect();
        let mut bound = HashSet::new();
        for metric in &schema.metrics {
            assert!(
                scripts.join(format!("{}.lua", metric.source)).is_file(),
                "metric {} names no shipped script",
                metric.id
            );
            // An indicator scores no question; only incidents-90d is one.
            assert!(
                !metric.subcontrols.is_empty() || metric.id.as_str() == "incidents-90d",
                "metric {}",
                metric.id
            );
            for s in &metric.subcontrols {
                assert!(
                    subcontrols.contains(s.as_str()),
                    "metric {}: {s}",
                    metric.id
                );
                assert!(bound.insert(s.as_str()), "{s} is bound to two metrics");
            }
        }
    }
    assert_eq!(base().metrics, load("health-small").metrics);
}

#[test]
fn the_base_schema_as_one_document_loads_back_equal() {
    let text = mmsm_schema::export_to_text(base());
    let loaded = mmsm_schema::load_files(vec![mmsm_schema::SourceFile {
        path: PathBuf::from("base.yaml"),
        text,
    }])
    .unwrap_or_else(|p| panic!("{p}"));
    assert!(
        loaded.schema == *base(),
        "the one-document export of EB loads back equal"
    );
}
