//! Several servers on one PostgreSQL database (issue 13): what only two
//! processes can break. Each test starts a throwaway cluster of its own
//! (`mmsm_store::throwaway`) and two `mmsm serve` on one database.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::server::{user_add, Server};
use common::Mmsm;
use serde_json::{json, Value};

const ISMS: &str = "clinica-dental-sonrisa";

/// A fresh database with the demo clinic and an administrator `ops`.
fn demo_database(m: &Mmsm) -> String {
    let url = mmsm_store::throwaway::shared()
        .unwrap()
        .fresh_database()
        .unwrap();
    m.run(&[
        "--store",
        &url,
        "demo",
        "--out",
        m.path("out").to_str().unwrap(),
    ])
    .ok();
    user_add(
        m,
        &[
            "--store",
            &url,
            "user",
            "add",
            "ops",
            "--password-stdin",
            "--role",
            "CoS",
            "--admin",
        ],
    );
    url
}

/// Subcontrols of the clinic's schema, `n` of them.
fn subcontrols(n: usize) -> Vec<String> {
    mmsm_schema::load_path(&common::repo_root().join("schemas/health-small"))
        .unwrap()
        .schema
        .subcontrols()
        .map(|(_, s)| s.id.to_string())
        .take(n)
        .collect()
}

/// What the clients saw acknowledged.
#[derive(Default)]
struct Acknowledged {
    count: AtomicU64,
    last: Mutex<BTreeMap<String, String>>,
    /// A value sent after the last acknowledged one and never answered (its
    /// server was killed): it may have been committed before the kill.
    unanswered: Mutex<BTreeMap<String, String>>,
}

/// `clients` clients per server, each answering its own two questions until
/// `deadline`; returns nothing, fills `ack`. A refused connection (a killed
/// server) ends that client.
fn answer_load(
    servers: &[Arc<Server>],
    token: &str,
    clients: usize,
    deadline: Instant,
    ack: &Acknowledged,
    subs: &[String],
) {
    std::thread::scope(|scope| {
        for (s, server) in servers.iter().enumerate() {
            for c in 0..clients {
                let n = s * clients + c;
                let own = [subs[2 * n].clone(), subs[2 * n + 1].clone()];
                let server = server.clone();
                scope.spawn(move || {
                    let mut op = 0usize;
                    while Instant::now() < deadline {
                        op += 1;
                        let sub = &own[op % 2];
                        let value = ["yes", "no", "partial"][op % 3];
                        let path = format!("/api/v1/isms/{ISMS}/answers/{sub}");
                        let body = json!({ "answer": value });
                        let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            server.call("PUT", &path, Some(token), Some(&body))
                        }));
                        let Ok(reply) = sent else {
                            // The server is gone; the write may or may not have landed.
                            ack.unanswered
                                .lock()
                                .unwrap()
                                .insert(sub.clone(), value.to_owned());
                            return;
                        };
                        assert_eq!(reply.status, 200, "{}", reply.body);
                        // Acknowledged: counted and remembered under the lock,
                        // so the last value per question is the last acknowledged.
                        let mut last = ack.last.lock().unwrap();
                        ack.count.fetch_add(1, Ordering::SeqCst);
                        last.insert(sub.clone(), value.to_owned());
                    }
                });
            }
        }
    });
}

fn answers_in_trail(m: &Mmsm, url: &str) -> usize {
    let log = m
        .run(&["--store", url, "audit", "log", "--isms", ISMS, "--json"])
        .ok()
        .json();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "isms.answer")
        .count()
}

/// The stored answers hold every last acknowledged value; a fresh process
/// (no live engine: the board recomputed from the stored inputs) shows the
/// board the live server shows; the audit trail holds.
fn check_store(m: &Mmsm, url: &str, ack: &Acknowledged, live: &Server, token: &str) {
    let record = m
        .run(&["--store", url, "isms", "show", ISMS, "--json"])
        .ok()
        .json();
    let stored = &record["inputs"]["answers"];
    for (sub, value) in ack.last.lock().unwrap().iter() {
        assert_eq!(
            stored[sub.as_str()],
            value.as_str(),
            "{sub}: acknowledged answer kept"
        );
    }
    let recomputed = m
        .run(&["--store", url, "isms", "board", ISMS, "--json"])
        .ok()
        .json();
    let served = live
        .call(
            "GET",
            &format!("/api/v1/isms/{ISMS}/board"),
            Some(token),
            None,
        )
        .json();
    assert_eq!(served["compliance"], recomputed["compliance"]);
    assert_eq!(served["maturity"], recomputed["maturity"]);
    assert_eq!(served["domains"], recomputed["domains"]);
    let verify = m
        .run(&["--store", url, "audit", "verify", "--json"])
        .ok()
        .json();
    assert_eq!(verify["intact"], true, "{verify}");
}

#[test]
fn two_servers_on_one_database_keep_every_answer_and_one_audit_chain() {
    let m = Mmsm::new();
    let url = demo_database(&m);
    let servers: Vec<Arc<Server>> = (0..2)
        .map(|_| Arc::new(Server::start_with(&m, &["--store", &url])))
        .collect();
    assert!(
        servers[0]
            .banner
            .iter()
            .any(|l| l.starts_with("store: PostgreSQL postgres://mmsm@")),
        "serve says which backend it uses: {:?}",
        servers[0].banner
    );
    // A login on one server is valid on the other.
    let token = servers[0].login("ops");
    let other = servers[1].call(
        "GET",
        &format!("/api/v1/isms/{ISMS}/board"),
        Some(&token),
        None,
    );
    assert_eq!(other.status, 200, "{}", other.body);

    let before = answers_in_trail(&m, &url);
    let ack = Acknowledged::default();
    let deadline = Instant::now() + Duration::from_secs(6);
    answer_load(&servers, &token, 8, deadline, &ack, &subcontrols(32));
    let acknowledged = ack.count.load(Ordering::SeqCst) as usize;
    assert!(acknowledged > 50, "{acknowledged} answers");
    assert_eq!(
        answers_in_trail(&m, &url) - before,
        acknowledged,
        "every acknowledged update is in the audit trail, once"
    );
    check_store(&m, &url, &ack, &servers[1], &token);
}

#[test]
fn killing_one_server_under_load_loses_no_acknowledged_answer_and_the_other_goes_on() {
    let m = Mmsm::new();
    let url = demo_database(&m);
    let servers: Vec<Arc<Server>> = (0..2)
        .map(|_| Arc::new(Server::start_with(&m, &["--store", &url])))
        .collect();
    let token = servers[1].login("ops");
    let victim = servers[0].pid();
    let ack = Acknowledged::default();
    let deadline = Instant::now() + Duration::from_secs(6);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_secs(2));
            std::process::Command::new("kill")
                .args(["-KILL", &victim.to_string()])
                .status()
                .unwrap();
        });
        answer_load(&servers, &token, 4, deadline, &ack, &subcontrols(16));
    });
    // The survivor still serves, reads and writes.
    let reply = servers[1].call(
        "PUT",
        &format!("/api/v1/isms/{ISMS}/answers/{}", subcontrols(1)[0]),
        Some(&token),
        Some(&json!({ "answer": "yes" })),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    ack.last
        .lock()
        .unwrap()
        .insert(subcontrols(1)[0].clone(), "yes".into());
    check_store(&m, &url, &ack, &servers[1], &token);
}

#[test]
fn two_processes_generating_the_same_enterprise_at_once_get_distinct_ids() {
    let m = Mmsm::new();
    let url = demo_database(&m);
    let profile = m.path("profile.yaml");
    // The template as written: every process asks for "Your enterprise".
    let template = m
        .run(&[
            "--store",
            &url,
            "profile",
            "template",
            "--schema",
            "health-small",
        ])
        .ok();
    std::fs::write(&profile, template.stdout).unwrap();
    let profile = profile.to_str().unwrap().to_owned();
    let ids: Vec<Value> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let (m, url, profile) = (&m, &url, &profile);
                scope.spawn(move || {
                    m.run(&["--store", url, "isms", "generate", profile, "--json"])
                        .ok()
                        .json()
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap()["id"].clone())
            .collect()
    });
    let mut distinct: Vec<&str> = ids.iter().map(|id| id.as_str().unwrap()).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{ids:?}");
    let listed = m
        .run(&["--store", &url, "isms", "list", "--json"])
        .ok()
        .json();
    for id in &distinct {
        assert!(
            listed.as_array().unwrap().iter().any(|l| l["id"] == *id),
            "{id} listed"
        );
        m.run(&["--store", &url, "isms", "board", id, "--json"])
            .ok();
    }
}

#[test]
fn servers_started_at_once_on_an_empty_database_make_one_admin_one_demo_and_one_schema_version() {
    let m = Mmsm::new();
    let url = mmsm_store::throwaway::shared()
        .unwrap()
        .fresh_database()
        .unwrap();
    let servers: Vec<Server> = std::thread::scope(|scope| {
        let starts: Vec<_> = (0..3)
            .map(|_| {
                let (m, url) = (&m, &url);
                scope.spawn(move || Server::start_with(m, &["--store", url]))
            })
            .collect();
        starts.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let admins = servers
        .iter()
        .filter(|s| s.banner.iter().any(|l| l.contains("one-time password")))
        .count();
    assert_eq!(
        admins,
        1,
        "one server made the admin account: {:?}",
        servers.iter().map(|s| &s.banner).collect::<Vec<_>>()
    );
    let listed = m
        .run(&["--store", &url, "isms", "list", "--json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "one demo: {listed}");
    let schemas = m
        .run(&["--store", &url, "schema", "list", "--json"])
        .ok()
        .json();
    for schema in schemas.as_array().unwrap() {
        assert_eq!(schema["version"], 1, "each shipped schema once: {schema}");
    }
    let verify = m
        .run(&["--store", &url, "audit", "verify", "--json"])
        .ok()
        .json();
    assert_eq!(verify["intact"], true, "{verify}");
}
