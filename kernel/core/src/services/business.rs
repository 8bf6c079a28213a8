//! The business checklist after generation (issue 16.7): an answer that changes
//! (the enterprise starts taking cards, stops developing software) re-values the
//! target level, switches obligations on or off, and makes controls not applicable
//! or applicable again, in one transaction.

use std::collections::BTreeMap;

use mmsm_engine::Change;
use mmsm_model::{Answer, BusinessQuestionId, Scalar, SubControlId};

use super::answer_notes::{delete_note, put_justification, AnswerNote};
use super::gsgs::{business_exclusions, Changes, Updated};
use super::{Kernel, Result, ServiceError};
use crate::access::Principal;

impl Kernel {
    /// Answers (or, with `None`, clears) business question `question` of ISMS `id`
    /// (the consultant or the enterprise's security officer).
    /// The questions its rules make not applicable are answered `na` with the
    /// rule's justification; those a rule no longer excludes, and that still carry
    /// the justification it gave, are left unanswered for the consultant to answer.
    pub fn answer_business(
        &self,
        principal: &Principal,
        id: &str,
        question: &str,
        value: Option<Scalar>,
    ) -> Result<Updated> {
        let action = "answer the business checklist";
        let now = self.now();
        let nanos = self.now_nanos();
        self.store().write(|store, batch| {
            // The consultant or the security officer: what the enterprise is.
            let record = self.officer(principal, id, action)?;
            record.ensure_open()?;
            let schema = self.isms_schema(&record)?;
            let Some(q) = schema
                .business_checklist
                .iter()
                .find(|q| q.id.as_str() == question)
            else {
                let known: Vec<&str> = schema
                    .business_checklist
                    .iter()
                    .map(|q| q.id.as_str())
                    .collect();
                return Err(ServiceError::NotFound {
                    kind: "business question",
                    id: question.to_owned(),
                    hint: format!("; the schema asks {}", known.join(", ")),
                });
            };
            let value = value
                .map(|v| q.accept(&v))
                .transpose()
                .map_err(ServiceError::Refused)?;
            let mut business = record.inputs.business.clone();
            match &value {
                Some(v) => business.insert(q.id.clone(), v.clone()),
                None => business.remove(&q.id),
            };
            let before: BTreeMap<SubControlId, String> =
                business_exclusions(&schema, &record.inputs.business)
                    .into_iter()
                    .collect();
            let after: BTreeMap<SubControlId, String> = business_exclusions(&schema, &business)
                .into_iter()
                .collect();
            let notes: BTreeMap<SubControlId, AnswerNote> = self.answer_notes(principal, id)?;
            let mut follow = Vec::new();
            let mut excluded = Vec::new();
            let mut restored = Vec::new();
            for (sub, why) in &after {
                let already = record.inputs.answers.get(sub) == Some(&Answer::Na)
                    && notes.get(sub).and_then(|n| n.justification.as_ref()) == Some(why);
                if !already {
                    follow.push(Change::Answer {
                        subcontrol: sub.clone(),
                        answer: Some(Answer::Na),
                    });
                    put_justification(batch, id, sub.as_str(), why, &principal.user, now);
                    excluded.push(sub.to_string());
                }
            }
            for (sub, why) in before.iter().filter(|(s, _)| !after.contains_key(*s)) {
                let ours = record.inputs.answers.get(sub) == Some(&Answer::Na)
                    && notes.get(sub).and_then(|n| n.justification.as_ref()) == Some(why);
                if ours {
                    follow.push(Change::Answer {
                        subcontrol: sub.clone(),
                        answer: None,
                    });
                    delete_note(batch, id, sub.as_str());
                    restored.push(sub.to_string());
                }
            }
            let mut said = Vec::new();
            if !excluded.is_empty() {
                said.push(format!("not applicable now: {}", excluded.join(", ")));
            }
            if !restored.is_empty() {
                said.push(format!(
                    "applicable again, to be answered: {}",
                    restored.join(", ")
                ));
            }
            let changes = Changes {
                main: Change::Business {
                    question: BusinessQuestionId::new(q.id.as_str()),
                    value,
                },
                follow,
                note: (!said.is_empty()).then(|| said.join("; ")),
            };
            self.apply_changes_in(
                store,
                batch,
                principal,
                id,
                changes,
                "business",
                (now, nanos),
            )
        })
    }
}
