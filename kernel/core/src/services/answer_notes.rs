//! Why a checklist answer is what it is (issue 17.8): a note, the evidence
//! files that back it, and, for a question answered not applicable, the
//! justification the SoA gives for the exclusion. Kept beside the answers
//! (the engine knows nothing of them) at `answer-note/{isms}/{subcontrol}`
//! in the info repository.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::access::Principal;
use mmsm_model::{SubControlId, Zone};
use mmsm_store::Repo;

use super::{audit_detail, Kernel, Result, ServiceError};

/// The reasons given with one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerNote {
    /// What the consultant or the officer noted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why the question does not apply (for an answer `na`): the SoA's
    /// justification of an exclusion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Names of the ISMS's evidence files that back the answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Who wrote it.
    pub by: String,
    /// When (seconds since the Unix epoch).
    pub at: u64,
}

/// What an answer's reasons are to become (empty fields clear them).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AnswerWhy {
    /// The note.
    #[serde(default)]
    pub note: Option<String>,
    /// The justification of a `na` answer.
    #[serde(default)]
    pub justification: Option<String>,
    /// Evidence file names of the ISMS.
    #[serde(default)]
    pub evidence: Vec<String>,
}

fn note_key(isms: &str, subcontrol: &str) -> String {
    format!("answer-note/{isms}/{subcontrol}")
}

/// Puts the justification of a `na` answer decided by the business checklist.
pub(crate) fn put_justification(
    batch: &mut mmsm_store::Batch,
    isms: &str,
    subcontrol: &str,
    justification: &str,
    by: &str,
    at: u64,
) {
    let note = AnswerNote {
        note: None,
        justification: Some(justification.to_owned()),
        evidence: Vec::new(),
        by: by.to_owned(),
        at,
    };
    batch.put(Repo::Info, note_key(isms, subcontrol), &note);
}

/// Removes the reasons of an answer (a justification the business checklist gave
/// and no longer gives).
pub(crate) fn delete_note(batch: &mut mmsm_store::Batch, isms: &str, subcontrol: &str) {
    batch.delete(Repo::Info, note_key(isms, subcontrol));
}

fn text(field: &str, value: Option<String>) -> Result<Option<String>> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(v) = &value {
        mmsm_model::check_length(field, v, mmsm_model::MAX_TEXT).map_err(ServiceError::Refused)?;
    }
    Ok(value)
}

impl Kernel {
    /// Sets the reasons of the answer to `subcontrol` of ISMS `isms`; all
    /// empty removes them. Evidence names must be files of the ISMS.
    pub fn set_answer_why(
        &self,
        principal: &Principal,
        isms: &str,
        subcontrol: &str,
        why: AnswerWhy,
    ) -> Result<Option<AnswerNote>> {
        let action = "give the reasons of an answer";
        principal
            .require(Zone::Maintenance, action)
            .or_else(|_| principal.require(Zone::Generation, action))?;
        let note = text("the note", why.note)?;
        let justification = text("the justification", why.justification)?;
        let mut evidence: Vec<String> = why
            .evidence
            .into_iter()
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty())
            .collect();
        evidence.sort();
        evidence.dedup();
        let now = self.now();
        self.store().write(|store, batch| {
            let record = self.maintained(principal, isms, action)?;
            record.ensure_open()?;
            let id = record.id.as_str();
            let schema = self.isms_schema(&record)?;
            if !schema.subcontrols().any(|(_, s)| s.id.as_str() == subcontrol) {
                return Err(ServiceError::NotFound {
                    kind: "question",
                    id: subcontrol.to_owned(),
                    hint: format!(" in the schema of ISMS {id}"),
                });
            }
            let files = self.evidence_of(id).names().map_err(ServiceError::Refused)?;
            if let Some(missing) = evidence.iter().find(|e| !files.contains(e)) {
                return Err(ServiceError::Refused(format!(
                    "`{missing}` is not an evidence file of ISMS {id}: upload it first (the Metrics page, `mmsm isms evidence add {id} FILE`); its files are {}",
                    if files.is_empty() { "none yet".to_owned() } else { files.join(", ") }
                )));
            }
            let key = note_key(id, subcontrol);
            let kept = (note.is_some() || justification.is_some() || !evidence.is_empty()).then(|| {
                AnswerNote {
                    note: note.clone(),
                    justification: justification.clone(),
                    evidence: evidence.clone(),
                    by: principal.user.clone(),
                    at: now,
                }
            });
            match &kept {
                Some(n) => batch.put(Repo::Info, key, n),
                None => {
                    if store.get::<AnswerNote>(Repo::Info, &key)?.is_none() {
                        return Ok(None);
                    }
                    batch.delete(Repo::Info, key);
                }
            }
            audit_detail(
                batch,
                principal,
                "isms.answer.why",
                vec![id.to_owned(), subcontrol.to_owned()],
                kept.as_ref().map(|n| serde_json::json!({ "evidence": n.evidence })),
            );
            Ok(kept)
        })
    }

    /// The reasons given with the answers of ISMS `isms`, by subcontrol.
    pub fn answer_notes(
        &self,
        principal: &Principal,
        isms: &str,
    ) -> Result<BTreeMap<SubControlId, AnswerNote>> {
        let record = self.isms(principal, isms)?;
        let prefix = note_key(record.id.as_str(), "");
        Ok(self
            .store()
            .scan::<AnswerNote>(Repo::Info, &prefix)?
            .into_iter()
            .filter_map(|(key, note)| {
                key.strip_prefix(&prefix)
                    .map(|s| (SubControlId::new(s.to_owned()), note))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixture::msgs_kernel;
    use mmsm_store::Store;

    #[test]
    fn an_answer_keeps_its_note_justification_and_evidence_and_refuses_unknown_files() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let (local, isms) = (Principal::local_operator(), &ids[0]);
        let why = |evidence: &[&str]| AnswerWhy {
            note: Some("  backups run nightly  ".into()),
            justification: Some("no server of our own".into()),
            evidence: evidence.iter().map(|e| e.to_string()).collect(),
        };
        match k.set_answer_why(&local, isms, "8.13.1", why(&["backups.csv"])) {
            Err(ServiceError::Refused(m)) => assert!(m.contains("upload it first"), "{m}"),
            other => panic!("{other:?}"),
        }
        k.add_evidence(&local, isms, "backups.csv", b"finished,status\n")
            .unwrap();
        let kept = k
            .set_answer_why(&local, isms, "8.13.1", why(&["backups.csv"]))
            .unwrap()
            .unwrap();
        assert_eq!(kept.note.as_deref(), Some("backups run nightly"));
        let notes = k.answer_notes(&local, isms).unwrap();
        assert_eq!(notes[&SubControlId::new("8.13.1")], kept);
        assert!(matches!(
            k.set_answer_why(&local, isms, "99.9.9", why(&[])),
            Err(ServiceError::NotFound { .. })
        ));
        let auditor = Principal::new("aus", ["AuS"]);
        assert!(matches!(
            k.set_answer_why(&auditor, isms, "8.13.1", why(&[])),
            Err(ServiceError::Forbidden(_))
        ));
        // All empty: the reasons are gone.
        assert!(k
            .set_answer_why(&local, isms, "8.13.1", AnswerWhy::default())
            .unwrap()
            .is_none());
        assert!(k.answer_notes(&local, isms).unwrap().is_empty());
    }
}
