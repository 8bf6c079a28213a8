//! What the engine computes from: an ISMS's inputs, and the changes to them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use mmsm_model::{
    Answer, Asset, AssetId, AssetTypeId, BusinessQuestionId, ControlId, Dimension, Scalar,
    SubControlId, ThreatId,
};

/// The inputs of one ISMS (DESIGN.md 4): everything the engine derives from.
///
/// Serialises with serde; the override maps, keyed by tuples in memory, are
/// written as lists of rows (`{asset_type, threat, value}`) so that JSON can hold them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// Technical-checklist answers; a subcontrol left out is unanswered (counts as `no`, flagged).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub answers: BTreeMap<SubControlId, Answer>,
    /// Measured values in [0,1] that count now (the caller decides freshness, DESIGN.md 6.1);
    /// each overrides the declared answer of its subcontrol.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measured: BTreeMap<SubControlId, f64>,
    /// Caps on the values of a control's subcontrols in [0,1]: an open major
    /// non-conformity holds the control at most at its schema's cap until it is closed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub caps: BTreeMap<ControlId, f64>,
    /// The enterprise's assets, in the order the engine lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<Asset>,
    /// Accepted probability changes: P for (asset type, threat), replacing the TAD matrix's.
    #[serde(
        default,
        with = "probability_rows",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub probability: BTreeMap<(AssetTypeId, ThreatId), f64>,
    /// Accepted degradation changes: Deg for (asset type, threat, dimension).
    #[serde(
        default,
        with = "degradation_rows",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub degradation: BTreeMap<(AssetTypeId, ThreatId, Dimension), f64>,
    /// An explicit target level, which wins over the size class and the business rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_level: Option<u8>,
    /// Head count, for the size class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employees: Option<u32>,
    /// Yearly turnover in euros, for the size class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turnover_eur: Option<f64>,
    /// Business-checklist answers, for the schema's target rules.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub business: BTreeMap<BusinessQuestionId, Scalar>,
}

/// One change of one input: the single way inputs change ([`super::Engine::apply`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// Sets (or, with `None`, clears) a checklist answer.
    Answer {
        /// The subcontrol.
        subcontrol: SubControlId,
        /// The answer; `None` leaves it unanswered.
        answer: Option<Answer>,
    },
    /// Sets (or, with `None`, removes) the measured value of a subcontrol: removing it falls
    /// back to the declared answer.
    Measured {
        /// The subcontrol.
        subcontrol: SubControlId,
        /// A value in [0,1] (clamped into it).
        value: Option<f64>,
    },
    /// Caps (or, with `None`, frees) the values of a control's subcontrols: an open
    /// major non-conformity on it.
    Cap {
        /// The control.
        control: ControlId,
        /// The highest value any of its subcontrols counts, in [0,1] (clamped into it).
        value: Option<f64>,
    },
    /// Replaces an asset's record (valuation, type, members), or adds it when its id is new.
    AssetValue {
        /// The asset as it is now.
        asset: Asset,
    },
    /// Sets (or, with `None`, returns to the schema's) the probability of a threat for the
    /// assets of an asset type.
    Probability {
        /// The asset type (exactly: not its descendants).
        asset_type: AssetTypeId,
        /// The threat.
        threat: ThreatId,
        /// 0..100 (clamped into it).
        value: Option<f64>,
    },
    /// Sets (or, with `None`, returns to the schema's) the degradation of one dimension.
    Degradation {
        /// The asset type (exactly: not its descendants).
        asset_type: AssetTypeId,
        /// The threat.
        threat: ThreatId,
        /// The dimension.
        dimension: Dimension,
        /// 0..100 (clamped into it).
        value: Option<f64>,
    },
    /// Sets (or, with `None`, clears) the explicit target level.
    TargetLevel {
        /// The level; `None` returns to the schema's target for the size.
        level: Option<u8>,
    },
    /// Sets the head count used for the size class.
    Employees {
        /// The head count; `None` clears it.
        employees: Option<u32>,
    },
    /// Sets the turnover used for the size class.
    Turnover {
        /// Euros a year; `None` clears it.
        turnover: Option<f64>,
    },
    /// Sets (or clears) a business-checklist answer.
    Business {
        /// The question.
        question: BusinessQuestionId,
        /// The answer.
        value: Option<Scalar>,
    },
}

/// Why a change or a question was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineError {
    /// No element of that kind has that id.
    Unknown {
        /// `subcontrol`, `control`, `asset`, `asset type`, `threat`...
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The asset type has no pair with that threat.
    NotAPair {
        /// The asset.
        asset: String,
        /// The threat.
        threat: String,
    },
    /// A value is not a number.
    NotANumber {
        /// What it was for.
        what: String,
    },
    /// A subject of [`super::Subject`] could not be read.
    BadSubject(String),
}

/// A change as a sentence for people: the history of the CLI and of the web
/// say it in the same words.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_schema =
            |v: Option<f64>| v.map_or("the schema's value".to_owned(), |v| format!("{v}"));
        match self {
            Change::Answer { subcontrol, answer } => match answer {
                Some(a) => write!(f, "question {subcontrol} answered {}", a.as_str()),
                None => write!(f, "question {subcontrol} left unanswered"),
            },
            Change::Measured { subcontrol, value } => match value {
                Some(v) => write!(f, "question {subcontrol} measured at {:.0} %", v * 100.0),
                None => write!(f, "question {subcontrol} back to its declared answer"),
            },
            Change::Cap { control, value } => match value {
                Some(v) => write!(
                    f,
                    "control {control} held at {:.0} % while a major non-conformity on it is open",
                    v * 100.0
                ),
                None => write!(
                    f,
                    "control {control} no longer held by a major non-conformity"
                ),
            },
            Change::AssetValue { asset } => {
                let values: Vec<String> = asset
                    .values
                    .iter()
                    .map(|(d, v)| format!("{}={v}", d.letter()))
                    .collect();
                write!(f, "asset {} ({}) valued", asset.name, asset.id)?;
                if !values.is_empty() {
                    write!(f, " {}", values.join(", "))?;
                }
                Ok(())
            }
            Change::Probability {
                asset_type,
                threat,
                value,
            } => write!(
                f,
                "probability of threat {threat} on assets of type {asset_type} set to {}",
                or_schema(*value)
            ),
            Change::Degradation {
                asset_type,
                threat,
                dimension,
                value,
            } => write!(
                f,
                "degradation of {} by threat {threat} on assets of type {asset_type} set to {}",
                dimension.letter(),
                or_schema(*value)
            ),
            Change::TargetLevel { level } => match level {
                Some(l) => write!(f, "target maturity level set to {l}"),
                None => write!(f, "target maturity level back to the schema's rule"),
            },
            Change::Employees { employees: n } => match n {
                Some(n) => write!(f, "head count set to {n}"),
                None => write!(f, "head count cleared"),
            },
            Change::Turnover { turnover: t } => match t {
                Some(t) => write!(f, "turnover set to {t} EUR"),
                None => write!(f, "turnover cleared"),
            },
            Change::Business { question, value } => match value {
                Some(mmsm_model::Scalar::Bool(b)) => write!(
                    f,
                    "business question {question} answered {}",
                    if *b { "yes" } else { "no" }
                ),
                Some(mmsm_model::Scalar::Number(n)) => {
                    write!(f, "business question {question} answered {n}")
                }
                Some(mmsm_model::Scalar::Text(t)) => {
                    write!(f, "business question {question} answered {t}")
                }
                None => write!(f, "business question {question} cleared"),
            },
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Unknown { kind, id } => write!(f, "unknown {kind} `{id}`"),
            EngineError::NotAPair { asset, threat } => write!(
                f,
                "threat `{threat}` does not apply to asset `{asset}` (no TAD row for its type, or gated out by vulnerabilities)"
            ),
            EngineError::NotANumber { what } => write!(f, "{what} is not a number"),
            EngineError::BadSubject(text) => write!(
                f,
                "cannot read subject `{text}`; expected e.g. control:8.13, level:2, vul:A.24, risk:erp/A.24, plan:8.13@2"
            ),
        }
    }
}

impl std::error::Error for EngineError {}

mod probability_rows {
    use super::*;
    use serde::{Deserializer, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Row {
        asset_type: AssetTypeId,
        threat: ThreatId,
        value: f64,
    }

    pub(super) fn serialize<S: Serializer>(
        map: &BTreeMap<(AssetTypeId, ThreatId), f64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map.iter().map(|((asset_type, threat), value)| Row {
            asset_type: asset_type.clone(),
            threat: threat.clone(),
            value: *value,
        }))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<(AssetTypeId, ThreatId), f64>, D::Error> {
        let rows = Vec::<Row>::deserialize(deserializer)?;
        Ok(rows
            .into_iter()
            .map(|row| ((row.asset_type, row.threat), row.value))
            .collect())
    }
}

mod degradation_rows {
    use super::*;
    use serde::{Deserializer, Serializer};

    type Overrides = BTreeMap<(AssetTypeId, ThreatId, Dimension), f64>;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Row {
        asset_type: AssetTypeId,
        threat: ThreatId,
        dimension: Dimension,
        value: f64,
    }

    pub(super) fn serialize<S: Serializer>(
        map: &Overrides,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            map.iter()
                .map(|((asset_type, threat, dimension), value)| Row {
                    asset_type: asset_type.clone(),
                    threat: threat.clone(),
                    dimension: *dimension,
                    value: *value,
                }),
        )
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Overrides, D::Error> {
        let rows = Vec::<Row>::deserialize(deserializer)?;
        Ok(rows
            .into_iter()
            .map(|row| ((row.asset_type, row.threat, row.dimension), row.value))
            .collect())
    }
}

/// Asset ids of an engine, shared with the [`super::Deltas`] it returns.
pub(crate) type AssetIds = std::sync::Arc<Vec<AssetId>>;

#[cfg(test)]
mod change_sentences {
    use super::*;

    #[test]
    fn changes_read_as_sentences_not_json() {
        // Issue 17: the history printed `{"kind":"measured","subcontrol":"6.3.2","value":0.0}`.
        let measured = Change::Measured {
            subcontrol: SubControlId::new("6.3.2"),
            value: Some(0.0),
        };
        assert_eq!(measured.to_string(), "question 6.3.2 measured at 0 %");
        let probability = Change::Probability {
            asset_type: AssetTypeId::new("HW"),
            threat: ThreatId::new("A.24"),
            value: Some(60.0),
        };
        assert_eq!(
            probability.to_string(),
            "probability of threat A.24 on assets of type HW set to 60"
        );
        for change in [measured, probability, Change::TargetLevel { level: None }] {
            assert!(!change.to_string().contains('{'), "{change}");
        }
        // Every change serialises (the history stores them): an optional
        // inside a tagged newtype variant could not.
        for change in [
            Change::TargetLevel { level: Some(2) },
            Change::Employees { employees: None },
            Change::Turnover {
                turnover: Some(1e6),
            },
        ] {
            let json = serde_json::to_value(&change).unwrap();
            assert_eq!(serde_json::from_value::<Change>(json).unwrap(), change);
        }
    }
}
