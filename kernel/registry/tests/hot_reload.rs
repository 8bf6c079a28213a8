//! Hot reload through the real watcher, in a temp folder.

mod common;

use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{config, metric, write};
use mmsm_registry::{Registry, WatchEvent, Watcher};
use mmsm_scripting::CtxData;

fn next(events: &Receiver<WatchEvent>, within: Duration) -> WatchEvent {
    events
        .recv_timeout(within)
        .expect("an event within the time limit")
}

#[test]
fn the_watcher_reloads_keeps_and_removes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let file = write(root, "scripts/metrics/m.lua", &metric("m", "1"));
    std::fs::create_dir_all(root.join("plugins")).unwrap();
    let (registry, _) = Registry::load(config(root));
    let registry = Arc::new(registry);
    let (sender, events) = channel();
    let watcher = Watcher::start(Arc::clone(&registry), move |event| {
        let _ = sender.send(event);
    })
    .unwrap();
    assert_eq!(watcher.watched().len(), 2);
    let ctx = CtxData::default();

    // A new version is active within 1 s of the write.
    let written = Instant::now();
    write(root, "scripts/metrics/m.lua", &metric("m", "2"));
    let event = next(&events, Duration::from_secs(1));
    assert!(written.elapsed() < Duration::from_secs(1));
    let WatchEvent::Reloaded { id, hash } = event else {
        panic!("{event:?}")
    };
    assert_eq!(id, "m");
    assert_eq!(registry.run_metric("m", &ctx).unwrap().value, Some(2.0));

    // A broken version keeps the old one and says so.
    write(
        root,
        "scripts/metrics/m.lua",
        "return { id = 'm', kind = 'metric' }",
    );
    let event = next(&events, Duration::from_secs(2));
    assert_eq!(
        event.to_string(),
        format!("failed m: scripts/metrics/m.lua: the declaration has no name (keeping {hash})")
    );
    assert_eq!(registry.run_metric("m", &ctx).unwrap().value, Some(2.0));

    // A new file, then a deleted one.
    write(root, "scripts/metrics/n.lua", &metric("n", "5"));
    assert!(
        matches!(next(&events, Duration::from_secs(2)), WatchEvent::Reloaded { id, .. } if id == "n")
    );
    std::fs::remove_file(file).unwrap();
    assert_eq!(
        next(&events, Duration::from_secs(2)),
        WatchEvent::Removed { id: "m".into() }
    );
    assert!(registry.run_metric("m", &ctx).is_err());
    assert_eq!(registry.run_metric("n", &ctx).unwrap().value, Some(5.0));
}
