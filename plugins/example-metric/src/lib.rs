//! An example mmsm metric plugin: the share of active users who sign in with
//! multi-factor authentication.
//!
//! It reads `ctx.users` (each user an object; `mfa: true` when the user has a
//! second factor, `active: false` for a disabled account, which does not
//! count) and answers two functions:
//!
//! - `collect(ctx)`: the share in [0,1] (1 when there is no active user:
//!   nobody signs in without a second factor);
//! - `score(value)`: the compliance of the bound subcontrols: 1 from 95 %
//!   up, then linear down to 0 at 50 %.
//!
//! Build it with `cargo build --release -p mmsm-example-metric` and copy
//! `target/release/libmmsm_example_metric.so` into the plugin folder.

use mmsm_plugin_abi::{declare_plugin, PluginCall};
use serde_json::{json, Value};

/// The share of active users with `mfa: true`, in [0,1].
pub fn mfa_share(ctx: &Value) -> Result<f64, String> {
    let users = match &ctx["users"] {
        Value::Array(users) => users,
        Value::Null => return Ok(1.0),
        other => return Err(format!("ctx.users must be a list of users, found {other}")),
    };
    let active: Vec<&Value> = users
        .iter()
        .filter(|user| user["active"].as_bool() != Some(false))
        .collect();
    if active.is_empty() {
        return Ok(1.0);
    }
    let with_mfa = active
        .iter()
        .filter(|user| user["mfa"].as_bool() == Some(true))
        .count();
    Ok(with_mfa as f64 / active.len() as f64)
}

/// The compliance for a share: 1 from 0.95, 0 up to 0.5, linear between.
pub fn score(share: f64) -> f64 {
    ((share - 0.5) / (0.95 - 0.5)).clamp(0.0, 1.0)
}

fn handle(call: PluginCall) -> Result<Value, String> {
    match call.function.as_str() {
        "collect" => mfa_share(&call.ctx).map(|share| json!(share)),
        "score" => {
            let value = call.args.first().and_then(Value::as_f64);
            let value =
                value.ok_or_else(|| format!("score expects a number, got {:?}", call.args))?;
            Ok(json!(score(value)))
        }
        other => Err(format!("mfa-coverage has no function {other}")),
    }
}

declare_plugin! {
    id: "mfa-coverage",
    kind: "metric",
    declaration: r#"{
        "name": "Share of active users with multi-factor authentication",
        "unit": "ratio",
        "subcontrols": ["8.5.1"],
        "schedule": "1d",
        "functions": ["collect", "score"]
    }"#,
    handler: handle,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_active_users_only() {
        let ctx = json!({"users": [
            {"id": "ana", "mfa": true},
            {"id": "bo", "mfa": false},
            {"id": "cy"},
            {"id": "old", "mfa": false, "active": false},
        ]});
        assert!((mfa_share(&ctx).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(mfa_share(&json!({"users": []})).unwrap(), 1.0);
        assert!(mfa_share(&json!({"users": 3})).is_err());
    }

    #[test]
    fn score_is_linear_between_half_and_ninety_five_percent() {
        assert_eq!(score(0.4), 0.0);
        assert_eq!(score(0.5), 0.0);
        assert!((score(0.725) - 0.5).abs() < 1e-12);
        assert_eq!(score(0.95), 1.0);
        assert_eq!(score(1.0), 1.0);
    }
}
