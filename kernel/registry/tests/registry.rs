//! The registry: loading folders, failing scripts beside good ones, ids,
//! metric runs, and the shipped scripts against a sample ISMS.

mod common;

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use common::{config, metric, write};
use mmsm_registry::{LoadState, Registry, WatchEvent};
use mmsm_scripting::{CtxData, ScriptError};
use serde_json::json;

#[test]
fn a_failing_script_never_stops_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "scripts/metrics/a-good.lua", &metric("good", "0.75"));
    write(
        root,
        "scripts/metrics/b-syntax.lua",
        "return { id = 'broken',",
    );
    write(
        root,
        "scripts/metrics/c-loop.lua",
        &metric("looping", "(function() while true do end end)()"),
    );
    write(
        root,
        "scripts/metrics/d-bomb.lua",
        &metric("bomb", "('x'):rep(1 << 30)"),
    );
    write(root, "scripts/metrics/e-nil.lua", &metric("empty", "nil"));
    write(
        root,
        "scripts/metrics/f-text.lua",
        &metric("text", "'many'"),
    );

    let (registry, events) = Registry::load(config(root));
    let lines: Vec<String> = events.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert!(lines[0].starts_with("reloaded good "), "{lines:?}");
    assert!(
        lines[1]
            .starts_with("failed scripts/metrics/b-syntax.lua: scripts/metrics/b-syntax.lua:1: ")
            && lines[1].ends_with("(keeping none)"),
        "{lines:?}"
    );

    let ctx = CtxData::default();
    let looping = registry.run_metric("looping", &ctx).unwrap_err();
    assert!(looping.to_string().starts_with(
        "metric looping (scripts/metrics/c-loop.lua:1): collect exceeded its time budget"
    ));
    let bomb = registry.run_metric("bomb", &ctx).unwrap_err();
    assert!(bomb
        .to_string()
        .contains("metric bomb (scripts/metrics/d-bomb.lua): collect exceeded the memory limit"));
    // nil: nothing to measure this time, no value and no score.
    let empty = registry.run_metric("empty", &ctx).unwrap();
    assert_eq!((empty.value, empty.score), (None, None));
    let text = registry.run_metric("text", &ctx).unwrap_err();
    assert!(
        text.to_string()
            .starts_with("metric text (scripts/metrics/f-text.lua): collect returned a string")
            && text
                .to_string()
                .ends_with("expected a number, or nil when there is nothing to measure"),
        "{text}"
    );
    assert!(matches!(
        registry.run_metric("scripts/metrics/b-syntax.lua", &ctx),
        Err(ScriptError::NoActiveVersion { .. })
    ));
    assert!(matches!(
        registry.run_metric("nope", &ctx),
        Err(ScriptError::UnknownId(_))
    ));
    assert_eq!(
        registry.run_metric("good", &ctx).unwrap().value.unwrap(),
        0.75
    );

    let statuses = registry.statuses();
    let ids: Vec<&str> = statuses.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "bomb",
            "empty",
            "good",
            "looping",
            "scripts/metrics/b-syntax.lua",
            "text"
        ]
    );
    assert!(matches!(statuses[4].state, LoadState::Failed { .. }));
    assert_eq!(statuses[2].state, LoadState::Active);
    assert_eq!(statuses[2].version.as_deref().map(str::len), Some(12));
}

#[test]
fn sync_swaps_only_good_versions_and_unregisters_deleted_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let file = write(root, "scripts/metrics/m.lua", &metric("m", "1"));
    let (registry, _) = Registry::load(config(root));
    let first = registry.active("m").unwrap().hash;
    assert!(
        registry.sync().is_empty(),
        "an unchanged folder changes nothing"
    );

    write(root, "scripts/metrics/m.lua", &metric("m", "2"));
    let events = registry.sync();
    let second = registry.active("m").unwrap().hash;
    assert_eq!(
        events,
        [WatchEvent::Reloaded {
            id: "m".into(),
            hash: second.clone()
        }]
    );
    assert_ne!(first, second);
    assert_eq!(
        registry
            .run_metric("m", &CtxData::default())
            .unwrap()
            .value
            .unwrap(),
        2.0
    );

    let in_flight = registry.active("m").unwrap();
    write(root, "scripts/metrics/m.lua", "return {");
    let events = registry.sync();
    assert!(
        matches!(&events[..], [WatchEvent::Failed { id, keeping: Some(kept), .. }] if id == "m" && *kept == second),
        "{events:?}"
    );
    assert_eq!(
        registry
            .run_metric("m", &CtxData::default())
            .unwrap()
            .value
            .unwrap(),
        2.0
    );
    assert!(registry.sync().is_empty(), "a failure is reported once");

    write(root, "scripts/metrics/m.lua", &metric("renamed", "3"));
    let events = registry.sync();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0], WatchEvent::Removed { id: "m".into() });
    assert!(matches!(&events[1], WatchEvent::Reloaded { id, .. } if id == "renamed"));
    // The version held before the swap still answers.
    assert_eq!(
        in_flight
            .unit
            .call("collect", &[], Some(&CtxData::default()))
            .unwrap(),
        json!(2)
    );

    std::fs::remove_file(file).unwrap();
    assert_eq!(
        registry.sync(),
        [WatchEvent::Removed {
            id: "renamed".into()
        }]
    );
    assert!(registry.statuses().is_empty());
}

#[test]
fn ids_are_unique_and_kinds_match_their_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "scripts/metrics/a.lua", &metric("same", "1"));
    write(root, "scripts/metrics/b.lua", &metric("same", "2"));
    write(root, "scripts/importers/m.lua", &metric("misplaced", "1"));
    let (registry, events) = Registry::load(config(root));
    let lines: Vec<String> = events.iter().map(ToString::to_string).collect();
    assert!(lines.contains(&format!(
        "reloaded same {}",
        registry.active("same").unwrap().hash
    )));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("failed scripts/metrics/b.lua: ")
            && l.contains("the id same is already declared by scripts/metrics/a.lua")));
    assert!(lines
        .iter()
        .any(|l| l.contains("declares kind metric but lives in scripts/importers/")));
}

#[test]
fn a_library_change_reloads_the_scripts_that_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "scripts/lib/factor.lua", "return 2");
    write(
        root,
        "scripts/metrics/m.lua",
        &metric("m", "require('factor') * 10"),
    );
    let (registry, _) = Registry::load(config(root));
    assert_eq!(
        registry
            .run_metric("m", &CtxData::default())
            .unwrap()
            .value
            .unwrap(),
        20.0
    );
    write(root, "scripts/lib/factor.lua", "return 3");
    let events = registry.sync();
    assert!(
        matches!(&events[..], [WatchEvent::Reloaded { id, .. }] if id == "m"),
        "{events:?}"
    );
    assert_eq!(
        registry
            .run_metric("m", &CtxData::default())
            .unwrap()
            .value
            .unwrap(),
        30.0
    );
}

#[test]
fn procedure_actions_and_importers_return_tables() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "scripts/procedures/close.lua",
        "return { id = 'close-incident', kind = 'procedure_action', name = 'Close',
           run = function(ctx, instance)
             return { fields = { closed_by = instance.owner }, events = { { type = 'closed' } } }
           end }",
    );
    write(
        root,
        "scripts/importers/ids.lua",
        "return { id = 'id-list', kind = 'importer', name = 'Ids', formats = { 'json' },
           import = function(ctx, input)
             local controls = {}
             for i, row in ipairs(input) do controls[i] = { id = row.id, title = row.title } end
             return { controls = controls }
           end }",
    );
    let (registry, _) = Registry::load(config(root));
    let ctx = CtxData::default();
    let action = registry
        .run_procedure_action("close-incident", &ctx, &json!({"owner": "ana"}))
        .unwrap();
    assert_eq!(
        action,
        json!({"fields": {"closed_by": "ana"}, "events": [{"type": "closed"}]})
    );
    let input = json!([{"id": "5.1", "title": "Policies"}]);
    let imported = registry.run_importer("id-list", &ctx, &input).unwrap();
    assert_eq!(
        imported,
        json!({"controls": [{"id": "5.1", "title": "Policies"}]})
    );
    let wrong = registry.run_metric("id-list", &ctx).unwrap_err();
    assert!(
        wrong.to_string().ends_with("is an importer, not a metric"),
        "{wrong}"
    );
}

/// Every script shipped in `scripts/` loads and runs against a sample ISMS.
#[test]
fn the_shipped_scripts_run_against_a_sample_isms() {
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts");
    let evidence = tempfile::tempdir().unwrap();
    std::fs::write(
        evidence.path().join("backups.csv"),
        "finished,status\n2023-11-10 02:00,verified\n2023-11-12 02:00,failed\n2023-11-13 02:00,verified\n",
    )
    .unwrap();
    let mut config = config(evidence.path());
    config.scripts_dir = scripts;
    config.plugins_dir = None;
    config.host.evidence_dir = Some(evidence.path().to_path_buf());
    let (registry, events) = Registry::load(config);
    for event in &events {
        assert!(matches!(event, WatchEvent::Reloaded { .. }), "{event}");
    }
    let statuses = registry.statuses();
    assert!(statuses.len() >= 2, "{statuses:?}");

    // 2023-11-15T02:00:00Z
    let now = UNIX_EPOCH + Duration::from_secs(1_700_013_600);
    let ctx = CtxData::from_value(json!({
        // Each user's certificate as the culture page shows it (the kernel
        // computes it from the certificates and the roles' regulations).
        "users": [
            {"id": "ana", "certificate": "valid"},
            {"id": "bo", "certificate": "expiring"},
            {"id": "cy", "certificate": "expired"},
            {"id": "dan", "certificate": "revoked"},
            {"id": "ed", "certificate": "not-required"},
        ],
        "certificates": [
            {"user": "ana", "status": "valid", "expires": "2024-06-01"},
            {"user": "bo", "status": "expiring", "expires": "2023-12-01"},
            {"user": "cy", "status": "valid", "expires": "2023-11-01"},
            {"user": "dan", "status": "revoked"},
            {"user": "gone", "status": "valid", "expires": "2024-06-01"},
        ],
    }))
    .at(now);
    let culture = registry.run_metric("culture-certificates", &ctx).unwrap();
    assert_eq!(culture.value, Some(0.5));
    assert_eq!(culture.score, Some(0.5));
    let backup = registry.run_metric("backup-freshness", &ctx).unwrap();
    assert_eq!(backup.value, Some(2.0));
    assert_eq!(backup.score, Some(0.5));
    for status in statuses {
        assert_eq!(status.state, LoadState::Active, "{status:?}");
        let kind = status.kind.unwrap();
        if kind == mmsm_scripting::ScriptKind::Metric {
            // This evidence folder holds only backups.csv, without the
            // `offline` column: a metric reading another export fails saying
            // which file is missing, one needing the column says which.
            if let Err(error) = registry.run_metric(&status.id, &ctx) {
                let message = error.to_string();
                assert!(
                    (message.contains("ctx.evidence.read: cannot read ")
                        || message.contains("backups.csv has no column `offline`"))
                        && message.contains(".csv")
                        && !message.contains("stack traceback"),
                    "{message}"
                );
            }
        }
    }
}
