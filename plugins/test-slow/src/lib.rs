//! Test fixture: a metric plugin whose `collect` sleeps for as many
//! milliseconds as `ctx.sleep_ms` says, so that the host's time budget for
//! native plugins can be shown to hold.

use mmsm_plugin_abi::{declare_plugin, PluginCall};
use serde_json::{json, Value};

fn handle(call: PluginCall) -> Result<Value, String> {
    match call.function.as_str() {
        "collect" => {
            let ms = call.ctx["sleep_ms"].as_u64().unwrap_or(0);
            std::thread::sleep(std::time::Duration::from_millis(ms));
            Ok(json!(1.0))
        }
        other => Err(format!("slow has no function {other}")),
    }
}

declare_plugin! {
    id: "slow",
    kind: "metric",
    declaration: r#"{ "name": "A metric that takes its time", "functions": ["collect"] }"#,
    handler: handle,
}
