//! Metrics (DESIGN.md 6.1): run the metric scripts and plugins bound to an
//! ISMS, store each value with its time in the information repository
//! (`metric/{isms}/{metric}/{nanos}`), and set the bound subcontrols'
//! measured values through the engine, incrementally, in one transaction.
//!
//! A measured value counts while it is fresher than twice its schedule; a
//! stale one is removed (the subcontrol falls back to its declared answer)
//! whenever a run or a listing notices it.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::access::Principal;
use mmsm_engine::{Board, Change, Delta};
use mmsm_model::{IsmsId, MetricId, SubControlId, Zone};
use mmsm_schema::parse_period;
use mmsm_store::Repo;

use super::gsgs::record_history;
use super::host::{MetricDefaults, MetricReading, MetricRunner};
use super::listing::put_isms;
use super::msgs::culture::{certificate_status, required_regulations};
use super::{audit, HistoryEvent, IsmsRecord, Kernel, Result, ServiceError};

/// The schedule of a metric that neither its schema entry nor its script names.
pub const DEFAULT_SCHEDULE: &str = "1d";

/// A metric of an ISMS: its schema entry, completed by its script's defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricBinding {
    /// The metric id (the schema's `metrics` entry).
    pub id: MetricId,
    /// A name for people.
    pub name: String,
    /// The script or plugin that collects it.
    pub source: String,
    /// The subcontrols its score feeds.
    pub subcontrols: Vec<SubControlId>,
    /// How often it runs (`1d`).
    pub schedule: String,
    /// The schedule in seconds.
    pub period: u64,
}

/// One value of a metric, as stored at `metric/{isms}/{metric}/{nanos}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// The metric.
    pub metric: MetricId,
    /// The script or plugin that produced it.
    pub source: String,
    /// The version (content hash) of the source.
    pub version: String,
    /// What `collect` returned.
    pub value: f64,
    /// What `score` returned, in [0,1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The subcontrols whose measured value it set.
    #[serde(default)]
    pub subcontrols: Vec<SubControlId>,
    /// When it was collected (seconds since the Unix epoch).
    pub at: u64,
}

/// Whether a metric's last value still counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    /// Fresher than twice its schedule: its score overrides the answers.
    Fresh,
    /// Older: the bound subcontrols fall back to their declared answers.
    Stale,
    /// Never collected.
    Never,
}

impl Freshness {
    /// `fresh`, `stale` or `never`.
    pub fn as_str(self) -> &'static str {
        match self {
            Freshness::Fresh => "fresh",
            Freshness::Stale => "stale",
            Freshness::Never => "never",
        }
    }

    fn of(last: Option<&MetricValue>, period: u64, now: u64) -> Freshness {
        match last {
            None => Freshness::Never,
            Some(v) if now.saturating_sub(v.at) < period.saturating_mul(2) => Freshness::Fresh,
            Some(_) => Freshness::Stale,
        }
    }
}

/// One line of `metric list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricStatus {
    /// The metric.
    #[serde(flatten)]
    pub binding: MetricBinding,
    /// Its last value.
    pub last: Option<MetricValue>,
    /// Whether that value counts.
    pub freshness: Freshness,
    /// Whether a scheduler would run it now (never run, or last run at least one schedule ago).
    pub due: bool,
    /// Why its last run failed, when it did (cleared by the next value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<MetricFailure>,
}

/// Why a metric could not be collected, as its last run said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricFailure {
    /// When (seconds since the Unix epoch).
    pub at: u64,
    /// The reason, one line.
    pub error: String,
}

/// When a metric last ran with nothing to measure (`collect` returned nil):
/// it is not due again before its period, though it stored no value.
fn quiet_key(isms: &str, metric: &str) -> String {
    format!("metric-quiet/{isms}/{metric}")
}

fn failure_key(isms: &str, metric: &str) -> String {
    format!("metric-failure/{isms}/{metric}")
}

/// What running one metric gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricOutcome {
    /// The metric.
    pub metric: MetricId,
    /// Its script or plugin.
    pub source: String,
    /// The value, when it ran.
    pub value: Option<f64>,
    /// The score, when it has one.
    pub score: Option<f64>,
    /// The subcontrols whose measured value it set.
    pub subcontrols: Vec<SubControlId>,
    /// Why it failed (the script's error, naming its id, file and line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The result of `metric run` (and of a listing that removed stale values).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsRun {
    /// The ISMS.
    pub isms: IsmsId,
    /// When (seconds since the Unix epoch).
    pub at: u64,
    /// Each metric run, in schema order.
    pub metrics: Vec<MetricOutcome>,
    /// Subcontrols whose stale measured value was removed.
    pub expired: Vec<SubControlId>,
    /// The derived values that changed (first value before, last after).
    pub deltas: Vec<Delta>,
    /// The board after the run.
    pub board: Board,
}

/// The result of `metric list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricListing {
    /// The ISMS.
    pub isms: IsmsId,
    /// Each metric with its last value and freshness.
    pub metrics: Vec<MetricStatus>,
    /// Subcontrols whose stale measured value this listing removed.
    pub expired: Vec<SubControlId>,
}

fn secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn metric_prefix(isms: &str, metric: &str) -> String {
    format!("metric/{isms}/{metric}/")
}

impl Kernel {
    /// The metrics of an ISMS: the entries of its schema that generation
    /// instantiated, with the defaults their scripts declare (when `registry`
    /// is given) for what the entry leaves out.
    pub fn metric_bindings(
        &self,
        principal: &Principal,
        isms: &str,
        registry: Option<&dyn MetricRunner>,
    ) -> Result<(IsmsRecord, Vec<MetricBinding>)> {
        let record = self.isms(principal, isms)?;
        let index =
            self.schema_index(principal, record.schema.id.as_str(), record.schema.version)?;
        let mut bindings = Vec::new();
        for def in &index.schema().metrics {
            if !record.instantiated.metrics.contains(&def.id) {
                continue;
            }
            let MetricDefaults {
                subcontrols: default_subs,
                schedule: default_schedule,
            } = registry
                .and_then(|r| r.metric_defaults(&def.source))
                .unwrap_or_default();
            let subcontrols = if def.subcontrols.is_empty() {
                default_subs.into_iter().map(SubControlId::new).collect()
            } else {
                def.subcontrols.clone()
            };
            let schedule = def
                .schedule
                .clone()
                .or(default_schedule)
                .unwrap_or_else(|| DEFAULT_SCHEDULE.to_owned());
            let period = parse_period(&schedule).unwrap_or(86_400);
            bindings.push(MetricBinding {
                id: def.id.clone(),
                name: def.name.clone(),
                source: def.source.clone(),
                subcontrols,
                schedule,
                period,
            });
        }
        Ok((record, bindings))
    }

    /// The data a metric's `ctx` sees for an ISMS: `enterprise`, `users`,
    /// `answers`, `measured`, `assets`, `board`, and the maintenance records
    /// where they exist (`procedures` from `proc/{isms}/`, `events` from
    /// `event/{isms}/` in the info repository, `certificates` from
    /// `cert/{isms}/`, `plan` from `plan/{isms}/`, `findings` from
    /// `finding/{isms}/`, `audits` from `audit-done/{isms}/`, each record with
    /// its key's last part as `key`). The one place that decides what scripts see.
    pub fn isms_snapshot(&self, record: &IsmsRecord) -> Result<Map<String, Value>> {
        let mut data = Map::new();
        data.insert("isms".into(), Value::from(record.id.as_str()));
        data.insert("enterprise".into(), json(&record.enterprise));
        data.insert("users".into(), self.users_with_certificates(record)?);
        data.insert("answers".into(), json(&record.inputs.answers));
        data.insert("measured".into(), json(&record.inputs.measured));
        data.insert("assets".into(), json(&record.inputs.assets));
        data.insert("board".into(), json(&record.board));
        for (field, repo, prefix) in [
            ("procedures", Repo::Isms, "proc"),
            ("events", Repo::Info, "event"),
            ("certificates", Repo::Isms, "cert"),
            ("plan", Repo::Isms, "plan"),
            ("findings", Repo::Isms, "finding"),
            ("audits", Repo::Isms, "audit-done"),
        ] {
            let prefix = format!("{prefix}/{}/", record.id);
            let rows: Vec<(String, Value)> = self.store().scan(repo, &prefix)?;
            if rows.is_empty() {
                continue;
            }
            let list = rows
                .into_iter()
                .map(|(key, mut value)| {
                    if let Value::Object(map) = &mut value {
                        let last = key[prefix.len()..].to_owned();
                        map.entry("key").or_insert(Value::from(last));
                    }
                    value
                })
                .collect();
            data.insert(field.into(), Value::Array(list));
        }
        Ok(data)
    }

    /// The users, each with `certificate`: the status of their culture
    /// certificate as the culture page shows it (`valid`, `expiring`,
    /// `expired`, `revoked`, `none`, or `not-required` when no regulation in
    /// force applies to their roles), so a script counts what people read.
    fn users_with_certificates(&self, record: &IsmsRecord) -> Result<Value> {
        let schema = self.isms_schema(record)?;
        let certificates = self.certificates(&record.id)?;
        let now = self.now();
        let users = record
            .users
            .iter()
            .map(|user| {
                let required = required_regulations(&schema, record, &user.roles);
                let (status, _) = certificate_status(certificates.get(&user.id), &required, now);
                let mut value = json(user);
                if let Value::Object(map) = &mut value {
                    map.insert("certificate".into(), Value::from(status.as_str()));
                }
                value
            })
            .collect();
        Ok(Value::Array(users))
    }

    /// The last stored value of a metric of an ISMS.
    pub fn last_metric_value(&self, isms: &str, metric: &str) -> Result<Option<MetricValue>> {
        Ok(self
            .store()
            .last::<MetricValue>(Repo::Info, &metric_prefix(isms, metric))?
            .map(|(_, v)| v))
    }

    /// Every stored value of a metric of an ISMS, oldest first.
    pub fn metric_values(
        &self,
        principal: &Principal,
        isms: &str,
        metric: &str,
    ) -> Result<Vec<MetricValue>> {
        let record = self.isms(principal, isms)?;
        let values: Vec<(String, MetricValue)> = self
            .store()
            .scan(Repo::Info, &metric_prefix(record.id.as_str(), metric))?;
        Ok(values.into_iter().map(|(_, v)| v).collect())
    }

    /// Every stored value of every metric of an ISMS, oldest first per metric
    /// (one scan, for pages that chart them all).
    pub fn metric_histories(
        &self,
        principal: &Principal,
        isms: &str,
    ) -> Result<BTreeMap<MetricId, Vec<MetricValue>>> {
        let record = self.isms(principal, isms)?;
        let values: Vec<(String, MetricValue)> = self
            .store()
            .scan(Repo::Info, &format!("metric/{}/", record.id))?;
        let mut histories: BTreeMap<MetricId, Vec<MetricValue>> = BTreeMap::new();
        for (_, v) in values {
            histories.entry(v.metric.clone()).or_default().push(v);
        }
        Ok(histories)
    }

    /// `metric run ISMS [METRIC]`: collects every metric of the ISMS (or only
    /// `only`) now, with the time of the run fixed at `now`; stores the values,
    /// sets the bound subcontrols' measured values and removes stale ones, in
    /// one transaction. A failing script is reported in its outcome and the
    /// others go on.
    pub fn run_metrics(
        &self,
        principal: &Principal,
        registry: &dyn MetricRunner,
        isms: &str,
        only: Option<&str>,
        now: SystemTime,
    ) -> Result<MetricsRun> {
        require_write(principal)?;
        let (_, bindings) = self.metric_bindings(principal, isms, Some(registry))?;
        if let Some(id) = only {
            if !bindings.iter().any(|b| b.id.as_str() == id) {
                let known: Vec<&str> = bindings.iter().map(|b| b.id.as_str()).collect();
                return Err(ServiceError::NotFound {
                    kind: "metric",
                    id: id.to_owned(),
                    hint: format!(" in ISMS `{isms}`; its metrics: {}", known.join(", ")),
                });
            }
        }
        self.run_selected(principal, registry, isms, now, |binding, _| {
            only.is_none_or(|id| binding.id.as_str() == id)
        })
    }

    /// When metric `metric` of `isms` last ran without failing: its last
    /// value's time, or a later run that had nothing to measure.
    fn last_run_at(
        &self,
        isms: &str,
        metric: &str,
        last: Option<&MetricValue>,
    ) -> Result<Option<u64>> {
        let quiet = self
            .store()
            .get::<u64>(Repo::Info, &quiet_key(isms, metric))?;
        Ok(last.map(|v| v.at).max(quiet))
    }

    /// Runs the metrics of `isms` for which `select(binding, when it last ran)` holds.
    pub(super) fn run_selected(
        &self,
        principal: &Principal,
        registry: &dyn MetricRunner,
        isms: &str,
        now: SystemTime,
        select: impl Fn(&MetricBinding, Option<u64>) -> bool,
    ) -> Result<MetricsRun> {
        require_write(principal)?;
        let (record, bindings) = self.metric_bindings(principal, isms, Some(registry))?;
        let ctx = self.isms_snapshot(&record)?;
        let evidence = self.evidence_of(record.id.as_str());
        let at = secs(now);
        let mut outcomes = Vec::new();
        let mut values = Vec::new();
        for binding in &bindings {
            let last = self.last_metric_value(record.id.as_str(), binding.id.as_str())?;
            let ran = self.last_run_at(record.id.as_str(), binding.id.as_str(), last.as_ref())?;
            if !select(binding, ran) {
                continue;
            }
            match registry.measure(&binding.source, &ctx, evidence.clone(), now) {
                Ok(MetricReading { value: None, .. }) => outcomes.push(MetricOutcome {
                    metric: binding.id.clone(),
                    source: binding.source.clone(),
                    value: None,
                    score: None,
                    subcontrols: Vec::new(),
                    error: None,
                }),
                Ok(reading) => {
                    let value = reading.value.unwrap_or_default();
                    let set = if reading.score.is_some() {
                        binding.subcontrols.clone()
                    } else {
                        Vec::new()
                    };
                    outcomes.push(MetricOutcome {
                        metric: binding.id.clone(),
                        source: binding.source.clone(),
                        value: Some(value),
                        score: reading.score,
                        subcontrols: set.clone(),
                        error: None,
                    });
                    values.push(MetricValue {
                        metric: binding.id.clone(),
                        source: binding.source.clone(),
                        version: reading.version,
                        value,
                        score: reading.score,
                        subcontrols: set,
                        at,
                    });
                }
                Err(error) => outcomes.push(MetricOutcome {
                    metric: binding.id.clone(),
                    source: binding.source.clone(),
                    value: None,
                    score: None,
                    subcontrols: Vec::new(),
                    error: Some(error),
                }),
            }
        }
        // Failed ones keep their reason; those with nothing to measure lose an old one.
        let failures: Vec<(&MetricId, Option<&str>)> = outcomes
            .iter()
            .filter(|o| o.value.is_none())
            .map(|o| (&o.metric, o.error.as_deref()))
            .collect();
        let (expired, deltas, board) = self.store_measurements(
            principal,
            record.id.as_str(),
            &bindings,
            values,
            &failures,
            at,
        )?;
        Ok(MetricsRun {
            isms: record.id,
            at,
            metrics: outcomes,
            expired,
            deltas,
            board,
        })
    }

    /// `metric list ISMS`: each metric's last value and freshness at `now`.
    /// Stale measured values it notices are removed when the principal may
    /// change the ISMS.
    pub fn list_metrics(
        &self,
        principal: &Principal,
        isms: &str,
        registry: Option<&dyn MetricRunner>,
        now: SystemTime,
    ) -> Result<MetricListing> {
        let (record, bindings) = self.metric_bindings(principal, isms, registry)?;
        let at = secs(now);
        let mut metrics = Vec::new();
        for binding in bindings.iter().cloned() {
            let last = self.last_metric_value(record.id.as_str(), binding.id.as_str())?;
            let freshness = Freshness::of(last.as_ref(), binding.period, at);
            let due = self
                .last_run_at(record.id.as_str(), binding.id.as_str(), last.as_ref())?
                .is_none_or(|ran| at.saturating_sub(ran) >= binding.period);
            let failure = self.store().get::<MetricFailure>(
                Repo::Info,
                &failure_key(record.id.as_str(), binding.id.as_str()),
            )?;
            metrics.push(MetricStatus {
                binding,
                last,
                freshness,
                due,
                failure,
            });
        }
        let expired = if require_write(principal).is_ok() {
            self.store_measurements(
                principal,
                record.id.as_str(),
                &bindings,
                Vec::new(),
                &[],
                at,
            )?
            .0
        } else {
            Vec::new()
        };
        Ok(MetricListing {
            isms: record.id,
            metrics,
            expired,
        })
    }

    /// In one transaction: stores `values`, sets the measured value of each
    /// subcontrol they score, removes the measured values of subcontrols whose
    /// metric's last value is stale at `at`, and records each change with its
    /// deltas as history (cause `metric`). Returns the expired subcontrols, the
    /// net deltas and the board.
    fn store_measurements(
        &self,
        principal: &Principal,
        isms: &str,
        bindings: &[MetricBinding],
        values: Vec<MetricValue>,
        failures: &[(&MetricId, Option<&str>)],
        at: u64,
    ) -> Result<(Vec<SubControlId>, Vec<Delta>, Board)> {
        self.store().write(|store, batch| {
            let mut record = self.isms(principal, isms)?;
            if record.archived.is_some() {
                if values.is_empty() && failures.is_empty() {
                    // A listing of an archived ISMS removes nothing: read only.
                    return Ok((Vec::new(), Vec::new(), (*record.board).clone()));
                }
                record.ensure_open()?;
            }
            let mut engine = self.take_engine(&record)?;
            let mut changes = Vec::new();
            for value in &values {
                if let Some(score) = value.score {
                    for subcontrol in &value.subcontrols {
                        changes.push(Change::Measured {
                            subcontrol: subcontrol.clone(),
                            value: Some(score),
                        });
                    }
                }
            }
            let mut expired = Vec::new();
            let fresh_now: Vec<&MetricId> = values.iter().map(|v| &v.metric).collect();
            for binding in bindings {
                if fresh_now.contains(&&binding.id) {
                    continue;
                }
                let last: Option<MetricValue> = store
                    .last::<MetricValue>(Repo::Info, &metric_prefix(isms, binding.id.as_str()))?
                    .map(|(_, v)| v);
                if Freshness::of(last.as_ref(), binding.period, at) == Freshness::Fresh {
                    continue;
                }
                for subcontrol in &binding.subcontrols {
                    if record.inputs.measured.contains_key(subcontrol) {
                        expired.push(subcontrol.clone());
                        changes.push(Change::Measured {
                            subcontrol: subcontrol.clone(),
                            value: None,
                        });
                    }
                }
            }
            let mut net: BTreeMap<String, Delta> = BTreeMap::new();
            let mut order = Vec::new();
            let mut history = Vec::new();
            for change in changes {
                let deltas = engine
                    .apply(change.clone())
                    .map_err(|e| ServiceError::Refused(e.to_string()))?
                    .to_vec();
                for delta in &deltas {
                    let key = delta.subject.to_string();
                    match net.get_mut(&key) {
                        Some(existing) => existing.after = delta.after,
                        None => {
                            order.push(key.clone());
                            net.insert(key, delta.clone());
                        }
                    }
                }
                if !deltas.is_empty() {
                    history.push((change, deltas));
                }
            }
            let mut board = engine.board();
            board.isms = record.id.to_string();
            let nanos = self.now_nanos();
            for (n, value) in values.iter().enumerate() {
                batch.put(
                    Repo::Info,
                    format!(
                        "{}{:020}",
                        metric_prefix(isms, value.metric.as_str()),
                        nanos + n as u128
                    ),
                    value,
                );
                batch.delete(Repo::Info, failure_key(isms, value.metric.as_str()));
            }
            for (metric, error) in failures {
                match error {
                    Some(error) => {
                        let failure = MetricFailure {
                            at,
                            error: (*error).to_owned(),
                        };
                        batch.put(Repo::Info, failure_key(isms, metric.as_str()), &failure);
                    }
                    None => {
                        batch.delete(Repo::Info, failure_key(isms, metric.as_str()));
                        batch.put(Repo::Info, quiet_key(isms, metric.as_str()), &at);
                    }
                }
            }
            if values.is_empty() && history.is_empty() {
                return Ok((expired, Vec::new(), board));
            }
            record.inputs = engine.inputs();
            record.board = board.clone().into();
            // A measured value can make a control apply: the pack in force follows.
            let in_force = history
                .iter()
                .any(|(_, deltas)| super::gsgs::moves_applicability(deltas))
                .then(|| super::gsgs::refresh_in_force(&engine.schema().clone(), &mut record))
                .flatten();
            put_isms(batch, &mut record, at);
            self.keep_engine(&record, engine);
            for (change, deltas) in history {
                let refs = metric_refs(&values, &change);
                record_history(
                    store,
                    batch,
                    &record.id,
                    nanos,
                    &HistoryEvent {
                        at,
                        user: principal.user.clone(),
                        cause: "metric".into(),
                        change: Some(change),
                        deltas,
                        refs,
                        note: in_force.clone(),
                    },
                    &board,
                )?;
            }
            audit(batch, principal, "isms.metric", vec![record.id.to_string()]);
            let deltas = order
                .into_iter()
                .filter_map(|key| net.remove(&key))
                .filter(|d| changed(d.before, d.after))
                .collect();
            Ok((expired, deltas, board))
        })
    }
}

/// `metric:ID` of the values that set the subcontrol a change is about.
fn metric_refs(values: &[MetricValue], change: &Change) -> Vec<String> {
    let Change::Measured { subcontrol, .. } = change else {
        return Vec::new();
    };
    values
        .iter()
        .filter(|v| v.subcontrols.contains(subcontrol))
        .map(|v| format!("metric:{}", v.metric))
        .collect()
}

fn changed(before: Option<f64>, after: Option<f64>) -> bool {
    match (before, after) {
        (Some(b), Some(a)) => (b - a).abs() > 1e-12,
        (None, None) => false,
        _ => true,
    }
}

fn require_write(principal: &Principal) -> Result<()> {
    principal
        .require(Zone::Maintenance, "run an ISMS's metrics")
        .or_else(|_| principal.require(Zone::Generation, "run an ISMS's metrics"))?;
    Ok(())
}

/// JSON of a record the snapshot copies (they all serialise).
fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
