//! Level certificates (issue 15.2): "certification by levels", the
//! enterprise's acknowledgement when it reaches a maturity level. An auditor
//! (AuS) issues one only when the board says the level is reached, recording
//! the figures and the date; it is *valid* while the level holds and its
//! validity runs (the schema's `certification.certificate_days`, default a
//! year), *suspended* when the level is lost or a major non-conformity on one
//! of its controls is open, *expired* after its validity. Kept at
//! `level-cert/{isms}/{level}` in the isms repository.

use serde::{Deserialize, Serialize};

use crate::access::Principal;
use mmsm_engine::Board;
use mmsm_model::{Schema, Zone};
use mmsm_store::Repo;

use super::findings::Finding;
use super::gsgs::IsmsRecord;
use super::{audit_detail, Kernel, Result, ServiceError};

/// How long a level certificate is valid, in days, when the schema does not say.
pub const CERTIFICATE_DAYS: u64 = 365;

/// A level certificate as issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelCertificate {
    /// The maturity level, 1..3.
    pub level: u8,
    /// The auditor who issued it.
    pub issued_by: String,
    /// When (seconds since the Unix epoch).
    pub issued_at: u64,
    /// Until when it is valid.
    pub expires_at: u64,
    /// The level's compliance when it was issued, 0..100.
    pub level_compliance: Option<f64>,
    /// The ISMS's compliance then, 0..100.
    pub compliance: Option<f64>,
    /// The schema version then.
    pub schema_version: u32,
}

/// A certificate with its state now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertificateView {
    /// The certificate.
    #[serde(flatten)]
    pub certificate: LevelCertificate,
    /// `valid`, `suspended` or `expired`.
    pub state: &'static str,
    /// Why, when not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn cert_key(isms: &str, level: u8) -> String {
    format!("level-cert/{isms}/{level}")
}

/// Why `level` is not reached on `board`, in words; `None` when it is.
fn not_reached(board: &Board, level: u8) -> Option<String> {
    let row = board.maturity.levels.iter().find(|l| l.level == level)?;
    if row.reached {
        return None;
    }
    let mut why = Vec::new();
    match row.compliance {
        Some(c) if c < row.threshold => why.push(format!(
            "its compliance is {c:.1} %, under the {:.0} % it needs",
            row.threshold
        )),
        None => why.push("it has no applicable question".into()),
        _ => {}
    }
    if row.mandatory_failing > 0 {
        why.push(format!(
            "{} essential question{} of it {} not met",
            row.mandatory_failing,
            if row.mandatory_failing == 1 { "" } else { "s" },
            if row.mandatory_failing == 1 {
                "is"
            } else {
                "are"
            }
        ));
    }
    if why.is_empty() {
        why.push(format!(
            "a lower level is not reached (the current level is {})",
            board.maturity.current
        ));
    }
    Some(format!("level {level} is not reached: {}", why.join("; ")))
}

/// Why an open major non-conformity blocks level `level`: one on a control
/// with a question of that level or below; `None` when there is none.
fn blocked(schema: &Schema, findings: &[Finding], level: u8) -> Option<String> {
    let blocking: Vec<String> = findings
        .iter()
        .filter(|f| f.holds_control())
        .filter(|f| {
            schema
                .controls
                .iter()
                .find(|c| c.id == f.control)
                .is_some_and(|c| c.subcontrols.iter().any(|s| s.level <= level))
        })
        .map(|f| format!("{} on control {}", f.label(), f.control))
        .collect();
    (!blocking.is_empty()).then(|| {
        format!(
            "an open major non-conformity touches level {level}: {}",
            blocking.join(", ")
        )
    })
}

impl Kernel {
    /// An auditor certifies that ISMS `isms` reached maturity `level`;
    /// refused, with the reason, when the board says it did not.
    pub fn certify_level(
        &self,
        principal: &Principal,
        isms: &str,
        level: u8,
    ) -> Result<CertificateView> {
        principal.require(Zone::Audit, "certify a maturity level")?;
        if !(1..=3).contains(&level) {
            return Err(ServiceError::Refused(format!(
                "`{level}` is not a maturity level: 1, 2 or 3"
            )));
        }
        let now = self.now();
        self.store().write(|_, batch| {
            let record = self.isms(principal, isms)?;
            record.ensure_open()?;
            let schema = self.isms_schema(&record)?;
            let findings = self.findings_of(&record)?;
            let why = not_reached(&record.board, level)
                .into_iter()
                .chain(blocked(&schema, &findings, level))
                .collect::<Vec<_>>();
            if !why.is_empty() {
                return Err(ServiceError::Refused(format!(
                    "{} cannot be certified: {}",
                    record.id,
                    why.join("; ")
                )));
            }
            let days = u64::from(schema.certification().certificate_days);
            let row = record
                .board
                .maturity
                .levels
                .iter()
                .find(|l| l.level == level);
            let certificate = LevelCertificate {
                level,
                issued_by: principal.user.clone(),
                issued_at: now,
                expires_at: now + days * 86_400,
                level_compliance: row.and_then(|r| r.compliance),
                compliance: record.board.compliance,
                schema_version: record.schema.version,
            };
            batch.put(
                Repo::Isms,
                cert_key(record.id.as_str(), level),
                &certificate,
            );
            audit_detail(
                batch,
                principal,
                "isms.certify",
                vec![record.id.to_string(), level.to_string()],
                Some(serde_json::json!({ "level_compliance": certificate.level_compliance })),
            );
            Ok(CertificateView {
                certificate,
                state: "valid",
                reason: None,
            })
        })
    }

    /// The level certificates of ISMS `isms` with their state now.
    pub fn level_certificates(
        &self,
        principal: &Principal,
        isms: &str,
    ) -> Result<Vec<CertificateView>> {
        let record = self.isms(principal, isms)?;
        self.certificates_of(&record)
    }

    /// The level certificates of `record`, already read, with their state now.
    pub fn certificates_of(&self, record: &IsmsRecord) -> Result<Vec<CertificateView>> {
        let now = self.now();
        let certificates = self
            .store()
            .scan::<LevelCertificate>(Repo::Isms, &format!("level-cert/{}/", record.id))?;
        if certificates.is_empty() {
            return Ok(Vec::new());
        }
        let schema = self.isms_schema(record)?;
        let findings = self.findings_of(record)?;
        Ok(certificates
            .into_iter()
            .map(|(_, certificate)| {
                let (state, reason) = if now >= certificate.expires_at {
                    (
                        "expired",
                        Some(format!(
                            "its validity ended on {}",
                            chrono::DateTime::from_timestamp(certificate.expires_at as i64, 0)
                                .map(|d| d.format("%Y-%m-%d").to_string())
                                .unwrap_or_default()
                        )),
                    )
                } else if let Some(why) = not_reached(&record.board, certificate.level)
                    .or_else(|| blocked(&schema, &findings, certificate.level))
                {
                    ("suspended", Some(why))
                } else {
                    ("valid", None)
                };
                CertificateView {
                    certificate,
                    state,
                    reason,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixture::msgs_kernel;
    use chrono::{Duration, Utc};
    use mmsm_engine::Change;
    use mmsm_model::{Answer, SubControlId};
    use mmsm_store::Store;

    fn answer(k: &Kernel, id: &str, subcontrol: &str, answer: Answer) {
        let local = Principal::local_operator();
        k.update_isms(
            &local,
            id,
            Change::Answer {
                subcontrol: SubControlId::new(subcontrol),
                answer: Some(answer),
            },
            "answer",
        )
        .unwrap();
    }

    #[test]
    fn a_level_is_certified_only_when_reached_and_is_suspended_when_lost_and_expires() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let id = &ids[0];
        let auditor = Principal::new("aus", ["AuS"]).as_admin();
        assert!(matches!(
            k.certify_level(&Principal::new("cos", ["CoS"]), id, 1),
            Err(ServiceError::Forbidden(_))
        ));
        // Every level-1 question of the fixture answered yes.
        let schema = k
            .isms_with_schema(&Principal::local_operator(), id)
            .unwrap()
            .1;
        let level_one: Vec<String> = schema
            .subcontrols()
            .filter(|(_, s)| s.level == 1)
            .map(|(_, s)| s.id.to_string())
            .collect();
        for s in &level_one {
            answer(&k, id, s, Answer::No);
        }
        match k.certify_level(&auditor, id, 1) {
            Err(ServiceError::Refused(m)) => assert!(m.contains("level 1 is not reached"), "{m}"),
            other => panic!("{other:?}"),
        }
        for s in &level_one {
            answer(&k, id, s, Answer::Yes);
        }
        let issued = k.certify_level(&auditor, id, 1).unwrap();
        assert_eq!(issued.state, "valid");
        assert_eq!(
            k.level_certificates(&auditor, id).unwrap()[0].state,
            "valid"
        );
        // The level lost: suspended, with the reason.
        answer(&k, id, &level_one[0], Answer::No);
        let now = k.level_certificates(&auditor, id).unwrap();
        assert_eq!(now[0].state, "suspended", "{now:?}");
        answer(&k, id, &level_one[0], Answer::Yes);
        assert_eq!(
            k.level_certificates(&auditor, id).unwrap()[0].state,
            "valid"
        );
        // A year on, expired.
        let later = Kernel::new(k.store().clone()).with_clock(Utc::now() + Duration::days(366));
        assert_eq!(
            later.level_certificates(&auditor, id).unwrap()[0].state,
            "expired"
        );
        let trail = k.audit_log(&Principal::local_operator(), None).unwrap();
        assert!(trail.iter().any(|e| e.action == "isms.certify"));
    }
}
