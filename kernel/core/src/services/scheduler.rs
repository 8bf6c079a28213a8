//! The metric scheduler (DESIGN.md 6.1): every tick, run the metrics that are
//! due (never run, or last run at least one schedule ago) for every ISMS.
//! [`Kernel::run_due_metrics`] does one round; [`schedule_metrics`] is the
//! tokio task that `mmsm watch --metrics` (and the server) runs.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::access::Principal;
use mmsm_model::IsmsId;
use mmsm_store::Repo;

use super::{IsmsRecord, Kernel, MetricRunner, MetricsRun, ServiceError};

/// What one round did for one ISMS.
#[derive(Debug)]
pub enum ScheduledRun {
    /// The due metrics ran (and the stale values were removed).
    Ran(MetricsRun),
    /// The ISMS could not be served.
    Failed {
        /// The ISMS.
        isms: IsmsId,
        /// Why.
        error: ServiceError,
    },
}

impl Kernel {
    /// One round of the scheduler at `now`: for every ISMS with a due metric,
    /// runs its due metrics as [`Kernel::run_metrics`] does. ISMSs with
    /// nothing due are left out of the result.
    pub fn run_due_metrics(
        &self,
        principal: &Principal,
        registry: &dyn MetricRunner,
        now: SystemTime,
    ) -> Vec<ScheduledRun> {
        let records: Vec<(String, IsmsRecord)> = match self.store().scan(Repo::Isms, "isms/") {
            Ok(records) => records,
            Err(error) => {
                return vec![ScheduledRun::Failed {
                    isms: IsmsId::new("*"),
                    error: error.into(),
                }]
            }
        };
        let mut runs = Vec::new();
        for (_, record) in records {
            let id = record.id.as_str();
            let due = match self.list_metrics(principal, id, Some(registry), now) {
                Ok(listing) => listing.metrics.iter().any(|m| m.due),
                Err(error) => {
                    runs.push(ScheduledRun::Failed {
                        isms: record.id.clone(),
                        error,
                    });
                    continue;
                }
            };
            if !due {
                continue;
            }
            let at = now
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let run = self.run_selected(principal, registry, id, now, |binding, last| {
                last.is_none_or(|v| at.saturating_sub(v.at) >= binding.period)
            });
            runs.push(match run {
                Ok(run) => ScheduledRun::Ran(run),
                Err(error) => ScheduledRun::Failed {
                    isms: record.id.clone(),
                    error,
                },
            });
        }
        runs
    }
}

/// The scheduler task: every `every`, one round of [`Kernel::run_due_metrics`]
/// on the blocking pool (Lua and sled block), handing each result to
/// `report`. Runs until the task is dropped or aborted.
pub async fn schedule_metrics(
    kernel: Kernel,
    registry: Arc<dyn MetricRunner>,
    principal: Principal,
    every: Duration,
    report: impl Fn(ScheduledRun) + Send + Sync + 'static,
) {
    let report = Arc::new(report);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let kernel = kernel.clone();
        let registry = Arc::clone(&registry);
        let principal = principal.clone();
        let report = Arc::clone(&report);
        let round = tokio::task::spawn_blocking(move || {
            for run in kernel.run_due_metrics(&principal, registry.as_ref(), SystemTime::now()) {
                report(run);
            }
        });
        if let Err(error) = round.await {
            eprintln!("metric scheduler: a round failed: {error}");
        }
    }
}
