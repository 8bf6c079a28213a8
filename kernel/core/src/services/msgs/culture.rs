//! Security culture (A3.1, DESIGN.md 6.3): the test, the certificates and the
//! culture share that feeds the board's awareness subcontrols.
//!
//! A user's test draws `per_regulation` questions for each regulation in
//! force that the user's roles require (`role_regulation`); it passes with a
//! total score >= `pass_mark` and each regulation's score >= `regulation_min`.
//! A pass issues a certificate for `valid_days`. Its status is computed when
//! read: revoked (explicitly when a role change brought new regulations, or
//! because a required regulation changed or is not covered), expired,
//! expiring (the last 30 days) or valid. At most three attempts in 7 days.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::access::Principal;
use mmsm_engine::{Change, Delta};
use mmsm_model::{CultureQuestionId, IsmsId, RegulationId, RoleId, Schema, SubControlId, UserId};
use mmsm_store::{Batch, Repo, Store};

use super::{Because, Event, IsmsRecord, Kernel, Result, ServiceError, SplitMix};

/// Days before expiry during which a certificate is `expiring`.
pub const EXPIRING_DAYS: u64 = 30;
/// Attempts allowed in [`ATTEMPT_WINDOW_DAYS`].
pub const MAX_ATTEMPTS: usize = 3;
/// The window of the attempts limit, in days.
pub const ATTEMPT_WINDOW_DAYS: u64 = 7;
const DAY: u64 = 86_400;

/// The procedure whose first control receives the culture share when the
/// schema has no culture metric entry.
pub const AWARENESS_PROCEDURE: &str = "awareness-certification";

/// A security-culture certificate (stored at `cert/{isms}/{user}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// The user.
    pub user: UserId,
    /// When it was issued (seconds since the Unix epoch).
    pub issued_at: u64,
    /// When it stops being valid.
    pub expires_at: u64,
    /// The total score, 0..1.
    pub score: f64,
    /// The score per regulation, 0..1.
    pub per_regulation: BTreeMap<RegulationId, f64>,
    /// The regulations it covers, each with the fingerprint of the text tested.
    pub regulations: BTreeMap<RegulationId, String>,
    /// Set when a change of the user's roles revoked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
}

/// Why and when a certificate was revoked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revocation {
    /// When.
    pub at: u64,
    /// Why, in words.
    pub reason: String,
}

/// The status of a user's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertStatus {
    /// Valid for more than 30 days.
    Valid,
    /// Valid, in its last 30 days.
    Expiring,
    /// Past its validity.
    Expired,
    /// No longer valid: its regulations changed or the roles need more.
    Revoked,
    /// Never certified.
    None,
    /// The user's roles require no regulation in force: nothing to certify.
    #[serde(rename = "not-required")]
    NotRequired,
}

impl CertStatus {
    /// Whether the certificate lets its user execute procedures (A3.2 requires A3.1).
    pub fn is_valid(self) -> bool {
        matches!(self, CertStatus::Valid | CertStatus::Expiring)
    }

    /// The word shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            CertStatus::Valid => "valid",
            CertStatus::Expiring => "expiring",
            CertStatus::Expired => "expired",
            CertStatus::Revoked => "revoked",
            CertStatus::None => "none",
            CertStatus::NotRequired => "not-required",
        }
    }
}

/// A question as drawn for a test: without its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawnQuestion {
    /// The question id (the key of an answers file).
    pub id: CultureQuestionId,
    /// The regulation it tests.
    pub regulation: RegulationId,
    /// The question.
    pub text: String,
    /// The options, answered by index from 0.
    pub options: Vec<String>,
}

/// A test drawn for a user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CultureTest {
    /// The ISMS.
    pub isms: IsmsId,
    /// The user.
    pub user: UserId,
    /// The seed of the draw: the same seed draws the same questions.
    pub seed: u64,
    /// The regulations tested.
    pub regulations: Vec<RegulationId>,
    /// The questions, regulation by regulation.
    pub questions: Vec<DrawnQuestion>,
    /// Attempts left in the current 7-day window, this one included.
    pub attempts_left: usize,
}

/// The score of one regulation in a test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegulationScore {
    /// Right answers.
    pub right: usize,
    /// Questions drawn.
    pub drawn: usize,
    /// right / drawn.
    pub score: f64,
    /// Whether it reaches `regulation_min`.
    pub passed: bool,
}

/// The result of a test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CultureResult {
    /// The user.
    pub user: UserId,
    /// Whether it passed.
    pub passed: bool,
    /// The total score, 0..1.
    pub score: f64,
    /// The pass mark, 0..1.
    pub pass_mark: f64,
    /// The least score each regulation needs, 0..1: the test passes when
    /// both rules hold, and a result shows both (issue 16).
    pub regulation_min: f64,
    /// Per regulation.
    pub per_regulation: BTreeMap<RegulationId, RegulationScore>,
    /// The questions answered wrongly (or not at all).
    pub wrong: Vec<CultureQuestionId>,
    /// The certificate issued on a pass.
    pub certificate: Option<Certificate>,
    /// Attempts left in the 7-day window.
    pub attempts_left: usize,
    /// The board figures that moved (the culture share).
    pub board: Vec<Delta>,
}

/// One line of `culture status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CultureStatusRow {
    /// The user.
    pub user: UserId,
    /// Their name.
    pub name: String,
    /// Their roles.
    pub roles: Vec<RoleId>,
    /// The certificate's status.
    pub status: CertStatus,
    /// When the certificate expires (or expired).
    pub expires_at: Option<u64>,
    /// The regulations the roles require.
    pub regulations: Vec<RegulationId>,
    /// What the user still needs to do, in words.
    pub needs: String,
}

/// `culture status`: every user, and the share that feeds the board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CultureStatus {
    /// The ISMS.
    pub isms: IsmsId,
    /// One row per user.
    pub users: Vec<CultureStatusRow>,
    /// Users with a valid (or expiring) certificate among those who need one, 0..1.
    pub share: Option<f64>,
    /// The subcontrols the share is measured on.
    pub subcontrols: Vec<SubControlId>,
    /// The board figures that moved because certificates expired since the last change.
    pub board: Vec<Delta>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attempt {
    at: u64,
    passed: bool,
    score: f64,
    /// The questions it drew: the next test draws others first.
    #[serde(default)]
    questions: Vec<CultureQuestionId>,
}

pub(crate) fn cert_key(isms: &IsmsId, user: &str) -> String {
    format!("cert/{isms}/{user}")
}

fn attempt_prefix(isms: &IsmsId, user: &str) -> String {
    format!("attempt/{isms}/{user}/")
}

/// A stable fingerprint of a regulation's text (FNV-1a over its JSON): a
/// changed rule gives a new fingerprint, which revokes the certificates that
/// tested the old text.
pub fn regulation_fingerprint(schema: &Schema, regulation: &RegulationId) -> String {
    let text = schema
        .regulations
        .iter()
        .find(|r| &r.id == regulation)
        .and_then(|r| serde_json::to_string(r).ok())
        .unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The regulations in force in the ISMS that `roles` require, with their fingerprints.
pub fn required_regulations(
    schema: &Schema,
    record: &IsmsRecord,
    roles: &[RoleId],
) -> BTreeMap<RegulationId, String> {
    let in_force: BTreeSet<&RegulationId> = record.instantiated.regulations.iter().collect();
    let check_force = !schema.matrices.regulation_control.is_empty();
    schema
        .matrices
        .role_regulation
        .iter()
        .filter(|row| roles.contains(&row.role))
        .filter(|row| !check_force || in_force.contains(&row.regulation))
        .map(|row| {
            (
                row.regulation.clone(),
                regulation_fingerprint(schema, &row.regulation),
            )
        })
        .collect()
}

/// The status of a certificate for a user who needs `required`, at `now`, with the reason when revoked.
pub fn certificate_status(
    certificate: Option<&Certificate>,
    required: &BTreeMap<RegulationId, String>,
    now: u64,
) -> (CertStatus, Option<String>) {
    if required.is_empty() {
        return (CertStatus::NotRequired, None);
    }
    let Some(cert) = certificate else {
        return (CertStatus::None, None);
    };
    if let Some(revocation) = &cert.revoked {
        return (CertStatus::Revoked, Some(revocation.reason.clone()));
    }
    for (regulation, fingerprint) in required {
        match cert.regulations.get(regulation) {
            None => {
                return (
                    CertStatus::Revoked,
                    Some(format!("the roles now require regulation {regulation}, which the certificate does not cover")),
                )
            }
            Some(tested) if tested != fingerprint => {
                return (
                    CertStatus::Revoked,
                    Some(format!("regulation {regulation} has a new version since the test")),
                )
            }
            Some(_) => {}
        }
    }
    if now >= cert.expires_at {
        (CertStatus::Expired, None)
    } else if cert.expires_at - now <= EXPIRING_DAYS * DAY {
        (CertStatus::Expiring, None)
    } else {
        (CertStatus::Valid, None)
    }
}

/// The subcontrols the culture share is measured on: those of the schema's
/// culture metric entry (a `metrics` entry whose source or id names `culture`),
/// else those of the first control of the `awareness-certification` procedure.
pub fn awareness_subcontrols(schema: &Schema) -> Vec<SubControlId> {
    if let Some(metric) = schema
        .metrics
        .iter()
        .find(|m| m.source.contains("culture") || m.id.as_str().contains("culture"))
    {
        return metric.subcontrols.clone();
    }
    let Some(control) = schema
        .procedures
        .iter()
        .find(|p| p.id.as_str() == AWARENESS_PROCEDURE)
        .and_then(|p| p.controls.first())
    else {
        return Vec::new();
    };
    schema
        .controls
        .iter()
        .filter(|c| &c.id == control)
        .flat_map(|c| c.subcontrols.iter().map(|s| s.id.clone()))
        .collect()
}

fn fmt_date(seconds: u64) -> String {
    chrono::DateTime::from_timestamp(seconds as i64, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

impl Kernel {
    /// The certificates of an ISMS's users, by user.
    pub(crate) fn certificates(&self, isms: &IsmsId) -> Result<BTreeMap<UserId, Certificate>> {
        Ok(self
            .store()
            .scan::<Certificate>(Repo::Isms, &format!("cert/{isms}/"))?
            .into_iter()
            .map(|(_, c)| (c.user.clone(), c))
            .collect())
    }

    /// The status of one user's certificate, with the reason when revoked.
    pub fn certificate_of(
        &self,
        record: &IsmsRecord,
        schema: &Schema,
        user: &str,
    ) -> Result<(CertStatus, Option<String>)> {
        let roles = record
            .users
            .iter()
            .find(|u| u.id.as_str() == user)
            .map(|u| u.roles.clone())
            .unwrap_or_default();
        let required = required_regulations(schema, record, &roles);
        let cert: Option<Certificate> =
            self.store().get(Repo::Isms, &cert_key(&record.id, user))?;
        Ok(certificate_status(cert.as_ref(), &required, self.now()))
    }

    /// The culture share: users with a valid certificate among the users who need one.
    pub(crate) fn culture_share(
        &self,
        schema: &Schema,
        record: &IsmsRecord,
        certificates: &BTreeMap<UserId, Certificate>,
    ) -> (Option<f64>, usize, usize) {
        let now = self.now();
        let mut needing = 0;
        let mut certified = 0;
        for user in &record.users {
            let required = required_regulations(schema, record, &user.roles);
            let (status, _) = certificate_status(certificates.get(&user.id), &required, now);
            if status == CertStatus::NotRequired {
                continue;
            }
            needing += 1;
            if status.is_valid() {
                certified += 1;
            }
        }
        let share = (needing > 0).then(|| certified as f64 / needing as f64);
        (share, certified, needing)
    }

    /// Re-values the culture share on the board inside an open batch and
    /// stores `record` (always, so callers that changed it rely on this).
    /// `overriding` is a certificate written in this same batch.
    pub(crate) fn culture_refresh(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        record: &mut IsmsRecord,
        overriding: Option<(UserId, Certificate)>,
    ) -> Result<Vec<Delta>> {
        let schema = self.isms_schema(record)?;
        let mut certificates = self.certificates(&record.id)?;
        if let Some((user, cert)) = overriding {
            certificates.insert(user, cert);
        }
        let (share, certified, needing) = self.culture_share(&schema, record, &certificates);
        let changes = awareness_subcontrols(&schema)
            .into_iter()
            .map(|subcontrol| Change::Measured {
                subcontrol,
                value: share,
            })
            .collect();
        let note = match share {
            Some(_) => format!("culture: {certified} of {needing} users hold a valid certificate"),
            None => "culture: no user needs a certificate".to_owned(),
        };
        self.apply_changes(
            store,
            batch,
            principal,
            record,
            changes,
            &Because::new("certificate", vec!["culture".into()], note),
        )
    }

    fn may_test(&self, principal: &Principal, isms: &str, user: &str) -> Result<IsmsRecord> {
        let record = self.maintained(principal, isms, "take a culture test")?;
        // Nobody sits the test for someone else, not even the officer (issue
        // 16); the command line's local operator, who owns the store's folder,
        // records a test taken on paper.
        if principal.user == user || principal.is_local_operator() {
            return Ok(record);
        }
        Err(ServiceError::NotYours(format!(
            "`{}` may not draw or take the culture test of `{user}`: each user takes their own, so that the certificate says what that person knows",
            principal.user
        )))
    }

    fn attempts(&self, isms: &IsmsId, user: &str) -> Result<Vec<Attempt>> {
        Ok(self
            .store()
            .scan::<Attempt>(Repo::Info, &attempt_prefix(isms, user))?
            .into_iter()
            .map(|(_, a)| a)
            .collect())
    }

    /// The questions of the user's last test, which the next one avoids.
    fn last_drawn(&self, isms: &IsmsId, user: &str) -> Result<BTreeSet<CultureQuestionId>> {
        Ok(self
            .attempts(isms, user)?
            .into_iter()
            .max_by_key(|a| a.at)
            .map(|a| a.questions.into_iter().collect())
            .unwrap_or_default())
    }

    /// Attempts left in the window; refuses when none is left, saying when the next one is possible.
    fn attempts_left(&self, isms: &IsmsId, user: &str) -> Result<usize> {
        let now = self.now();
        let window_start = now.saturating_sub(ATTEMPT_WINDOW_DAYS * DAY);
        let recent: Vec<u64> = self
            .attempts(isms, user)?
            .into_iter()
            .map(|a| a.at)
            .filter(|at| *at > window_start)
            .collect();
        if recent.len() >= MAX_ATTEMPTS {
            let oldest = recent.iter().min().copied().unwrap_or(now);
            let next = oldest + ATTEMPT_WINDOW_DAYS * DAY;
            return Err(ServiceError::Refused(format!(
                "`{user}` has used the {MAX_ATTEMPTS} attempts allowed in {ATTEMPT_WINDOW_DAYS} days; the next attempt is possible from {}",
                chrono::DateTime::from_timestamp(next as i64, 0)
                    .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default()
            )));
        }
        Ok(MAX_ATTEMPTS - recent.len())
    }

    /// Draws a user's test: `per_regulation` questions per required regulation,
    /// deterministic for a seed. Refused when the attempts are used up.
    pub fn draw_culture_test(
        &self,
        principal: &Principal,
        isms: &str,
        user: &str,
        seed: u64,
    ) -> Result<CultureTest> {
        self.draw_culture_test_seeded(principal, isms, user, |_| seed)
    }

    /// [`Kernel::draw_culture_test`] with the seed made from the attempts
    /// left, so that each attempt can draw anew (the web derives it from the
    /// session, so no request can pick its questions).
    pub fn draw_culture_test_seeded(
        &self,
        principal: &Principal,
        isms: &str,
        user: &str,
        seed_of: impl FnOnce(usize) -> u64,
    ) -> Result<CultureTest> {
        let record = self.may_test(principal, isms, user)?;
        let schema = self.isms_schema(&record)?;
        let attempts_left = self.attempts_left(&record.id, user)?;
        let seed = seed_of(attempts_left);
        let seen = self.last_drawn(&record.id, user)?;
        let questions = draw(&schema, &record, user, seed, &seen)?;
        let regulations = questions
            .iter()
            .map(|q| q.regulation.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        Ok(CultureTest {
            isms: record.id.clone(),
            user: UserId::new(user),
            seed,
            regulations,
            questions,
            attempts_left,
        })
    }

    /// Scores a test drawn with `seed` against `answers` (question id -> option
    /// index; drawn questions missing from it count as wrong), records the
    /// attempt, issues a certificate on a pass, and re-values the culture share.
    pub fn take_culture_test(
        &self,
        principal: &Principal,
        isms: &str,
        user: &str,
        seed: u64,
        answers: &BTreeMap<String, usize>,
    ) -> Result<CultureResult> {
        self.store().write(|store, batch| {
            let mut record = self.may_test(principal, isms, user)?;
            record.ensure_open()?;
            let schema = self.isms_schema(&record)?;
            let attempts_left = self.attempts_left(&record.id, user)?;
            let culture = schema.culture.clone().unwrap_or_default();
            let unknown: Vec<&str> = answers
                .keys()
                .filter(|id| !culture.questions.iter().any(|q| q.id.as_str() == id.as_str()))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                return Err(ServiceError::Refused(format!(
                    "the answers name questions that are not in the culture bank of schema {}: {}; the keys are question ids such as `{}`",
                    record.schema.id,
                    unknown.join(", "),
                    culture.questions.first().map(|q| q.id.as_str()).unwrap_or("q1")
                )));
            }
            let seen = self.last_drawn(&record.id, user)?;
            let drawn = draw(&schema, &record, user, seed, &seen)?;
            let mut per_regulation: BTreeMap<RegulationId, (usize, usize)> = BTreeMap::new();
            let mut wrong = Vec::new();
            for question in &drawn {
                let right = culture
                    .questions
                    .iter()
                    .find(|q| q.id == question.id)
                    .is_some_and(|q| answers.get(question.id.as_str()) == Some(&q.answer));
                let entry = per_regulation.entry(question.regulation.clone()).or_default();
                entry.1 += 1;
                if right {
                    entry.0 += 1;
                } else {
                    wrong.push(question.id.clone());
                }
            }
            let total_right: usize = per_regulation.values().map(|(r, _)| r).sum();
            let score = total_right as f64 / drawn.len().max(1) as f64;
            let scores: BTreeMap<RegulationId, RegulationScore> = per_regulation
                .into_iter()
                .map(|(regulation, (right, drawn))| {
                    let score = right as f64 / drawn.max(1) as f64;
                    (
                        regulation,
                        RegulationScore {
                            right,
                            drawn,
                            score,
                            passed: score + 1e-9 >= culture.regulation_min,
                        },
                    )
                })
                .collect();
            let passed =
                score + 1e-9 >= culture.pass_mark && scores.values().all(|s| s.passed);
            let now = self.now();
            let attempt_key = super::fresh_key(
                store,
                batch,
                Repo::Info,
                &attempt_prefix(&record.id, user),
                self.now_nanos(),
            )?;
            let attempt = Attempt {
                at: now,
                passed,
                score,
                questions: drawn.iter().map(|q| q.id.clone()).collect(),
            };
            batch.put(Repo::Info, attempt_key, &attempt);
            let roles = record
                .users
                .iter()
                .find(|u| u.id.as_str() == user)
                .map(|u| u.roles.clone())
                .unwrap_or_default();
            let certificate = passed.then(|| Certificate {
                user: UserId::new(user),
                issued_at: now,
                expires_at: now + u64::from(culture.valid_days) * DAY,
                score,
                per_regulation: scores.iter().map(|(r, s)| (r.clone(), s.score)).collect(),
                regulations: required_regulations(&schema, &record, &roles),
                revoked: None,
            });
            if let Some(cert) = &certificate {
                batch.put(Repo::Isms, cert_key(&record.id, user), cert);
            }
            let board = match &certificate {
                Some(cert) => self.culture_refresh(
                    store,
                    batch,
                    principal,
                    &mut record,
                    Some((UserId::new(user), cert.clone())),
                )?,
                None => Vec::new(),
            };
            self.record_event(
                store,
                batch,
                &record.id,
                &Event {
                    at: now,
                    user: principal.user.clone(),
                    kind: if passed { "certificate.issued" } else { "culture.failed" }.into(),
                    ids: vec![user.to_owned()],
                    data: serde_json::json!({ "score": score, "seed": seed }),
                },
            )?;
            super::super::audit(batch, principal, "culture.test", vec![record.id.to_string(), user.to_owned()]);
            Ok(CultureResult {
                user: UserId::new(user),
                passed,
                score,
                pass_mark: culture.pass_mark,
                regulation_min: culture.regulation_min,
                per_regulation: scores,
                wrong,
                certificate,
                attempts_left: attempts_left - 1,
                board,
            })
        })
    }

    /// Every user's certificate and what each still needs; re-values the
    /// culture share first, since certificates expire with time alone.
    pub fn culture_status(&self, principal: &Principal, isms: &str) -> Result<CultureStatus> {
        let board = self.store().write(|store, batch| {
            let mut record = self.maintained(principal, isms, "read the culture status")?;
            if record.archived.is_some() {
                // Read only: the share stays as it was archived.
                return Ok(Vec::new());
            }
            let before = record.inputs.clone();
            // Time alone moved the share (certificates expire): the kernel
            // records it, not the reader, who may be an auditor who only reads.
            let deltas =
                self.culture_refresh(store, batch, &Principal::system(), &mut record, None)?;
            if deltas.is_empty() && before == record.inputs {
                batch.ops.clear();
            }
            Ok::<_, ServiceError>(deltas)
        })?;
        let record = self.maintained(principal, isms, "read the culture status")?;
        let schema = self.isms_schema(&record)?;
        let certificates = self.certificates(&record.id)?;
        let now = self.now();
        let users = record
            .users
            .iter()
            .map(|user| {
                let required = required_regulations(&schema, &record, &user.roles);
                let cert = certificates.get(&user.id);
                let (status, reason) = certificate_status(cert, &required, now);
                let expires = cert.map(|c| c.expires_at);
                let needs = match status {
                    CertStatus::Valid => "nothing".to_owned(),
                    CertStatus::NotRequired => {
                        "nothing: no regulation in force applies to the roles".to_owned()
                    }
                    CertStatus::Expiring => format!(
                        "renew before {} with `mmsm culture test {} {}`",
                        fmt_date(expires.unwrap_or(now)),
                        record.id,
                        user.id
                    ),
                    CertStatus::Expired => format!(
                        "expired on {}: take the test again with `mmsm culture test {} {}`",
                        fmt_date(expires.unwrap_or(now)),
                        record.id,
                        user.id
                    ),
                    CertStatus::Revoked => format!(
                        "revoked ({}): take the test again with `mmsm culture test {} {}`",
                        reason.unwrap_or_default(),
                        record.id,
                        user.id
                    ),
                    CertStatus::None => format!(
                        "take the test with `mmsm culture test {} {}`",
                        record.id, user.id
                    ),
                };
                CultureStatusRow {
                    user: user.id.clone(),
                    name: user.name.clone(),
                    roles: user.roles.clone(),
                    status,
                    expires_at: expires,
                    regulations: required.into_keys().collect(),
                    needs,
                }
            })
            .collect();
        let (share, _, _) = self.culture_share(&schema, &record, &certificates);
        Ok(CultureStatus {
            isms: record.id.clone(),
            users,
            share,
            subcontrols: awareness_subcontrols(&schema),
            board,
        })
    }
}

/// The questions of a user's test: per required regulation (in id order), the
/// bank's questions of that regulation shuffled by the seed, those the user's last
/// test did not ask first, `per_regulation` of them.
fn draw(
    schema: &Schema,
    record: &IsmsRecord,
    user: &str,
    seed: u64,
    seen: &BTreeSet<CultureQuestionId>,
) -> Result<Vec<DrawnQuestion>> {
    let Some(member) = record.users.iter().find(|u| u.id.as_str() == user) else {
        return Err(super::users::unknown_user(record, user));
    };
    let required = required_regulations(schema, record, &member.roles);
    if required.is_empty() {
        return Err(ServiceError::Refused(format!(
            "no regulation in force applies to the roles of `{user}` ({}): there is nothing to certify",
            member.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let culture = schema.culture.clone().unwrap_or_default();
    let mut rng = SplitMix::new(seed);
    let mut drawn = Vec::new();
    for regulation in required.keys() {
        let mut bank: Vec<_> = culture
            .questions
            .iter()
            .filter(|q| &q.regulation == regulation)
            .collect();
        rng.shuffle(&mut bank);
        // A retest draws the questions of the last test only when the bank has
        // too few others (a stable sort: the shuffle still orders each part).
        bank.sort_by_key(|q| seen.contains(&q.id));
        drawn.extend(
            bank.into_iter()
                .take(culture.per_regulation as usize)
                .map(|q| DrawnQuestion {
                    id: q.id.clone(),
                    regulation: q.regulation.clone(),
                    text: q.text.clone(),
                    options: q.options.clone(),
                }),
        );
    }
    if drawn.is_empty() {
        return Err(ServiceError::Refused(format!(
            "the culture bank of schema {} has no question for the regulations of `{user}` ({}); the architect must add some",
            record.schema.id,
            required.keys().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(drawn)
}
