//! The plugin host with the libraries `cargo test` builds: the example metric
//! and a plugin of another ABI version.

mod common;

use common::{config, fixture_library, write};
use mmsm_plugin_host::Plugin;
use mmsm_registry::{Registry, WatchEvent};
use mmsm_scripting::{CtxData, ScriptError};
use serde_json::json;

fn users() -> CtxData {
    CtxData::from_value(json!({"users": [
        {"id": "ana", "mfa": true}, {"id": "bo", "mfa": true}, {"id": "cy", "mfa": true},
        {"id": "dan", "mfa": false}, {"id": "old", "active": false},
    ]}))
}

#[test]
fn the_example_plugin_loads_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let library = fixture_library("mmsm_example_metric");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(&library, plugins.join(library.file_name().unwrap())).unwrap();
    write(
        dir.path(),
        "scripts/metrics/lua.lua",
        &common::metric("lua-metric", "1"),
    );

    let (registry, events) = Registry::load(config(dir.path()));
    assert_eq!(events.len(), 2, "{events:?}");
    let reading = registry.run_metric("mfa-coverage", &users()).unwrap();
    assert_eq!(reading.value, Some(0.75));
    assert!((reading.score.unwrap() - 0.25 / 0.45).abs() < 1e-12);
    let declaration = registry
        .active("mfa-coverage")
        .unwrap()
        .unit
        .declaration()
        .clone();
    assert_eq!(
        declaration.name,
        "Share of active users with multi-factor authentication"
    );

    // Errors of the plugin come back as errors naming it.
    let err = registry
        .call(
            "mfa-coverage",
            "collect",
            &[],
            Some(&CtxData::from_value(json!({"users": 3}))),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "metric mfa-coverage (plugins/{}): collect: ctx.users must be a list of users, found 3",
            library.file_name().unwrap().to_string_lossy()
        )
    );
    assert!(matches!(
        registry.call("mfa-coverage", "import", &[], None),
        Err(ScriptError::NoSuchFunction { .. })
    ));
    // The copy made for loading is gone once the library is mapped.
    let copies = std::fs::read_dir(dir.path().join("copies"))
        .unwrap()
        .count();
    assert_eq!(copies, 0);
}

#[test]
fn a_plugin_that_runs_past_its_budget_is_given_up_on_and_the_caller_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let library = fixture_library("mmsm_test_slow");
    let plugin = Plugin::load(&library, "plugins/slow.so".as_ref(), dir.path())
        .unwrap()
        .with_budget(std::time::Duration::from_millis(200));
    let quick = CtxData::from_value(json!({ "sleep_ms": 0 }));
    assert_eq!(
        plugin.call("collect", &[], Some(&quick)).unwrap(),
        json!(1.0)
    );
    let slow = CtxData::from_value(json!({ "sleep_ms": 5000 }));
    let started = std::time::Instant::now();
    let err = plugin.call("collect", &[], Some(&slow)).unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, ScriptError::TimeLimit { .. }), "{err}");
    assert!(
        err.to_string().contains("exceeded its time budget of"),
        "{err}"
    );
    // The plugin still answers the next call.
    assert_eq!(
        plugin.call("collect", &[], Some(&quick)).unwrap(),
        json!(1.0)
    );
}

#[test]
fn a_plugin_of_another_abi_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let library = fixture_library("mmsm_test_bad_abi");
    let err = Plugin::load(&library, "plugins/bad.so".as_ref(), dir.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "plugins/bad.so: the plugin was built for plugin ABI version 999, this kernel speaks version 1: \
             rebuild it against mmsm-plugin-abi {}",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn a_library_that_is_not_a_plugin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_library = write(dir.path(), "plugins/libfake.so", "not an ELF file");
    let err = Plugin::load(
        &not_a_library,
        "plugins/libfake.so".as_ref(),
        &dir.path().join("copies"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("plugins/libfake.so: cannot load the library: "),
        "{err}"
    );
}

#[test]
fn replacing_a_plugin_file_swaps_versions_and_a_bad_one_keeps_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let slot = plugins.join(format!("libslot.{}", std::env::consts::DLL_EXTENSION));
    std::fs::copy(fixture_library("mmsm_example_metric"), &slot).unwrap();
    let (registry, _) = Registry::load(config(dir.path()));
    let good = registry.active("mfa-coverage").unwrap();

    std::fs::copy(fixture_library("mmsm_test_bad_abi"), &slot).unwrap();
    let events = registry.sync();
    assert!(
        matches!(&events[..], [WatchEvent::Failed { id, error, keeping: Some(kept) }]
            if id == "mfa-coverage" && error.contains("ABI version 999") && *kept == good.hash),
        "{events:?}"
    );
    assert_eq!(
        registry.run_metric("mfa-coverage", &users()).unwrap().value,
        Some(0.75)
    );

    std::fs::remove_file(&slot).unwrap();
    assert_eq!(
        registry.sync(),
        [WatchEvent::Removed {
            id: "mfa-coverage".into()
        }]
    );
    // A call holding the old version still runs on its library.
    assert_eq!(
        good.unit.call("collect", &[], Some(&users())).unwrap(),
        json!(0.75)
    );
}
