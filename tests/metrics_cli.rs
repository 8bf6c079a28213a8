//! Metrics (issue 6 part 4) through the real binary on the demo ISMS, with the
//! shipped metric scripts and the sample evidence, and the scheduler through
//! the kernel.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{repo_root, Mmsm};
use mmsm_kernel::access::Principal;
use mmsm_kernel::services::{schedule_metrics, Kernel, ScheduledRun};
use mmsm_registry::{Registry, RegistryConfig};
use mmsm_schema::profiles;
use mmsm_store::Store;
use serde_json::Value;

const ISMS: &str = "clinica-dental-sonrisa";
const EVIDENCE: &str = "scripts/evidence-sample";
/// The day the sample evidence was written for.
const NOW: &str = "2026-11-28T00:00:00Z";
const NOW_SECS: u64 = 1_795_824_000;

fn shipped_metric_scripts() -> BTreeSet<String> {
    std::fs::read_dir(repo_root().join("scripts/metrics"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".lua").map(str::to_owned)
        })
        .collect()
}

fn demo() -> Mmsm {
    let m = Mmsm::new();
    m.run(&["demo", "--out", m.dir.path().to_str().unwrap()])
        .ok();
    m
}

fn run_metrics(m: &Mmsm, now: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--evidence", EVIDENCE, "metric", "run", ISMS, "--json"];
    args.extend_from_slice(extra);
    m.run_env(&[("MMSM_NOW", now)], &args).ok().json()
}

fn kernel_of(m: &Mmsm) -> Kernel {
    Kernel::new(Store::open(&m.data()).unwrap())
}

#[test]
fn every_shipped_metric_runs_on_the_demo_and_the_board_follows_its_score() {
    let m = demo();
    let before = m.run(&["isms", "board", ISMS, "--json"]).ok().json();
    let run = run_metrics(&m, NOW, &[]);

    let scripts = shipped_metric_scripts();
    assert!(scripts.len() >= 41, "{scripts:?}");
    let metrics = run["metrics"].as_array().unwrap();
    let ran: BTreeSet<String> = metrics
        .iter()
        .map(|m| m["source"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ran, scripts,
        "every shipped metric is bound to the demo ISMS"
    );
    for metric in metrics {
        assert!(metric.get("error").is_none(), "{metric}");
        if metric["metric"] == "incidents-90d" {
            // An indicator: a value, and no question it could score.
            assert_eq!(metric["value"], 3.0, "{metric}");
            assert!(metric["score"].is_null(), "{metric}");
            assert!(metric["subcontrols"].as_array().unwrap().is_empty());
            continue;
        }
        if metric["metric"] == "open-findings" {
            // No audit held and no finding: nothing to measure, the answer stands.
            assert!(
                metric["value"].is_null() && metric["score"].is_null(),
                "{metric}"
            );
            continue;
        }
        let score = metric["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{metric}");
        assert!(
            !metric["subcontrols"].as_array().unwrap().is_empty(),
            "{metric}"
        );
    }
    // A few values the sample evidence fixes on that day.
    let value = |id: &str| {
        metrics
            .iter()
            .find(|m| m["metric"] == id)
            .map(|m| (m["value"].as_f64().unwrap(), m["score"].as_f64().unwrap()))
            .unwrap()
    };
    let bound = metrics
        .iter()
        .filter(|m| !m["subcontrols"].as_array().unwrap().is_empty())
        .count();
    assert!(bound >= 40, "{bound} metrics score a question");
    // The sample evidence fixes these on that day (scripts/evidence-sample).
    assert_eq!(
        value("incidents-learned"),
        (0.5, 0.5),
        "one of two closed has its cause"
    );
    assert_eq!(
        value("admin-share"),
        (0.0, 1.0),
        "2 admins of 6 accounts: none too many"
    );
    assert_eq!(value("offline-backup-age").1, 1.0);
    assert_eq!(value("leaver-accounts"), (3.0, 0.5), "disabled 3 days late");
    assert_eq!(value("dormant-accounts"), (1.0, 0.5));
    assert_eq!(
        value("auto-updates"),
        (0.75, 0.75),
        "servers are not counted"
    );
    assert_eq!(
        value("dmarc"),
        (0.75, 0.75),
        "one enforced domain, one monitoring"
    );
    assert_eq!(
        value("exposed-remote-access"),
        (1.0, 0.0),
        "the router's RDP"
    );
    assert_eq!(
        value("incident-rehearsal-age"),
        (9999.0, 0.0),
        "never rehearsed"
    );
    assert_eq!(
        value("phishing-report-rate"),
        (0.5, 0.5),
        "the latest campaign"
    );
    assert_eq!(value("certificate-expiry"), (12.0, 0.5));
    assert_eq!(value("supplier-reviews-expired").0, 1.0 / 3.0);
    assert_eq!(value("patch-lag"), (22.0, 0.5));
    assert_eq!(value("admin-mfa"), (1.0, 1.0));
    assert_eq!(value("log-retention"), (90.0, 0.5));
    assert!((value("mfa-missing").0 - 1.0 / 6.0).abs() < 1e-9);
    assert_eq!(value("external-audit-age"), (9999.0, 0.0), "never audited");

    // The stored inputs hold each score as the measured value of its
    // subcontrols, and the board, updated incrementally, is the one a full
    // computation from those inputs gives.
    let kernel = kernel_of(&m);
    let (record, engine) = kernel
        .isms_engine(&Principal::local_operator(), ISMS)
        .unwrap();
    for metric in metrics.iter().filter(|m| !m["score"].is_null()) {
        for sub in metric["subcontrols"].as_array().unwrap() {
            let measured = record.inputs.measured[sub.as_str().unwrap()];
            assert_eq!(measured, metric["score"].as_f64().unwrap(), "{metric}");
        }
    }
    let mut full = engine.board();
    full.isms = ISMS.into();
    let full = serde_json::to_value(&full).unwrap();
    same_numbers(
        &full,
        &serde_json::to_value(&record.board).unwrap(),
        "board",
    );
    same_numbers(&full, &run["board"], "board");
    assert_ne!(before["compliance"], run["board"]["compliance"]);
    let control = |board: &Value, id: &str| {
        board["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["compliance"]
            .clone()
    };
    // 8.13.3 (restore tests) was answered yes; restore-test-age scores it 0.5.
    assert_ne!(control(&before, "8.13"), control(&run["board"], "8.13"));
    let deltas = run["deltas"].as_array().unwrap();
    assert!(deltas.iter().any(|d| d["subject"] == "control:8.13"));

    // Every value is stored with its time, and the history names the cause.
    let values = kernel
        .metric_values(&Principal::local_operator(), ISMS, "patch-lag")
        .unwrap();
    assert_eq!(values.len(), 1);
    assert_eq!(values[0].at, NOW_SECS);
    let history = kernel
        .isms_history(&Principal::local_operator(), ISMS)
        .unwrap();
    assert!(history.iter().any(|e| e.cause == "metric"));
}

/// The same JSON, numbers equal to 1e-9 (incremental and full computations
/// may add in another order).
fn same_numbers(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() < 1e-9, "{path}: {x} != {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                same_numbers(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys =
                |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<BTreeSet<_>>();
            assert_eq!(keys(x), keys(y), "{path}: keys");
            for (k, v) in x {
                same_numbers(v, &y[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn list_shows_freshness_and_removes_stale_values() {
    let m = demo();
    let never = m.run(&["metric", "list", ISMS, "--json"]).ok().json();
    assert!(never["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["freshness"] == "never" && m["due"] == true));

    run_metrics(&m, NOW, &[]);
    // 25 hours later: the 12h metric is stale (older than twice its
    // schedule), the daily ones are still fresh.
    let later = format!("{}", NOW_SECS + 25 * 3600);
    let listing = m
        .run_env(&[("MMSM_NOW", &later)], &["metric", "list", ISMS, "--json"])
        .ok()
        .json();
    let freshness = |id: &str| {
        listing["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()["freshness"]
            .clone()
    };
    assert_eq!(freshness("incidents-overdue"), "stale");
    assert_eq!(freshness("backup-freshness"), "fresh");
    assert_eq!(listing["expired"], serde_json::json!(["5.26.3"]));
    let (record, _) = kernel_of(&m)
        .isms_engine(&Principal::local_operator(), ISMS)
        .unwrap();
    assert!(!record.inputs.measured.contains_key("5.26.3"));
    assert!(record.inputs.measured.contains_key("8.13.1"));

    let text = m
        .run_env(&[("MMSM_NOW", &later)], &["metric", "list", ISMS])
        .ok()
        .stdout;
    assert!(
        text.contains("FRESHNESS") && text.contains("stale"),
        "{text}"
    );
}

#[test]
fn one_metric_runs_alone_and_a_failing_one_names_its_script() {
    let m = demo();
    let one = run_metrics(&m, NOW, &["backup-freshness"]);
    assert_eq!(one["metrics"].as_array().unwrap().len(), 1);
    assert_eq!(
        one["metrics"][0]["subcontrols"],
        serde_json::json!(["8.13.1"])
    );

    // Without an evidence folder, the metrics reading evidence fail, each
    // naming its script; the others go on.
    let run = m
        .run_env(&[("MMSM_NOW", NOW)], &["metric", "run", ISMS, "--json"])
        .ok()
        .json();
    let metrics = run["metrics"].as_array().unwrap();
    let patch = metrics.iter().find(|m| m["metric"] == "patch-lag").unwrap();
    let error = patch["error"].as_str().unwrap();
    assert!(
        error.contains("patch-lag") && error.contains("patch-lag.lua"),
        "{error}"
    );
    let culture = metrics
        .iter()
        .find(|m| m["metric"] == "culture-certificates")
        .unwrap();
    assert_eq!(culture["value"], 0.0, "no certificate yet: {culture}");

    let unknown = m.run(&["metric", "run", ISMS, "no-such-metric"]).fails();
    assert!(
        unknown.stderr.contains("backup-freshness"),
        "{}",
        unknown.stderr
    );
}

fn kernel_with_demo() -> (Kernel, Registry) {
    let kernel = Kernel::new(Store::temporary().unwrap());
    kernel
        .ensure_shipped_schemas(mmsm_shipped::schema_files())
        .unwrap();
    let path = Path::new("schemas/examples/dental-clinic.yaml");
    let text = std::fs::read_to_string(repo_root().join(path)).unwrap();
    let profile = profiles::parse_profile(path, &text).unwrap();
    kernel
        .generate_isms(&Principal::local_operator(), profile, Some(path), None)
        .unwrap();
    let mut config = RegistryConfig::new(repo_root().join("scripts"), None);
    config.host.evidence_dir = Some(repo_root().join(EVIDENCE));
    config.host.log = Arc::new(|_: &_| {});
    (kernel, Registry::load(config).0)
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn ran(runs: &[ScheduledRun]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for run in runs {
        match run {
            ScheduledRun::Ran(run) => ids.extend(run.metrics.iter().map(|m| m.metric.to_string())),
            ScheduledRun::Failed { isms, error } => panic!("{isms}: {error}"),
        }
    }
    ids
}

#[test]
fn the_scheduler_runs_what_is_due() {
    let (kernel, registry) = kernel_with_demo();
    let who = Principal::local_operator();
    let first = kernel.run_due_metrics(&who, &registry, at(NOW_SECS));
    assert_eq!(ran(&first), shipped_metric_scripts());
    // An hour later nothing is due; 13 hours later the 12h metric is.
    assert!(kernel
        .run_due_metrics(&who, &registry, at(NOW_SECS + 3600))
        .is_empty());
    let later = kernel.run_due_metrics(&who, &registry, at(NOW_SECS + 13 * 3600));
    assert_eq!(
        ran(&later),
        BTreeSet::from(["incidents-overdue".to_owned()])
    );
}

#[test]
fn the_scheduler_task_reports_its_rounds() {
    let (kernel, registry) = kernel_with_demo();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let task = tokio::spawn(schedule_metrics(
            kernel,
            Arc::new(registry),
            Principal::local_operator(),
            Duration::from_millis(20),
            move |run| {
                if let ScheduledRun::Ran(run) = run {
                    sink.lock().unwrap().push(run.metrics.len());
                }
            },
        ));
        for _ in 0..500 {
            if !seen.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        task.abort();
    });
    let seen = seen.lock().unwrap();
    // The first round runs every metric (at the clock's time); later rounds
    // find nothing due.
    assert_eq!(
        seen.first(),
        Some(&shipped_metric_scripts().len()),
        "{seen:?}"
    );
}

#[test]
fn evidence_given_to_the_isms_makes_its_metric_collect_and_a_failure_says_why_until_then() {
    // Issue 17: metrics failed silently, and the browser could give no evidence.
    let m = demo();
    let run = m
        .run_env(
            &[("MMSM_NOW", NOW)],
            &["metric", "run", ISMS, "backup-freshness", "--json"],
        )
        .ok()
        .json();
    let error = run["metrics"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("backups.csv is not among the ISMS's evidence files")
            && !error.contains("stack traceback"),
        "{error}"
    );
    let listed = m.run(&["metric", "list", ISMS, "--json"]).ok().json();
    let failed = listed["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "backup-freshness")
        .unwrap()
        .clone();
    assert_eq!(failed["failure"]["error"], error, "{failed}");

    let sample = repo_root().join(EVIDENCE).join("backups.csv");
    let kept = m
        .run(&[
            "isms",
            "evidence",
            "add",
            ISMS,
            sample.to_str().unwrap(),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(kept["name"], "backups.csv");
    assert_eq!(kept["size"], std::fs::metadata(&sample).unwrap().len());
    let files = m
        .run(&["isms", "evidence", "list", ISMS, "--json"])
        .ok()
        .json();
    assert_eq!(files.as_array().unwrap().len(), 1, "{files}");

    // Without any --evidence folder, the ISMS's own file is read: the same
    // value as from the sample folder.
    let own = m
        .run_env(
            &[("MMSM_NOW", NOW)],
            &["metric", "run", ISMS, "backup-freshness", "--json"],
        )
        .ok()
        .json();
    let folder = run_metrics(&m, NOW, &["backup-freshness"]);
    assert!(own["metrics"][0]["error"].is_null(), "{own}");
    assert_eq!(own["metrics"][0]["value"], folder["metrics"][0]["value"]);
    let listed = m.run(&["metric", "list", ISMS, "--json"]).ok().json();
    let now = listed["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "backup-freshness")
        .unwrap()
        .clone();
    assert!(
        now.get("failure").is_none(),
        "a value clears the failure: {now}"
    );

    let refused = m
        .run(&[
            "isms",
            "evidence",
            "add",
            ISMS,
            sample.to_str().unwrap(),
            "--name",
            "../x",
        ])
        .fails();
    assert!(
        refused.stderr.contains("not a valid evidence name"),
        "{}",
        refused.stderr
    );
}

#[test]
fn audits_and_findings_feed_their_metrics() {
    let m = demo();
    let at = "2026-11-28";
    m.run(&[
        "isms",
        "audit-held",
        ISMS,
        "external-audit",
        "--on",
        "2026-05-28",
    ])
    .ok();
    m.run(&[
        "finding",
        "add",
        ISMS,
        "--control",
        "8.13",
        "--kind",
        "major",
        "--text",
        "Restores are never tested",
    ])
    .ok();
    m.run(&[
        "finding",
        "add",
        ISMS,
        "--control",
        "5.15",
        "--kind",
        "observation",
        "--text",
        "Access reviews are informal",
    ])
    .ok();
    let run = run_metrics(&m, &format!("{at}T00:00:00Z"), &[]);
    let metric = |id: &str| {
        run["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == id)
            .cloned()
            .unwrap()
    };
    let age = metric("external-audit-age");
    assert_eq!(age["value"].as_f64(), Some(184.0), "{age}");
    assert_eq!(age["score"].as_f64(), Some(1.0), "{age}");
    // One major without a corrective action; the observation needs none.
    let open = metric("open-findings");
    assert_eq!(open["value"].as_f64(), Some(1.0), "{open}");
    assert_eq!(open["score"].as_f64(), Some(0.5), "{open}");
    assert_eq!(open["subcontrols"][0], "5.35.3");
    m.run(&[
        "finding",
        "respond",
        ISMS,
        "F1",
        "--action",
        "Monthly restore test",
        "--owner",
        "luis",
        "--due",
        "2099-01-31",
    ])
    .ok();
    let again = m
        .run_env(
            &[("MMSM_NOW", "2026-11-30T00:00:00Z")],
            &[
                "--evidence",
                EVIDENCE,
                "metric",
                "run",
                ISMS,
                "open-findings",
                "--json",
            ],
        )
        .ok()
        .json();
    assert_eq!(again["metrics"][0]["value"].as_f64(), Some(0.0), "{again}");
    assert_eq!(again["metrics"][0]["score"].as_f64(), Some(1.0), "{again}");
}

#[test]
fn culture_plan_and_incident_metrics_count_what_their_pages_show() {
    // One moment for everything: what the pages say then, the metrics measure.
    const AT: &str = "2026-12-10T12:00:00Z";
    let m = demo();
    let run = |args: &[&str]| m.run_env(&[("MMSM_NOW", AT)], args).ok();
    let answers = common::right_culture_answers(&m, "health-small");
    for user in ["luis", "ana"] {
        let result = run(&[
            "culture",
            "test",
            ISMS,
            user,
            "--as",
            user,
            "--answers",
            &answers,
            "--json",
        ])
        .json();
        assert_eq!(result["passed"], true, "{result}");
    }
    // Plan items due yesterday (overdue), today (not yet), and yesterday but done.
    for (rank, settings) in [
        ("1", vec!["due=2026-12-09"]),
        ("2", vec!["due=2026-12-10"]),
        ("3", vec!["due=2026-12-09", "done"]),
        ("4", vec!["due=2026-11-01"]),
    ] {
        let mut args = vec!["isms", "plan", ISMS, "--set", rank];
        args.extend(settings);
        run(&args);
    }
    let report = m.path("report.yaml");
    std::fs::write(
        &report,
        "reported_on: 2026-12-10\ntitle: Phishing mail opened\n",
    )
    .unwrap();
    for _ in 0..2 {
        run(&[
            "proc",
            "start",
            ISMS,
            "incident-management",
            "--as",
            "luis",
            "--fields",
            report.to_str().unwrap(),
        ]);
    }

    let metrics = run(&["--evidence", EVIDENCE, "metric", "run", ISMS, "--json"]).json();
    let value = |id: &str| {
        metrics["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == id)
            .unwrap_or_else(|| panic!("{id} ran: {metrics}"))["value"]
            .as_f64()
            .unwrap()
    };

    let culture = run(&["culture", "status", ISMS, "--json"]).json();
    let share = culture["share"].as_f64().unwrap();
    assert!(share > 0.0 && share < 1.0, "{culture}");
    assert!(
        (value("culture-certificates") - share).abs() < 1e-9,
        "{culture}"
    );

    let plan = run(&["isms", "plan", ISMS, "--json"]).json();
    let overdue = plan
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["overdue"] == true)
        .count();
    assert_eq!(overdue, 2, "{plan}");
    assert_eq!(value("plan-overdue"), overdue as f64);

    // The incident procedure's instances, as the procedures page lists them,
    // are the incidents counted (the evidence file is only a fallback).
    let list = run(&["proc", "list", ISMS, "--json"]).json();
    let incidents = list["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["procedure"] == "incident-management")
        .count();
    assert_eq!(incidents, 2, "{list}");
    assert_eq!(value("incidents-90d"), incidents as f64);
}
