//! The HTTP API against a real `mmsm serve` on 127.0.0.1 with a temp store:
//! authentication, the access matrix of every route for every role on its
//! own and a foreign enterprise, the OpenAPI document, CSRF, rate limiting,
//! the shapes shared with the CLI, concurrent updates with no lost write,
//! graceful shutdown, and `mmsm audit verify` catching tampered records.

mod common;

use std::collections::BTreeMap;

use common::server::{prepared_store, Matrix, Server, FOREIGN, OWN, PASSWORD};
use mmsm_store::{Batch, Repo, Store};
use serde_json::{json, Value};

const ROLES: [&str; 8] = ["anon", "admin", "ags", "ged", "cos", "aus", "rs", "us"];

/// Makes the n-th request body: (text, content type).
type BodyFn = fn(usize) -> (String, &'static str);

/// One row of the matrix: a route, whether it is about an ISMS, and the
/// expected status per role for the own and for the foreign enterprise.
struct Route {
    method: &'static str,
    path: &'static str,
    body: Option<BodyFn>,
    own: [u16; 8],
    foreign: [u16; 8],
}

fn profile(n: usize) -> (String, &'static str) {
    (
        json!({
            "enterprise": { "name": format!("Matrix {n}"), "sector": "veterinary", "employees": 9 },
            "assets": [{ "id": "erp", "name": "ERP", "type": "HW", "strategic_value": 5, "requirements": { "D": 2, "I": 2, "C": 2 } }]
        })
        .to_string(),
        "application/json",
    )
}

fn clone_body(n: usize) -> (String, &'static str) {
    (
        json!({ "new": format!("clone-{n}") }).to_string(),
        "application/json",
    )
}

fn answer_body(_: usize) -> (String, &'static str) {
    (json!({ "answer": "yes" }).to_string(), "application/json")
}

fn asset_body(_: usize) -> (String, &'static str) {
    (
        json!({ "id": "erp", "name": "ERP server", "type": "HW", "strategic_value": 8, "requirements": { "D": 3, "I": 3, "C": 2 } }).to_string(),
        "application/json",
    )
}

fn schema_body(n: usize) -> (String, &'static str) {
    let text =
        std::fs::read_to_string(common::repo_root().join("tests/fixtures/worked/schema.yaml"))
            .unwrap();
    (
        text.replacen("id: worked", &format!("id: imported-{n}"), 1),
        "application/yaml",
    )
}

fn account_body(n: usize) -> (String, &'static str) {
    (
        json!({ "name": format!("account-{n}"), "roles": ["Cl/US"], "isms": OWN, "password": PASSWORD }).to_string(),
        "application/json",
    )
}

fn assign_body(_: usize) -> (String, &'static str) {
    (json!({ "isms": OWN }).to_string(), "application/json")
}

fn plan_body(_: usize) -> (String, &'static str) {
    (
        json!({ "done": true, "result": "done by the matrix" }).to_string(),
        "application/json",
    )
}

fn level_three(_: usize) -> (String, &'static str) {
    (json!({ "level": 3 }).to_string(), "application/json")
}

fn document_body(_: usize) -> (String, &'static str) {
    (
        json!({ "fields": { "x": "y" } }).to_string(),
        "application/json",
    )
}

fn finding_body(n: usize) -> (String, &'static str) {
    (
        json!({ "control": "8.20", "kind": "observation", "text": format!("matrix observation {n}") })
            .to_string(),
        "application/json",
    )
}

fn response_body(_: usize) -> (String, &'static str) {
    (
        json!({ "action": "fix it", "owner": "nobody", "due": "2099-01-31" }).to_string(),
        "application/json",
    )
}

fn audit_held_body(_: usize) -> (String, &'static str) {
    (
        json!({ "audit": "internal-audit", "on": "2026-01-15" }).to_string(),
        "application/json",
    )
}

fn business_body(n: usize) -> (String, &'static str) {
    (
        json!({ "value": n.is_multiple_of(2) }).to_string(),
        "application/json",
    )
}

fn roles_body(_: usize) -> (String, &'static str) {
    (json!({ "roles": ["CoS"] }).to_string(), "application/json")
}

fn password_body(_: usize) -> (String, &'static str) {
    (
        json!({ "password": "a new long pass phrase" }).to_string(),
        "application/json",
    )
}

fn token_body(_: usize) -> (String, &'static str) {
    (json!({ "label": "matrix" }).to_string(), "application/json")
}

//                        anon admin ags  ged  cos  aus  rs   us
const READ_OWN: [u16; 8] = [401, 200, 404, 404, 200, 200, 200, 200];
const READ_FOREIGN: [u16; 8] = [401, 200, 404, 404, 404, 404, 404, 404];
const WRITE_OWN: [u16; 8] = [401, 200, 403, 403, 200, 403, 200, 200];
const WRITE_FOREIGN: [u16; 8] = [401, 200, 403, 403, 404, 403, 404, 404];
const AUDIT_OWN: [u16; 8] = [401, 200, 403, 403, 403, 200, 200, 200];
const AUDIT_FOREIGN: [u16; 8] = [401, 200, 403, 403, 403, 404, 404, 404];
const OFFICER_OWN: [u16; 8] = [401, 200, 404, 404, 200, 403, 200, 403];
const SCHEMAS: [u16; 8] = [401, 200, 200, 200, 403, 403, 403, 403];

fn routes() -> Vec<Route> {
    let isms = |method, path, own, foreign| Route {
        method,
        path,
        body: None,
        own,
        foreign,
    };
    let global = |method, path, body, all: [u16; 8]| Route {
        method,
        path,
        body,
        own: all,
        foreign: all,
    };
    vec![
        isms("GET", "/api/v1/isms/{id}", READ_OWN, READ_FOREIGN),
        isms("GET", "/api/v1/isms/{id}/board", READ_OWN, READ_FOREIGN),
        isms("GET", "/api/v1/isms/{id}/risks", READ_OWN, READ_FOREIGN),
        isms("GET", "/api/v1/isms/{id}/plan", READ_OWN, READ_FOREIGN),
        isms("GET", "/api/v1/isms/{id}/history", READ_OWN, READ_FOREIGN),
        isms("GET", "/api/v1/isms/{id}/soa", READ_OWN, READ_FOREIGN),
        isms(
            "GET",
            "/api/v1/isms/{id}/obligations",
            READ_OWN,
            READ_FOREIGN,
        ),
        isms("GET", "/api/v1/isms/{id}/soa.xlsx", READ_OWN, READ_FOREIGN),
        isms("GET", "/api/v1/isms/{id}/soa.pdf", READ_OWN, READ_FOREIGN),
        isms("GET", "/api/v1/isms/{id}/report", READ_OWN, READ_FOREIGN),
        isms("GET", "/api/v1/isms/{id}/audit", AUDIT_OWN, AUDIT_FOREIGN),
        isms("GET", "/api/v1/isms/{id}/approval", READ_OWN, READ_FOREIGN),
        isms(
            "GET",
            "/api/v1/isms/{id}/certificates",
            READ_OWN,
            READ_FOREIGN,
        ),
        isms("GET", "/api/v1/isms/{id}/evidence", READ_OWN, READ_FOREIGN),
        isms(
            "GET",
            "/api/v1/isms/{id}/answers/why",
            READ_OWN,
            READ_FOREIGN,
        ),
        // Only the speaker approves (none in this store: 422 for those who see
        // it); only an auditor certifies (level 3 is not reached: 422).
        Route {
            method: "POST",
            path: "/api/v1/isms/{id}/approval",
            body: None,
            own: [401, 422, 404, 404, 422, 422, 422, 422],
            foreign: [401, 422, 404, 404, 404, 404, 404, 404],
        },
        Route {
            method: "POST",
            path: "/api/v1/isms/{id}/certificates",
            body: Some(level_three),
            own: [401, 422, 403, 403, 403, 422, 403, 403],
            foreign: [401, 422, 403, 403, 403, 404, 403, 403],
        },
        isms("GET", "/api/v1/isms/{id}/documents", READ_OWN, READ_FOREIGN),
        isms(
            "GET",
            "/api/v1/isms/{id}/documents/pack.pdf",
            READ_OWN,
            READ_FOREIGN,
        ),
        // The officer or the consultant fills in (no such document: 404 past
        // the rights check); the speaker or the officer approves.
        Route {
            method: "PUT",
            path: "/api/v1/isms/{id}/documents/nope",
            body: Some(document_body),
            own: [401, 404, 404, 404, 404, 403, 404, 403],
            foreign: [401, 404, 404, 404, 404, 404, 404, 404],
        },
        Route {
            method: "POST",
            path: "/api/v1/isms/{id}/documents/nope/approval",
            body: None,
            own: [401, 422, 404, 404, 422, 422, 404, 422],
            foreign: [401, 422, 404, 404, 404, 404, 404, 404],
        },
        isms("GET", "/api/v1/isms/{id}/findings", READ_OWN, READ_FOREIGN),
        isms("GET", "/api/v1/isms/{id}/audits", READ_OWN, READ_FOREIGN),
        // The auditor or the consultant records findings and audits held;
        // only the auditor closes; the officer (or the consultant) responds.
        Route {
            method: "POST",
            path: "/api/v1/isms/{id}/findings",
            body: Some(finding_body),
            own: [401, 201, 403, 403, 201, 201, 403, 403],
            foreign: [401, 201, 403, 403, 404, 404, 403, 403],
        },
        Route {
            method: "POST",
            path: "/api/v1/isms/{id}/audits",
            body: Some(audit_held_body),
            own: [401, 201, 403, 403, 201, 201, 403, 403],
            foreign: [401, 201, 403, 403, 404, 404, 403, 403],
        },
        Route {
            method: "POST",
            path: "/api/v1/isms/{id}/findings/F99/close",
            body: None,
            own: [401, 404, 403, 403, 403, 404, 403, 403],
            foreign: [401, 404, 403, 403, 403, 404, 403, 403],
        },
        Route {
            method: "POST",
            path: "/api/v1/isms/{id}/findings/F99/response",
            body: Some(response_body),
            own: [401, 404, 404, 404, 404, 403, 404, 403],
            foreign: [401, 404, 404, 404, 404, 404, 404, 404],
        },
        isms(
            "GET",
            "/api/v1/isms/{id}/procedures",
            READ_OWN,
            READ_FOREIGN,
        ),
        isms("GET", "/api/v1/isms/{id}/culture", READ_OWN, READ_FOREIGN),
        isms(
            "GET",
            "/api/v1/isms/{id}/suggestions",
            READ_OWN,
            READ_FOREIGN,
        ),
        isms("GET", "/api/v1/isms/{id}/metrics", READ_OWN, READ_FOREIGN),
        isms(
            "GET",
            "/api/v1/isms/{id}/metrics/backup-freshness/values",
            READ_OWN,
            READ_FOREIGN,
        ),
        Route {
            method: "POST",
            path: "/api/v1/isms/{id}/metrics/run",
            body: None,
            own: WRITE_OWN,
            foreign: WRITE_FOREIGN,
        },
        Route {
            method: "POST",
            path: "/api/v1/isms/{id}/rebase",
            body: None,
            // allowed callers are told the ISMS is already on the newest version
            own: [401, 422, 403, 403, 422, 403, 403, 403],
            foreign: [401, 422, 403, 403, 404, 403, 403, 403],
        },
        Route {
            method: "PUT",
            path: "/api/v1/isms/{id}/business/card_payments",
            body: Some(business_body),
            own: OFFICER_OWN,
            foreign: READ_FOREIGN,
        },
        Route {
            method: "POST",
            path: "/api/v1/isms/{id}/plan/1",
            body: Some(plan_body),
            own: OFFICER_OWN,
            foreign: READ_FOREIGN,
        },
        Route {
            method: "PUT",
            path: "/api/v1/isms/{id}/answers/8.20.1",
            body: Some(answer_body),
            own: WRITE_OWN,
            foreign: WRITE_FOREIGN,
        },
        Route {
            method: "PUT",
            path: "/api/v1/isms/{id}/assets/erp",
            body: Some(asset_body),
            own: WRITE_OWN,
            foreign: WRITE_FOREIGN,
        },
        global(
            "GET",
            "/api/v1/isms",
            None,
            [401, 200, 200, 200, 200, 200, 200, 200],
        ),
        global(
            "POST",
            "/api/v1/isms",
            Some(profile),
            [401, 201, 403, 403, 201, 403, 403, 403],
        ),
        global(
            "GET",
            "/api/v1/schemas",
            None,
            [401, 200, 200, 200, 200, 200, 403, 403],
        ),
        global(
            "GET",
            "/api/v1/schemas/worked",
            None,
            [401, 200, 200, 200, 200, 200, 403, 403],
        ),
        global(
            "GET",
            "/api/v1/schemas/worked/diff?v1=1&v2=1",
            None,
            [401, 200, 200, 200, 200, 200, 403, 403],
        ),
        global(
            "POST",
            "/api/v1/schemas/worked/clone",
            Some(clone_body),
            [401, 201, 201, 201, 403, 403, 403, 403],
        ),
        global("GET", "/api/v1/schemas/worked/stats", None, SCHEMAS),
        global(
            "GET",
            "/api/v1/scripts",
            None,
            [401, 200, 200, 200, 200, 200, 200, 200],
        ),
        global(
            "GET",
            "/api/v1/audit",
            None,
            [401, 200, 403, 403, 403, 200, 200, 200],
        ),
        global(
            "GET",
            "/api/v1/audit/verify",
            None,
            [401, 200, 403, 403, 403, 200, 403, 403],
        ),
        global(
            "POST",
            "/api/v1/schemas",
            Some(schema_body),
            [401, 201, 201, 201, 403, 403, 403, 403],
        ),
        global(
            "POST",
            "/api/v1/accounts",
            Some(account_body),
            [401, 201, 403, 403, 403, 403, 403, 403],
        ),
        global(
            "GET",
            "/api/v1/accounts",
            None,
            [401, 200, 403, 403, 403, 403, 403, 403],
        ),
        global(
            "GET",
            "/api/v1/me",
            None,
            [401, 200, 200, 200, 200, 200, 200, 200],
        ),
        global(
            "POST",
            "/api/v1/tokens",
            Some(token_body),
            [401, 200, 200, 200, 200, 200, 200, 200],
        ),
        global(
            "GET",
            "/api/v1/tokens",
            None,
            [401, 200, 200, 200, 200, 200, 200, 200],
        ),
        global(
            "GET",
            "/api/v1/tokens?user=rs",
            None,
            [401, 200, 403, 403, 403, 403, 200, 403],
        ),
        global(
            "DELETE",
            "/api/v1/tokens/000000000000",
            None,
            [401, 404, 404, 404, 404, 404, 404, 404],
        ),
        global(
            "POST",
            "/api/v1/accounts/nobody/disable",
            None,
            [401, 404, 403, 403, 403, 403, 403, 403],
        ),
        global(
            "POST",
            "/api/v1/accounts/nobody/enable",
            None,
            [401, 404, 403, 403, 403, 403, 403, 403],
        ),
        global(
            "PUT",
            "/api/v1/accounts/nobody/roles",
            Some(roles_body),
            [401, 404, 403, 403, 403, 403, 403, 403],
        ),
        global(
            "DELETE",
            "/api/v1/accounts/nobody",
            None,
            [401, 404, 403, 403, 403, 403, 403, 403],
        ),
        global(
            "DELETE",
            "/api/v1/accounts/cos/assign/other-clinic",
            None,
            [401, 404, 403, 403, 403, 403, 403, 403],
        ),
        // Late: once assigned, ags would see the own enterprise in later rows.
        global(
            "POST",
            "/api/v1/accounts/ags/assign",
            Some(assign_body),
            [401, 204, 403, 403, 403, 403, 403, 403],
        ),
        // Last: the administrator's reset closes ags's sessions (401 after it).
        global(
            "PUT",
            "/api/v1/accounts/ags/password",
            Some(password_body),
            [401, 204, 401, 403, 403, 403, 403, 403],
        ),
    ]
}

#[test]
fn every_route_as_every_role_for_its_own_and_a_foreign_enterprise() {
    let m = prepared_store();
    let server = Server::start(&m);
    let tokens: BTreeMap<&str, String> = ROLES[1..].iter().map(|r| (*r, server.login(r))).collect();
    let mut n = 0;
    let mut matrix = Matrix::new(&ROLES, 48);
    for route in routes() {
        let targets: Vec<(&str, [u16; 8])> = if route.path.contains("{id}") {
            vec![(OWN, route.own), (FOREIGN, route.foreign)]
        } else {
            vec![("", route.own)]
        };
        for (isms, expected) in targets {
            let path = route.path.replace("{id}", isms);
            matrix.row(format!(
                "{} {}{}",
                route.method,
                route.path,
                match isms {
                    "" => "",
                    OWN => " (own)",
                    _ => " (foreign)",
                }
            ));
            for (i, role) in ROLES.iter().enumerate() {
                n += 1;
                let mut headers = Vec::new();
                if let Some(t) = tokens.get(role) {
                    headers.push(("Authorization".to_owned(), format!("Bearer {t}")));
                }
                let body = route.body.map(|f| {
                    let (text, kind) = f(n);
                    (kind, text)
                });
                let reply = server.request(route.method, &path, &headers, body);
                matrix.cell(i, expected[i], &reply);
            }
        }
    }
    matrix.finish("access matrix");
}

#[test]
fn an_enterprise_user_lists_only_its_enterprise_and_a_consultant_only_its_assignments() {
    let m = prepared_store();
    let server = Server::start(&m);
    let ids = |user: &str| -> Vec<String> {
        let t = server.login(user);
        server
            .call("GET", "/api/v1/isms", Some(&t), None)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids("rs"), vec![OWN]);
    assert_eq!(ids("cos"), vec![OWN]);
    assert!(ids("ags").is_empty());
    assert_eq!(ids("admin"), vec![FOREIGN, OWN]);
    // A consultant sees what it generates.
    let t = server.login("cos");
    let (body, kind) = profile(999);
    let r = server.request(
        "POST",
        "/api/v1/isms",
        &common::server::headers(Some(&t)),
        Some((kind, body)),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(ids("cos").contains(&"matrix-999".to_owned()));
}

#[test]
fn the_listing_is_paged_with_a_next_link_and_searched() {
    let m = prepared_store();
    let server = Server::start(&m);
    let t = server.login("admin");
    let first = server.call("GET", "/api/v1/isms?limit=1", Some(&t), None);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json().as_array().unwrap().len(), 1);
    assert_eq!(first.json()[0]["id"], FOREIGN);
    let link = first
        .header("link")
        .expect("a Link header when more remain");
    assert_eq!(
        link,
        format!("</api/v1/isms?limit=1&after={FOREIGN}>; rel=\"next\"")
    );
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let second = server.call("GET", next, Some(&t), None);
    assert_eq!(second.json()[0]["id"], OWN);
    assert!(second.header("link").is_none(), "the last page has no next");
    // The same objects as the whole listing, searched by name (any case).
    let searched = server.call("GET", "/api/v1/isms?q=OTHER", Some(&t), None);
    let items = searched.json();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["name"], "Other Clinic");
    for key in [
        "id",
        "name",
        "sector",
        "schema",
        "compliance",
        "current",
        "target",
    ] {
        assert!(items[0].get(key).is_some(), "{key} in {items}");
    }
    let bad = server.call("GET", "/api/v1/isms?sort=size", Some(&t), None);
    assert!(bad.status >= 400 && bad.status < 500, "{}", bad.status);
    assert!(bad.body.contains("not an order"), "{}", bad.body);
}

#[test]
fn api_bodies_with_an_unknown_field_are_refused_with_its_name_and_change_nothing() {
    let m = prepared_store();
    let server = Server::start(&m);
    let t = server.login("admin");
    let path = format!("/api/v1/isms/{OWN}/answers/8.6.1");
    let before = server
        .call("GET", &format!("/api/v1/isms/{OWN}"), Some(&t), None)
        .json();
    let typo = server.call("PUT", &path, Some(&t), Some(&json!({ "anwser": "yes" })));
    assert!(
        typo.status >= 400 && typo.status < 500,
        "{}: {}",
        typo.status,
        typo.body
    );
    assert!(typo.body.contains("anwser"), "{}", typo.body);
    let extra = server.call(
        "PUT",
        &path,
        Some(&t),
        Some(&json!({ "answer": "yes", "note": "not a field" })),
    );
    assert!(
        extra.status >= 400 && extra.status < 500,
        "{}",
        extra.status
    );
    assert!(extra.body.contains("note"), "{}", extra.body);
    let after = server
        .call("GET", &format!("/api/v1/isms/{OWN}"), Some(&t), None)
        .json();
    assert_eq!(before["inputs"], after["inputs"], "nothing changed");
    let right = server.call("PUT", &path, Some(&t), Some(&json!({ "answer": "yes" })));
    assert_eq!(right.status, 200, "{}", right.body);

    // An id outside the grammar is refused, with the reason (issue 18).
    let evil = server.call(
        "PUT",
        &format!("/api/v1/isms/{OWN}/assets/..%2Fevil"),
        Some(&t),
        Some(&json!({ "id": "../evil", "name": "Evil", "type": "HW", "strategic_value": 8, "requirements": { "D": 3, "I": 3, "C": 2 } })),
    );
    assert!(
        evil.status >= 400 && evil.status < 500,
        "{}: {}",
        evil.status,
        evil.body
    );
    assert!(
        evil.body.contains("the asset id holds '/'"),
        "{}",
        evil.body
    );
    let after = server
        .call("GET", &format!("/api/v1/isms/{OWN}"), Some(&t), None)
        .json();
    assert!(!after["inputs"]["assets"].to_string().contains("evil"));
    // A 10 KB name is refused with the reason, and nothing is stored (issue 17).
    let long = server.call(
        "PUT",
        &format!("/api/v1/isms/{OWN}/assets/nas"),
        Some(&t),
        Some(&json!({ "id": "nas", "name": "N".repeat(10_240), "type": "HW", "strategic_value": 5, "requirements": { "D": 3, "I": 3, "C": 2 } })),
    );
    assert_eq!(long.status, 422, "{}", long.status);
    assert!(
        long.body
            .contains("the asset's name has 10240 characters; at most 120"),
        "{}",
        &long.body[..long.body.len().min(300)]
    );
    let after = server
        .call("GET", &format!("/api/v1/isms/{OWN}"), Some(&t), None)
        .json();
    assert!(!after["inputs"]["assets"].to_string().contains("\"nas\""));
}

#[test]
fn login_gives_a_strict_http_only_cookie_and_cookie_writes_need_the_csrf_token() {
    let m = prepared_store();
    let server = Server::start(&m);
    assert!(server
        .banner
        .iter()
        .any(|l| l.contains("mmsm serving on http://127.0.0.1:")));
    let r = server.call(
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({ "user": "rs", "password": PASSWORD })),
    );
    assert_eq!(r.status, 200);
    let cookie = r.header("set-cookie").unwrap().to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Max-Age=", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_owned();
    let csrf = r.json()["csrf"].as_str().unwrap().to_owned();
    let cookie_header = vec![("Cookie".to_owned(), session.clone())];
    assert_eq!(
        server
            .request("GET", "/api/v1/me", &cookie_header, None)
            .json()["user"],
        "rs"
    );
    let answer = Some((
        "application/json",
        json!({ "answer": "partial" }).to_string(),
    ));
    let path = format!("/api/v1/isms/{OWN}/answers/8.6.1");
    let refused = server.request("PUT", &path, &cookie_header, answer.clone());
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.json()["error"]
        .as_str()
        .unwrap()
        .contains("X-CSRF-Token"));
    let mut with_csrf = cookie_header.clone();
    with_csrf.push(("X-CSRF-Token".to_owned(), csrf));
    assert_eq!(server.request("PUT", &path, &with_csrf, answer).status, 200);
    // Logging out ends the session.
    assert_eq!(
        server
            .request("POST", "/api/v1/logout", &with_csrf, None)
            .status,
        204
    );
    assert_eq!(
        server
            .request("GET", "/api/v1/me", &cookie_header, None)
            .status,
        401
    );
}

#[test]
fn wrong_passwords_are_401_and_repeated_failures_are_rate_limited() {
    let m = prepared_store();
    let server = Server::start(&m);
    let wrong = json!({ "user": "us", "password": "not the password" });
    for _ in 0..5 {
        let r = server.call("POST", "/api/v1/login", None, Some(&wrong));
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = server.call("POST", "/api/v1/login", None, Some(&wrong));
    assert_eq!(r.status, 429, "{}", r.body);
    // Even the right password waits now.
    let right = json!({ "user": "us", "password": PASSWORD });
    assert_eq!(
        server
            .call("POST", "/api/v1/login", None, Some(&right))
            .status,
        429
    );
    // An unknown user gets the same answer as a wrong password.
    let r = server.call(
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({ "user": "ghost", "password": "x" })),
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("wrong user name or password"), "{}", r.body);
    // Another user behind the same address is not locked out by `us`.
    let rs = json!({ "user": "rs", "password": PASSWORD });
    let r = server.call("POST", "/api/v1/login", None, Some(&rs));
    assert_eq!(r.status, 200, "{}", r.body);
    // Once the back-off has passed, the rightful user gets in.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let r = server.call("POST", "/api/v1/login", None, Some(&right));
    assert_eq!(r.status, 200, "{}", r.body);
    // The lockout is in the audit trail once, when it started.
    let admin = server.login("admin");
    let trail = server
        .call("GET", "/api/v1/audit", Some(&admin), None)
        .json();
    let locked: Vec<&Value> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "account.login.locked")
        .collect();
    assert_eq!(locked.len(), 1, "{locked:?}");
    assert_eq!(locked[0]["ids"], json!(["user:us"]));
}

#[test]
fn a_burst_of_parallel_guesses_checks_no_more_than_the_free_attempts() {
    // Issue 18: of 40 parallel wrong passwords, 15 to 40 were checked.
    let m = prepared_store();
    let server = Server::start(&m);
    let wrong = json!({ "user": "us", "password": "not the password" });
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..40)
            .map(|_| {
                scope.spawn(|| {
                    server
                        .call("POST", "/api/v1/login", None, Some(&wrong))
                        .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(checked <= 5, "{checked} guesses were checked: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
}

#[test]
fn the_openapi_document_lists_every_api_route_and_each_needs_authentication() {
    let m = prepared_store();
    let server = Server::start(&m);
    let doc = server
        .call("GET", "/api/v1/openapi.json", None, None)
        .json();
    let paths = doc["paths"].as_object().unwrap();
    for route in routes() {
        let template = route
            .path
            .split('?')
            .next()
            .unwrap()
            .replace("/answers/8.20.1", "/answers/{subcontrol}")
            .replace("/assets/erp", "/assets/{asset}")
            .replace("/metrics/backup-freshness/", "/metrics/{metric}/")
            .replace("/plan/1", "/plan/{rank}")
            .replace("/accounts/ags/", "/accounts/{name}/")
            .replace(
                "/accounts/cos/assign/other-clinic",
                "/accounts/{name}/assign/{isms}",
            )
            .replace("/accounts/nobody/", "/accounts/{name}/")
            .replace("/accounts/nobody", "/accounts/{name}")
            .replace("/tokens/000000000000", "/tokens/{token}")
            .replace("/schemas/worked", "/schemas/{id}")
            .replace("/findings/F99/", "/findings/{finding}/")
            .replace("/documents/nope", "/documents/{doc}")
            .replace("/business/card_payments", "/business/{question}");
        let ops = paths
            .get(&template)
            .unwrap_or_else(|| panic!("{template} is not in the OpenAPI document"));
        assert!(
            ops.get(route.method.to_lowercase()).is_some(),
            "{} {template}",
            route.method
        );
    }
    // Every documented operation exists on the server and, but login, needs a principal.
    let mut checked = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", OWN)
                .replace("{subcontrol}", "8.20.1")
                .replace("{asset}", "erp")
                .replace("{name}", "rs")
                .replace("{isms}", OWN)
                .replace("{instance}", "incident-management-1")
                .replace("{sid}", "s1")
                .replace("{finding}", "F1")
                .replace("{doc}", "nope")
                .replace("{level}", "1");
            let r = server.request(&method.to_uppercase(), &concrete, &[], None);
            let expected = if path == "/api/v1/login" { 415 } else { 401 };
            assert_eq!(r.status, expected, "{method} {path}: {}", r.body);
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} operations documented");
    assert_eq!(
        server.call("GET", "/api/v1/nothing", None, None).status,
        404
    );
}

#[test]
fn board_risks_and_plan_have_the_cli_shapes_and_an_answer_changes_the_board() {
    let m = prepared_store();
    let cli: Vec<Value> = ["board", "risks", "plan"]
        .iter()
        .map(|what| m.run(&["isms", what, OWN, "--json"]).ok().json())
        .collect();
    let server = Server::start(&m);
    let t = server.login("rs");
    for (what, expected) in ["board", "risks", "plan"].iter().zip(&cli) {
        let got = server
            .call("GET", &format!("/api/v1/isms/{OWN}/{what}"), Some(&t), None)
            .json();
        assert_eq!(
            &got, expected,
            "{what} over HTTP differs from `mmsm isms {what} --json`"
        );
    }
    let before = cli[0]["compliance"].as_f64().unwrap();
    let r = server.call(
        "PUT",
        &format!("/api/v1/isms/{OWN}/answers/8.20.2"),
        Some(&t),
        Some(&json!({ "answer": "yes" })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let board = server
        .call("GET", &format!("/api/v1/isms/{OWN}/board"), Some(&t), None)
        .json();
    assert!(board["compliance"].as_f64().unwrap() > before, "{board}");
    let bad = server.call(
        "PUT",
        &format!("/api/v1/isms/{OWN}/answers/8.20.2"),
        Some(&t),
        Some(&json!({ "answer": "maybe" })),
    );
    assert_eq!(bad.status, 422);
    assert!(bad.json()["error"]
        .as_str()
        .unwrap()
        .contains("expected yes, partial, no, na or unknown"));
    let history = server
        .call(
            "GET",
            &format!("/api/v1/isms/{OWN}/history"),
            Some(&t),
            None,
        )
        .json();
    assert_eq!(history.as_array().unwrap().last().unwrap()["user"], "rs");
}

#[test]
fn concurrent_answers_are_all_kept_and_shutdown_loses_no_write() {
    let m = prepared_store();
    let mut server = Server::start(&m);
    let tokens: Vec<String> = ["rs", "us", "cos", "admin"]
        .iter()
        .map(|u| server.login(u))
        .collect();
    let per_client = 15;
    let server_ref = &server;
    std::thread::scope(|s| {
        for (i, t) in tokens.iter().enumerate() {
            for k in 0..2 {
                s.spawn(move || {
                    for j in 0..per_client {
                        let answer = ["yes", "no", "partial"][(i + j + k) % 3];
                        let sub = ["8.20.1", "8.20.2", "8.6.1"][(i + k) % 3];
                        let r = server_ref.call(
                            "PUT",
                            &format!("/api/v1/isms/{OWN}/answers/{sub}"),
                            Some(t),
                            Some(&json!({ "answer": answer })),
                        );
                        assert_eq!(r.status, 200, "{}", r.body);
                    }
                });
            }
        }
    });
    let sent = tokens.len() * 2 * per_client;
    server.stop();
    let log = m
        .run(&["audit", "log", "--isms", OWN, "--json"])
        .ok()
        .json();
    let answers = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "isms.answer")
        .count();
    assert_eq!(answers, sent, "every accepted update is in the audit trail");
    let verify = m.run(&["audit", "verify", "--json"]).ok().json();
    assert_eq!(verify["intact"], true);
}

/// Rewrites raw records of the info repository with the kernel's store API,
/// in one handle (sled allows one open handle per folder).
fn tamper(m: &common::Mmsm, edit: impl FnOnce(&Store, &mut Batch)) {
    let store = Store::open(&m.data()).unwrap();
    let mut batch = Batch::default();
    edit(&store, &mut batch);
    store.apply(&batch).unwrap();
}

fn info(store: &Store, key: &str) -> Value {
    store.get(Repo::Info, key).unwrap().unwrap()
}

fn entry_key(seq: u64) -> String {
    mmsm_store::chain::entry_key(seq)
}

#[test]
fn audit_verify_catches_an_edited_a_reordered_and_a_deleted_record() {
    let m = prepared_store();
    {
        let mut server = Server::start(&m);
        let t = server.login("rs");
        for a in ["yes", "no", "yes"] {
            server.call(
                "PUT",
                &format!("/api/v1/isms/{OWN}/answers/8.6.1"),
                Some(&t),
                Some(&json!({ "answer": a })),
            );
        }
        server.stop();
    }
    let intact = m.run(&["audit", "verify"]).ok();
    assert!(intact.stdout.contains("intact"), "{}", intact.stdout);

    // Edited: someone rewrites who did it.
    let edited = common::Mmsm {
        dir: tempfile::tempdir().unwrap(),
    };
    common::copy_dir(&m.data(), &edited.data());
    tamper(&edited, |store, batch| {
        let mut v = info(store, &entry_key(3));
        v["entry"]["user"] = json!("mallory");
        batch.put(Repo::Info, entry_key(3), &v);
    });
    let run = edited.run(&["audit", "verify"]).fails();
    assert!(
        run.stderr.contains(&entry_key(3)) && run.stderr.contains("edited"),
        "{}",
        run.stderr
    );

    // Reordered: two records swap places.
    let reordered = common::Mmsm {
        dir: tempfile::tempdir().unwrap(),
    };
    common::copy_dir(&m.data(), &reordered.data());
    tamper(&reordered, |store, batch| {
        let (a, b) = (info(store, &entry_key(4)), info(store, &entry_key(5)));
        batch.put(Repo::Info, entry_key(4), &b);
        batch.put(Repo::Info, entry_key(5), &a);
    });
    let run = reordered.run(&["audit", "verify"]).fails();
    assert!(run.stderr.contains(&entry_key(4)), "{}", run.stderr);

    // Deleted: a record in the middle, then the last one.
    let deleted = common::Mmsm {
        dir: tempfile::tempdir().unwrap(),
    };
    common::copy_dir(&m.data(), &deleted.data());
    tamper(&deleted, |_, batch| batch.delete(Repo::Info, entry_key(2)));
    let run = deleted.run(&["audit", "verify"]).fails();
    assert!(run.stderr.contains("deleted"), "{}", run.stderr);

    let last = common::Mmsm {
        dir: tempfile::tempdir().unwrap(),
    };
    common::copy_dir(&m.data(), &last.data());
    tamper(&last, |store, batch| {
        let head = info(store, "audit/head");
        batch.delete(Repo::Info, entry_key(head["seq"].as_u64().unwrap()));
    });
    let run = last.run(&["audit", "verify", "--json"]).fails();
    assert!(
        run.stderr.contains("last entries were deleted") || run.stdout.contains("audit/head"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn the_first_start_of_an_empty_store_prints_a_one_time_admin_password_that_logs_in() {
    let m = common::Mmsm::new();
    let server = Server::start(&m);
    let line = server
        .banner
        .iter()
        .find(|l| l.contains("one-time password"))
        .unwrap_or_else(|| panic!("{:?}", server.banner));
    let password = line.rsplit(' ').next().unwrap();
    let r = server.call(
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({ "user": "admin", "password": password })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["account"]["admin"], true);
    assert_eq!(r.json()["account"]["must_change_password"], true);
    let t = r.json()["token"].as_str().unwrap().to_owned();
    let before = server.call("GET", "/api/v1/schemas", Some(&t), None);
    assert_eq!(before.status, 403, "{}", before.body);
    let changed = server.call(
        "PUT",
        "/api/v1/accounts/admin/password",
        Some(&t),
        Some(&json!({ "password": "the administrator's own phrase" })),
    );
    assert_eq!(changed.status, 204, "{}", changed.body);
    let schemas = server.call("GET", "/api/v1/schemas", Some(&t), None).json();
    assert!(schemas
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == "base"));
}

#[test]
fn the_report_downloads_as_an_html_or_markdown_file_from_the_web_ui() {
    let m = prepared_store();
    let server = Server::start(&m);
    let token = server.login("aus");
    let auth = common::server::headers(Some(&token));
    for (format, kind) in [("html", "text/html"), ("md", "text/markdown")] {
        let r = server.request(
            "GET",
            &format!("/isms/{OWN}/report?download={format}"),
            &auth,
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.header("content-type").unwrap().starts_with(kind));
        assert_eq!(
            r.header("content-disposition"),
            Some(format!("attachment; filename=\"{OWN}-report.{format}\"").as_str())
        );
        assert!(r.body.contains("Worked Example"), "{}", r.body);
    }
    let wrong = server.request(
        "GET",
        &format!("/isms/{OWN}/report?download=pdf"),
        &auth,
        None,
    );
    assert_eq!(wrong.status, 400);
    let foreign = server.request(
        "GET",
        &format!("/isms/{FOREIGN}/report?download=md"),
        &auth,
        None,
    );
    assert_eq!(foreign.status, 404);
}

#[test]
fn a_password_set_on_the_command_line_logs_in_and_the_old_one_does_not() {
    let m = prepared_store();
    common::server::user_add_stdin(
        &m,
        &["user", "passwd", "us", "--password-stdin"],
        "a fresh pass phrase",
    );
    let server = Server::start(&m);
    let old = server.call(
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({ "user": "us", "password": PASSWORD })),
    );
    assert_eq!(old.status, 401, "{}", old.body);
    let new = server.call(
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({ "user": "us", "password": "a fresh pass phrase" })),
    );
    assert_eq!(new.status, 200, "{}", new.body);

    // The web face: every user's own password page.
    let login = new.json();
    let (token, csrf) = (
        login["token"].as_str().unwrap().to_owned(),
        login["csrf"].as_str().unwrap().to_owned(),
    );
    // Set by the operator for someone else, it is a one-time password:
    // nothing but changing it until it is changed.
    assert_eq!(login["account"]["must_change_password"], true, "{login}");
    let blocked = server.call("GET", "/api/v1/isms", Some(&token), None);
    assert_eq!(blocked.status, 403, "{}", blocked.body);
    assert!(
        blocked.body.contains("one-time password: change it first"),
        "{}",
        blocked.body
    );
    let me = server.call("GET", "/api/v1/me", Some(&token), None);
    assert_eq!(me.json()["must_change_password"], true, "{}", me.body);
    let headers = common::server::headers(Some(&token));
    // (The web pages send it to /password: the browser test follows that walk.)
    let form = server.request("GET", "/password", &headers, None);
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("id=\"set-password\""), "{}", form.body);
    let post = |password: &str, again: &str| {
        let body = format!("csrf={csrf}&password={password}&again={again}");
        server.request(
            "POST",
            "/password",
            &headers,
            Some(("application/x-www-form-urlencoded", body)),
        )
    };
    let differ = post("one+long+pass+phrase", "another+long+phrase");
    assert!(
        differ.body.contains("the two passwords differ"),
        "{}",
        differ.body
    );
    let weak = post("password1234", "password1234");
    assert!(weak.body.contains("among the most common"), "{}", weak.body);
    let set = post("the+web+pass+phrase", "the+web+pass+phrase");
    assert!(set.body.contains("id=\"password-set\""), "{}", set.body);
    let open = server.call("GET", "/api/v1/isms", Some(&token), None);
    assert_eq!(open.status, 200, "the same session goes on: {}", open.body);
    let again = server.call(
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({ "user": "us", "password": "the web pass phrase" })),
    );
    assert_eq!(again.status, 200, "{}", again.body);
}

#[test]
fn an_administrator_disables_enables_reroles_and_removes_an_account_over_the_api() {
    let m = prepared_store();
    let server = Server::start(&m);
    let admin = server.login("admin");
    let cos = server.login("cos");
    let accounts = server
        .call("GET", "/api/v1/accounts", Some(&admin), None)
        .json();
    let listed = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "cos")
        .cloned()
        .unwrap();
    assert_eq!(listed["assigned"], json!([OWN]), "{listed}");
    assert_eq!(listed["disabled"], false);

    let disabled = server.call("POST", "/api/v1/accounts/cos/disable", Some(&admin), None);
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.json()["disabled"], true);
    let shut = server.call("GET", "/api/v1/me", Some(&cos), None);
    assert_eq!(shut.status, 401, "{}", shut.body);
    let login = server.call(
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({ "user": "cos", "password": PASSWORD })),
    );
    assert_eq!(login.status, 401, "{}", login.body);
    assert!(login.body.contains("is disabled"), "{}", login.body);
    let enabled = server.call("POST", "/api/v1/accounts/cos/enable", Some(&admin), None);
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    let cos = server.login("cos");

    let roles = server.call(
        "PUT",
        "/api/v1/accounts/cos/roles",
        Some(&admin),
        Some(&json!({ "roles": ["AuS"] })),
    );
    assert_eq!(roles.status, 200, "{}", roles.body);
    let me = server.call("GET", "/api/v1/me", Some(&cos), None).json();
    assert_eq!(me["roles"], json!(["AuS"]), "{me}");
    let enterprise = server.call(
        "PUT",
        "/api/v1/accounts/rs/roles",
        Some(&admin),
        Some(&json!({ "roles": ["CoS"] })),
    );
    assert_eq!(enterprise.status, 422, "{}", enterprise.body);
    assert!(
        enterprise.body.contains("isms user roles"),
        "{}",
        enterprise.body
    );

    let unassigned = server.call(
        "DELETE",
        &format!("/api/v1/accounts/cos/assign/{OWN}"),
        Some(&admin),
        None,
    );
    assert_eq!(unassigned.status, 204, "{}", unassigned.body);
    let gone = server.call("GET", &format!("/api/v1/isms/{OWN}"), Some(&cos), None);
    assert_eq!(gone.status, 404, "{}", gone.body);

    let removed = server.call("DELETE", "/api/v1/accounts/cos", Some(&admin), None);
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_eq!(
        server.call("GET", "/api/v1/me", Some(&cos), None).status,
        401
    );
    let trail = server
        .call("GET", "/api/v1/audit", Some(&admin), None)
        .json();
    let actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "account.disable",
        "account.enable",
        "account.roles",
        "account.unassign",
        "account.remove",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    // The API's lists filter and window without changing their shape.
    let accounts_only = actions.iter().filter(|a| a.starts_with("account.")).count();
    let page = server.call(
        "GET",
        "/api/v1/audit?kind=account.&offset=1&limit=2",
        Some(&admin),
        None,
    );
    assert_eq!(
        page.header("x-total-count"),
        Some(accounts_only.to_string().as_str())
    );
    let rows = page.json();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    assert!(rows
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"].as_str().unwrap().starts_with("account.")));
}

#[test]
fn the_accounts_page_disables_resets_and_removes_with_a_confirmation() {
    let m = prepared_store();
    let server = Server::start(&m);
    let admin = server.login("admin");
    let csrf = server.call("GET", "/api/v1/me", Some(&admin), None).json()["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    let headers = common::server::headers(Some(&admin));
    let post = |path: &str, extra: &str| {
        server.request(
            "POST",
            path,
            &headers,
            Some((
                "application/x-www-form-urlencoded",
                format!("csrf={csrf}{extra}"),
            )),
        )
    };
    let page = server.request("GET", "/accounts", &headers, None);
    assert!(page.body.contains("id=\"disable-cos\""), "{}", page.body);
    assert!(
        !page.body.contains("id=\"disable-admin\""),
        "no button to lock oneself out"
    );

    let cos = server.login("cos");
    post("/accounts/cos/disable", "");
    // (The redirect back is followed without the Bearer header: read the page anew.)
    let disabled = server.request("GET", "/accounts", &headers, None);
    assert!(
        disabled.body.contains("id=\"enable-cos\""),
        "{}",
        disabled.body
    );
    assert_eq!(
        server.call("GET", "/api/v1/me", Some(&cos), None).status,
        401
    );
    post("/accounts/cos/enable", "");

    let reset = post("/accounts/aus/reset", "");
    assert!(
        reset.body.contains("id=\"reset-password\""),
        "{}",
        reset.body
    );
    let one_time = reset
        .body
        .split("id=\"reset-password\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let login = server.call(
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({ "user": "aus", "password": one_time })),
    );
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.json()["account"]["must_change_password"], true);

    // The list filters by name, kind and state.
    let filtered = server.request("GET", "/accounts?kind=enterprise&q=r", &headers, None);
    assert!(
        filtered.body.contains("id=\"account-rs\""),
        "{}",
        filtered.body
    );
    assert!(
        !filtered.body.contains("id=\"account-cos\""),
        "{}",
        filtered.body
    );
    let one_time = server.request("GET", "/accounts?state=one-time", &headers, None);
    assert!(
        one_time.body.contains("id=\"account-aus\""),
        "{}",
        one_time.body
    );
    assert!(
        !one_time.body.contains("id=\"account-rs\""),
        "{}",
        one_time.body
    );

    // A refused account keeps the form as typed, the reason above it, in words.
    let refused = post("/accounts", "&name=nora.gil&isms=worked-example");
    assert!(
        refused.body.contains("id=\"create-errors\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"nora.gil\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("at least one role, one of"),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("--role"), "{}", refused.body);
    // An error page keeps the navigation of whoever is logged in (with the session cookie).
    let cookie = vec![("Cookie".to_owned(), format!("mmsm_session={admin}"))];
    let missing = server.request("GET", "/isms/no-such-enterprise", &cookie, None);
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("href=\"/accounts\""),
        "{}",
        missing.body
    );

    let unconfirmed = post("/accounts/us/remove", "");
    assert!(
        unconfirmed.body.contains("was not removed"),
        "{}",
        unconfirmed.body
    );
    let removed = post("/accounts/us/remove", "&confirm=on");
    assert!(removed.body.contains("id=\"removed\""), "{}", removed.body);
    let accounts = server
        .call("GET", "/api/v1/accounts", Some(&admin), None)
        .json();
    assert!(accounts
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["name"] != "us"));
}

#[test]
fn long_lists_are_paged_and_filtered_and_the_board_shows_the_top_of_the_plan() {
    // Issue 17.6: the board embedded all 192 plan items; plan, SoA, history
    // and audit trail were flat lists.
    let m = prepared_store();
    m.run(&["demo", "--out", m.dir.path().to_str().unwrap()])
        .ok();
    let demo = "clinica-dental-sonrisa";
    let server = Server::start(&m);
    let admin = server.login("admin");
    let headers = common::server::headers(Some(&admin));
    let get = |path: &str| {
        let r = server.request("GET", path, &headers, None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body
    };
    // (The server's metric scheduler may re-value the plan between two
    // requests: each count is read from the page that shows it.)
    let board = get(&format!("/isms/{demo}"));
    let shown: usize = board
        .split("The first 10 of ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{board}"));
    assert!(shown > 50, "the demo's plan is long: {shown}");

    let first = get(&format!("/isms/{demo}/plan"));
    assert_eq!(first.matches("<details id=\"rank-").count(), 25);
    let items: usize = first
        .split("1 to 25 of ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{first}"));
    let pages = items.div_ceil(25);
    assert!(
        first.contains(&format!("1 to 25 of {items} (page 1 of {pages})")),
        "{first}"
    );
    let second = get(&format!("/isms/{demo}/plan?page=2"));
    assert!(second.contains("id=\"rank-26\""), "{second}");
    let level = get(&format!("/isms/{demo}/plan?level=1"));
    let shown = level.matches("<details id=\"rank-").count();
    assert!(shown > 0);
    assert_eq!(level.matches(" · level 1 · ").count(), shown, "{level}");
    let done = get(&format!("/isms/{demo}/plan?state=done&level=1"));
    assert!(
        done.contains("No item of the plan matches these filters."),
        "{done}"
    );

    let soa = server
        .call(
            "GET",
            &format!("/api/v1/isms/{demo}/soa"),
            Some(&admin),
            None,
        )
        .json();
    let rows = soa["rows"].as_array().or(soa.as_array()).unwrap().clone();
    let excluded = rows.iter().filter(|r| r["applicable"] == false).count();
    let page = get(&format!("/isms/{demo}/soa?applies=no"));
    if excluded == 0 {
        assert!(page.contains("No control matches these filters."), "{page}");
    } else {
        assert!(
            page.contains(&format!("of {excluded} "))
                || page.contains(&format!("{excluded} shown")),
            "{page}"
        );
    }
    let domain = rows[0]["domain"].as_str().unwrap();
    let in_domain = rows.iter().filter(|r| r["domain"] == domain).count();
    let page = get(&format!(
        "/isms/{demo}/soa?domain={}",
        domain.replace(' ', "%20")
    ));
    assert_eq!(
        page.matches("<tr><td>").count(),
        in_domain.min(50),
        "{page}"
    );

    // The technical checklist, one domain at a time, with every domain's progress.
    let technological = get(&format!("/isms/{demo}/checklist?domain=8"));
    let questions: Vec<&str> = technological
        .split("class=\"question\" id=\"sc-")
        .skip(1)
        .collect();
    assert!(questions.len() > 10, "{technological}");
    assert!(
        questions.iter().all(|q| q.starts_with("8.")),
        "only domain 8"
    );
    assert!(
        technological.contains("aria-current=\"page\">8 "),
        "{technological}"
    );
    assert!(
        technological.contains("checklist?domain=5\""),
        "the others are linked"
    );
    let organisational = get(&format!("/isms/{demo}/checklist?domain=5"));
    assert!(!organisational.contains("id=\"sc-8."), "{organisational}");

    let trail = get("/audit?kind=account");
    let whats: Vec<&str> = trail
        .split("<td>")
        .filter(|cell| {
            cell.starts_with("account.") || cell.starts_with("isms.") || cell.starts_with("schema.")
        })
        .collect();
    assert!(!whats.is_empty(), "{trail}");
    assert!(whats.iter().all(|w| w.starts_with("account.")), "{whats:?}");
}

#[test]
fn an_answers_reasons_reach_the_soa_and_an_exclusion_without_one_is_marked_incomplete() {
    // Issue 17.8: no note, no evidence and no "not applicable because" on an answer.
    let m = prepared_store();
    let server = Server::start(&m);
    let cos = server.login("cos");
    let answer = server.call(
        "PUT",
        &format!("/api/v1/isms/{OWN}/answers/8.20.1"),
        Some(&cos),
        Some(&json!({ "answer": "na" })),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    // 8.20 of the worked schema has two questions: both n/a exclude it.
    let r = server.call(
        "PUT",
        &format!("/api/v1/isms/{OWN}/answers/8.20.2"),
        Some(&cos),
        Some(&json!({ "answer": "na" })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let soa = |who: &str| {
        server
            .call("GET", &format!("/api/v1/isms/{OWN}/soa"), Some(who), None)
            .json()
    };
    let row = |soa: &Value| {
        soa.as_array()
            .or(soa["rows"].as_array())
            .unwrap()
            .iter()
            .find(|r| r["control"] == "8.20")
            .cloned()
            .unwrap()
    };
    let before = row(&soa(&cos));
    assert_eq!(before["applicable"], false, "{before}");
    assert!(
        before["reason"].as_str().unwrap().contains("INCOMPLETE"),
        "{before}"
    );

    let unknown = server.call(
        "PUT",
        &format!("/api/v1/isms/{OWN}/answers/8.20.1/why"),
        Some(&cos),
        Some(&json!({ "justification": "x", "evidence": ["net.csv"] })),
    );
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let kept = server.request(
        "PUT",
        &format!("/api/v1/isms/{OWN}/evidence/net.csv"),
        &common::server::headers(Some(&cos)),
        Some(("text/csv", "segment,vlan\n".into())),
    );
    assert_eq!(kept.status, 200, "{}", kept.body);
    let why = server.call(
        "PUT",
        &format!("/api/v1/isms/{OWN}/answers/8.20.1/why"),
        Some(&cos),
        Some(&json!({
            "note": "one flat network",
            "justification": "the clinic has no network of its own: the landlord's",
            "evidence": ["net.csv"]
        })),
    );
    assert_eq!(why.status, 200, "{}", why.body);
    let after = row(&soa(&cos));
    let reason = after["reason"].as_str().unwrap();
    assert!(!reason.contains("INCOMPLETE"), "{reason}");
    assert!(reason.contains("the landlord's"), "{reason}");
    assert!(reason.contains("evidence: net.csv"), "{reason}");
    let listed = server
        .call(
            "GET",
            &format!("/api/v1/isms/{OWN}/answers/why"),
            Some(&cos),
            None,
        )
        .json();
    assert_eq!(listed["8.20.1"]["evidence"], json!(["net.csv"]));
    // The web face: the checklist's Why form of the question.
    let csrf = server.call("GET", "/api/v1/me", Some(&cos), None).json()["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    let headers = common::server::headers(Some(&cos));
    // A multipart form: a file given with the reasons becomes evidence, attached.
    let boundary = "xyzBOUNDARYxyz";
    let part = |name: &str, value: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    };
    let body = [
        part("csrf", &csrf),
        part("subcontrol", "8.20.2"),
        part("justification", "no firewall of ours"),
        part("evidence", "net.csv"),
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"lease.txt\"\r\nContent-Type: text/plain\r\n\r\nthe landlord runs the network\r\n--{boundary}--\r\n"),
    ]
    .concat();
    let content_type = format!("multipart/form-data; boundary={boundary}");
    server.request(
        "POST",
        &format!("/isms/{OWN}/why"),
        &headers,
        Some((&content_type, body)),
    );
    let page = server.request(
        "GET",
        &format!("/isms/{OWN}/checklist?domain=8"),
        &headers,
        None,
    );
    assert!(
        page.body.contains("Why: no firewall of ours"),
        "{}",
        page.body
    );
    let reason = row(&soa(&cos))["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("8.20.2: no firewall of ours"), "{reason}");
    assert!(reason.contains("evidence: lease.txt, net.csv"), "{reason}");
    let aus = server.login("aus");
    let refused = server.call(
        "PUT",
        &format!("/api/v1/isms/{OWN}/answers/8.20.1/why"),
        Some(&aus),
        Some(&json!({ "note": "auditors only read" })),
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
}

#[test]
fn a_second_enterprise_of_the_same_name_is_generated_only_when_confirmed() {
    // Issue 17.7: duplicate enterprise names were accepted silently.
    let m = prepared_store();
    let server = Server::start(&m);
    let cos = server.login("cos");
    let csrf = server.call("GET", "/api/v1/me", Some(&cos), None).json()["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    let headers = common::server::headers(Some(&cos));
    let name = server
        .call("GET", &format!("/api/v1/isms/{OWN}"), Some(&cos), None)
        .json()["enterprise"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = |extra: &str| {
        server.request(
            "POST",
            "/isms/new",
            &headers,
            Some((
                "application/x-www-form-urlencoded",
                format!(
                    "csrf={csrf}&schema=worked&name={}&sector=veterinary&employees=14&asset.0.name=ERP&asset.0.type=HW&asset.0.D=5{extra}",
                    name.to_uppercase().replace(' ', "+")
                ),
            )),
        )
    };
    let asked = post("");
    assert!(asked.body.contains("exists already"), "{}", asked.body);
    assert!(
        asked.body.contains("id=\"confirm-duplicate\""),
        "{}",
        asked.body
    );
    let before = server.call("GET", "/api/v1/isms", Some(&cos), None).json();
    let count = |v: &Value| v.as_array().or(v["items"].as_array()).unwrap().len();
    let made = post("&confirm_duplicate=yes");
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(!made.body.contains("id=\"errors\""), "{}", made.body);
    let after = server.call("GET", "/api/v1/isms", Some(&cos), None).json();
    assert_eq!(count(&after), count(&before) + 1, "{after}");
}

#[test]
fn a_schema_version_reads_in_the_browser_its_questions_risk_tables_and_documents() {
    // Issue 17.10: a schema could only be read as counts or a 269 KB text box.
    let m = prepared_store();
    let server = Server::start(&m);
    let admin = server.login("admin");
    let headers = common::server::headers(Some(&admin));
    let get = |path: &str| {
        let r = server.request("GET", path, &headers, None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body
    };
    let base = mmsm_schema::load_path(&common::repo_root().join("schemas/base"))
        .unwrap()
        .schema;
    let (_, question) = base.subcontrols().next().unwrap();
    let controls = get("/schemas/base/contents");
    assert!(
        controls.contains(&format!("id=\"q-{}\"", question.id)),
        "{controls}"
    );
    assert_eq!(
        controls.matches("<tr id=\"q-").count(),
        base.subcontrols().count(),
        "every question of the version"
    );
    let risks = get("/schemas/base/contents?part=risks");
    let threat = &base.threats[0];
    assert!(
        risks.contains(&format!("{} {}", threat.id, threat.name)),
        "{risks}"
    );
    assert!(risks.contains("Probability and degradation"), "{risks}");
    let documents = get("/schemas/base/contents?part=documents");
    assert!(documents.contains("Incident management"), "{documents}");
    assert!(documents.contains("Root cause"), "{documents}");
    assert!(
        documents.contains("Notify the data protection authority"),
        "{documents}"
    );
    let wrong = server.request("GET", "/schemas/base/contents?part=x", &headers, None);
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    let summary = get("/schemas/base");
    assert!(summary.contains("id=\"read-contents\""), "{summary}");
}

#[test]
fn an_administrator_archives_and_deletes_an_enterprise_and_no_one_else_may() {
    let m = prepared_store();
    let server = Server::start(&m);
    let (admin, cos) = (server.login("admin"), server.login("cos"));
    let rs = server.login("rs");
    let refused = server.call(
        "DELETE",
        &format!("/api/v1/isms/{OWN}?confirm={OWN}"),
        Some(&cos),
        None,
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    let unconfirmed = server.call(
        "DELETE",
        &format!("/api/v1/isms/{OWN}?confirm=yes"),
        Some(&admin),
        None,
    );
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.body);
    assert!(unconfirmed.body.contains("confirm by typing its id"));
    let board = server.request(
        "GET",
        &format!("/isms/{OWN}"),
        &common::server::headers(Some(&admin)),
        None,
    );
    assert!(
        board.body.contains("id=\"delete-isms\""),
        "the admin's board offers it"
    );
    // Archived first: read only, said on the board, and back again.
    let archived = server.call(
        "POST",
        &format!("/api/v1/isms/{OWN}/archive"),
        Some(&admin),
        None,
    );
    assert_eq!(archived.status, 200, "{}", archived.body);
    let answer = |who: &str| {
        server.call(
            "PUT",
            &format!("/api/v1/isms/{OWN}/answers/8.20.1"),
            Some(who),
            Some(&json!({ "answer": "no" })),
        )
    };
    let refused = answer(&cos);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("is archived, read only"),
        "{}",
        refused.body
    );
    let board = server.request(
        "GET",
        &format!("/isms/{OWN}"),
        &common::server::headers(Some(&cos)),
        None,
    );
    assert!(board.body.contains("id=\"archived\""), "{}", board.body);
    assert_eq!(
        server
            .call(
                "POST",
                &format!("/api/v1/isms/{OWN}/unarchive"),
                Some(&cos),
                None
            )
            .status,
        403
    );
    let back = server.call(
        "POST",
        &format!("/api/v1/isms/{OWN}/unarchive"),
        Some(&admin),
        None,
    );
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(answer(&cos).status, 200);

    let deleted = server.call(
        "DELETE",
        &format!("/api/v1/isms/{OWN}?confirm={OWN}"),
        Some(&admin),
        None,
    );
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let accounts = deleted.json()["accounts"].clone();
    assert!(
        accounts.as_array().unwrap().contains(&json!("rs")),
        "{accounts}"
    );
    assert_eq!(
        server
            .call("GET", &format!("/api/v1/isms/{OWN}"), Some(&admin), None)
            .status,
        404
    );
    assert_eq!(
        server.call("GET", "/api/v1/me", Some(&rs), None).status,
        401
    );
    let other = server.call(
        "GET",
        &format!("/api/v1/isms/{FOREIGN}"),
        Some(&admin),
        None,
    );
    assert_eq!(other.status, 200, "the other enterprise stays");
}

#[test]
fn an_auditor_certifies_a_reached_level_and_the_certificate_is_suspended_when_it_is_lost() {
    // Issue 15.2: "certification by levels" issued nothing.
    let m = prepared_store();
    let server = Server::start(&m);
    let (cos, aus) = (server.login("cos"), server.login("aus"));
    let answer = |value: &str| {
        let r = server.call(
            "PUT",
            &format!("/api/v1/isms/{OWN}/answers/8.20.2"),
            Some(&cos),
            Some(&json!({ "answer": value })),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    };
    let certify = |who: &str| {
        server.call(
            "POST",
            &format!("/api/v1/isms/{OWN}/certificates"),
            Some(who),
            Some(&json!({ "level": 1 })),
        )
    };
    answer("no");
    let refused = certify(&aus);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("level 1 is not reached"),
        "{}",
        refused.body
    );
    assert_eq!(certify(&cos).status, 403, "only the auditor certifies");
    answer("yes");
    // The auditor's board offers the reached levels to certify.
    let aus_board = server.request(
        "GET",
        &format!("/isms/{OWN}"),
        &common::server::headers(Some(&aus)),
        None,
    );
    assert!(
        aus_board.body.contains("id=\"certify\""),
        "{}",
        aus_board.body
    );
    let csrf = server.call("GET", "/api/v1/me", Some(&aus), None).json()["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    server.request(
        "POST",
        &format!("/isms/{OWN}/certify"),
        &common::server::headers(Some(&aus)),
        Some((
            "application/x-www-form-urlencoded",
            format!("csrf={csrf}&level=1"),
        )),
    );
    let by_form = server
        .call(
            "GET",
            &format!("/api/v1/isms/{OWN}/certificates"),
            Some(&aus),
            None,
        )
        .json();
    assert_eq!(by_form[0]["state"], "valid", "{by_form}");
    let issued = certify(&aus);
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert_eq!(issued.json()["state"], "valid");
    let list = |who: &str| {
        server
            .call(
                "GET",
                &format!("/api/v1/isms/{OWN}/certificates"),
                Some(who),
                None,
            )
            .json()
    };
    answer("no");
    let suspended = list(&cos);
    assert_eq!(suspended[0]["state"], "suspended", "{suspended}");
    assert!(suspended[0]["reason"]
        .as_str()
        .unwrap()
        .contains("not reached"));
    let board = server.request(
        "GET",
        &format!("/isms/{OWN}"),
        &common::server::headers(Some(&cos)),
        None,
    );
    assert!(
        board
            .body
            .contains("Level 1 certificate</strong>: suspended"),
        "{}",
        board.body
    );
    // The report, the SoA page and `isms show` say it too.
    let report = server.call("GET", &format!("/isms/{OWN}/report"), Some(&aus), None);
    assert!(
        report.body.contains("level 1 certificate: suspended"),
        "{}",
        report.body
    );
    let soa = server.call("GET", &format!("/isms/{OWN}/soa"), Some(&aus), None);
    assert!(
        soa.body
            .contains("Status: draft, not approved by the speaker"),
        "{}",
        soa.body
    );
    answer("yes");
    assert_eq!(list(&aus)[0]["state"], "valid");
}
