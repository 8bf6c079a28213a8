//! The legal and regulatory obligations of an ISMS (issue 16): which of the schema's
//! catalogue apply from the business checklist, and how far each is met from the
//! compliance of the controls that meet it.

use std::collections::BTreeMap;

use mmsm_engine::Board;
use mmsm_model::{Applicability, BusinessQuestionId, Scalar, Schema};
use serde::Serialize;

/// One control behind an obligation, as the board has it now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObligationControl {
    /// The control id.
    pub control: String,
    /// Its title.
    pub title: String,
    /// Its compliance, 0..100; none when it does not apply to the enterprise.
    pub compliance: Option<f64>,
}

/// One obligation of the catalogue for one enterprise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObligationRow {
    /// The obligation id (`GDPR-32`).
    pub id: String,
    /// Its source id (`GDPR`).
    pub source: String,
    /// The source's full name.
    pub source_name: String,
    /// The article or measure (`Art. 32`).
    pub reference: String,
    /// Its title.
    pub title: String,
    /// What it asks, in the schema's words.
    pub text: Option<String>,
    /// Whether it applies, from the business checklist.
    pub applies: Applicability,
    /// Why it applies or not, in words: the conditions and the answers given.
    pub because: String,
    /// The mean compliance of its controls that apply, 0..100; none when it does not
    /// apply or none of its controls does.
    pub compliance: Option<f64>,
    /// `met`, `partly met`, `not met`, `no control applies`, or empty when it does
    /// not apply (or is undetermined).
    pub state: String,
    /// The controls that meet it.
    pub controls: Vec<ObligationControl>,
}

impl ObligationRow {
    /// `GDPR Art. 32 Security of processing`.
    pub fn label(&self) -> String {
        format!("{} {} {}", self.source, self.reference, self.title)
    }
}

/// The applying obligations in one sentence, for the board, `isms show` and the
/// report: `34 obligations of the legal catalogue apply: 2 met, 30 partly met, 2 not met; 1 more
/// may apply, once the business checklist says.` Empty when none applies or may.
pub fn summary(applying: &[ObligationRow], undetermined: usize) -> String {
    if applying.is_empty() && undetermined == 0 {
        return String::new();
    }
    let count = |state: &str| applying.iter().filter(|o| o.state == state).count();
    let mut sentence = format!(
        "{} obligation{} of the legal catalogue appl{}: {} met, {} partly met, {} not met",
        applying.len(),
        if applying.len() == 1 { "" } else { "s" },
        if applying.len() == 1 { "ies" } else { "y" },
        count("met"),
        count("partly met"),
        count("not met")
    );
    if undetermined > 0 {
        sentence.push_str(&format!(
            "; {undetermined} more may apply, once the business checklist says"
        ));
    }
    sentence.push('.');
    sentence
}

/// Every obligation of the schema's catalogue for an enterprise, in catalogue order.
/// An obligation is `met` when its controls average at least the board's amber band
/// (green on the board), `partly met` above 0 and `not met` at 0.
pub fn obligation_rows(
    schema: &Schema,
    board: &Board,
    business: &BTreeMap<BusinessQuestionId, Scalar>,
) -> Vec<ObligationRow> {
    let bands = schema.status_bands();
    schema
        .obligations
        .iter()
        .map(|o| {
            let applies = o.applicability(business);
            let controls: Vec<ObligationControl> = o
                .controls
                .iter()
                .map(|c| ObligationControl {
                    control: c.to_string(),
                    title: schema
                        .controls
                        .iter()
                        .find(|x| &x.id == c)
                        .map(|x| x.title.clone())
                        .unwrap_or_default(),
                    compliance: board
                        .controls
                        .iter()
                        .find(|x| &x.id == c)
                        .and_then(|x| x.compliance),
                })
                .collect();
            let measured: Vec<f64> = controls.iter().filter_map(|c| c.compliance).collect();
            let compliance = (applies == Applicability::Applies && !measured.is_empty())
                .then(|| measured.iter().sum::<f64>() / measured.len() as f64);
            let state = match (&applies, compliance) {
                (Applicability::Applies, None) => "no control applies",
                (Applicability::Applies, Some(c)) if c >= bands.amber => "met",
                (Applicability::Applies, Some(c)) if c > 1e-9 => "partly met",
                (Applicability::Applies, Some(_)) => "not met",
                _ => "",
            };
            let source_name = schema
                .obligation_sources
                .iter()
                .find(|s| s.id == o.source)
                .map_or_else(|| o.source.to_string(), |s| s.name.clone());
            ObligationRow {
                id: o.id.to_string(),
                source: o.source.to_string(),
                source_name,
                reference: o.reference.clone(),
                title: o.title.clone(),
                text: o.text.clone(),
                because: because(o, &applies, business),
                applies,
                compliance,
                state: state.to_owned(),
                controls,
            }
        })
        .collect()
}

/// Why an obligation applies or not, in words.
fn because(
    o: &mmsm_model::Obligation,
    applies: &Applicability,
    business: &BTreeMap<BusinessQuestionId, Scalar>,
) -> String {
    if o.applies_when.is_empty() {
        return "applies to every enterprise".to_owned();
    }
    let answered = |q: &BusinessQuestionId| {
        business
            .get(q)
            .map_or_else(|| "unanswered".to_owned(), Scalar::words)
    };
    match applies {
        Applicability::Applies => format!(
            "applies: {}",
            o.applies_when
                .iter()
                .map(|c| format!("{} (answered {})", c.words(), answered(&c.question)))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        Applicability::DoesNotApply => {
            let failed: Vec<String> = o
                .applies_when
                .iter()
                .filter(|c| c.holds(business.get(&c.question)) == Some(false))
                .map(|c| format!("{} (answered {})", c.words(), answered(&c.question)))
                .collect();
            format!("does not apply: it needs {}", failed.join(" and "))
        }
        Applicability::Undetermined(questions) => format!(
            "undetermined: answer {} in the business checklist",
            questions
                .iter()
                .map(|q| q.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsm_model::{Condition, Obligation};

    fn obligation(conditions: Vec<Condition>) -> Obligation {
        Obligation {
            id: mmsm_model::ObligationId::new("PCI-DSS-3"),
            source: mmsm_model::ObligationSourceId::new("PCI-DSS"),
            reference: "Req. 3".into(),
            title: "Protect stored account data".into(),
            text: None,
            applies_when: conditions,
            controls: Vec::new(),
        }
    }

    fn condition(question: &str, equals: Option<Scalar>, one_of: Vec<Scalar>) -> Condition {
        Condition {
            question: BusinessQuestionId::new(question),
            equals,
            at_least: None,
            one_of,
        }
    }

    #[test]
    fn an_obligation_applies_when_every_condition_holds_and_says_why() {
        let o = obligation(vec![
            condition("card_payments", Some(Scalar::Bool(true)), Vec::new()),
            condition(
                "ens_category",
                None,
                vec![Scalar::Text("medium".into()), Scalar::Text("high".into())],
            ),
        ]);
        let mut business = BTreeMap::new();
        business.insert(BusinessQuestionId::new("card_payments"), Scalar::Bool(true));
        assert_eq!(
            o.applicability(&business),
            Applicability::Undetermined(vec![BusinessQuestionId::new("ens_category")])
        );
        business.insert(
            BusinessQuestionId::new("ens_category"),
            Scalar::Text("Basic".into()),
        );
        let applies = o.applicability(&business);
        assert_eq!(applies, Applicability::DoesNotApply);
        assert_eq!(
            because(&o, &applies, &business),
            "does not apply: it needs ens_category one of medium, high (answered Basic)"
        );
        business.insert(
            BusinessQuestionId::new("ens_category"),
            Scalar::Text("HIGH".into()),
        );
        assert_eq!(o.applicability(&business), Applicability::Applies);
        business.insert(
            BusinessQuestionId::new("card_payments"),
            Scalar::Text("no".into()),
        );
        assert_eq!(o.applicability(&business), Applicability::DoesNotApply);
    }
}
