//! `mmsm store compact` through the real binary: old history thinned, the
//! folder rewritten, and nothing a person reads changes but the dropped values.

mod common;

use common::Mmsm;
use serde_json::Value;

#[test]
fn compaction_thins_old_history_and_keeps_the_board_the_trend_and_the_audit_trail() {
    let m = Mmsm::new();
    let id = common::worked_isms(&m);
    for answer in ["yes", "no", "partial", "yes", "no"] {
        m.run(&["isms", "answer", &id, "8.20.2", answer]).ok();
    }
    let board = m.run(&["isms", "board", &id, "--json"]).ok().json();
    let history = m.run(&["isms", "history", &id, "--json"]).ok().json();
    let events = history.as_array().unwrap().len();
    let with_values = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["deltas"].as_array().unwrap().is_empty())
        .count();
    assert!(with_values >= 5, "{history}");
    // Every event is from an earlier second than the cut of `--keep-days 0`.
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let dry = m
        .run(&[
            "store",
            "compact",
            "--keep-days",
            "0",
            "--dry-run",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(dry["thinned"]["thinned"], with_values);
    assert_eq!(
        m.run(&["isms", "history", &id, "--json"]).ok().json(),
        history,
        "a dry run changes nothing"
    );

    let done = m
        .run(&["store", "compact", "--keep-days", "0", "--json"])
        .ok()
        .json();
    assert_eq!(done["thinned"]["thinned"], with_values, "{done}");
    assert_eq!(done["audit"]["intact"], true);
    let records = done["compacted"]["records"].as_u64().unwrap();
    assert!(records > 0, "{done}");

    let thinned = m.run(&["isms", "history", &id, "--json"]).ok().json();
    let thinned = thinned.as_array().unwrap();
    assert_eq!(thinned.len(), events, "no event is removed");
    for (old, new) in history.as_array().unwrap().iter().zip(thinned) {
        assert_eq!(new["deltas"], Value::Array(Vec::new()));
        assert_eq!(
            (&old["cause"], &old["change"], &old["at"]),
            (&new["cause"], &new["change"], &new["at"])
        );
    }
    assert_eq!(m.run(&["isms", "board", &id, "--json"]).ok().json(), board);
    m.run(&["audit", "verify"]).ok();

    // The compacted store takes answers as before.
    m.run(&["isms", "answer", &id, "8.20.2", "yes"]).ok();
    let after = m.run(&["isms", "history", &id, "--json"]).ok().json();
    assert!(!after.as_array().unwrap().last().unwrap()["deltas"]
        .as_array()
        .unwrap()
        .is_empty());

    // Keeping the whole history only rewrites the folder.
    let kept = m
        .run(&["store", "compact", "--keep-all", "--json"])
        .ok()
        .json();
    assert_eq!(kept["thinned"], Value::Null);
    assert_eq!(
        m.run(&["isms", "history", &id, "--json"]).ok().json(),
        after
    );
}

#[test]
fn only_an_administrator_compacts_and_a_missing_store_is_not_made() {
    let m = Mmsm::new();
    let missing = m.run(&["store", "compact"]).fails();
    assert!(
        missing.stderr.contains("there is no store at"),
        "{}",
        missing.stderr
    );
    assert!(!m.data().exists(), "compacting nothing creates nothing");
    m.run(&["isms", "list"]).ok();
    let refused = m.run(&["--as", "carla", "store", "compact"]).fails();
    assert!(
        refused.stderr.contains("administrator"),
        "{}",
        refused.stderr
    );
}
