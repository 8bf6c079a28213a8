//! The registry as the kernel's host of scripts and plugins: it implements
//! the traits the services call ([`PhaseActions`], [`MetricRunner`],
//! [`ImporterRunner`]), so that they run a phase's action, a metric or an
//! importer, Lua script or plugin, without knowing either.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::{Registry, RegistryConfig};
use mmsm_kernel::services::msgs::{ActionOutcome, PhaseActions};
use mmsm_kernel::services::{
    Evidence, ImporterRunner, MetricDefaults, MetricReading, MetricRunner,
};
use mmsm_scripting::{CtxData, EvidenceSource};
use mmsm_scripting::{KindFields, ScriptKind};

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

impl MetricRunner for Registry {
    fn metric_defaults(&self, source: &str) -> Option<MetricDefaults> {
        match &self.active(source).ok()?.unit.declaration().fields {
            KindFields::Metric {
                subcontrols,
                schedule,
                ..
            } => Some(MetricDefaults {
                subcontrols: subcontrols.clone(),
                schedule: schedule.clone(),
            }),
            _ => None,
        }
    }

    fn measure(
        &self,
        source: &str,
        ctx: &Map<String, Value>,
        evidence: Arc<dyn Evidence>,
        now: SystemTime,
    ) -> Result<MetricReading, String> {
        let ctx = CtxData::new(ctx.clone())
            .at(now)
            .with_evidence(Arc::new(KernelEvidence(evidence)));
        self.run_metric(source, &ctx).map_err(|e| e.one_line())
    }
}

impl ImporterRunner for Registry {
    fn importer_formats(&self, id: &str) -> Result<Vec<String>, String> {
        let active = self.active(id).map_err(|e| e.one_line())?;
        let declaration = active.unit.declaration();
        if declaration.kind != ScriptKind::Importer {
            return Err(format!("`{id}` is a {}, not an importer", declaration.kind));
        }
        Ok(match &declaration.fields {
            KindFields::Importer { formats } => formats.clone(),
            _ => Vec::new(),
        })
    }

    fn import(&self, id: &str, ctx: &Map<String, Value>, input: &Value) -> Result<Value, String> {
        self.run_importer(id, &CtxData::new(ctx.clone()), input)
            .map_err(|e| e.to_string())
    }
}

/// The kernel's evidence of an ISMS, as scripting reads it.
struct KernelEvidence(Arc<dyn Evidence>);

impl EvidenceSource for KernelEvidence {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.read(name)
    }

    fn names(&self) -> Result<Vec<String>, String> {
        self.0.names()
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
