//! A backend that fails on purpose: tests of atomicity wrap a real backend
//! in it, so no backend carries a failure hook of its own.

use std::sync::Arc;

use crate::{Backend, Op, Reader, ReadsThrough, StoreError, Txn};

/// Wraps a backend: every write transaction applies its first `after`
/// operations to the real transaction, then fails before the rest.
pub struct FailingBackend {
    inner: Arc<dyn Backend>,
    after: usize,
}

impl FailingBackend {
    /// `inner`, failing every write after `after` operations.
    pub fn new(inner: Arc<dyn Backend>, after: usize) -> Self {
        FailingBackend { inner, after }
    }
}

impl ReadsThrough for FailingBackend {
    fn reads_through(&self) -> &dyn Reader {
        self.inner.as_ref()
    }
}

impl Backend for FailingBackend {
    fn begin(&self) -> Result<Arc<dyn Txn>, StoreError> {
        Ok(Arc::new(FailingTxn {
            inner: self.inner.begin()?,
            after: self.after,
        }))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }

    fn describe(&self) -> String {
        format!(
            "{} (failing after {} operations)",
            self.inner.describe(),
            self.after
        )
    }
}

struct FailingTxn {
    inner: Arc<dyn Txn>,
    after: usize,
}

impl ReadsThrough for FailingTxn {
    fn reads_through(&self) -> &dyn Reader {
        self.inner.as_ref()
    }
}

impl Txn for FailingTxn {
    fn apply(&self, ops: &[Op]) -> Result<(), StoreError> {
        if ops.len() <= self.after {
            return self.inner.apply(ops);
        }
        self.inner.apply(&ops[..self.after])?;
        Err(StoreError::Backend(format!(
            "injected failure after {} operations",
            self.after
        )))
    }

    fn commit(&self) -> Result<(), StoreError> {
        self.inner.commit()
    }
}
