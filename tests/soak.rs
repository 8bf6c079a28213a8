//! Soak (issue 18.6): a bounded load against one real server: 16 clients
//! answering questions, reading the board and running the metrics, for
//! `MMSM_SOAK_SECONDS` (15 in CI; 300 for the figures of BENCHMARKS.md). It
//! reports requests, errors, the server's resident memory at each interval and
//! the store's growth per answer, then checks that no acknowledged answer was
//! lost and that memory levelled off.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::server::{user_add, Server};
use common::Mmsm;
use serde_json::{json, Value};

const ISMS: &str = "clinica-dental-sonrisa";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident memory of a process, in MB (Linux).
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn size_of(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        size_of(&path)
                    } else {
                        e.metadata().map_or(0, |m| m.len())
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Counts {
    answers: AtomicU64,
    reads: AtomicU64,
    runs: AtomicU64,
    errors: AtomicU64,
}

#[test]
fn sixteen_clients_lose_no_answer_and_memory_levels_off() {
    let seconds = env_or("MMSM_SOAK_SECONDS", 15);
    let clients = env_or("MMSM_SOAK_CLIENTS", 16) as usize;
    let m = Mmsm::new();
    m.run(&["demo", "--out", m.path("out").to_str().unwrap()])
        .ok();
    user_add(
        &m,
        &[
            "user",
            "add",
            "soak",
            "--password-stdin",
            "--role",
            "CoS",
            "--admin",
        ],
    );
    let server = Server::start_with(
        &m,
        &[
            "--scripts",
            "scripts",
            "--evidence",
            "scripts/evidence-sample",
        ],
    );
    let token = server.login("soak");
    let path = |rest: &str| format!("/api/v1/isms/{ISMS}{rest}");

    // Each client owns two questions of the organisational controls.
    let board = server
        .call("GET", &path("/board"), Some(&token), None)
        .json();
    let subcontrols: Vec<String> =
        mmsm_schema::load_path(&common::repo_root().join("schemas/health-small"))
            .unwrap()
            .schema
            .subcontrols()
            .filter(|(c, _)| c.id.as_str().starts_with("5."))
            .map(|(_, s)| s.id.to_string())
            .take(clients * 2)
            .collect();
    assert!(board["compliance"].is_number(), "{board}");
    assert_eq!(subcontrols.len(), clients * 2);

    let counts = Arc::new(Counts::default());
    let acknowledged: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let data = m.data();
    let size_before = size_of(&data);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let server = Arc::new(server);
    let mut samples = vec![(0u64, rss_mb(server.pid()), 0u64)];
    std::thread::scope(|scope| {
        for client in 0..clients {
            let (server, token, counts, acknowledged) = (
                server.clone(),
                token.clone(),
                counts.clone(),
                acknowledged.clone(),
            );
            let own = [
                subcontrols[2 * client].clone(),
                subcontrols[2 * client + 1].clone(),
            ];
            scope.spawn(move || {
                let mut op = 0u64;
                while Instant::now() < deadline {
                    op += 1;
                    let reply = match op % 20 {
                        // One metric run in 20 (heavy: every script), staggered by client.
                        n if n == (client as u64 % 20) && op > 20 => {
                            counts.runs.fetch_add(1, Ordering::Relaxed);
                            server.call("POST", &path("/metrics/run"), Some(&token), None)
                        }
                        n if n % 4 == 0 => {
                            counts.reads.fetch_add(1, Ordering::Relaxed);
                            server.call("GET", &path("/board"), Some(&token), None)
                        }
                        _ => {
                            let sub = &own[(op % 2) as usize];
                            let value = ["yes", "no", "partial"][(op % 3) as usize];
                            let reply = server.call(
                                "PUT",
                                &path(&format!("/answers/{sub}")),
                                Some(&token),
                                Some(&json!({ "answer": value })),
                            );
                            if reply.status == 200 {
                                counts.answers.fetch_add(1, Ordering::Relaxed);
                                acknowledged
                                    .lock()
                                    .unwrap()
                                    .insert(sub.clone(), value.into());
                            }
                            reply
                        }
                    };
                    if reply.status != 200 {
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("soak: {} {}", reply.status, reply.body);
                    }
                }
            });
        }
        // The sampler: resident memory and requests at each interval.
        let interval = if seconds >= 120 {
            60
        } else {
            (seconds / 5).max(1)
        };
        let mut at = 0;
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_secs(interval));
            at += interval;
            let done = counts.answers.load(Ordering::Relaxed)
                + counts.reads.load(Ordering::Relaxed)
                + counts.runs.load(Ordering::Relaxed);
            samples.push((at, rss_mb(server.pid()), done));
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let answers = counts.answers.load(Ordering::Relaxed);
    let total =
        answers + counts.reads.load(Ordering::Relaxed) + counts.runs.load(Ordering::Relaxed);
    let mut server = Arc::try_unwrap(server).ok().expect("the clients are done");
    server.stop();
    let growth = size_of(&data).saturating_sub(size_before);

    println!(
        "soak: {clients} clients, {elapsed:.0} s: {total} requests ({:.0}/s): {answers} answers, {} board reads, {} metric runs, {} errors",
        total as f64 / elapsed,
        counts.reads.load(Ordering::Relaxed),
        counts.runs.load(Ordering::Relaxed),
        counts.errors.load(Ordering::Relaxed)
    );
    for (at, rss, done) in &samples {
        println!("soak: at {at:>4} s: {rss:.0} MB resident, {done} requests done");
    }
    println!(
        "soak: the store grew {:.1} MB, {:.1} KB per answer",
        growth as f64 / 1e6,
        growth as f64 / 1e3 / answers.max(1) as f64
    );

    assert_eq!(
        counts.errors.load(Ordering::Relaxed),
        0,
        "every request answered"
    );
    assert!(answers > 0 && counts.reads.load(Ordering::Relaxed) > 0);
    // No acknowledged answer lost: the store holds the last one of each question.
    let show = m.run(&["isms", "show", ISMS, "--json"]).ok().json();
    let stored = &show["inputs"]["answers"];
    let acknowledged = acknowledged.lock().unwrap();
    let lost: Vec<(&String, &String, &Value)> = acknowledged
        .iter()
        .filter(|(sub, value)| stored[sub.as_str()] != value.as_str())
        .map(|(sub, value)| (sub, value, &stored[sub.as_str()]))
        .collect();
    assert!(lost.is_empty(), "acknowledged answers lost: {lost:?}");
    // Memory levels off: the last interval holds no more than twice the first
    // loaded one, plus room for the caches a first run fills.
    let first = samples.get(1).map_or(samples[0].1, |s| s.1);
    let last = samples.last().unwrap().1;
    assert!(
        last <= first * 2.0 + 64.0,
        "resident memory {first:.0} -> {last:.0} MB: {samples:?}"
    );
    let audit = m.run(&["audit", "verify"]).ok();
    assert!(
        audit.stdout.contains("intact") || audit.stdout.contains("verified"),
        "{}",
        audit.stdout
    );
}
