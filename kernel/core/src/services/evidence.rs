//! The evidence of an ISMS (issue 17.3): files its users give the metrics
//! (a backup tool's export, an inventory), kept in the store's info
//! repository with their hash, size and who gave them when. A metric reads
//! the ISMS's own evidence first and the server's `--evidence` folder after.
//!
//! - `evidence/{isms}/{name}`: the [`EvidenceFile`] record (listed without
//!   the contents);
//! - `evidence-data/{isms}/{name}`: the contents, base64 in the JSON value.

use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::Principal;
use mmsm_model::Zone;
use mmsm_store::{chain::hex, Batch, Repo, Store};

use super::host::Evidence;
use super::{audit_detail, Kernel, Result, ServiceError};

/// The largest evidence file, in bytes (5 MiB): exports and inventories,
/// not backups themselves.
pub const MAX_EVIDENCE_BYTES: usize = 5 * 1024 * 1024;

/// An evidence file of an ISMS, without its contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceFile {
    /// Its name, e.g. `backups.csv`: what a metric reads.
    pub name: String,
    /// The sha256 of its contents, hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: usize,
    /// Who gave it.
    pub uploaded_by: String,
    /// When (seconds since the Unix epoch).
    pub at: u64,
}

fn meta_key(isms: &str, name: &str) -> String {
    format!("evidence/{isms}/{name}")
}

fn data_key(isms: &str, name: &str) -> String {
    format!("evidence-data/{isms}/{name}")
}

/// Refuses a name a metric could not ask for: letters, digits, `.`, `_`,
/// `-`, not starting with a dot, at most 120 characters.
fn check_name(name: &str) -> Result<()> {
    let fine = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !fine {
        return Err(ServiceError::Refused(format!(
            "`{name}` is not a valid evidence name: use letters, digits, `.`, `_` or `-` (e.g. backups.csv), not starting with a dot"
        )));
    }
    mmsm_model::check_length("the evidence name", name, mmsm_model::MAX_NAME)
        .map_err(ServiceError::Refused)
}

/// Puts evidence file `name` of ISMS `isms` into `batch` with its hash, and
/// its audit entry: checks the name and the size first.
pub(crate) fn put_evidence(
    batch: &mut Batch,
    principal: &Principal,
    isms: &str,
    name: &str,
    contents: &[u8],
    at: u64,
) -> Result<EvidenceFile> {
    check_name(name)?;
    if contents.len() > MAX_EVIDENCE_BYTES {
        return Err(ServiceError::Refused(format!(
            "`{name}` has {:.1} MB; an evidence file has at most {} MB (export a shorter period)",
            contents.len() as f64 / 1_048_576.0,
            MAX_EVIDENCE_BYTES / 1_048_576
        )));
    }
    let file = EvidenceFile {
        name: name.to_owned(),
        sha256: hex(&Sha256::digest(contents)),
        size: contents.len(),
        uploaded_by: principal.user.clone(),
        at,
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(contents);
    batch.put(Repo::Info, meta_key(isms, name), &file);
    batch.put(Repo::Info, data_key(isms, name), &encoded);
    audit_detail(
        batch,
        principal,
        "isms.evidence.add",
        vec![isms.to_owned(), name.to_owned()],
        Some(serde_json::json!({ "sha256": file.sha256, "size": file.size })),
    );
    Ok(file)
}

impl Kernel {
    /// Adds (or replaces) evidence file `name` of ISMS `isms`: a user of the
    /// ISMS with a maintenance role, or the consultancy running it. In the
    /// audit trail with its hash and size.
    pub fn add_evidence(
        &self,
        principal: &Principal,
        isms: &str,
        name: &str,
        contents: &[u8],
    ) -> Result<EvidenceFile> {
        let action = "add evidence to an ISMS";
        principal
            .require(Zone::Maintenance, action)
            .or_else(|_| principal.require(Zone::Generation, action))?;
        let at = self.now();
        self.store().write(|_, batch| {
            let record = self.maintained(principal, isms, action)?;
            record.ensure_open()?;
            put_evidence(batch, principal, record.id.as_str(), name, contents, at)
        })
    }

    /// The evidence files of ISMS `isms`, by name.
    pub fn list_evidence(&self, principal: &Principal, isms: &str) -> Result<Vec<EvidenceFile>> {
        let record = self.isms(principal, isms)?;
        Ok(self
            .store()
            .scan::<EvidenceFile>(Repo::Info, &meta_key(record.id.as_str(), ""))?
            .into_iter()
            .map(|(_, f)| f)
            .collect())
    }

    /// The evidence of ISMS `isms` as the metrics read it.
    pub(crate) fn evidence_of(&self, isms: &str) -> Arc<dyn Evidence> {
        Arc::new(StoredEvidence {
            store: self.store().clone(),
            isms: isms.to_owned(),
        })
    }
}

/// The evidence of one ISMS, read from the store when a metric asks.
struct StoredEvidence {
    store: Store,
    isms: String,
}

impl Evidence for StoredEvidence {
    fn read(&self, name: &str) -> std::result::Result<Option<Vec<u8>>, String> {
        let Some(encoded) = self
            .store
            .get::<String>(Repo::Info, &data_key(&self.isms, name))
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map(Some)
            .map_err(|e| format!("the stored evidence {name} is damaged: {e}"))
    }

    fn names(&self) -> std::result::Result<Vec<String>, String> {
        let prefix = meta_key(&self.isms, "");
        Ok(self
            .store
            .keys(Repo::Info, &prefix)
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixture::msgs_kernel;

    #[test]
    fn evidence_is_kept_with_its_hash_and_read_back_as_given() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil", "Otro"]);
        let local = Principal::local_operator();
        let csv = b"finished,status\n2027-01-01 03:00,verified\n";
        let file = k.add_evidence(&local, &ids[0], "backups.csv", csv).unwrap();
        assert_eq!(file.size, csv.len());
        assert_eq!(file.sha256, hex(&Sha256::digest(csv)));
        assert_eq!(k.list_evidence(&local, &ids[0]).unwrap(), [file]);
        let evidence = k.evidence_of(&ids[0]);
        assert_eq!(evidence.read("backups.csv").unwrap().unwrap(), csv);
        assert_eq!(evidence.names().unwrap(), ["backups.csv"]);
        // Another ISMS does not see it.
        assert!(k
            .evidence_of(&ids[1])
            .read("backups.csv")
            .unwrap()
            .is_none());
        let trail = k.audit_log(&local, None).unwrap();
        assert!(trail.iter().any(|e| e.action == "isms.evidence.add"));
    }

    #[test]
    fn bad_names_big_files_and_readers_are_refused() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let local = Principal::local_operator();
        for name in ["../x", ".hidden", "a/b.csv", ""] {
            match k.add_evidence(&local, &ids[0], name, b"x") {
                Err(ServiceError::Refused(m)) => {
                    assert!(m.contains("not a valid evidence name"), "{m}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        let big = vec![b'x'; MAX_EVIDENCE_BYTES + 1];
        match k.add_evidence(&local, &ids[0], "big.csv", &big) {
            Err(ServiceError::Refused(m)) => assert!(m.contains("at most 5 MB"), "{m}"),
            other => panic!("{other:?}"),
        }
        let auditor = Principal::new("aus", ["AuS"]);
        assert!(matches!(
            k.add_evidence(&auditor, &ids[0], "x.csv", b"x"),
            Err(ServiceError::Forbidden(_))
        ));
        assert!(k.list_evidence(&local, &ids[0]).unwrap().is_empty());
    }
}
