//! Procedure phase actions run by the registry: the scripting side of
//! [`PhaseActions`], so that the MSGS services run a phase's Lua script or
//! `procedure_action` plugin without knowing either.

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use super::{Registry, RegistryConfig};
use crate::scripting::CtxData;
use crate::services::msgs::{ActionOutcome, PhaseActions};

impl PhaseActions for Registry {
    /// Runs `run(ctx, instance)` of the procedure action `action`. The ctx
    /// field `now` (seconds, the kernel's clock) fixes `ctx.now()`.
    fn run(&self, action: &str, ctx: &Value, instance: &Value) -> Result<ActionOutcome, String> {
        let mut ctx = ctx.clone();
        let now = ctx
            .as_object_mut()
            .and_then(|map| map.remove("now"))
            .and_then(|now| now.as_u64());
        let mut data = CtxData::from_value(ctx);
        if let Some(seconds) = now {
            data = data.at(UNIX_EPOCH + Duration::from_secs(seconds));
        }
        let result = self
            .run_procedure_action(action, &data, instance)
            .map_err(|e| e.to_string())?;
        ActionOutcome::from_json(result).map_err(|e| format!("procedure action {action}: {e}"))
    }
}

/// A registry loaded on the first action it runs: commands that move no
/// procedure never read the scripts folder.
#[derive(Debug)]
pub struct LazyRegistry {
    config: RegistryConfig,
    registry: OnceLock<Registry>,
}

impl LazyRegistry {
    /// A registry of `config`, not loaded yet.
    pub fn new(config: RegistryConfig) -> Self {
        LazyRegistry {
            config,
            registry: OnceLock::new(),
        }
    }
}

impl PhaseActions for LazyRegistry {
    fn run(&self, action: &str, ctx: &Value, instance: &Value) -> Result<ActionOutcome, String> {
        self.registry
            .get_or_init(|| Registry::load(self.config.clone()).0)
            .run(action, ctx, instance)
    }
}
