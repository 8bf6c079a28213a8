//! Helpers shared by the integration tests of scripting, plugins and the registry.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mmsm_registry::RegistryConfig;
use mmsm_scripting::{HostConfig, Limits};

/// A registry configuration over `root/scripts` and `root/plugins`, with
/// small limits, a copy folder inside `root` and a silent log.
pub fn config(root: &Path) -> RegistryConfig {
    let mut config = RegistryConfig::new(root.join("scripts"), Some(root.join("plugins")));
    config.plugin_copies_dir = root.join("copies");
    config.host = HostConfig {
        limits: Limits {
            memory: 16 * 1024 * 1024,
            time: Duration::from_millis(300),
        },
        evidence_dir: None,
        log: Arc::new(|_| {}),
    };
    config
}

/// Writes `content` to `root/relative`, creating folders.
pub fn write(root: &Path, relative: &str, content: &str) -> PathBuf {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

/// A metric script whose `collect` returns `value` (a Lua expression).
pub fn metric(id: &str, value: &str) -> String {
    format!("return {{ id = {id:?}, kind = 'metric', name = 'test', collect = function(ctx) return {value} end }}\n")
}

/// The library that `cargo test` built for the dev-dependency crate `name`
/// (`mmsm_example_metric`): in `target/<profile>/deps/`, beside this test.
pub fn fixture_library(name: &str) -> PathBuf {
    let file = format!(
        "{}{name}.{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_EXTENSION
    );
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps.join(&file), deps.parent().unwrap().join(&file)]
        .into_iter()
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{file} was not built next to {}: is it a dev-dependency?",
                exe.display()
            )
        })
}
