//! MSGS through the real binary: users, culture certificates, procedures,
//! incidents and suggestions, plan follow-up, history and schema statistics.

mod common;

use std::process::Command;

use common::{repo_root, Mmsm, Run};
use serde_json::Value;

const SCHEMA: &str = "tests/fixtures/msgs";
const PROFILE: &str = "tests/fixtures/msgs-profile.yaml";
const ISMS: &str = "taller-gil";
const ALL_RIGHT: &str = r#"{ "sp-1": 1, "sp-2": 0, "sp-3": 1, "bk-1": 0, "bk-2": 1 }"#;
const ALL_WRONG: &str = r#"{ "sp-1": 0, "sp-2": 1, "sp-3": 0, "bk-1": 1, "bk-2": 0 }"#;

/// Runs the binary with the clock fixed at `now` (MMSM_NOW).
fn at(m: &Mmsm, now: &str, args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_mmsm"))
        .arg("--data")
        .arg(m.data())
        .args(args)
        .env_remove("MMSM_DATA")
        .env("MMSM_NOW", now)
        .current_dir(repo_root())
        .output()
        .expect("mmsm runs")
        .into()
}

const DAY1: &str = "2027-01-10T09:00:00Z";

fn setup() -> Mmsm {
    let m = Mmsm::new();
    m.run(&["schema", "import", SCHEMA]).ok();
    at(&m, DAY1, &["isms", "generate", PROFILE, "--schema", "msgs"]).ok();
    std::fs::write(m.path("right.json"), ALL_RIGHT).unwrap();
    std::fs::write(m.path("wrong.json"), ALL_WRONG).unwrap();
    m
}

fn file(m: &Mmsm, name: &str, text: &str) -> String {
    std::fs::write(m.path(name), text).unwrap();
    m.path(name).display().to_string()
}

fn certify(m: &Mmsm, now: &str, user: &str) -> Value {
    let answers = m.path("right.json").display().to_string();
    at(
        m,
        now,
        &[
            "culture",
            "test",
            ISMS,
            user,
            "--as",
            user,
            "--answers",
            &answers,
            "--json",
        ],
    )
    .ok()
    .json()
}

fn status_of(m: &Mmsm, now: &str, user: &str) -> Value {
    let status = at(m, now, &["culture", "status", ISMS, "--json"])
        .ok()
        .json();
    status["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"] == user)
        .cloned()
        .unwrap()
}

fn compliance(m: &Mmsm, control: &str) -> f64 {
    let board = m
        .run(&["isms", "board", ISMS, "--json", "--maintenance"])
        .ok()
        .json();
    board["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == control)
        .unwrap()["compliance"]
        .as_f64()
        .unwrap()
}

fn risk(m: &Mmsm, asset: &str, threat: &str) -> Value {
    let risks = m.run(&["isms", "risks", ISMS, "--json"]).ok().json();
    risks
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["asset"] == asset && r["threat"] == threat)
        .cloned()
        .unwrap()
}

/// Reports an incident as luis and assesses it as ana; returns the instance id.
fn incident(m: &Mmsm, now: &str, damage: &str) -> String {
    let report = file(
        m,
        "report.yaml",
        "reported_on: 2027-01-10\ntitle: ERP down all morning\n",
    );
    let started = at(
        m,
        now,
        &[
            "proc",
            "start",
            ISMS,
            "incident-management",
            "--as",
            "luis",
            "--fields",
            &report,
            "--json",
        ],
    )
    .ok()
    .json();
    let id = started["instance"]["id"].as_str().unwrap().to_owned();
    let assess = file(
        m,
        "assess.yaml",
        &format!("threat: A.24\nassets: [erp]\ndamage: {damage}\nseverity: high\n"),
    );
    at(
        m,
        now,
        &[
            "proc", "advance", &id, "assess", "--as", "ana", "--fields", &assess,
        ],
    )
    .ok();
    id
}

#[test]
fn users_are_added_listed_given_roles_and_removed() {
    let m = setup();
    at(
        &m,
        DAY1,
        &[
            "isms", "user", "add", ISMS, "eva", "--name", "Eva Sanz", "--role", "Cl/GDS",
        ],
    )
    .ok();
    let users = m.run(&["isms", "user", "list", ISMS, "--json"]).ok().json();
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == "eva" && u["roles"][0] == "Cl/GDS"),
        "{users}"
    );
    let err = m
        .run(&[
            "isms", "user", "add", ISMS, "max", "--name", "Max", "--role", "Cl/XX",
        ])
        .fails();
    assert!(
        err.stderr
            .contains("`Cl/XX` is not a role of schema msgs@1"),
        "{}",
        err.stderr
    );
    let err = m
        .run(&[
            "isms", "user", "add", ISMS, "eva", "--name", "Eva", "--role", "Cl/US",
        ])
        .fails();
    assert!(err.stderr.contains("exists already"), "{}", err.stderr);
    // only the security officer manages users
    let err = m
        .run(&[
            "isms", "user", "add", ISMS, "max", "--name", "Max", "--role", "Cl/US", "--as", "luis",
        ])
        .fails();
    assert!(err.stderr.contains("Cl/RS"), "{}", err.stderr);
    m.run(&[
        "isms", "user", "roles", ISMS, "eva", "--role", "Cl/US", "--as", "ana",
    ])
    .ok();
    m.run(&["isms", "user", "remove", ISMS, "eva"]).ok();
    let users = m.run(&["isms", "user", "list", ISMS, "--json"]).ok().json();
    assert!(
        !users.as_array().unwrap().iter().any(|u| u["id"] == "eva"),
        "{users}"
    );
}

#[test]
fn a_pass_issues_a_certificate_that_feeds_the_culture_share_on_the_board() {
    let m = setup();
    assert_eq!(compliance(&m, "6.3"), 0.0, "answered no, nobody certified");
    let result = certify(&m, DAY1, "luis");
    assert_eq!(result["passed"], true, "{result}");
    assert_eq!(
        result["certificate"]["expires_at"].as_u64().unwrap()
            - result["certificate"]["issued_at"].as_u64().unwrap(),
        365 * 86_400
    );
    assert!(
        (compliance(&m, "6.3") - 50.0).abs() < 1e-9,
        "1 of 2 users certified"
    );
    certify(&m, DAY1, "ana");
    assert!((compliance(&m, "6.3") - 100.0).abs() < 1e-9);
    let history = m.run(&["isms", "history", ISMS, "--json"]).ok().json();
    let causes: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cause"].as_str().unwrap())
        .collect();
    assert_eq!(
        causes,
        ["generate", "certificate", "certificate"],
        "{history}"
    );
    let board = m
        .run(&["isms", "board", ISMS, "--json", "--maintenance"])
        .ok()
        .json();
    assert_eq!(
        board["maintenance"]["users_certified"], 2,
        "{}",
        board["maintenance"]
    );
}

#[test]
fn scoring_follows_the_pass_mark_and_the_minimum_per_regulation() {
    let m = setup();
    // ana draws two questions of each regulation: all security-policy right, backups wrong = 50 %
    let mixed = file(
        &m,
        "mixed.json",
        r#"{ "sp-1": 1, "sp-2": 0, "sp-3": 1, "bk-1": 1, "bk-2": 0 }"#,
    );
    let result = at(
        &m,
        DAY1,
        &[
            "culture",
            "test",
            ISMS,
            "ana",
            "--answers",
            &mixed,
            "--seed",
            "7",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(result["passed"], false, "{result}");
    assert!((result["score"].as_f64().unwrap() - 0.5).abs() < 1e-9);
    assert_eq!(result["per_regulation"]["backups"]["passed"], false);
    // Both rules the test is scored by are in the result (issue 16).
    assert_eq!(result["pass_mark"], 0.7);
    assert_eq!(result["regulation_min"], 0.5);
    // seed 3 draws sp-3 and sp-2 for luis: sp-3, missing from the answers, counts as wrong
    let partial = file(&m, "partial.json", r#"{ "sp-1": 1, "sp-2": 0 }"#);
    let result = at(
        &m,
        DAY1,
        &[
            "culture",
            "test",
            ISMS,
            "luis",
            "--as",
            "luis",
            "--answers",
            &partial,
            "--seed",
            "3",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(
        result["passed"], false,
        "1 of 2 is below the pass mark of 70 %"
    );
    assert_eq!(result["wrong"], serde_json::json!(["sp-3"]), "{result}");
    // (The same seed draws the same questions while no attempt comes between: a
    // retest draws the questions the last one did not ask first; the kernel's
    // tests hold both.)
}

#[test]
fn at_most_three_attempts_in_seven_days() {
    let m = setup();
    let wrong = m.path("wrong.json").display().to_string();
    for day in [
        "2027-02-01T10:00:00Z",
        "2027-02-02T10:00:00Z",
        "2027-02-03T10:00:00Z",
    ] {
        at(
            &m,
            day,
            &[
                "culture",
                "test",
                ISMS,
                "luis",
                "--as",
                "luis",
                "--answers",
                &wrong,
            ],
        )
        .ok();
    }
    let refused = at(
        &m,
        "2027-02-05T10:00:00Z",
        &[
            "culture",
            "test",
            ISMS,
            "luis",
            "--as",
            "luis",
            "--answers",
            &wrong,
        ],
    )
    .fails();
    assert!(
        refused
            .stderr
            .contains("has used the 3 attempts allowed in 7 days"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("2027-02-08 10:00 UTC"),
        "{}",
        refused.stderr
    );
    // a week after the first attempt, one is free again
    certify(&m, "2027-02-08T10:00:01Z", "luis");
}

#[test]
fn certificates_expire_with_the_clock() {
    let m = setup();
    certify(&m, DAY1, "luis");
    assert_eq!(
        status_of(&m, "2027-06-01T00:00:00Z", "luis")["status"],
        "valid"
    );
    assert_eq!(
        status_of(&m, "2027-12-20T00:00:00Z", "luis")["status"],
        "expiring"
    );
    let expired = status_of(&m, "2028-01-11T00:00:00Z", "luis");
    assert_eq!(expired["status"], "expired");
    assert!(
        expired["needs"]
            .as_str()
            .unwrap()
            .contains("expired on 2028-01-10"),
        "{expired}"
    );
    // status re-values the share once certificates expired: the board follows the clock
    assert_eq!(compliance(&m, "6.3"), 0.0);
}

#[test]
fn a_role_with_new_regulations_revokes_the_certificate() {
    let m = setup();
    certify(&m, DAY1, "luis");
    let changed = at(
        &m,
        DAY1,
        &[
            "isms", "user", "roles", ISMS, "luis", "--role", "Cl/US", "--role", "Cl/GDS", "--json",
        ],
    )
    .ok()
    .json();
    assert!(
        changed["revoked"].as_str().unwrap().contains("backups"),
        "{changed}"
    );
    let luis = status_of(&m, DAY1, "luis");
    assert_eq!(luis["status"], "revoked");
    assert!(
        luis["needs"].as_str().unwrap().contains("backups"),
        "{luis}"
    );
    // a role with no new regulation keeps it valid
    certify(&m, DAY1, "ana");
    at(
        &m,
        DAY1,
        &[
            "isms", "user", "roles", ISMS, "ana", "--role", "Cl/RS", "--role", "Cl/US",
        ],
    )
    .ok();
    assert_eq!(status_of(&m, DAY1, "ana")["status"], "valid");
}

#[test]
fn procedure_moves_are_refused_with_their_reason() {
    let m = setup();
    // no certificate
    let report = file(
        &m,
        "r.yaml",
        "reported_on: 2027-01-10\ntitle: Phishing mail\n",
    );
    let err = at(
        &m,
        DAY1,
        &[
            "proc",
            "start",
            ISMS,
            "incident-management",
            "--as",
            "luis",
            "--fields",
            &report,
        ],
    )
    .fails();
    assert!(
        err.stderr
            .contains("requires a valid security-culture certificate, and theirs is none"),
        "{}",
        err.stderr
    );
    // no --as
    let err = at(&m, DAY1, &["proc", "start", ISMS, "incident-management"]).fails();
    assert!(err.stderr.contains("--as USER"), "{}", err.stderr);
    certify(&m, DAY1, "luis");
    certify(&m, DAY1, "ana");
    let started = at(
        &m,
        DAY1,
        &[
            "proc",
            "start",
            ISMS,
            "incident-management",
            "--as",
            "luis",
            "--fields",
            &report,
            "--json",
        ],
    )
    .ok()
    .json();
    let id = started["instance"]["id"].as_str().unwrap().to_owned();
    assert_eq!(id, "taller-gil/incident-management-1");
    // path
    let err = at(&m, DAY1, &["proc", "advance", &id, "close", "--as", "ana"]).fails();
    assert!(err.stderr.contains("cannot move from `report` to `close`: from `report` the procedure leads only to assess"), "{}", err.stderr);
    // role
    let err = at(
        &m,
        DAY1,
        &["proc", "advance", &id, "assess", "--as", "luis"],
    )
    .fails();
    assert!(
        err.stderr
            .contains("needs Responsible for security (Cl/RS), and `luis` holds User (Cl/US)"),
        "{}",
        err.stderr
    );
    // register data
    let bad = file(
        &m,
        "bad.yaml",
        "threat: X.99\nassets: [printer]\ndamage: { Q: 500 }\nseverity: huge\ncolour: red\n",
    );
    let err = at(
        &m,
        DAY1,
        &[
            "proc", "advance", &id, "assess", "--as", "ana", "--fields", &bad,
        ],
    )
    .fails();
    for expected in [
        "field `threat`",
        "unknown assets printer",
        "field `damage`",
        "expected one of low, medium, high",
        "unknown field `colour`",
    ] {
        assert!(err.stderr.contains(expected), "{expected}: {}", err.stderr);
    }
    // the instance stayed where it was
    let shown = m.run(&["proc", "show", &id, "--json"]).ok().json();
    assert_eq!(shown["phase"], "report");
    assert_eq!(shown["next"], serde_json::json!(["assess"]));
    assert_eq!(shown["roles"], serde_json::json!(["Cl/US", "Cl/RS"]));
    assert_eq!(shown["history"].as_array().unwrap().len(), 1);
    // closing needs the required fields
    at(&m, DAY1, &["proc", "advance", &id, "assess", "--as", "ana"]).ok();
    let err = at(&m, DAY1, &["proc", "advance", &id, "close", "--as", "ana"]).fails();
    assert!(err.stderr.contains("required register fields are empty: reg-incidents.threat, reg-incidents.assets, reg-incidents.damage"), "{}", err.stderr);
}

#[test]
fn a_full_incident_flow_ends_in_an_accepted_suggestion_that_raises_the_risk() {
    let m = setup();
    certify(&m, DAY1, "luis");
    certify(&m, DAY1, "ana");
    let before = risk(&m, "erp", "A.24");
    assert_eq!(before["probability"], 40.0);
    let id = incident(&m, DAY1, "{ D: 80 }");
    let closed = at(
        &m,
        DAY1,
        &["proc", "advance", &id, "close", "--as", "ana", "--json"],
    )
    .ok()
    .json();
    assert_eq!(closed["instance"]["closed"], true);
    let suggestion = &closed["suggestions"][0];
    assert_eq!(suggestion["id"], "s1");
    let changes = suggestion["changes"].as_array().unwrap();
    assert_eq!(changes[0]["change"]["kind"], "probability");
    assert_eq!(
        changes[0]["after"], 50.0,
        "one band up: the next band starts at 50"
    );
    assert_eq!(changes[1]["change"]["kind"], "degradation");
    assert_eq!(changes[1]["after"], 80.0);
    // an incident never changes the risk model by itself
    assert_eq!(risk(&m, "erp", "A.24"), before);
    // only the security officer decides
    let err = at(
        &m,
        DAY1,
        &["suggestion", "accept", ISMS, "s1", "--as", "luis"],
    )
    .fails();
    assert!(err.stderr.contains("Cl/RS"), "{}", err.stderr);
    let accepted = at(
        &m,
        DAY1,
        &["suggestion", "accept", ISMS, "s1", "--as", "ana", "--json"],
    )
    .ok()
    .json();
    assert_eq!(accepted["status"], "accepted");
    let after = risk(&m, "erp", "A.24");
    assert_eq!(after["probability"], 50.0);
    // impact 8/10 * 80 = 64, potential 64 * 50 % = 32, residual 32 * vul 60 % = 19.2
    assert!(
        (after["impact"].as_f64().unwrap() - 64.0).abs() < 1e-9,
        "{after}"
    );
    assert!(
        (after["residual"].as_f64().unwrap() - 19.2).abs() < 1e-9,
        "{after}"
    );
    assert!(after["residual"].as_f64().unwrap() > before["residual"].as_f64().unwrap());
    let history = m.run(&["isms", "history", ISMS, "--json"]).ok().json();
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["cause"], "suggestion");
    assert_eq!(last["refs"][0], "suggestion:s1");
    let again = at(
        &m,
        DAY1,
        &["suggestion", "accept", ISMS, "s1", "--as", "ana"],
    )
    .fails();
    assert!(
        again.stderr.contains("accepted already by ana"),
        "{}",
        again.stderr
    );
    let list = m.run(&["suggestion", "list", ISMS, "--json"]).ok().json();
    assert_eq!(list[0]["status"], "accepted");
}

#[test]
fn a_rejected_suggestion_leaves_the_board_and_stays_in_the_history() {
    let m = setup();
    certify(&m, DAY1, "luis");
    certify(&m, DAY1, "ana");
    let id = incident(&m, DAY1, "{ D: 30 }");
    let closed = at(
        &m,
        DAY1,
        &["proc", "advance", &id, "close", "--as", "ana", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        closed["suggestions"][0]["changes"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "damage 30 is below Deg 50: only P is raised"
    );
    let board = m
        .run(&["isms", "board", ISMS, "--json", "--maintenance"])
        .ok()
        .json();
    at(
        &m,
        DAY1,
        &[
            "suggestion",
            "reject",
            ISMS,
            "s1",
            "--as",
            "ana",
            "--reason",
            "a one-off power cut",
        ],
    )
    .ok();
    let after = m
        .run(&["isms", "board", ISMS, "--json", "--maintenance"])
        .ok()
        .json();
    assert_eq!(board["risk"], after["risk"]);
    let history = m.run(&["isms", "history", ISMS, "--json"]).ok().json();
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["cause"], "suggestion");
    assert!(
        last["note"]
            .as_str()
            .unwrap()
            .contains("rejected suggestion s1"),
        "{last}"
    );
    assert!(last["note"]
        .as_str()
        .unwrap()
        .contains("a one-off power cut"));
    let list = m.run(&["suggestion", "list", ISMS, "--json"]).ok().json();
    assert_eq!(list[0]["status"], "rejected");
}

#[test]
fn scheduled_procedures_are_on_time_or_overdue() {
    let m = setup();
    certify(&m, DAY1, "ana");
    let board = at(
        &m,
        "2027-01-20T00:00:00Z",
        &["isms", "board", ISMS, "--json", "--maintenance"],
    )
    .ok()
    .json();
    assert_eq!(
        board["maintenance"]["procedures_overdue"], 0,
        "{}",
        board["maintenance"]
    );
    let board = at(
        &m,
        "2027-03-01T00:00:00Z",
        &["isms", "board", ISMS, "--json", "--maintenance"],
    )
    .ok()
    .json();
    assert_eq!(
        board["maintenance"]["procedures_overdue"], 1,
        "30 days after generation without a test"
    );
    let later = "2027-03-01T00:00:00Z";
    let started = at(
        &m,
        later,
        &[
            "proc",
            "start",
            ISMS,
            "backup-restore-test",
            "--as",
            "ana",
            "--json",
        ],
    )
    .ok()
    .json();
    let id = started["instance"]["id"].as_str().unwrap().to_owned();
    at(
        &m,
        later,
        &["proc", "advance", &id, "passed", "--as", "ana"],
    )
    .ok();
    let board = at(
        &m,
        "2027-03-10T00:00:00Z",
        &["isms", "board", ISMS, "--json", "--maintenance"],
    )
    .ok()
    .json();
    assert_eq!(board["maintenance"]["procedures_overdue"], 0);
    assert_eq!(board["maintenance"]["procedures_on_time"], 1);
    let list = at(
        &m,
        "2027-03-10T00:00:00Z",
        &["proc", "list", ISMS, "--json"],
    )
    .ok()
    .json();
    assert_eq!(list["schedule"][0]["overdue"], false);
}

#[test]
fn plan_items_get_an_owner_a_due_date_and_done() {
    let m = setup();
    let plan = m.run(&["isms", "plan", ISMS, "--json"]).ok().json();
    let first = plan[0]["control"].as_str().unwrap().to_owned();
    at(
        &m,
        DAY1,
        &[
            "isms",
            "plan",
            ISMS,
            "--set",
            "1",
            "owner=luis",
            "due=2027-02-01",
        ],
    )
    .ok();
    let err = m
        .run(&["isms", "plan", ISMS, "--set", "1", "owner=nobody"])
        .fails();
    assert!(
        err.stderr.contains("user `nobody` not found"),
        "{}",
        err.stderr
    );
    let plan = at(
        &m,
        "2027-02-02T00:00:00Z",
        &["isms", "plan", ISMS, "--json"],
    )
    .ok()
    .json();
    assert_eq!(plan[0]["owner"], "luis");
    assert_eq!(plan[0]["due"], "2027-02-01");
    assert_eq!(plan[0]["overdue"], true);
    let board = at(
        &m,
        "2027-02-02T00:00:00Z",
        &["isms", "board", ISMS, "--json", "--maintenance"],
    )
    .ok()
    .json();
    assert_eq!(board["maintenance"]["plan_overdue"], 1);
    at(
        &m,
        "2027-02-02T00:00:00Z",
        &[
            "isms",
            "plan",
            ISMS,
            "--set",
            "1",
            "done",
            "result=restore tested",
        ],
    )
    .ok();
    let board = at(
        &m,
        "2027-02-02T00:00:00Z",
        &["isms", "board", ISMS, "--json", "--maintenance"],
    )
    .ok()
    .json();
    assert_eq!(board["maintenance"]["plan_done"], 1);
    assert_eq!(board["maintenance"]["plan_overdue"], 0);
    let history = m
        .run(&["isms", "history", ISMS, "--control", &first, "--json"])
        .ok()
        .json();
    let plan_events: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["cause"] == "plan")
        .collect();
    assert_eq!(plan_events.len(), 2, "{history}");
}

#[test]
fn history_records_causes_and_filters_by_control_and_date() {
    let m = setup();
    certify(&m, "2027-01-15T10:00:00Z", "luis");
    at(
        &m,
        "2027-02-15T10:00:00Z",
        &["isms", "answer", ISMS, "8.13.2", "yes"],
    )
    .ok();
    let all = m.run(&["isms", "history", ISMS, "--json"]).ok().json();
    let causes: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cause"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["generate", "certificate", "answer"]);
    let backup = m
        .run(&["isms", "history", ISMS, "--control", "8.13", "--json"])
        .ok()
        .json();
    let causes: Vec<&str> = backup
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cause"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["answer"]);
    let since = m
        .run(&["isms", "history", ISMS, "--since", "2027-02-01", "--json"])
        .ok()
        .json();
    assert_eq!(since.as_array().unwrap().len(), 1);
    assert_eq!(since[0]["at"], chrono_secs("2027-02-15T10:00:00Z"));
    let text = m.run(&["isms", "history", ISMS, "--control", "6.3"]).ok();
    assert!(text.stdout.contains("certificate"), "{}", text.stdout);
}

fn chrono_secs(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp()
}

#[test]
fn schema_stats_never_name_an_enterprise_and_suggest_changes() {
    let m = setup();
    certify(&m, DAY1, "luis");
    certify(&m, DAY1, "ana");
    // Three incidents in a year: a quarterly frequency, a band above P = 40 (yearly).
    for _ in 0..3 {
        let id = incident(&m, DAY1, "{ D: 80 }");
        at(&m, DAY1, &["proc", "advance", &id, "close", "--as", "ana"]).ok();
    }
    let stats = at(
        &m,
        DAY1,
        &["schema", "stats", "msgs", "--suggest", "--json"],
    )
    .ok()
    .json();
    let text = stats.to_string();
    for name in [
        "taller-gil",
        "Taller Gil",
        "Taller",
        "ana",
        "luis",
        "Ana Ruiz",
    ] {
        assert!(!text.contains(name), "stats name `{name}`: {text}");
    }
    assert_eq!(stats["enterprises"], 1);
    // The enterprise's trail holds its procedure steps (issue 17).
    let trail = m
        .run(&["audit", "log", "--isms", ISMS, "--json"])
        .ok()
        .json();
    assert!(
        trail
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "procedure.move"),
        "{trail}"
    );
    let incident = &stats["incidents"][0];
    assert_eq!(incident["threat"], "A.24");
    assert_eq!(incident["asset_type"], "HW");
    assert_eq!(incident["observed"], 100.0);
    assert_eq!(incident["schema_probability"], 40.0);
    assert_eq!(incident["yearly_rate"], 3.0);
    assert_eq!(incident["observed_probability"], 60.0);
    let raise = stats["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "raise-probability")
        .unwrap();
    assert_eq!(
        (raise["current"].clone(), raise["proposed"].clone()),
        (40.0.into(), 60.0.into())
    );
    assert_eq!(raise["sample"], 1, "the fixture's min_sample is 1");
    let kinds: Vec<&str> = stats["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"raise-probability"),
        "{}",
        stats["suggestions"]
    );
    let gap = stats["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["subcontrol"] == "8.13.2")
        .unwrap();
    assert_eq!(gap["gap_share"], 1.0);
    let text = m.run(&["schema", "stats", "msgs", "--suggest"]).ok();
    assert!(!text.stdout.contains("taller"), "{}", text.stdout);
    // an enterprise user may not read the architect's statistics
    let err = m.run(&["schema", "stats", "msgs", "--as", "luis"]).fails();
    assert!(err.stderr.contains("schemas zone"), "{}", err.stderr);
}

#[test]
fn an_incident_on_the_demo_isms_goes_from_report_to_an_accepted_suggestion() {
    let m = Mmsm::new();
    let out = m.path("out");
    let demo = m
        .run(&["demo", "--out", out.to_str().unwrap(), "--json"])
        .ok()
        .json();
    let isms = demo["isms"].as_str().unwrap().to_owned();
    // the right answers of the demo's culture bank (health-small: base's and its own)
    let answers = common::right_culture_answers(&m, "health-small");
    for user in ["luis", "ana"] {
        let result = m
            .run(&[
                "culture",
                "test",
                &isms,
                user,
                "--as",
                user,
                "--answers",
                &answers,
                "--json",
            ])
            .ok()
            .json();
        assert_eq!(result["passed"], true, "{result}");
    }
    let risks = m.run(&["isms", "risks", &isms, "--json"]).ok().json();
    let before = risks
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["asset"] == "clinic-server")
        .unwrap()
        .clone();
    let threat = before["threat"].as_str().unwrap().to_owned();

    let report = file(
        &m,
        "report.yaml",
        "reported_on: 2027-01-10\ntitle: Server down after a power cut\n",
    );
    let started = m
        .run(&[
            "proc",
            "start",
            &isms,
            "incident-management",
            "--as",
            "luis",
            "--fields",
            &report,
            "--json",
        ])
        .ok()
        .json();
    let id = started["instance"]["id"].as_str().unwrap().to_owned();
    let assess = file(
        &m,
        "assess.yaml",
        &format!(
            "threat: {threat}\nassets: [clinic-server]\ndamage: {{ D: 100 }}\nseverity: medium\n"
        ),
    );
    m.run(&[
        "proc", "advance", &id, "assess", "--as", "ana", "--fields", &assess,
    ])
    .ok();
    // The base schema's incident procedure closes only with its cause and actions (issue 17.9).
    let refused = m
        .run(&["proc", "advance", &id, "close", "--as", "ana"])
        .fails();
    assert!(
        refused.stderr.contains("fill Root cause (root_cause)"),
        "{}",
        refused.stderr
    );
    let closing = file(
        &m,
        "close.yaml",
        "root_cause: no UPS on the server\nactions: |\n  Restarted the server.\n  Ordered a UPS.\nclosed_on: 2027-01-11\n",
    );
    let closed = m
        .run(&[
            "proc", "advance", &id, "close", "--as", "ana", "--fields", &closing, "--json",
        ])
        .ok()
        .json();
    assert_eq!(closed["instance"]["closed"], true, "{closed}");
    let suggestion = closed["suggestions"][0]["id"].as_str().unwrap().to_owned();
    let accepted = m
        .run(&[
            "suggestion",
            "accept",
            &isms,
            &suggestion,
            "--as",
            "ana",
            "--json",
        ])
        .ok()
        .json();
    assert!(
        !accepted["effect"].as_array().unwrap().is_empty(),
        "{accepted}"
    );

    let risks = m.run(&["isms", "risks", &isms, "--json"]).ok().json();
    let after = risks
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["asset"] == "clinic-server" && r["threat"] == threat.as_str())
        .unwrap();
    let p = |r: &Value| r["probability"].as_f64().unwrap();
    assert!(p(after) > p(&before), "P {} -> {}", p(&before), p(after));
    assert!(after["residual"].as_f64().unwrap() > before["residual"].as_f64().unwrap());
    let history = m.run(&["isms", "history", &isms, "--json"]).ok().json();
    let causes: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cause"].as_str().unwrap())
        .collect();
    assert_eq!(causes.first(), Some(&"generate"));
    assert!(
        causes.contains(&"certificate") && causes.ends_with(&["suggestion"]),
        "{causes:?}"
    );
}

#[test]
fn the_shipped_lua_action_dates_an_incident_reported_without_a_date() {
    let m = setup();
    certify(&m, DAY1, "luis");
    let report = file(&m, "undated.yaml", "title: Laptop stolen from a car\n");
    let started = at(
        &m,
        "2027-03-04T08:00:00Z",
        &[
            "proc",
            "start",
            ISMS,
            "incident-management",
            "--as",
            "luis",
            "--fields",
            &report,
            "--json",
        ],
    )
    .ok()
    .json();
    let register = &started["instance"]["registers"]["reg-incidents"];
    assert_eq!(register["reported_on"], "2027-03-04", "{register}");
    assert_eq!(
        started["instance"]["history"][0]["action"],
        "incident-reported-on"
    );
    // a scripts folder without the action refuses the move: the instance is not created
    let empty = m.path("no-scripts");
    std::fs::create_dir_all(&empty).unwrap();
    let err = at(
        &m,
        DAY1,
        &[
            "--scripts",
            empty.to_str().unwrap(),
            "proc",
            "start",
            ISMS,
            "incident-management",
            "--as",
            "luis",
            "--fields",
            &report,
        ],
    )
    .fails();
    assert!(
        err.stderr
            .contains("the action `incident-reported-on` of phase `report` failed"),
        "{}",
        err.stderr
    );
    let list = m.run(&["proc", "list", ISMS, "--json"]).ok().json();
    assert_eq!(list["instances"].as_array().unwrap().len(), 1);
}

#[test]
fn isms_rebase_moves_to_the_new_schema_version_drops_what_it_lacks_and_revokes_changed_regulations()
{
    let m = setup();
    certify(&m, DAY1, "luis");
    assert_eq!(status_of(&m, DAY1, "luis")["status"], "valid");
    // Version 2 of the schema: the security policy's rule is reworded, 8.13.2 is gone.
    let fixture = std::fs::read_to_string(repo_root().join(SCHEMA).join("schema.yaml")).unwrap();
    let v2 = fixture
        .replacen(
            "Everyone follows the security rules.",
            "Everyone follows the security rules and reports incidents.",
            1,
        )
        .replacen(
            "      - { id: \"8.13.2\", text: Do you test a restore every month?, level: 1 }\n",
            "",
            1,
        );
    assert_ne!(v2, fixture);
    let dir = m.path("v2");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("schema.yaml"), v2).unwrap();
    m.run(&["schema", "import", dir.to_str().unwrap()]).ok();

    let out = at(&m, DAY1, &["isms", "rebase", ISMS, "--json"])
        .ok()
        .json();
    assert_eq!(
        (out["from"].as_u64(), out["to"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(out["dropped"], serde_json::json!(["answer 8.13.2: no"]));
    let shown = m.run(&["isms", "show", ISMS, "--json"]).ok().json();
    assert_eq!(shown["schema"]["version"], 2);
    let luis = status_of(&m, DAY1, "luis");
    assert_eq!(luis["status"], "revoked", "{luis}");

    // Nothing newer: a clear refusal that changes nothing.
    let again = at(&m, DAY1, &["isms", "rebase", ISMS]).fails();
    assert!(again.stderr.contains("already there"), "{}", again.stderr);
}

#[test]
fn isms_rebase_all_moves_every_isms_of_the_schema_each_in_its_own_transaction() {
    let m = setup();
    at(&m, DAY1, &["isms", "generate", PROFILE, "--schema", "msgs"]).ok();
    let fixture = std::fs::read_to_string(repo_root().join(SCHEMA).join("schema.yaml")).unwrap();
    let v2 = fixture.replacen(
        "Everyone follows the security rules.",
        "Everyone follows the security rules every day.",
        1,
    );
    assert_ne!(v2, fixture);
    let dir = m.path("v2");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("schema.yaml"), v2).unwrap();
    m.run(&["schema", "import", dir.to_str().unwrap()]).ok();
    // One is moved by hand first: --all leaves it as it is.
    at(&m, DAY1, &["isms", "rebase", "taller-gil-2"]).ok();

    let out = at(
        &m,
        DAY1,
        &["isms", "rebase", "--all", "--schema", "msgs", "--json"],
    )
    .ok()
    .json();
    assert_eq!(out["version"], 2);
    let outcomes = out["isms"].as_array().unwrap();
    assert_eq!(outcomes.len(), 2, "{out}");
    assert_eq!(outcomes[0]["isms"], ISMS);
    assert_eq!(outcomes[0]["outcome"], "rebased");
    assert_eq!(outcomes[0]["from"], 1);
    assert_eq!(outcomes[1]["outcome"], "current");
    let listed = m.run(&["isms", "list", "--json"]).ok().json();
    for item in listed.as_array().unwrap() {
        assert_eq!(item["schema"], "msgs@2", "{listed}");
    }
    // Nothing left to move: said, not refused.
    let text = at(&m, DAY1, &["isms", "rebase", "--all", "--schema", "msgs"]).ok();
    assert!(
        text.stdout
            .contains("0 ISMSs re-based on msgs@2; 2 already there; 0 refused"),
        "{}",
        text.stdout
    );
    // Without --schema, clap says what is missing.
    let bad = m.run(&["isms", "rebase", "--all"]);
    assert_eq!(bad.code, 2, "a usage error");
    assert!(bad.stderr.contains("--schema"), "{}", bad.stderr);
}
