//! The audit zone's reads: the hash-chained audit trail and its verification.

use serde::Serialize;

use crate::access::Principal;
use mmsm_model::Zone;
use mmsm_store::chain::{self, ChainBreak, ChainReport};

use super::{AuditEntry, Kernel, Result};

/// One record of the audit trail as shown: its number, hash links and entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditLogEntry {
    /// 1 for the first record.
    pub seq: u64,
    /// The hash of the record before.
    pub prev: String,
    /// This record's hash.
    pub hash: String,
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// Who acted.
    pub user: String,
    /// What was done.
    pub action: String,
    /// The ids touched.
    pub ids: Vec<String>,
    /// What changed.
    pub detail: Option<serde_json::Value>,
}

impl Kernel {
    /// The audit trail, oldest first: the whole trail for an administrator;
    /// for the audit zone, the records about the ISMSs the principal sees (and
    /// its own actions).
    pub fn audit_log(
        &self,
        principal: &Principal,
        isms: Option<&str>,
    ) -> Result<Vec<AuditLogEntry>> {
        if !principal.admin {
            principal.require_any(&[Zone::Audit, Zone::Maintenance], "read the audit trail")?;
        }
        if let Some(id) = isms {
            self.isms(principal, id)?;
        }
        let visible: Vec<String> = if principal.admin {
            Vec::new()
        } else {
            self.list_isms(principal)?
                .into_iter()
                .map(|l| l.id.to_string())
                .collect()
        };
        let mut out = Vec::new();
        for link in chain::entries(self.store())? {
            let Ok(entry) = serde_json::from_value::<AuditEntry>(link.entry.clone()) else {
                continue;
            };
            let about = |id: &str| entry.ids.iter().any(|i| i == id);
            let shown = match isms {
                Some(id) => about(id),
                None => {
                    principal.admin
                        || entry.user == principal.user
                        || visible.iter().any(|v| about(v))
                }
            };
            if shown {
                out.push(AuditLogEntry {
                    seq: link.seq,
                    prev: link.prev,
                    hash: link.hash,
                    at: entry.at,
                    user: entry.user,
                    action: entry.action,
                    ids: entry.ids,
                    detail: entry.detail,
                });
            }
        }
        Ok(out)
    }

    /// Walks the whole audit chain: `Ok(report)` when intact, else the first
    /// broken link (administrators and the audit zone).
    pub fn audit_verify(&self, principal: &Principal) -> Result<Result<ChainReport, ChainBreak>> {
        if !principal.admin {
            principal.require(Zone::Audit, "verify the audit trail")?;
        }
        Ok(chain::verify(self.store())?)
    }
}
