//! The metric scheduler (DESIGN.md 6.1): run the metrics that are due (never
//! run, or last run at least one schedule ago).
//! [`Kernel::run_due_metrics`] does one round over every ISMS;
//! [`Kernel::run_due_batch`] serves at most [`SCHEDULER_BATCH`] ISMSs from a
//! cursor in the summary index; [`schedule_metrics`], the tokio task that
//! `mmsm watch --metrics` and the server run, serves one batch per tick and
//! moves the cursor on, so that a tick's work and memory never grow with the
//! number of ISMSs in the store (10,000 of them take 50 ticks a cycle).
//!
//! Several servers on one database share one scheduler: a tick runs only on
//! the server that holds the scheduler's lease, a record in the store taken
//! and renewed inside a write transaction ([`Kernel::take_scheduler_lease`]).
//! The lease also holds the cursor, so that a server taking over after
//! another stopped goes on where it stood. Each due metric therefore runs
//! once across all servers, not once per server.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mmsm_model::IsmsId;
use mmsm_store::Repo;
use serde::{Deserialize, Serialize};

use crate::access::Principal;

use super::{IsmsQuery, Kernel, MetricRunner, MetricsRun, ServiceError};

/// The key of the scheduler's lease in the info repository.
const LEASE_KEY: &str = "scheduler/lease";

/// Which server runs the metric scheduler, until when, and where its round
/// stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerLease {
    /// The server holding it (a random id per process, with its host and pid).
    pub holder: String,
    /// Seconds since the Unix epoch after which another server may take it.
    pub until: u64,
    /// The first ISMS of the next batch: after this id (`None`: from the first).
    pub cursor: Option<String>,
}

/// A name for this process as a lease holder: unique, and readable in the store.
pub fn lease_holder() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let host = host.trim();
    let host = if host.is_empty() { "host" } else { host };
    let nonce = &super::accounts::random_secret()[..8];
    format!("{host}:{}:{nonce}", std::process::id())
}

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

impl Kernel {
    /// Takes the scheduler's lease for `holder` until `now + ttl` when it is
    /// free, expired or held by `holder` already, in one write transaction:
    /// of several servers asking at once exactly one gets it. Returns the
    /// lease's cursor when `holder` holds it, `None` when another does.
    pub fn take_scheduler_lease(
        &self,
        holder: &str,
        now: u64,
        ttl: u64,
    ) -> Result<Option<Option<IsmsId>>, ServiceError> {
        self.store().write(|store, batch| {
            let lease: Option<SchedulerLease> = store.get(Repo::Info, LEASE_KEY)?;
            let cursor = match lease {
                Some(lease) if lease.holder != holder && lease.until > now => return Ok(None),
                Some(lease) => lease.cursor,
                None => None,
            };
            batch.put(
                Repo::Info,
                LEASE_KEY,
                &SchedulerLease {
                    holder: holder.to_owned(),
                    until: now + ttl,
                    cursor: cursor.clone(),
                },
            );
            Ok(Some(cursor.map(IsmsId::new)))
        })
    }

    /// Moves the lease's cursor to `next` when `holder` still holds it.
    pub fn advance_scheduler_lease(
        &self,
        holder: &str,
        next: Option<IsmsId>,
    ) -> Result<(), ServiceError> {
        self.store().write(|store, batch| {
            let Some(mut lease) = store.get::<SchedulerLease>(Repo::Info, LEASE_KEY)? else {
                return Ok(());
            };
            if lease.holder == holder {
                lease.cursor = next.map(|id| id.to_string());
                batch.put(Repo::Info, LEASE_KEY, &lease);
            }
            Ok(())
        })
    }

    /// The scheduler's lease as stored, if any server took it.
    pub fn scheduler_lease(&self) -> Result<Option<SchedulerLease>, ServiceError> {
        Ok(self.store().get(Repo::Info, LEASE_KEY)?)
    }

    /// One tick of the scheduler for `holder`: when it holds the lease (for
    /// `ttl` seconds), one batch from the lease's cursor, then the cursor
    /// moved on. `None` when another server holds the lease.
    pub fn scheduler_tick(
        &self,
        holder: &str,
        principal: &Principal,
        registry: &dyn MetricRunner,
        now: SystemTime,
        ttl: u64,
    ) -> Result<Option<Vec<ScheduledRun>>, ServiceError> {
        let at = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let Some(cursor) = self.take_scheduler_lease(holder, at, ttl)? else {
            return Ok(None);
        };
        let (runs, next) = self.run_due_batch(principal, registry, now, cursor, SCHEDULER_BATCH);
        self.advance_scheduler_lease(holder, next)?;
        Ok(Some(runs))
    }
}

/// How long a lease outlives the tick that took it: a server that stopped
/// is replaced after three missed ticks (and a minute's margin for a slow
/// batch).
fn lease_seconds(every: Duration) -> u64 {
    every.as_secs().saturating_mul(3) + 60
}

/// The scheduler task: every `every`, one [`Kernel::scheduler_tick`] on the
/// blocking pool (Lua and the store block), handing each result to
/// `report`; the lease's cursor goes on where the last tick stopped, and
/// after the last ISMS starts over. Runs until the task is dropped or
/// aborted.
pub async fn schedule_metrics(
    kernel: Kernel,
    registry: Arc<dyn MetricRunner>,
    principal: Principal,
    every: Duration,
    report: impl Fn(ScheduledRun) + Send + Sync + 'static,
) {
    let report = Arc::new(report);
    let holder = Arc::new(lease_holder());
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let kernel = kernel.clone();
        let registry = Arc::clone(&registry);
        let principal = principal.clone();
        let report = Arc::clone(&report);
        let holder = Arc::clone(&holder);
        let round = tokio::task::spawn_blocking(move || {
            kernel.scheduler_tick(
                &holder,
                &principal,
                registry.as_ref(),
                SystemTime::now(),
                lease_seconds(every),
            )
        });
        match round.await {
            Ok(Ok(Some(runs))) => runs.into_iter().for_each(|run| report(run)),
            Ok(Ok(None)) => {}
            Ok(Err(error)) => eprintln!("metric scheduler: cannot take the lease: {error}"),
            Err(error) => eprintln!("metric scheduler: a round failed: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsm_store::Store;

    #[test]
    fn one_server_holds_the_lease_until_it_expires_and_keeps_its_cursor() {
        let kernel = Kernel::new(Store::temporary().unwrap());
        assert_eq!(
            kernel.take_scheduler_lease("a", 100, 60).unwrap(),
            Some(None)
        );
        assert_eq!(
            kernel.take_scheduler_lease("b", 150, 60).unwrap(),
            None,
            "a holds it"
        );
        kernel
            .advance_scheduler_lease("a", Some(IsmsId::new("taller-gil")))
            .unwrap();
        kernel
            .advance_scheduler_lease("b", Some(IsmsId::new("elsewhere")))
            .unwrap();
        assert_eq!(
            kernel.take_scheduler_lease("a", 155, 60).unwrap(),
            Some(Some(IsmsId::new("taller-gil"))),
            "a renews it; b's advance was ignored"
        );
        assert_eq!(kernel.take_scheduler_lease("b", 214, 60).unwrap(), None);
        assert_eq!(
            kernel.take_scheduler_lease("b", 215, 60).unwrap(),
            Some(Some(IsmsId::new("taller-gil"))),
            "expired: b takes over where a stood"
        );
        assert_eq!(kernel.scheduler_lease().unwrap().unwrap().holder, "b");
    }

    #[test]
    fn of_two_servers_on_one_database_asking_at_once_exactly_one_gets_the_lease() {
        let url = mmsm_store::throwaway::shared()
            .unwrap()
            .fresh_database()
            .unwrap();
        let open = || {
            Kernel::new(Store::open_at(&mmsm_store::Location::Postgres(url.clone()), 4).unwrap())
        };
        let servers = [open(), open()];
        for round in 0..20u64 {
            // Each round the lease has expired: both ask at the same time.
            let now = 1_000 + round * 100;
            let got: Vec<bool> = std::thread::scope(|scope| {
                let asks: Vec<_> = servers
                    .iter()
                    .enumerate()
                    .map(|(n, kernel)| {
                        scope.spawn(move || {
                            kernel
                                .take_scheduler_lease(&format!("server-{n}"), now, 60)
                                .unwrap()
                                .is_some()
                        })
                    })
                    .collect();
                asks.into_iter().map(|a| a.join().unwrap()).collect()
            });
            assert_eq!(
                got.iter().filter(|g| **g).count(),
                1,
                "round {round}: {got:?}"
            );
        }
    }
}
