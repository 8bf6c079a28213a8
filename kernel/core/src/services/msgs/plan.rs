//! Plan follow-up (issue 7.5, DESIGN.md 4.4): each item of the improvement
//! plan gets an owner, a due date, and done/result. The state is keyed by
//! control and level (`plan/{isms}/{control}@{level}`), which stay stable
//! while ranks move with the board.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::Principal;
use mmsm_engine::PlanItem;
use mmsm_store::Repo;

use super::{Because, IsmsRecord, Kernel, Result, ServiceError};

/// The follow-up state of a plan item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanFollowUp {
    /// The user responsible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The planned date (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// When it was marked done (seconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<u64>,
    /// What was done, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

/// A plan item with its follow-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    /// The item as the engine ranks it.
    #[serde(flatten)]
    pub item: PlanItem,
    /// Its follow-up.
    #[serde(flatten)]
    pub follow_up: PlanFollowUp,
    /// Past its due date and not done.
    pub overdue: bool,
}

/// One setting of `isms plan ID --set RANK key=value`.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanSet {
    /// `owner=USER`.
    Owner(String),
    /// `due=YYYY-MM-DD`.
    Due(NaiveDate),
    /// `done`.
    Done,
    /// `undone`.
    Undone,
    /// `result=TEXT`.
    Result(String),
}

impl PlanSet {
    /// Parses `owner=luis`, `due=2027-03-01`, `done`, `undone`, `result=...`.
    pub fn parse(text: &str) -> std::result::Result<PlanSet, String> {
        let (key, value) = text.split_once('=').unwrap_or((text, ""));
        match (key.trim(), value.trim()) {
            ("done", "") => Ok(PlanSet::Done),
            ("undone", "") => Ok(PlanSet::Undone),
            ("owner", user) if !user.is_empty() => Ok(PlanSet::Owner(user.to_owned())),
            ("result", text) if !text.is_empty() => Ok(PlanSet::Result(text.to_owned())),
            ("due", date) => NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map(PlanSet::Due)
                .map_err(|_| format!("`{date}` is not a date; expected due=YYYY-MM-DD")),
            _ => Err(format!(
                "`{text}` is not a plan setting; expected owner=USER, due=YYYY-MM-DD, done, undone or result=TEXT"
            )),
        }
    }
}

fn is_past(due: Option<&str>, today: NaiveDate) -> bool {
    due.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .is_some_and(|d| d < today)
}

fn key(isms: &str, item: &PlanItem) -> String {
    format!("plan/{isms}/{}@{}", item.control, item.level)
}

impl Kernel {
    fn follow_ups(&self, isms: &str) -> Result<BTreeMap<String, PlanFollowUp>> {
        Ok(self
            .store()
            .scan::<PlanFollowUp>(Repo::Isms, &format!("plan/{isms}/"))?
            .into_iter()
            .collect())
    }

    /// The plan with its follow-up.
    pub fn plan_rows(&self, principal: &Principal, isms: &str) -> Result<Vec<PlanRow>> {
        let (record, engine) = self.isms_engine(principal, isms)?;
        let follow_ups = self.follow_ups(record.id.as_str())?;
        let today = self.now_utc().date_naive();
        Ok(engine
            .plan()
            .into_iter()
            .map(|item| {
                let follow_up = follow_ups
                    .get(&key(record.id.as_str(), &item))
                    .cloned()
                    .unwrap_or_default();
                let overdue =
                    follow_up.done_at.is_none() && is_past(follow_up.due.as_deref(), today);
                PlanRow {
                    item,
                    follow_up,
                    overdue,
                }
            })
            .collect())
    }

    /// Plan items done, and overdue (past due and not done).
    pub(crate) fn plan_counts(&self, record: &IsmsRecord) -> Result<(usize, usize)> {
        let today = self.now_utc().date_naive();
        let follow_ups = self.follow_ups(record.id.as_str())?;
        let done = follow_ups.values().filter(|f| f.done_at.is_some()).count();
        let overdue = follow_ups
            .values()
            .filter(|f| f.done_at.is_none() && is_past(f.due.as_deref(), today))
            .count();
        Ok((done, overdue))
    }

    /// Sets the follow-up of the plan item of rank `rank`; recorded in the history with cause `plan`.
    pub fn set_plan(
        &self,
        principal: &Principal,
        isms: &str,
        rank: usize,
        sets: &[PlanSet],
    ) -> Result<PlanRow> {
        self.store().write(|store, batch| {
            let record = self.officer(principal, isms, "follow up the plan")?;
            record.ensure_open()?;
            let rows = self.plan_rows(principal, isms)?;
            let Some(row) = rows.into_iter().find(|r| r.item.rank == rank) else {
                return Err(ServiceError::Refused(format!(
                    "the plan of {isms} has no item of rank {rank}; run `mmsm isms plan {isms}` to see the ranks"
                )));
            };
            let mut follow_up = row.follow_up.clone();
            let mut said = Vec::new();
            for set in sets {
                match set {
                    PlanSet::Owner(user) => {
                        if !record.users.iter().any(|u| u.id.as_str() == user) {
                            return Err(super::users::unknown_user(&record, user));
                        }
                        follow_up.owner = Some(user.clone());
                        said.push(format!("owner {user}"));
                    }
                    PlanSet::Due(date) => {
                        follow_up.due = Some(date.format("%Y-%m-%d").to_string());
                        said.push(format!("due {date}"));
                    }
                    PlanSet::Done => {
                        follow_up.done_at = Some(self.now());
                        said.push("done".into());
                    }
                    PlanSet::Undone => {
                        follow_up.done_at = None;
                        said.push("not done".into());
                    }
                    PlanSet::Result(text) => {
                        follow_up.result = Some(text.clone());
                        said.push(format!("result: {text}"));
                    }
                }
            }
            batch.put(Repo::Isms, key(record.id.as_str(), &row.item), &follow_up);
            let item = &row.item;
            self.record_note(
                store,
                batch,
                principal,
                &record,
                Because::new(
                    "plan",
                    vec![
                        format!("plan:{}@{}", item.control, item.level),
                        format!("control:{}", item.control),
                    ],
                    format!("plan item {}@{}: {}", item.control, item.level, said.join(", ")),
                ),
            )?;
            super::super::audit(batch, principal, "isms.plan", vec![record.id.to_string(), format!("{}@{}", item.control, item.level)]);
            let today = self.now_utc().date_naive();
            Ok(PlanRow {
                overdue: follow_up.done_at.is_none() && is_past(follow_up.due.as_deref(), today),
                item: row.item,
                follow_up,
            })
        })
    }
}
