//! Test fixture: a plugin built against ABI version 999, which every host of
//! ABI version 1 must refuse with a clear message before calling anything.

use mmsm_plugin_abi::{declare_plugin, PluginCall};

fn handle(_call: PluginCall) -> Result<mmsm_plugin_abi::serde_json::Value, String> {
    Err("a host must never call a plugin of another ABI version".to_owned())
}

declare_plugin!(@with_version 999, "future-plugin", "metric", r#"{"name": "From the future"}"#, handle);
