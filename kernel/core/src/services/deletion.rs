//! Archiving and deleting an enterprise's ISMS (issue 17.2). An archived
//! ISMS is read only: every change is refused with who archived it and how
//! to take it out, and what reads would otherwise write (expired metric
//! values, expired certificates) is left as it was archived.
//!
//! Deleting is an administrator's act,
//! confirmed by typing the ISMS's id. Everything kept under its id goes in
//! one batch (the record, its answers, procedures, suggestions, plan
//! follow-up, certificates, events, history, metric values, evidence, the
//! reasons of its answers), with the enterprise accounts bound to it and the
//! consultants' assignments to it, so that nothing is left for a later ISMS
//! of the same id to inherit. The audit trail keeps every act, this one too.

use crate::access::Principal;
use mmsm_store::{Repo, Store};

use super::account_admin::drop_account;
use super::gsgs::Archived;
use super::{audit, Account, IsmsRecord, Kernel, Result, ServiceError};

/// What is kept under an ISMS's id, as `{prefix}/{id}/...` in either repository.
const PER_ISMS: [&str; 19] = [
    "isms-answers",
    "proc",
    "suggestion",
    "plan",
    "cert",
    "attempt",
    "event",
    "board",
    "history",
    "metric",
    "metric-failure",
    "metric-quiet",
    "evidence",
    "evidence-data",
    "answer-note",
    "level-cert",
    "finding",
    "audit-done",
    "doc",
];

/// What a deletion took with it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Deleted {
    /// The ISMS.
    pub isms: String,
    /// The enterprise's name.
    pub name: String,
    /// How many stored entries went.
    pub entries: usize,
    /// The enterprise accounts removed with it.
    pub accounts: Vec<String>,
}

impl Kernel {
    /// Archives ISMS `id` (read only from now on) or takes it out of the
    /// archive. Administrators only; in the audit trail.
    pub fn set_archived(
        &self,
        principal: &Principal,
        id: &str,
        archived: bool,
    ) -> Result<IsmsRecord> {
        let verb = if archived { "archive" } else { "unarchive" };
        principal.require_admin(&format!("{verb} an enterprise's ISMS"))?;
        let now = self.now();
        self.store().write(|_, batch| {
            let mut record = self.isms(principal, id)?;
            if record.archived.is_some() == archived {
                return Err(ServiceError::Refused(format!(
                    "{} ({}) is {} archived",
                    record.enterprise.name,
                    record.id,
                    if archived { "already" } else { "not" }
                )));
            }
            record.archived = archived.then(|| Archived {
                at: now,
                by: principal.user.clone(),
            });
            super::listing::put_isms(batch, &mut record, now);
            audit(
                batch,
                principal,
                &format!("isms.{verb}"),
                vec![record.id.to_string()],
            );
            Ok(record)
        })
    }

    /// Deletes ISMS `id` and everything kept under it; `confirm` must repeat
    /// the id. Administrators only.
    pub fn delete_isms(&self, principal: &Principal, id: &str, confirm: &str) -> Result<Deleted> {
        principal.require_admin("delete an enterprise's ISMS")?;
        let record = self.isms(principal, id)?;
        if confirm.trim() != record.id.as_str() {
            return Err(ServiceError::Refused(format!(
                "deleting {} ({}) takes its answers, procedures, history, metrics, evidence and enterprise accounts with it, for good: confirm by typing its id `{}`",
                record.enterprise.name, record.id, record.id
            )));
        }
        let id = record.id.to_string();
        self.store().write(|store, batch| {
            let mut entries = 0;
            for key in [
                super::stored::head_key(&id),
                format!("summary/{id}"),
                format!("approval/{id}"),
                format!("doc-fields/{id}"),
            ] {
                if store.get::<serde_json::Value>(Repo::Isms, &key)?.is_some() {
                    batch.delete(Repo::Isms, key);
                    entries += 1;
                }
            }
            for repo in [Repo::Isms, Repo::Info] {
                for prefix in PER_ISMS {
                    for key in store.keys(repo, &format!("{prefix}/{id}/"))? {
                        batch.delete(repo, key);
                        entries += 1;
                    }
                }
            }
            let assigned = format!("/{id}");
            for key in store.keys(Repo::Isms, "assign/")? {
                if key.ends_with(&assigned) {
                    batch.delete(Repo::Isms, key);
                    entries += 1;
                }
            }
            let accounts = bound_accounts(store, &id)?;
            for name in &accounts {
                drop_account(store, batch, name)?;
            }
            let mut ids = vec![id.clone()];
            ids.extend(accounts.iter().map(|a| format!("account/{a}")));
            audit(batch, principal, "isms.delete", ids);
            Ok(Deleted {
                isms: id.clone(),
                name: record.enterprise.name.clone(),
                entries,
                accounts,
            })
        })
    }
}

/// The enterprise accounts bound to ISMS `id`.
fn bound_accounts(store: &Store, id: &str) -> Result<Vec<String>> {
    Ok(store
        .scan::<Account>(Repo::Isms, "account/")?
        .into_iter()
        .filter(|(_, a)| a.isms.as_deref() == Some(id))
        .map(|(_, a)| a.name)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archived_isms_refuses_every_change_reads_as_it_was_and_comes_back() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let (local, id) = (Principal::local_operator(), &ids[0]);
        let answer = |k: &Kernel| {
            k.update_isms(
                &local,
                id,
                mmsm_engine::Change::Answer {
                    subcontrol: mmsm_model::SubControlId::new("8.13.1"),
                    answer: Some(mmsm_model::Answer::Yes),
                },
                "answer",
            )
        };
        assert!(matches!(
            k.set_archived(&Principal::new("cos", ["CoS"]), id, true),
            Err(ServiceError::Forbidden(_))
        ));
        let archived = k.set_archived(&local, id, true).unwrap();
        assert_eq!(archived.archived.as_ref().unwrap().by, "local");
        let board = k.isms(&local, id).unwrap().board;
        for refused in [
            answer(&k).map(|_| ()),
            k.add_evidence(&local, id, "x.csv", b"x").map(|_| ()),
            k.set_answer_why(
                &local,
                id,
                "8.13.1",
                AnswerWhy {
                    note: Some("n".into()),
                    ..AnswerWhy::default()
                },
            )
            .map(|_| ()),
            k.remove_user(&local, id, "luis").map(|_| ()),
            k.set_plan(&local, id, 1, &[crate::services::msgs::PlanSet::Done])
                .map(|_| ()),
        ] {
            match refused {
                Err(ServiceError::Refused(m)) => {
                    assert!(m.contains("is archived, read only"), "{m}")
                }
                other => panic!("{other:?}"),
            }
        }
        // Reads still answer, and write nothing.
        k.culture_status(&local, id).unwrap();
        k.list_metrics(&local, id, None, std::time::SystemTime::now())
            .unwrap();
        assert_eq!(k.isms(&local, id).unwrap().board, board);
        k.set_archived(&local, id, false).unwrap();
        answer(&k).unwrap();
        let trail = k.audit_log(&local, None).unwrap();
        assert!(trail.iter().any(|e| e.action == "isms.archive"));
        assert!(trail.iter().any(|e| e.action == "isms.unarchive"));
    }

    use crate::services::fixture::msgs_kernel;
    use crate::services::{AnswerWhy, NewAccount};

    #[test]
    fn a_deleted_isms_leaves_no_key_under_its_id_and_takes_its_accounts() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil", "Otro Taller"]);
        let (local, gone, kept) = (Principal::local_operator(), &ids[0], &ids[1]);
        // Daily use leaves data under the id in both repositories.
        k.add_evidence(&local, gone, "backups.csv", b"finished,status\n")
            .unwrap();
        k.set_answer_why(
            &local,
            gone,
            "8.13.1",
            AnswerWhy {
                note: Some("nightly".into()),
                ..AnswerWhy::default()
            },
        )
        .unwrap();
        k.update_isms(
            &local,
            gone,
            mmsm_engine::Change::Answer {
                subcontrol: mmsm_model::SubControlId::new("8.13.1"),
                answer: Some(mmsm_model::Answer::Yes),
            },
            "answer",
        )
        .unwrap();
        k.add_user(
            &local,
            gone,
            mmsm_model::User {
                id: mmsm_model::UserId::new("marta"),
                name: "Marta".into(),
                roles: vec![mmsm_model::RoleId::new("Int")],
                department: None,
                email: None,
            },
        )
        .unwrap();
        k.approve_isms(&k.principal_for(gone, "marta").unwrap(), gone, None)
            .unwrap();
        k.create_account(
            &local,
            NewAccount {
                name: "eva".into(),
                roles: vec!["Cl/US".into()],
                admin: false,
                isms: Some(gone.clone()),
                password: "correct horse".into(),
                permanent: true,
            },
        )
        .unwrap();
        let under = |id: &str| -> Vec<String> {
            [Repo::Isms, Repo::Info]
                .into_iter()
                .flat_map(|repo| k.store().keys(repo, "").unwrap())
                .filter(|key| {
                    !key.starts_with("audit/")
                        && (key.contains(&format!("/{id}/")) || key.ends_with(&format!("/{id}")))
                })
                .collect()
        };
        assert!(under(gone).len() > 5, "{:?}", under(gone));
        let kept_before = under(kept);

        match k.delete_isms(&local, gone, "taller") {
            Err(ServiceError::Refused(m)) => assert!(m.contains("confirm by typing its id"), "{m}"),
            other => panic!("{other:?}"),
        }
        let deleted = k.delete_isms(&local, gone, gone).unwrap();
        assert_eq!(deleted.accounts, ["eva"]);
        assert!(under(gone).is_empty(), "{:?}", under(gone));
        assert!(k.account_principal("eva").unwrap().is_none());
        assert_eq!(under(kept), kept_before, "the other enterprise keeps all");
        assert!(matches!(
            k.isms(&local, gone),
            Err(ServiceError::NotFound { .. })
        ));
        let trail = k.audit_log(&local, None).unwrap();
        assert!(trail.iter().any(|e| e.action == "isms.delete"));
        assert!(matches!(
            k.delete_isms(&Principal::new("cos", ["CoS"]), kept, kept),
            Err(ServiceError::Forbidden(_))
        ));
    }
}
