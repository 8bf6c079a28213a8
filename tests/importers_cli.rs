//! Importers (issue 6 part 5) through the real binary: the real public
//! catalogues of `../shared/data/` (read in place, never copied) and the
//! small catalogues of `schemas/standards/`.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{repo_root, Mmsm};
use mmsm_kernel::access::Principal;
use mmsm_kernel::services::Kernel;
use mmsm_model::Schema;
use mmsm_store::Store;
use serde_json::Value;

fn shared(path: &str) -> PathBuf {
    repo_root().join("../shared/data").join(path)
}

fn import(m: &Mmsm, args: &[&str]) -> Value {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    all.push("--json");
    m.run(&all).ok().json()
}

fn stored(m: &Mmsm, id: &str) -> Schema {
    let kernel = Kernel::new(Store::open(&m.data()).unwrap());
    kernel
        .schema(&Principal::local_operator(), id, None)
        .unwrap()
        .schema
}

fn withdrawn(element: &Value) -> bool {
    element["props"].as_array().is_some_and(|p| {
        p.iter()
            .any(|p| p["name"] == "status" && p["value"] == "withdrawn")
    })
}

#[test]
fn oscal_800_53_keeps_every_control_and_enhancement_not_withdrawn() {
    let file = shared("nist-oscal/NIST_SP-800-53_rev5_catalog.json");
    let m = Mmsm::new();
    let summary = import(
        &m,
        &[
            "oscal-catalog",
            file.to_str().unwrap(),
            "--schema",
            "nist-800-53",
            "--new",
        ],
    );
    assert_eq!(summary["outcome"]["status"], "created");

    let catalog: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let (mut controls, mut enhancements, mut gone) = (BTreeSet::new(), BTreeSet::new(), 0);
    for group in catalog["catalog"]["groups"].as_array().unwrap() {
        for control in group["controls"].as_array().unwrap() {
            if withdrawn(control) {
                gone += 1;
                continue;
            }
            controls.insert(control["id"].as_str().unwrap().to_owned());
            for e in control["controls"].as_array().into_iter().flatten() {
                if !withdrawn(e) {
                    enhancements.insert(e["id"].as_str().unwrap().to_owned());
                }
            }
        }
    }
    let schema = stored(&m, "nist-800-53");
    let have: BTreeSet<String> = schema.controls.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(
        have, controls,
        "every non-withdrawn control, and only those"
    );
    assert_eq!(controls.len(), 298);
    let subs: BTreeSet<String> = schema
        .subcontrols()
        .map(|(_, s)| s.id.to_string())
        .collect();
    assert!(
        enhancements.is_subset(&subs),
        "every non-withdrawn enhancement is a subcontrol"
    );
    assert_eq!(schema.domains.len(), 20);
    assert_eq!(summary["skipped"]["withdrawn controls"], gone);
    let ac2 = schema
        .controls
        .iter()
        .find(|c| c.id.as_str() == "ac-2")
        .unwrap();
    assert!(ac2
        .subcontrols
        .iter()
        .any(|s| s.id.as_str() == "ac-2_smt.a" && s.level == 1));
    assert!(ac2
        .subcontrols
        .iter()
        .any(|s| s.id.as_str() == "ac-2.1" && s.level == 2));
    assert!(
        !ac2.subcontrols.iter().any(|s| s.text.contains("{{")),
        "parameters are resolved"
    );

    // The same file again changes nothing.
    let again = import(
        &m,
        &[
            "oscal-catalog",
            file.to_str().unwrap(),
            "--schema",
            "nist-800-53",
        ],
    );
    assert_eq!(again["outcome"]["status"], "unchanged");
    assert_eq!(again["kinds"]["controls"]["unchanged"], 298);
}

#[test]
fn oscal_csf_2_0_maps_functions_categories_and_subcategories() {
    let file = shared("nist-oscal/NIST_CSF_v2.0_catalog-min.json");
    let m = Mmsm::new();
    let summary = import(
        &m,
        &[
            "oscal-catalog",
            file.to_str().unwrap(),
            "--schema",
            "csf",
            "--new",
        ],
    );
    let schema = stored(&m, "csf");
    assert_eq!(schema.domains.len(), 6, "GV, ID, PR, DE, RS, RC");
    assert!(schema.controls.iter().any(|c| c.id.as_str() == "GV.OC"));
    assert!(schema
        .subcontrols()
        .any(|(_, s)| s.id.as_str() == "GV.OC-01"));
    assert!(summary["skipped"]["withdrawn controls"].as_u64().unwrap() > 0);
}

#[test]
fn ciso_assistant_mapping_800_53_to_iso_27001_keeps_every_pair() {
    let file = shared("ciso-assistant/mapping-nist-sp-800-53-rev5-to-iso27001-2022.yaml");
    let m = Mmsm::new();
    import(
        &m,
        &[
            "ciso-assistant",
            file.to_str().unwrap(),
            "--schema",
            "map",
            "--new",
        ],
    );
    let schema = stored(&m, "map");
    let have: BTreeSet<(String, String)> = schema
        .mappings
        .iter()
        .map(|p| (p.from.clone(), p.to.clone()))
        .collect();
    let text = std::fs::read_to_string(&file).unwrap();
    // Ids follow the schema grammar: 800-53's enhancement `sa-11(1)` is `sa-11.1`.
    let node = |urn: &str| {
        let node = urn.rsplit_once("req_node:").unwrap().1;
        node.replace(')', "").replace('(', ".")
    };
    let mut pairs = BTreeSet::new();
    let mut source = None;
    for line in text.lines() {
        let line = line.trim().trim_start_matches("- ");
        if let Some(urn) = line.strip_prefix("source_requirement_urn: ") {
            source = Some(node(urn));
        } else if let Some(urn) = line.strip_prefix("target_requirement_urn: ") {
            pairs.insert((source.take().unwrap(), node(urn)));
        }
    }
    assert!(have.contains(&(
        "nist-sp-800-53-rev5:sa-11.1".to_owned(),
        "iso27001-2022:a.8.28".to_owned()
    )));
    assert_eq!(pairs.len(), 1284);
    assert_eq!(have, pairs, "all the pairs of the mapping set");
    assert!(have.contains(&(
        "nist-sp-800-53-rev5:ac-1".to_owned(),
        "iso27001-2022:a.5.1".to_owned()
    )));
}

#[test]
fn ciso_assistant_frameworks_become_domains_and_controls() {
    let m = Mmsm::new();
    let file = shared("ciso-assistant/nist-sp-800-53-rev5.yaml");
    let summary = import(
        &m,
        &[
            "ciso-assistant",
            file.to_str().unwrap(),
            "--schema",
            "ca",
            "--new",
        ],
    );
    let schema = stored(&m, "ca");
    assert_eq!(schema.domains.len(), 20);
    assert!(schema.controls.iter().any(|c| c.id.as_str() == "ac-2"));
    assert!(
        !schema.controls.iter().any(|c| c.id.as_str() == "ac-13"),
        "withdrawn"
    );
    assert!(
        summary["skipped"]["withdrawn requirements"]
            .as_u64()
            .unwrap()
            >= 170
    );

    let iso = shared("ciso-assistant/iso27001-2022.yaml");
    import(
        &m,
        &[
            "ciso-assistant",
            iso.to_str().unwrap(),
            "--schema",
            "iso27001",
            "--new",
        ],
    );
    let schema = stored(&m, "iso27001");
    let annex = schema
        .controls
        .iter()
        .filter(|c| c.id.as_str().starts_with("a."))
        .count();
    assert_eq!(annex, 93, "the 93 controls of Annex A");
}

#[test]
fn iso27002_merges_by_id_and_keeps_the_subcontrols() {
    let m = Mmsm::new();
    let before = {
        m.run(&["schema", "list"]).ok();
        stored(&m, "base")
    };
    let summary = import(
        &m,
        &[
            "iso27002",
            "schemas/standards/iso27002-sample.csv",
            "--schema",
            "base",
        ],
    );
    assert_eq!(summary["outcome"]["version"], 2);
    assert_eq!(summary["kinds"]["controls"]["added"], 1);
    assert_eq!(summary["kinds"]["controls"]["changed"], 7);
    assert_eq!(summary["skipped"]["rows without id or title"], 1);
    let after = stored(&m, "base");
    let control = |s: &Schema, id: &str| s.controls.iter().find(|c| c.id.as_str() == id).cloned();
    let backup = control(&after, "8.13").unwrap();
    assert_eq!(
        backup.subcontrols,
        control(&before, "8.13").unwrap().subcontrols
    );
    assert!(backup.description.unwrap().contains("#Recover"));
    let new = control(&after, "8.35").unwrap();
    assert_eq!(new.subcontrols.len(), 1);
    assert_eq!(after.domains, before.domains, "names and descriptions kept");
}

#[test]
fn magerit_adds_asset_types_threats_and_tad_rows_from_json_or_csv() {
    let m = Mmsm::new();
    m.run(&["schema", "list"]).ok();
    let json = import(
        &m,
        &[
            "magerit",
            "schemas/standards/magerit-sample.json",
            "--schema",
            "base",
        ],
    );
    assert_eq!(json["kinds"]["asset_types"]["added"], 2);
    assert_eq!(json["kinds"]["asset_type_threat"]["added"], 2);
    let schema = stored(&m, "base");
    let row = schema
        .matrices
        .asset_type_threat
        .iter()
        .find(|r| r.asset_type.as_str() == "HW.iot")
        .unwrap();
    assert_eq!(row.probability, 20.0);
    assert_eq!(row.degradation.len(), 2);
    // The CSV says the same for what it holds: nothing new to store.
    let csv = import(
        &m,
        &[
            "magerit",
            "schemas/standards/magerit-sample.csv",
            "--schema",
            "base",
        ],
    );
    assert_eq!(csv["outcome"]["status"], "unchanged");
    assert_eq!(csv["skipped"]["rows of unknown sections"], 1);
}

#[test]
fn cobit_mapping_gives_mappings_and_a_second_framework() {
    let m = Mmsm::new();
    let file = "schemas/standards/cobit-iso27002-sample.csv";
    let new = import(&m, &["cobit-mapping", file, "--schema", "cobit", "--new"]);
    assert_eq!(new["kinds"]["mappings"]["added"], 12);
    let schema = stored(&m, "cobit");
    assert!(schema.controls.iter().any(|c| c.id.as_str() == "APO13"));
    assert!(schema
        .subcontrols()
        .any(|(_, s)| s.id.as_str() == "DSS05.04"));
    assert!(schema
        .mappings
        .iter()
        .any(|p| p.from == "cobit2019:DSS04.07" && p.to == "iso27002:8.13"));

    let into_base = import(&m, &["cobit-mapping", file, "--schema", "base"]);
    assert!(into_base["kinds"].get("controls").is_none(), "{into_base}");
    assert_eq!(stored(&m, "base").mappings.len(), 12);
}

#[test]
fn an_import_that_breaks_the_rules_stores_nothing() {
    let m = Mmsm::new();
    // A TAD row naming an asset type the schema lacks.
    let bad = m.path("bad.json");
    std::fs::write(
        &bad,
        r#"{"tad": [{"asset_type": "XX.nope", "threat": "A.24", "probability": 5, "D": 10}]}"#,
    )
    .unwrap();
    let out = m
        .run(&[
            "import",
            "magerit",
            bad.to_str().unwrap(),
            "--schema",
            "base",
        ])
        .fails();
    assert!(out.stderr.contains("XX.nope"), "{}", out.stderr);
    assert_eq!(
        Kernel::new(Store::open(&m.data()).unwrap())
            .store()
            .schema_versions("base")
            .unwrap(),
        vec![1]
    );
    let exists = m
        .run(&[
            "import",
            "magerit",
            bad.to_str().unwrap(),
            "--schema",
            "base",
            "--new",
        ])
        .fails();
    assert!(
        exists.stderr.contains("exists already"),
        "{}",
        exists.stderr
    );
    let missing = m
        .run(&[
            "import",
            "iso27002",
            "schemas/standards/iso27002-sample.csv",
            "--schema",
            "nope",
        ])
        .fails();
    assert!(missing.stderr.contains("--new"), "{}", missing.stderr);
}

#[test]
fn the_nist_mappings_imported_into_the_health_schema_reach_the_soa() {
    // CISO Assistant's mapping sets name ISO/IEC 27001:2022 Annex A controls
    // (`iso27001-2022:a.5.1`): the SoA finds them on the 27002 control they number.
    let m = Mmsm::new();
    for set in [
        "ciso-assistant/mapping-nist-csf-2.0-to-iso27001-2022.yaml",
        "ciso-assistant/mapping-nist-sp-800-53-rev5-to-iso27001-2022.yaml",
    ] {
        let file = shared(set);
        import(
            &m,
            &[
                "ciso-assistant",
                file.to_str().unwrap(),
                "--schema",
                "health-small",
            ],
        );
    }
    let generated = m
        .run(&[
            "isms",
            "generate",
            "schemas/examples/dental-clinic.yaml",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(generated["schema"]["version"], 3, "{generated}");
    let id = generated["id"].as_str().unwrap();
    let soa = m.run(&["isms", "soa", id, "--json"]).ok().json();
    let row = |control: &str| {
        soa.as_array()
            .unwrap()
            .iter()
            .find(|r| r["control"] == control)
            .unwrap()
            .clone()
    };
    let policy = row("5.1");
    let requirements: Vec<&str> = policy["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let csf = requirements
        .iter()
        .find(|r| r.starts_with("nist-csf-2.0 "))
        .unwrap_or_else(|| panic!("{policy}"));
    assert!(csf.contains("gv.po-01"), "{csf}");
    assert!(
        requirements
            .iter()
            .any(|r| r.starts_with("nist-sp-800-53-rev5 ") && r.contains("ac-1")),
        "{policy}"
    );
    assert!(
        policy["reason"].as_str().unwrap().contains("nist-csf-2.0 "),
        "{policy}"
    );
    // 5.10 is not 5.1: its requirements are its own.
    let acceptable_use = row("5.10");
    assert_ne!(acceptable_use["requirements"], policy["requirements"]);
}
