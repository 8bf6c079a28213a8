//! The GEGS commands through the real binary on temporary stores.

mod common;

use common::{copy_dir, repo_root, Mmsm};

const MINI: &str = "tests/fixtures/mini";

fn schema_ids(m: &Mmsm) -> Vec<(String, u64)> {
    m.run(&["schema", "list", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["version"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_fresh_store_holds_the_shipped_base_schema() {
    let m = Mmsm::new();
    let run = m.run(&["schema", "list"]).ok();
    assert!(
        run.stdout.lines().any(|l| l.starts_with("base ")),
        "{}",
        run.stdout
    );
    assert!(
        m.data().is_dir(),
        "the store folder is created on first use"
    );
}

#[test]
fn import_list_show_and_reimport() {
    let m = Mmsm::new();
    let first = m.run(&["schema", "import", MINI, "--json"]).ok().json();
    assert_eq!(first["id"], "mini");
    assert_eq!(first["version"], 1);
    assert_eq!(first["status"], "created");

    let again = m.run(&["--json", "schema", "import", MINI]).ok().json();
    assert_eq!(again["status"], "unchanged");
    assert_eq!(again["version"], 1);

    let list = m.run(&["schema", "list", "--json"]).ok().json();
    let mini = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "mini")
        .unwrap();
    assert_eq!(mini["counts"]["controls"], 1);
    assert_eq!(mini["counts"]["subcontrols"], 2);
    assert_eq!(mini["counts"]["threats"], 1);
    assert_eq!(mini["counts"]["asset_types"], 2);
    assert_eq!(mini["counts"]["procedures"], 0);

    let show = m.run(&["schema", "show", "mini", "--json"]).ok().json();
    assert_eq!(show["subcontrols_per_level"]["1"], 1);
    assert_eq!(show["subcontrols_per_level"]["2"], 1);
    let text = m.run(&["schema", "show", "mini"]).ok().stdout;
    assert!(text.contains("subcontrols           2"), "{text}");
}

#[test]
fn changed_content_becomes_the_next_version_and_diff_names_it() {
    let m = Mmsm::new();
    m.run(&["schema", "import", MINI]).ok();
    let changed = m.path("mini2");
    copy_dir(&repo_root().join(MINI), &changed);
    let risk = changed.join("risk.yaml");
    let text = std::fs::read_to_string(&risk)
        .unwrap()
        .replace("effect: 80", "effect: 70");
    std::fs::write(&risk, text).unwrap();
    let out = m
        .run(&["schema", "import", changed.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(
        (out["version"].as_u64(), out["status"].as_str()),
        (Some(2), Some("new_version"))
    );

    let diff = m
        .run(&["schema", "diff", "mini", "1", "2", "--json"])
        .ok()
        .json();
    assert_eq!(diff["kinds"]["threat_control"][0]["id"], "A.24/8.13");
    assert_eq!(diff["kinds"]["threat_control"][0]["change"], "changed");
    assert_eq!(diff["kinds"]["threat_control"][0]["fields"][0], "effect");
    // Each changed field with its value before and after (issue 17.10).
    assert_eq!(
        diff["kinds"]["threat_control"][0]["values"],
        serde_json::json!([{ "field": "effect", "before": 80.0, "after": 70.0 }])
    );
    let text = m.run(&["schema", "diff", "mini", "1", "2"]).ok().stdout;
    assert_eq!(
        text,
        "threat_control:\n  ~ A.24/8.13 (effect)\n      effect: 80 -> 70\n"
    );

    // Version 1 is immutable: it still holds the old effect.
    let v1 = m
        .run(&["schema", "show", "mini", "--version", "1", "--json"])
        .ok()
        .json();
    assert_eq!(v1["header"]["version"], 1);
}

#[test]
fn clone_records_based_on_and_narrows_sector_and_size() {
    let m = Mmsm::new();
    m.run(&["schema", "import", MINI]).ok();
    let out = m
        .run(&[
            "schema",
            "clone",
            "mini",
            "mini-health",
            "--name",
            "Mini for clinics",
            "--sector",
            "health",
            "--size",
            "small",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(out["status"], "created");
    let show = m
        .run(&["schema", "show", "mini-health", "--json"])
        .ok()
        .json();
    assert_eq!(show["header"]["based_on"]["id"], "mini");
    assert_eq!(show["header"]["based_on"]["version"], 1);
    assert_eq!(show["header"]["name"], "Mini for clinics");
    assert_eq!(show["header"]["applies_to"]["sectors"][0], "health");
    let again = m.run(&["schema", "clone", "mini", "mini-health"]).fails();
    assert!(
        again.stderr.contains("schema `mini-health` exists already"),
        "{}",
        again.stderr
    );
}

#[test]
fn export_then_import_gives_back_the_same_schema() {
    let m = Mmsm::new();
    m.run(&["schema", "import", MINI]).ok();
    let out = m.path("exported");
    m.run(&["schema", "export", "mini", out.to_str().unwrap()])
        .ok();
    m.run(&["schema", "validate", out.to_str().unwrap()]).ok();
    let again = m
        .run(&["schema", "import", out.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(
        again["status"], "unchanged",
        "an exported schema imports as the same content"
    );
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let m = Mmsm::new();
    let bad = m.path("bad");
    copy_dir(&repo_root().join(MINI), &bad);
    std::fs::write(
        bad.join("risk.yaml"),
        "threats:\n  - { id: A.1, name: [oops\n",
    )
    .unwrap();
    let run = m
        .run(&["schema", "validate", bad.to_str().unwrap()])
        .fails();
    assert!(run.stderr.contains("risk.yaml:2:"), "{}", run.stderr);
}

#[test]
fn validate_reports_every_problem_at_once_as_json() {
    let m = Mmsm::new();
    let bad = m.path("bad");
    copy_dir(&repo_root().join(MINI), &bad);
    std::fs::write(
        bad.join("risk.yaml"),
        r#"
asset_types: [{ id: HW, name: Hardware }, { id: HW, name: Again }]
threats: [{ id: A.24, name: DoS, origin: attack, dimensions: [D] }]
matrices:
  asset_type_threat: [{ asset_type: HX, threat: A.24, probability: 160, degradation: { D: 90 } }]
"#,
    )
    .unwrap();
    let run = m
        .run(&["schema", "validate", bad.to_str().unwrap(), "--json"])
        .fails();
    let doc = run.json();
    assert_eq!(doc["valid"], false);
    let messages: Vec<String> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["kind"].as_str().unwrap(),
                e["id"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        messages,
        [
            "asset type HW duplicate asset type id (first defined in ".to_owned()
                + bad.join("risk.yaml").to_str().unwrap()
                + "); expected ids unique per kind",
            "asset_type_threat HX/A.24 unknown asset type `HX`; expected an asset type id of the schema (did you mean `HW`?)".into(),
            "asset_type_threat HX/A.24 probability 160 is out of range; expected 0..100".into(),
        ]
    );
    assert!(doc["errors"][0]["file"]
        .as_str()
        .unwrap()
        .ends_with("risk.yaml"));
}

#[test]
fn a_failed_import_leaves_the_store_unchanged() {
    let m = Mmsm::new();
    m.run(&["schema", "import", MINI]).ok();
    let before = schema_ids(&m);
    let bad = m.path("bad");
    copy_dir(&repo_root().join(MINI), &bad);
    std::fs::write(
        bad.join("extra.yaml"),
        "controls:\n  - { id: \"9.1\", domain: \"9\", title: X, subcontrols: [] }\n",
    )
    .unwrap();
    let run = m.run(&["schema", "import", bad.to_str().unwrap()]).fails();
    assert!(run.stderr.contains("unknown domain `9`"), "{}", run.stderr);
    assert_eq!(schema_ids(&m), before);
}

#[test]
fn unknown_fields_are_refused_with_their_name() {
    let m = Mmsm::new();
    let bad = m.path("bad");
    copy_dir(&repo_root().join(MINI), &bad);
    let path = bad.join("schema.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("title: Information backup", "titel: Information backup");
    std::fs::write(&path, text).unwrap();
    let run = m.run(&["schema", "import", bad.to_str().unwrap()]).fails();
    assert!(
        run.stderr.contains("unknown field `titel`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_user_without_a_schemas_role_is_refused_and_nothing_is_written() {
    let m = Mmsm::new();
    let before = schema_ids(&m);
    let run = m.run(&["schema", "import", MINI, "--as", "carl"]).fails();
    assert!(
        run.stderr.contains("`carl` may not import a schema"),
        "{}",
        run.stderr
    );
    let run = m
        .run(&["--as", "carl", "schema", "clone", "base", "x"])
        .fails();
    assert!(
        run.stderr.contains("may not clone a schema"),
        "{}",
        run.stderr
    );
    assert_eq!(schema_ids(&m), before);
}

#[test]
fn a_locked_store_gives_a_clear_message() {
    let m = Mmsm::new();
    m.run(&["schema", "list"]).ok();
    let _held = mmsm_store::Store::open(&m.data()).unwrap();
    let run = m.run(&["schema", "list"]).fails();
    assert!(
        run.stderr.contains("is in use by another mmsm process"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn unknown_schema_names_the_known_ones() {
    let m = Mmsm::new();
    let run = m.run(&["schema", "show", "nope"]).fails();
    assert!(
        run.stderr
            .contains("schema `nope` not found; known schemas: base"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_warns_that_a_schedule_of_minutes_may_mean_months_and_still_passes() {
    let m = Mmsm::new();
    let dir = m.path("short");
    copy_dir(&repo_root().join("tests/fixtures/msgs"), &dir);
    let path = dir.join("schema.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("schedule: 30d", "schedule: 6m", 1)).unwrap();
    let run = m.run(&["schema", "validate", dir.to_str().unwrap()]).ok();
    assert!(run.stdout.contains("warning:"), "{}", run.stdout);
    assert!(run.stdout.contains("6mo"), "{}", run.stdout);
    assert!(run.stdout.contains("is valid"), "{}", run.stdout);
    let doc = m
        .run(&["schema", "validate", dir.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["warnings"].as_array().unwrap().len(), 1, "{doc}");
    // A month is written 6mo and draws no warning.
    std::fs::write(&path, text.replacen("schedule: 30d", "schedule: 6mo", 1)).unwrap();
    let run = m.run(&["schema", "validate", dir.to_str().unwrap()]).ok();
    assert!(!run.stdout.contains("warning:"), "{}", run.stdout);
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    let m = Mmsm::new();
    m.run(&["schema", "list"]).ok();
    for _ in 0..5 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mmsm"))
            .arg("--data")
            .arg(m.data())
            .args(["schema", "list"])
            .env_remove("MMSM_DATA")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before the command writes (`| head -0`).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{:?}: {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn the_help_names_each_command_with_its_own_text() {
    let m = Mmsm::new();
    let help = m.run(&["--help"]).ok().stdout;
    let line = |command: &str| -> String {
        help.lines()
            .find(|l| l.trim_start().starts_with(&format!("{command} ")))
            .unwrap_or_else(|| panic!("no line for {command} in {help}"))
            .to_owned()
    };
    assert!(line("culture").contains("security-culture"), "{help}");
    assert!(line("watch").contains("Reload scripts"), "{help}");
}
