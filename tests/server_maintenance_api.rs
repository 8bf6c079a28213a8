//! The maintenance-zone API against a real `mmsm serve` on 127.0.0.1 with a
//! temp store: procedures started, moved and shown over HTTP by the
//! enterprise's users, suggestions listed and decided, the culture status,
//! metrics, schema statistics and the script registry, each with the access
//! the services decide (a foreign ISMS is 404).

mod common;

use common::server::{msgs_store, Matrix, Server, MSGS_FOREIGN, MSGS_ISMS};
use common::Mmsm;
use serde_json::{json, Value};

const ISMS: &str = MSGS_ISMS;
const FOREIGN: &str = MSGS_FOREIGN;

/// The MSGS store with both users certified.
fn store() -> Mmsm {
    msgs_store(&["ana", "luis"])
}

fn url(rest: &str) -> String {
    format!("/api/v1/isms/{ISMS}/{rest}")
}

/// Reports an incident as luis, assesses and closes it as ana; returns the instance.
fn incident(server: &Server, luis: &str, ana: &str) -> Value {
    common::server::close_an_incident(server, ISMS, luis, ana)
}

#[test]
fn a_phase_action_edited_while_the_server_runs_takes_effect_without_a_restart() {
    let m = store();
    let scripts = m.path("scripts");
    common::copy_dir(&common::repo_root().join("scripts"), &scripts);
    let server = Server::start_with(&m, &["--scripts", scripts.to_str().unwrap()]);
    let luis = server.login("luis");
    // The report phase's action dates an incident reported without a date.
    let report = |title: &str| -> Value {
        let started = server.call(
            "POST",
            &url("procedures"),
            Some(&luis),
            Some(&json!({ "procedure": "incident-management", "fields": { "title": title } })),
        );
        assert_eq!(started.status, 201, "{}", started.body);
        started.json()["instance"]["registers"]["reg-incidents"]["reported_on"].clone()
    };
    let dated = report("before the edit");
    assert!(dated.as_str().is_some_and(|d| d.len() == 10), "{dated}");
    assert_ne!(dated, "1999-12-31");

    let file = scripts.join("procedures/incident-reported-on.lua");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replace(
        r#"reported_on = os.date("!%Y-%m-%d", ctx.now())"#,
        r#"reported_on = "1999-12-31""#,
    );
    assert_ne!(edited, text, "the edit applies");
    std::fs::write(&file, edited).unwrap();
    // The watcher reloads within its debounce (200 ms); give it a few seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let date = report("after the edit");
        if date == "1999-12-31" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the edited action never took effect: still {date}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn a_role_given_on_the_users_page_holds_from_the_next_request_of_the_same_login() {
    // Issue 17's blocker: the Users page gave a user a role and their login
    // still acted with the account's roles.
    let m = store();
    let server = Server::start(&m);
    let luis = server.login("luis");
    let ana = server.login("ana");
    let started = server.call(
        "POST",
        &url("procedures"),
        Some(&luis),
        Some(&json!({
            "procedure": "incident-management",
            "fields": { "reported_on": "2027-01-10", "title": "Phishing mail" }
        })),
    );
    assert_eq!(started.status, 201, "{}", started.body);
    let advance = || {
        server.call(
            "POST",
            &url("procedures/incident-management-1/advance"),
            Some(&luis),
            Some(&json!({ "phase": "assess" })),
        )
    };
    let refused = advance();
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("Users page"), "{}", refused.body);
    let csrf = server.call("GET", "/api/v1/me", Some(&ana), None).json()["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = server.request(
        "POST",
        &format!("/isms/{ISMS}/users/luis"),
        &common::server::headers(Some(&ana)),
        Some((
            "application/x-www-form-urlencoded",
            format!("csrf={csrf}&role=Cl%2FUS&role=Cl%2FRS"),
        )),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    let me = server.call("GET", "/api/v1/me", Some(&luis), None).json();
    assert_eq!(me["roles"], json!(["Cl/RS", "Cl/US"]), "{me}");
    // The role passes now; the officer's role needs a regulation luis's
    // certificate does not cover, so the next rule in line (A3.2) speaks.
    let next = advance();
    assert_eq!(next.status, 422, "{}", next.body);
    assert!(
        next.body.contains("security-culture certificate") && !next.body.contains("needs "),
        "{}",
        next.body
    );
}

#[test]
fn procedures_are_started_moved_and_shown_over_http_with_the_procedure_rules() {
    let m = store();
    let mut server = Server::start(&m);
    let luis = server.login("luis");
    let ana = server.login("ana");
    let started = server.call(
        "POST",
        &url("procedures"),
        Some(&luis),
        Some(&json!({
            "procedure": "incident-management",
            "fields": { "reported_on": "2027-01-10", "title": "Phishing mail" }
        })),
    );
    assert_eq!(started.status, 201, "{}", started.body);
    let id = started.json()["instance"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id, format!("{ISMS}/incident-management-1"));
    // the show shape of `mmsm proc show --json`
    let shown = server.call(
        "GET",
        &url("procedures/incident-management-1"),
        Some(&luis),
        None,
    );
    assert_eq!(shown.status, 200, "{}", shown.body);
    let shown = shown.json();
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["procedure"], "incident-management");
    assert_eq!(shown["phase"], "report");
    assert_eq!(shown["next"], json!(["assess"]));
    assert_eq!(shown["roles"], json!(["Cl/US", "Cl/RS"]));
    assert_eq!(shown["history"].as_array().unwrap().len(), 1);
    // the whole id, percent-encoded, names the same instance
    let encoded = server.call(
        "GET",
        &url(&format!("procedures/{}", id.replace('/', "%2F"))),
        Some(&luis),
        None,
    );
    assert_eq!(encoded.status, 200, "{}", encoded.body);
    // the rules are the service's: a wrong path and a wrong role are refused
    let wrong_path = server.call(
        "POST",
        &url("procedures/incident-management-1/advance"),
        Some(&ana),
        Some(&json!({ "phase": "close" })),
    );
    assert_eq!(wrong_path.status, 422, "{}", wrong_path.body);
    assert!(
        wrong_path.json()["error"]
            .as_str()
            .unwrap()
            .contains("cannot move from `report` to `close`"),
        "{}",
        wrong_path.body
    );
    let wrong_role = server.call(
        "POST",
        &url("procedures/incident-management-1/advance"),
        Some(&luis),
        Some(&json!({ "phase": "assess" })),
    );
    // a phase's roles are a rule of the procedure (422), like its paths
    assert_eq!(wrong_role.status, 422, "{}", wrong_role.body);
    assert!(
        wrong_role
            .body
            .contains("needs Responsible for security (Cl/RS), and `luis` holds User (Cl/US)"),
        "{}",
        wrong_role.body
    );
    let moved = server.call(
        "POST",
        &url("procedures/incident-management-1/advance"),
        Some(&ana),
        Some(&json!({ "phase": "assess" })),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.json()["instance"]["phase"], "assess");
    // the list, all and open only
    let list = server
        .call("GET", &url("procedures"), Some(&ana), None)
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["phase"], "assess");
    let open = server
        .call("GET", &url("procedures?open=true"), Some(&ana), None)
        .json();
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    // nobody may see another enterprise's procedures
    let foreign = server.call(
        "GET",
        &format!("/api/v1/isms/{FOREIGN}/procedures"),
        Some(&ana),
        None,
    );
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    let foreign = server.call(
        "POST",
        &format!("/api/v1/isms/{FOREIGN}/procedures"),
        Some(&ana),
        Some(&json!({ "procedure": "incident-management" })),
    );
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    let cross = server.call(
        "GET",
        &url(&format!(
            "procedures/{}",
            format!("{FOREIGN}/incident-management-1").replace('/', "%2F")
        )),
        Some(&ana),
        None,
    );
    assert_eq!(cross.status, 404, "{}", cross.body);
    assert_eq!(
        server.call("GET", &url("procedures"), None, None).status,
        401
    );
    // the shape of `mmsm proc show --json` (the CLI needs the store: stop first)
    let shown = server
        .call(
            "GET",
            &url("procedures/incident-management-1"),
            Some(&luis),
            None,
        )
        .json();
    server.stop();
    let cli = m.run(&["proc", "show", &id, "--json"]).ok().json();
    assert_eq!(shown, cli, "the API and `mmsm proc show --json` differ");
}

#[test]
fn an_incident_raises_a_suggestion_that_only_the_officer_accepts_or_rejects() {
    let m = store();
    let mut server = Server::start(&m);
    let luis = server.login("luis");
    let ana = server.login("ana");
    let closed = incident(&server, &luis, &ana);
    assert_eq!(closed["instance"]["closed"], true);
    assert_eq!(closed["suggestions"][0]["id"], "s1");
    let list = server.call("GET", &url("suggestions"), Some(&luis), None);
    assert_eq!(list.status, 200, "{}", list.body);
    let list = list.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], "s1");
    assert_eq!(list[0]["status"], "open");
    // rejected with a note: the inputs stay as they were
    let refused = server.call("POST", &url("suggestions/s1/reject"), Some(&luis), None);
    assert_eq!(refused.status, 403, "{}", refused.body);
    let rejected = server.call(
        "POST",
        &url("suggestions/s1/reject"),
        Some(&ana),
        Some(&json!({ "note": "a one-off" })),
    );
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert_eq!(rejected.json()["note"], "a one-off");
    // the same incident again suggests the same change, accepted this time
    let closed = incident(&server, &luis, &ana);
    assert_eq!(closed["suggestions"][0]["id"], "s2", "{closed}");
    let refused = server.call("POST", &url("suggestions/s2/accept"), Some(&luis), None);
    assert_eq!(refused.status, 403, "{}", refused.body);
    let accepted = server.call("POST", &url("suggestions/s2/accept"), Some(&ana), None);
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.json()["decided_by"], "ana");
    let again = server.call("POST", &url("suggestions/s2/accept"), Some(&ana), None);
    assert_eq!(again.status, 422, "{}", again.body);
    let missing = server.call("POST", &url("suggestions/s9/accept"), Some(&ana), None);
    assert_eq!(missing.status, 404, "{}", missing.body);
    let list = server
        .call("GET", &url("suggestions"), Some(&ana), None)
        .json();
    let statuses: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["status"])
        .collect();
    assert_eq!(
        statuses,
        vec![&json!("rejected"), &json!("accepted")],
        "{list}"
    );
    let foreign = server.call(
        "GET",
        &format!("/api/v1/isms/{FOREIGN}/suggestions"),
        Some(&ana),
        None,
    );
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    // the shape of `mmsm suggestion list --json` (the CLI needs the store: stop first)
    server.stop();
    assert_eq!(
        list,
        m.run(&["suggestion", "list", ISMS, "--json"]).ok().json()
    );
}

#[test]
fn culture_metrics_stats_and_scripts_have_the_cli_shapes() {
    let m = store();
    let server = Server::start(&m);
    let ana = server.login("ana");
    let admin = server.login("admin");
    let culture = server.call("GET", &url("culture"), Some(&ana), None);
    assert_eq!(culture.status, 200, "{}", culture.body);
    let culture = culture.json();
    let users = culture["users"].as_array().unwrap();
    assert!(
        users.iter().any(|u| u["user"] == "ana") && users.iter().any(|u| u["user"] == "luis"),
        "{culture}"
    );
    assert_eq!(
        server
            .call(
                "GET",
                &format!("/api/v1/isms/{FOREIGN}/culture"),
                Some(&ana),
                None
            )
            .status,
        404
    );
    let metrics = server.call("GET", &url("metrics"), Some(&ana), None);
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert!(metrics.json()["metrics"].is_array(), "{}", metrics.body);
    assert_eq!(
        server
            .call(
                "GET",
                &format!("/api/v1/isms/{FOREIGN}/metrics"),
                Some(&ana),
                None
            )
            .status,
        404
    );
    let stats = server.call("GET", "/api/v1/schemas/msgs/stats", Some(&admin), None);
    assert_eq!(stats.status, 200, "{}", stats.body);
    assert_eq!(
        server
            .call("GET", "/api/v1/schemas/msgs/stats", Some(&ana), None)
            .status,
        403
    );
    let scripts = server.call("GET", "/api/v1/scripts", Some(&ana), None);
    assert_eq!(scripts.status, 200, "{}", scripts.body);
    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let cli = m.run(&["scripts", "--json"]).ok().json();
    assert_eq!(ids(&scripts.json()), ids(&cli));
    assert!(!ids(&cli).is_empty(), "the repository ships scripts");
    // Sources are named from their folder, never by the server's disk layout.
    for status in scripts.json().as_array().unwrap() {
        let source = status["source"].as_str().unwrap();
        assert!(
            source.starts_with("scripts/") || source.starts_with("plugins/"),
            "{source}"
        );
    }
    assert_eq!(
        server.call("GET", "/api/v1/scripts", None, None).status,
        401
    );
}

#[test]
fn the_openapi_document_lists_the_maintenance_routes() {
    let m = Mmsm::new();
    let server = Server::start(&m);
    let doc = server
        .call("GET", "/api/v1/openapi.json", None, None)
        .json();
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in [
        ("get", "/api/v1/isms/{id}/procedures"),
        ("post", "/api/v1/isms/{id}/procedures"),
        ("get", "/api/v1/isms/{id}/procedures/{instance}"),
        ("post", "/api/v1/isms/{id}/procedures/{instance}/advance"),
        ("get", "/api/v1/isms/{id}/culture"),
        ("get", "/api/v1/isms/{id}/suggestions"),
        ("post", "/api/v1/isms/{id}/suggestions/{sid}/accept"),
        ("post", "/api/v1/isms/{id}/suggestions/{sid}/reject"),
        ("get", "/api/v1/isms/{id}/metrics"),
        ("get", "/api/v1/isms/{id}/evidence"),
        ("put", "/api/v1/isms/{id}/evidence/{name}"),
        ("get", "/api/v1/schemas/{id}/stats"),
        ("get", "/api/v1/scripts"),
    ] {
        assert!(
            paths.get(path).and_then(|ops| ops.get(method)).is_some(),
            "{method} {path} is not in the OpenAPI document"
        );
    }
}

const MATRIX_ROLES: [&str; 6] = ["anon", "admin", "cos", "aus", "ana", "luis"];

/// One row of the maintenance matrix: method, path (`{id}` is the ISMS),
/// body, and the expected status per role for the own and the foreign ISMS.
type MatrixRow = (
    &'static str,
    &'static str,
    Option<Value>,
    [u16; 6],
    [u16; 6],
);

#[test]
fn every_maintenance_write_as_every_role_for_its_own_and_a_foreign_enterprise() {
    let m = store();
    let server = Server::start(&m);
    let tokens: Vec<Option<String>> = MATRIX_ROLES
        .iter()
        .map(|r| (*r != "anon").then(|| server.login(r)))
        .collect();
    // Rows run in order: ana's start creates the instance the next rows read and move.
    //                 anon admin  cos  aus  ana luis
    let rows: Vec<MatrixRow> = vec![
        (
            "GET",
            "/api/v1/isms/{id}/culture/test?user={user}",
            None,
            // Each user draws their own test only, not even the officer theirs (issue 16).
            [401, 403, 403, 403, 403, 200],
            [401, 403, 404, 404, 404, 404],
        ),
        (
            "POST",
            "/api/v1/isms/{id}/procedures",
            Some(json!({ "procedure": "incident-management" })),
            [401, 422, 422, 422, 201, 201],
            [401, 422, 404, 404, 404, 404],
        ),
        (
            "GET",
            "/api/v1/isms/{id}/procedures/incident-management-1",
            None,
            [401, 200, 200, 200, 200, 200],
            [401, 404, 404, 404, 404, 404],
        ),
        (
            "POST",
            "/api/v1/isms/{id}/procedures/incident-management-1/advance",
            Some(json!({ "phase": "assess" })),
            [401, 422, 422, 422, 200, 422],
            [401, 404, 404, 404, 404, 404],
        ),
        (
            "POST",
            "/api/v1/isms/{id}/suggestions/s9/accept",
            None,
            [401, 404, 404, 403, 404, 403],
            [401, 404, 404, 404, 404, 404],
        ),
        (
            "POST",
            "/api/v1/isms/{id}/suggestions/s9/reject",
            None,
            [401, 404, 404, 403, 404, 403],
            [401, 404, 404, 404, 404, 404],
        ),
        (
            "PUT",
            "/api/v1/isms/{id}/evidence/matrix.csv",
            Some(json!({ "any": "bytes" })),
            [401, 200, 200, 403, 200, 200],
            [401, 200, 404, 403, 404, 404],
        ),
        (
            "GET",
            "/api/v1/isms/{id}/evidence",
            None,
            [401, 200, 200, 200, 200, 200],
            [401, 200, 404, 404, 404, 404],
        ),
    ];
    let mut matrix = Matrix::new(&MATRIX_ROLES, 72);
    for (method, path, body, own, foreign) in rows {
        for (isms, user, expected) in [(ISMS, "luis", own), (FOREIGN, "eva", foreign)] {
            let path = path.replace("{id}", isms).replace("{user}", user);
            matrix.row(format!("{method} {path}"));
            for (i, token) in tokens.iter().enumerate() {
                let reply = server.call(method, &path, token.as_deref(), body.as_ref());
                matrix.cell(i, expected[i], &reply);
            }
        }
    }
    matrix.finish("maintenance access matrix");
}

#[test]
fn the_pages_show_the_officer_forms_only_to_those_the_kernel_lets_use_them() {
    let m = store();
    let server = Server::start(&m);
    let page = |who: &str, path: &str| {
        let token = server.login(who);
        let r = server.request(
            "GET",
            &format!("/isms/{ISMS}/{path}"),
            &common::server::headers(Some(&token)),
            None,
        );
        assert_eq!(r.status, 200, "{who} {path}: {}", r.body);
        r.body
    };
    for (path, form) in [("users", "id=\"add-user\""), ("plan", "id=\"save-1\"")] {
        assert!(
            page("ana", path).contains(form),
            "ana sees {form} on {path}"
        );
        assert!(
            page("cos", path).contains(form),
            "cos sees {form} on {path}"
        );
        assert!(
            !page("luis", path).contains(form),
            "luis does not see {form} on {path}"
        );
        assert!(
            !page("aus", path).contains(form),
            "aus does not see {form} on {path}"
        );
    }
    // The findings page: the auditor and the consultant record, only the
    // auditor closes, the officer and the consultant respond.
    let aus = server.login("aus");
    let added = server.call(
        "POST",
        &url("findings"),
        Some(&aus),
        Some(&json!({ "control": "8.13", "kind": "observation", "text": "Backups are not labelled" })),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    for (form, who_sees) in [
        ("id=\"record-finding\"", ["cos", "aus"].as_slice()),
        ("id=\"record-audit\"", &["cos", "aus"]),
        ("id=\"close-F1\"", &["aus"]),
        ("id=\"respond-F1\"", &["ana", "cos"]),
    ] {
        for who in ["ana", "luis", "cos", "aus"] {
            assert_eq!(
                page(who, "findings").contains(form),
                who_sees.contains(&who),
                "{who} and {form} on the findings page"
            );
        }
    }
}

#[test]
fn an_incident_s_lesson_becomes_the_next_schema_version_from_its_statistics() {
    let m = store();
    let server = Server::start(&m);
    let (admin, luis, ana) = (
        server.login("admin"),
        server.login("luis"),
        server.login("ana"),
    );
    // Four incidents in a year across the store's two enterprises with servers:
    // twice a year each, the quarterly band, above the schema's P (yearly).
    for _ in 0..4 {
        incident(&server, &luis, &ana);
    }
    let stats = server.call(
        "GET",
        "/api/v1/schemas/msgs/stats?suggest=true",
        Some(&admin),
        None,
    );
    assert_eq!(stats.status, 200, "{}", stats.body);
    let suggestions = stats.json()["suggestions"].as_array().unwrap().clone();
    let n = suggestions
        .iter()
        .position(|s| s["kind"] == "raise-probability" && s["asset_type"] == "HW")
        .unwrap_or_else(|| panic!("a raised probability for HW: {suggestions:?}"));
    let proposed = suggestions[n]["proposed"].as_f64().unwrap();

    // Only the schemas zone makes schema versions.
    let refused = server.call(
        "POST",
        "/api/v1/schemas/msgs/stats/apply",
        Some(&ana),
        Some(&json!({ "picked": [n] })),
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    let wrong = server.call(
        "POST",
        "/api/v1/schemas/msgs/stats/apply",
        Some(&admin),
        Some(&json!({ "picked": [99] })),
    );
    assert_eq!(wrong.status, 422, "{}", wrong.body);

    let applied = server.call(
        "POST",
        "/api/v1/schemas/msgs/stats/apply",
        Some(&admin),
        Some(&json!({ "picked": [n] })),
    );
    assert_eq!(applied.status, 200, "{}", applied.body);
    let applied = applied.json();
    assert_eq!(applied["outcome"]["version"], 2, "{applied}");
    // The statistics read the newest version: the schema now agrees with what
    // the incidents showed, so the change is no longer suggested.
    let after = server
        .call(
            "GET",
            "/api/v1/schemas/msgs/stats?suggest=true",
            Some(&admin),
            None,
        )
        .json();
    let hw = after["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["asset_type"] == "HW" && i["threat"] == "A.24")
        .cloned()
        .unwrap();
    assert_eq!(hw["schema_probability"].as_f64(), Some(proposed), "{hw}");
    assert!(
        !after["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "raise-probability" && s["asset_type"] == "HW"),
        "{after}"
    );
}

#[test]
fn evidence_is_uploaded_over_http_and_a_file_over_the_limit_is_refused_with_the_limit() {
    let m = store();
    let server = Server::start(&m);
    let ana = server.login("ana");
    let headers = common::server::headers(Some(&ana));
    let put = |name: &str, body: String| {
        server.request(
            "PUT",
            &url(&format!("evidence/{name}")),
            &headers,
            Some(("text/csv", body)),
        )
    };
    let csv = "finished,status\n2027-01-01 03:00,verified\n".to_owned();
    let kept = put("backups.csv", csv.clone());
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_eq!(kept.json()["size"], csv.len());
    assert_eq!(kept.json()["uploaded_by"], "ana");
    let big = put("big.csv", "x".repeat(5 * 1024 * 1024 + 1));
    assert_eq!(big.status, 422, "{}", big.body);
    assert!(big.body.contains("at most 5 MB"), "{}", big.body);
    let bad = put(".hidden", csv);
    assert_eq!(bad.status, 422, "{}", bad.body);
    let listed = server
        .call("GET", &url("evidence"), Some(&ana), None)
        .json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(names, ["backups.csv"]);

    // An incident's register attaches evidence files of the ISMS, and only those.
    let start = |attachments: Value| {
        server.call(
            "POST",
            &url("procedures"),
            Some(&ana),
            Some(&json!({
                "procedure": "incident-management",
                "fields": { "reported_on": "2027-01-10", "title": "Backup failed", "attachments": attachments }
            })),
        )
    };
    let unknown = start(json!(["screenshot.png"]));
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert!(
        unknown.body.contains("not an evidence file"),
        "{}",
        unknown.body
    );
    let attached = start(json!(["backups.csv"]));
    assert_eq!(attached.status, 201, "{}", attached.body);
    assert_eq!(
        attached.json()["instance"]["registers"]["reg-incidents"]["attachments"],
        json!(["backups.csv"])
    );
}

#[test]
fn the_speaker_approves_the_isms_over_http_and_the_report_says_so() {
    // Issue 15.1: an ISMS went live without anyone accepting it.
    let m = store();
    m.run(&[
        "isms",
        "user",
        "add",
        ISMS,
        "marta",
        "--name",
        "Marta Gil",
        "--role",
        "Int",
    ])
    .ok();
    common::server::user_add(
        &m,
        &[
            "user",
            "add",
            "marta",
            "--password-stdin",
            "--role",
            "Int",
            "--isms",
            ISMS,
        ],
    );
    let server = Server::start(&m);
    let (ana, marta) = (server.login("ana"), server.login("marta"));
    let status = server
        .call("GET", &url("approval"), Some(&ana), None)
        .json();
    assert_eq!(status["state"], "draft", "{status}");
    let report = server.call("GET", &format!("/isms/{ISMS}/report"), Some(&ana), None);
    assert!(
        report.body.contains("draft, not approved by the speaker"),
        "{}",
        report.body
    );

    let refused = server.call("POST", &url("approval"), Some(&ana), None);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("only the enterprise's speaker"),
        "{}",
        refused.body
    );
    let board = server.request(
        "GET",
        &format!("/isms/{ISMS}"),
        &common::server::headers(Some(&marta)),
        None,
    );
    assert!(board.body.contains("id=\"approve-isms\""), "{}", board.body);
    let approved = server.call(
        "POST",
        &url("approval"),
        Some(&marta),
        Some(&json!({ "note": "read and agreed" })),
    );
    assert_eq!(approved.status, 200, "{}", approved.body);
    let approved = approved.json();
    assert_eq!(approved["state"], "approved", "{approved}");
    assert_eq!(approved["approval"]["by"], "marta");
    assert_eq!(approved["approval"]["digest"].as_str().unwrap().len(), 64);
    let report = server.call("GET", &format!("/isms/{ISMS}/report"), Some(&ana), None);
    assert!(report.body.contains("approved by marta"), "{}", report.body);
}

#[test]
fn the_auditor_certifies_a_level_a_major_finding_suspends_it_and_closing_it_restores_it() {
    // Issue 15's "done when", over HTTP: certify level 1 and print it; a
    // major finding on a level-1 control suspends it and lowers the board;
    // the officer responds, the auditor closes, the certificate is valid again.
    let m = store();
    let server = Server::start(&m);
    let (ana, luis, aus) = (
        server.login("ana"),
        server.login("luis"),
        server.login("aus"),
    );
    for sub in ["6.3.1", "8.13.1", "8.13.2"] {
        let r = server.call(
            "PUT",
            &url(&format!("answers/{sub}")),
            Some(&ana),
            Some(&json!({ "answer": "yes" })),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let issued = server.call(
        "POST",
        &url("certificates"),
        Some(&aus),
        Some(&json!({ "level": 1 })),
    );
    assert_eq!(issued.status, 200, "{}", issued.body);
    let (status, kind, pdf) = server.get_bytes(&url("certificates/1/pdf"), Some(&ana));
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    let text = common::pdf_text(&pdf);
    assert!(text.contains("Taller Gil"), "{text}");
    assert!(text.contains("maturity level 1"), "{text}");
    assert!(text.contains("State when printed: valid"), "{text}");
    let compliance = |who: &str| {
        server.call("GET", &url("board"), Some(who), None).json()["compliance"]
            .as_f64()
            .unwrap()
    };
    let before = compliance(&ana);

    // luis may not record a finding; the auditor does, with evidence.
    let body = json!({
        "control": "8.13", "kind": "major", "text": "Restores are never tested",
        "evidence": { "name": "restore-log.txt", "base64": "cmVzdG9yZSBmYWlsZWQ=" }
    });
    let refused = server.call("POST", &url("findings"), Some(&luis), Some(&body));
    assert_eq!(refused.status, 403, "{}", refused.body);
    let added = server.call("POST", &url("findings"), Some(&aus), Some(&body));
    assert_eq!(added.status, 201, "{}", added.body);
    let added = added.json();
    assert_eq!(added["id"], "F1");
    assert_eq!(added["evidence"]["name"], "finding-F1-restore-log.txt");
    assert!(compliance(&ana) < before);
    let certificates = server
        .call("GET", &url("certificates"), Some(&ana), None)
        .json();
    assert_eq!(certificates[0]["state"], "suspended", "{certificates}");
    assert!(
        certificates[0]["reason"]
            .as_str()
            .unwrap()
            .contains("level 1 is not reached"),
        "{certificates}"
    );
    let report = server.call("GET", &format!("/isms/{ISMS}/report"), Some(&ana), None);
    assert!(report.body.contains("Open findings"), "{}", report.body);
    assert!(
        report.body.contains("F1 major non-conformity"),
        "{}",
        report.body
    );

    // The officer responds, the owner reports it done, only the auditor closes.
    let response = server.call(
        "POST",
        &url("findings/F1/response"),
        Some(&ana),
        Some(&json!({ "action": "Test a restore every month", "owner": "luis", "due": "2099-01-31" })),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let done = server.call("POST", &url("findings/F1/done"), Some(&luis), None);
    assert_eq!(done.status, 200, "{}", done.body);
    let refused = server.call("POST", &url("findings/F1/close"), Some(&ana), None);
    assert_eq!(refused.status, 403, "{}", refused.body);
    let closed = server.call(
        "POST",
        &url("findings/F1/close"),
        Some(&aus),
        Some(&json!({ "note": "restore log checked" })),
    );
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert!(closed.json()["state"]
        .as_str()
        .unwrap()
        .starts_with("closed by aus"));
    assert_eq!(compliance(&ana), before);
    let certificates = server
        .call("GET", &url("certificates"), Some(&ana), None)
        .json();
    assert_eq!(certificates[0]["state"], "valid", "{certificates}");
    let open = server
        .call("GET", &url("findings?open=true"), Some(&ana), None)
        .json();
    assert_eq!(open, json!([]));

    // The audit programme: the auditor records an audit held.
    let held = server.call(
        "POST",
        &url("audits"),
        Some(&aus),
        Some(&json!({ "audit": "external-audit" })),
    );
    assert_eq!(held.status, 201, "{}", held.body);
    let audits = server.call("GET", &url("audits"), Some(&luis), None).json();
    let external = audits
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "external-audit")
        .unwrap();
    assert!(external["last"].is_string(), "{external}");
    let trail = server.call("GET", "/api/v1/audit?limit=200", Some(&aus), None);
    for action in [
        "isms.finding.add",
        "isms.finding.close",
        "isms.audit.record",
    ] {
        assert!(trail.body.contains(action), "{action}");
    }
}

#[test]
fn documents_are_filled_in_approved_and_downloaded_over_http() {
    // Issue 14 over HTTP: the regulation in force names a fill-in field.
    let m = store();
    let server = Server::start(&m);
    let (ana, luis) = (server.login("ana"), server.login("luis"));
    let list = server
        .call("GET", &url("documents"), Some(&luis), None)
        .json();
    let policy = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "security-policy")
        .unwrap()
        .clone();
    assert_eq!(policy["state"], "draft", "{policy}");
    assert_eq!(
        policy["empty"],
        json!(["Phone number to report security problems"])
    );
    let body = json!({ "fields": { "security_phone": "+34 600 000 000" }, "owner": "ana" });
    let refused = server.call(
        "PUT",
        &url("documents/security-policy"),
        Some(&luis),
        Some(&body),
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    let set = server.call(
        "PUT",
        &url("documents/security-policy"),
        Some(&ana),
        Some(&body),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.json()["empty"], json!([]));
    let shown = server
        .call("GET", &url("documents/security-policy"), Some(&luis), None)
        .json();
    assert!(
        shown["markdown"]
            .as_str()
            .unwrap()
            .contains("Report incidents at once to Ana Ruiz on +34 600 000 000."),
        "{shown}"
    );
    let approved = server.call(
        "POST",
        &url("documents/security-policy/approval"),
        Some(&ana),
        None,
    );
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.json()["state"], "approved");
    let again = server.call(
        "POST",
        &url("documents/security-policy/approval"),
        Some(&ana),
        None,
    );
    assert_eq!(again.status, 422, "{}", again.body);
    let (status, kind, pdf) =
        server.get_bytes(&url("documents/security-policy?format=pdf"), Some(&luis));
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    let text = common::pdf_text(&pdf);
    assert!(text.contains("+34 600 000 000"), "{text}");
    let (status, _, pack) = server.get_bytes(&url("documents/pack.pdf"), Some(&luis));
    assert_eq!(status, 200);
    assert!(common::pdf_text(&pack).contains("Security policy (version 1, approved)"));
    // The page's ZIP: every document as PDF and Word, and the pack.
    let (status, kind, zip) =
        server.get_bytes(&format!("/isms/{ISMS}/documents/pack.zip"), Some(&luis));
    assert_eq!((status, kind.as_str()), (200, "application/zip"));
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let names: Vec<&str> = archive.file_names().collect();
    for name in [
        "pack.pdf",
        "pdf/security-policy.pdf",
        "word/security-policy.docx",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}
