//! The kernel's services: the operations of the three zones, each taking the
//! acting principal. The CLI (and later the HTTP server) only parse input,
//! call one service, and render its result.

mod documents;
mod gegs;
mod gsgs;
mod shipped;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::access::{Forbidden, Principal};
use crate::engine::SchemaIndex;
use crate::schema_docs::Problems;
use crate::store::{Batch, Repo, Store, StoreError};

pub use gegs::{ImportOutcome, ImportStatus, SchemaCounts, SchemaDetails, SchemaListing};
pub use gsgs::{
    instantiate, Generated, HistoryEvent, Instantiated, IsmsListing, IsmsRecord, SchemaChoice,
    Updated,
};
pub use shipped::shipped_schema_files;

/// Engine indices by (schema id, version).
type IndexCache = HashMap<(String, u32), Arc<SchemaIndex>>;

/// The kernel: the store and the services over it.
#[derive(Debug, Clone)]
pub struct Kernel {
    store: Store,
    /// Engine indices of schema versions, which are immutable: built once per process.
    indices: Arc<RwLock<IndexCache>>,
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
}

impl Kernel {
    /// A kernel over `store`.
    pub fn new(store: Store) -> Self {
        Kernel {
            store,
            indices: Arc::default(),
        }
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

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// Adds an audit entry to a batch, keyed so that entries sort by time.
pub(crate) fn audit(batch: &mut Batch, principal: &Principal, action: &str, ids: Vec<String>) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let entry = AuditEntry {
        at: now.as_secs(),
        user: principal.user.clone(),
        action: action.to_owned(),
        ids,
    };
    batch.put(
        Repo::Info,
        format!("audit/{:020}/{}", now.as_nanos(), batch.ops.len()),
        &entry,
    );
}
