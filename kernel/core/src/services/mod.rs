//! The kernel's services: the operations of the three zones, each taking the
//! acting principal. The CLI (and later the HTTP server) only parse input,
//! call one service, and render its result.

mod account_admin;
mod accounts;
mod answer_notes;
mod approval;
mod auditing;
mod audits;
mod boards;
mod business;
mod certificates;
mod deletion;
mod documents;
mod drafts;
mod engines;
mod evidence;
mod findings;
#[cfg(test)]
mod fixture;
mod gegs;
mod gsgs;
mod history_form;
pub mod host;
mod importers;
mod listing;
mod metrics;
pub mod msgs;
mod rebase;
mod scheduler;
mod stored;
mod thinning;
mod uploads;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

use serde::Serialize;

use crate::access::{Forbidden, Principal};
use mmsm_engine::SchemaIndex;
use mmsm_schema::Problems;
use mmsm_store::{Batch, Repo, Store, StoreError};

pub use accounts::{
    random_password, random_secret, Account, AccountView, Authenticated, Login, NewAccount,
    Session, TokenView, ONE_TIME_DAYS, SESSION_SECONDS, TOKEN_DAYS,
};
pub use answer_notes::{AnswerNote, AnswerWhy};
pub use approval::{Approval, ApprovalStatus, SPEAKER};
pub use auditing::AuditLogEntry;
pub use audits::{AuditHeld, AuditRow};
pub use certificates::{CertificateView, LevelCertificate, CERTIFICATE_DAYS};
pub use deletion::Deleted;
pub use documents::{
    edits_documents, DocApproval, DocKind, DocVersion, DocumentControl, DocumentRow, FieldValue,
};
pub use drafts::Draft;
pub use engines::LIVE_ENGINES;
pub use evidence::{EvidenceFile, MAX_EVIDENCE_BYTES};
pub use findings::{
    CorrectiveAction, Finding, FindingEvidence, FindingFigures, FindingKind, FindingView,
    NewFinding, Response, Stamp,
};
pub use gegs::{ImportOutcome, ImportStatus, SchemaCounts, SchemaDetails, SchemaListing};
pub use gsgs::{
    instantiate, Generated, HistoryEvent, Instantiated, IsmsListing, IsmsRecord, SchemaChoice,
    Updated,
};
pub use host::{Evidence, ImporterRunner, MetricDefaults, MetricReading, MetricRunner};
pub use importers::{
    merge, parse_input, parse_input_text, ImportProgress, ImportSummary, KindSummary, NoProgress,
    IMPORTABLE,
};
pub use listing::{IsmsPage, IsmsQuery, IsmsSort, IsmsSummary};
pub use metrics::{
    Freshness, MetricBinding, MetricFailure, MetricListing, MetricOutcome, MetricStatus,
    MetricValue, MetricsRun, DEFAULT_SCHEDULE,
};
pub use msgs::PhaseActions;
pub use rebase::{RebaseOne, Rebased};
pub use scheduler::{
    lease_holder, schedule_metrics, ScheduledRun, SchedulerLease, SCHEDULER_BATCH,
};
pub use thinning::Thinned;

/// Engine indices by (schema id, version).
type IndexCache = HashMap<(String, u32), Arc<SchemaIndex>>;

/// The kernel: the store and the services over it, with its clock and the
/// runner of procedure phase actions.
#[derive(Clone)]
pub struct Kernel {
    store: Store,
    /// Engine indices of schema versions, which are immutable: built once per process.
    indices: Arc<RwLock<IndexCache>>,
    /// Live engines by ISMS, so that changes go through `Engine::apply`.
    engines: Arc<Mutex<engines::EngineCache>>,
    clock: Option<DateTime<Utc>>,
    actions: Arc<dyn PhaseActions>,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("store", &self.store)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// Errors of the services.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input that breaks the schema rules, with every located problem.
    #[error("{0}")]
    Invalid(Problems),
    /// The principal may not do this.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// No valid session, token or password.
    #[error("{0}")]
    Unauthenticated(String),
    /// Something named does not exist.
    #[error("{kind} `{id}` not found{hint}")]
    NotFound {
        /// The kind of thing.
        kind: &'static str,
        /// Its id.
        id: String,
        /// What to do, e.g. "; run `mmsm schema list` to see the schemas".
        hint: String,
    },
    /// Something to be created exists already.
    #[error("{kind} `{id}` exists already{hint}")]
    Exists {
        /// The kind of thing.
        kind: &'static str,
        /// Its id.
        id: String,
        /// What to do instead.
        hint: String,
    },
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Refused(String),
    /// An act only its own person may do (a culture test), asked by someone else.
    #[error("{0}")]
    NotYours(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// The result of a service call.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// A record of the audit trail: who did what, when, to which ids.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// The acting user.
    pub user: String,
    /// What was done, e.g. `schema.import`.
    pub action: String,
    /// The ids touched, e.g. `base@2`.
    pub ids: Vec<String>,
    /// What changed, where it says more than the ids (e.g. an answer before and after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

impl Kernel {
    /// A kernel over `store`.
    pub fn new(store: Store) -> Self {
        Kernel {
            store,
            indices: Arc::default(),
            engines: Arc::default(),
            clock: None,
            actions: Arc::new(msgs::NoActions),
        }
    }

    /// The same kernel with its clock fixed at `now` (a testing aid: the CLI
    /// reads it from `MMSM_NOW`), so that expiry, attempts and overdue figures
    /// can be checked at any date.
    pub fn with_clock(mut self, now: DateTime<Utc>) -> Self {
        self.clock = Some(now);
        self
    }

    /// The same kernel running procedure phase actions with `actions`.
    pub fn with_actions(mut self, actions: Arc<dyn PhaseActions>) -> Self {
        self.actions = actions;
        self
    }

    /// The kernel's time: the fixed clock, or the system's.
    pub fn now_utc(&self) -> DateTime<Utc> {
        self.clock.unwrap_or_else(Utc::now)
    }

    /// Nanoseconds since the Unix epoch by the kernel's clock (keys of events).
    pub fn now_nanos(&self) -> u128 {
        let now = self.now_utc();
        (now.timestamp() as i128 * 1_000_000_000 + i128::from(now.timestamp_subsec_nanos())).max(0)
            as u128
    }

    /// The engine index of schema `id` at `version`, read and built once.
    pub fn schema_index(
        &self,
        principal: &Principal,
        id: &str,
        version: u32,
    ) -> Result<Arc<SchemaIndex>> {
        let key = (id.to_owned(), version);
        if let Some(index) = self
            .indices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(index.clone());
        }
        let stored = self.schema(principal, id, Some(version))?;
        let index = Arc::new(SchemaIndex::new(Arc::new(stored.schema)));
        self.indices
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, index.clone());
        Ok(index)
    }

    /// The store (read access for the edges, e.g. `--json` views).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Seconds since the Unix epoch, by the kernel's clock.
    pub fn now(&self) -> u64 {
        self.now_utc().timestamp().max(0) as u64
    }
}

/// A key `{prefix}{nanos:020}` not yet used in the store nor in the batch:
/// when the clock is fixed (or two events share a nanosecond) a suffix
/// `-001`, `-002`... keeps the keys unique and in order.
pub(crate) fn fresh_key(
    store: &Store,
    batch: &Batch,
    repo: Repo,
    prefix: &str,
    nanos: u128,
) -> Result<String> {
    let base = format!("{prefix}{nanos:020}");
    // Point reads, not a scan: a key is taken when the store or the batch holds it.
    let taken = |key: &str| -> Result<bool> {
        Ok(batch
            .ops
            .iter()
            .any(|op| op.repo == repo && op.key == key.as_bytes())
            || store.contains(repo, key)?)
    };
    if !taken(&base)? {
        return Ok(base);
    }
    for n in 1.. {
        let key = format!("{base}-{n:03}");
        if !taken(&key)? {
            return Ok(key);
        }
    }
    unreachable!("some suffix is free")
}

/// Adds an audit entry to a batch: the store links it into the hash chain
/// and writes it in the same transaction as the mutation it records.
pub(crate) fn audit(batch: &mut Batch, principal: &Principal, action: &str, ids: Vec<String>) {
    audit_detail(batch, principal, action, ids, None);
}

/// [`audit`] with what changed (e.g. the answer before and after).
pub(crate) fn audit_detail(
    batch: &mut Batch,
    principal: &Principal,
    action: &str,
    ids: Vec<String>,
    detail: Option<serde_json::Value>,
) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let entry = AuditEntry {
        at: now.as_secs(),
        user: principal.user.clone(),
        action: action.to_owned(),
        ids,
        detail,
    };
    batch.audit(&entry);
}
