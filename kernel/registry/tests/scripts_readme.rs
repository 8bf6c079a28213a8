//! Every ```lua example of scripts/README.md runs, as the body of a metric's
//! `collect`, with the sample data below (as wezterm's doc examples do).

mod common;

use std::path::Path;

use common::{config, write};
use mmsm_registry::{Registry, WatchEvent};
use mmsm_scripting::CtxData;
use serde_json::json;

fn examples() -> Vec<String> {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/README.md");
    let text = std::fs::read_to_string(readme).unwrap();
    let mut examples = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```lua") => current = Some(Vec::new()),
            (Some(body), "```") => {
                examples.push(body.join("\n"));
                current = None;
            }
            (Some(body), line) => body.push(line),
            (None, _) => {}
        }
    }
    examples
}

#[test]
fn every_lua_example_of_the_readme_runs() {
    let examples = examples();
    assert!(examples.len() >= 7, "found {} examples", examples.len());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "evidence/logs/auth.csv",
        "user,result\nana,ok\nbo,fail\n",
    );
    write(root, "secret.txt", "not for scripts");
    for (index, body) in examples.iter().enumerate() {
        write(
            root,
            &format!("scripts/metrics/example-{index}.lua"),
            &format!(
                "return {{ id = 'example-{index}', kind = 'metric', name = 'example',\n\
                 collect = function(ctx)\n{body}\nend }}\n"
            ),
        );
    }
    let mut config = config(root);
    config.host.evidence_dir = Some(root.join("evidence"));
    let (registry, events) = Registry::load(config);
    for event in &events {
        assert!(matches!(event, WatchEvent::Reloaded { .. }), "{event}");
    }
    let ctx = CtxData::from_value(json!({
        "enterprise": {"name": "Acme", "sector": "health", "size": "small"},
        "users": [{"id": "ana", "mfa": true}, {"id": "bo"}, {"id": "old", "active": false}],
        "answers": {"5.1.1": "yes", "8.13.2": "partial"},
    }));
    for (index, example) in examples.iter().enumerate() {
        if let Err(err) = registry.run_metric(&format!("example-{index}"), &ctx) {
            panic!("README example {index} failed: {err}\n{example}");
        }
    }
}
