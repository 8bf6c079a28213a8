//! The metric scheduler (DESIGN.md 6.1): run the metrics that are due (never
//! run, or last run at least one schedule ago).
//! [`Kernel::run_due_metrics`] does one round over every ISMS;
//! [`Kernel::run_due_batch`] serves at most [`SCHEDULER_BATCH`] ISMSs from a
//! cursor in the summary index; [`schedule_metrics`], the tokio task that
//! `mmsm watch --metrics` and the server run, serves one batch per tick and
//! moves the cursor on, so that a tick's work and memory never grow with the
//! number of ISMSs in the store (10,000 of them take 50 ticks a cycle).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::access::Principal;
use mmsm_model::IsmsId;

use super::{IsmsQuery, Kernel, MetricRunner, MetricsRun, ServiceError};

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

/// ISMSs one tick of the scheduler task serves.
pub const SCHEDULER_BATCH: usize = 200;

impl Kernel {
    /// One round of the scheduler at `now` over every ISMS: runs the due
    /// metrics of each, as [`Kernel::run_metrics`] does. ISMSs with nothing
    /// due are left out of the result.
    pub fn run_due_metrics(
        &self,
        principal: &Principal,
        registry: &dyn MetricRunner,
        now: SystemTime,
    ) -> Vec<ScheduledRun> {
        let mut runs = Vec::new();
        let mut cursor = None;
        loop {
            let (batch, next) =
                self.run_due_batch(principal, registry, now, cursor, SCHEDULER_BATCH);
            runs.extend(batch);
            match next {
                Some(next) => cursor = Some(next),
                None => return runs,
            }
        }
    }

    /// Serves at most `limit` ISMSs after `cursor` (in id order; from the
    /// first when `None`): runs the due metrics of each. Returns what ran and
    /// the cursor of the next batch, `None` once the last ISMS was served.
    pub fn run_due_batch(
        &self,
        principal: &Principal,
        registry: &dyn MetricRunner,
        now: SystemTime,
        cursor: Option<IsmsId>,
        limit: usize,
    ) -> (Vec<ScheduledRun>, Option<IsmsId>) {
        let query = IsmsQuery {
            limit: Some(limit),
            after: cursor.map(|c| c.to_string()),
            ..IsmsQuery::default()
        };
        let page = match self.list_isms_page(principal, &query) {
            Ok(page) => page,
            Err(error) => {
                return (
                    vec![ScheduledRun::Failed {
                        isms: IsmsId::new("*"),
                        error,
                    }],
                    None,
                )
            }
        };
        let mut runs = Vec::new();
        for listing in &page.items {
            let id = listing.id.as_str();
            let due = match self.list_metrics(principal, id, Some(registry), now) {
                Ok(listing) => listing.metrics.iter().any(|m| m.due),
                Err(error) => {
                    runs.push(ScheduledRun::Failed {
                        isms: listing.id.clone(),
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
            let run = self.run_selected(principal, registry, id, now, |binding, ran| {
                ran.is_none_or(|ran| at.saturating_sub(ran) >= binding.period)
            });
            runs.push(match run {
                Ok(run) => ScheduledRun::Ran(run),
                Err(error) => ScheduledRun::Failed {
                    isms: listing.id.clone(),
                    error,
                },
            });
        }
        (runs, page.next)
    }
}

/// The scheduler task: every `every`, one batch of [`Kernel::run_due_batch`]
/// on the blocking pool (Lua and sled block), handing each result to
/// `report`; the next tick goes on where it stopped, and after the last ISMS
/// starts over. Runs until the task is dropped or aborted.
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
    let mut cursor: Option<IsmsId> = None;
    loop {
        tick.tick().await;
        let kernel = kernel.clone();
        let registry = Arc::clone(&registry);
        let principal = principal.clone();
        let report = Arc::clone(&report);
        let from = cursor.take();
        let round = tokio::task::spawn_blocking(move || {
            let (runs, next) = kernel.run_due_batch(
                &principal,
                registry.as_ref(),
                SystemTime::now(),
                from,
                SCHEDULER_BATCH,
            );
            for run in runs {
                report(run);
            }
            next
        });
        match round.await {
            Ok(next) => cursor = next,
            Err(error) => eprintln!("metric scheduler: a round failed: {error}"),
        }
    }
}
