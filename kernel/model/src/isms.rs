//! The enterprise side of the model: checklist answers and assets (DESIGN.md 4.1, 4.3, 5).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::*;
use super::schema::Dimension;

/// An answer of the technical checklist (DESIGN.md 4.1).
///
/// Reads `yes`, `partial`, `no`, `na`, `unknown`, and YAML booleans as yes/no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    /// Fully in place: 1.
    Yes,
    /// In place in part: 0.5.
    Partial,
    /// Not in place: 0.
    No,
    /// Not applicable: left out of every sum.
    Na,
    /// Nobody knows: 0, flagged for review.
    Unknown,
}

impl Answer {
    /// Every answer, in the order of the checklist.
    pub const ALL: [Answer; 5] = [
        Answer::Yes,
        Answer::Partial,
        Answer::No,
        Answer::Na,
        Answer::Unknown,
    ];

    /// The value x(s) in [0,1], or `None` when not applicable.
    pub fn value(self) -> Option<f64> {
        match self {
            Answer::Yes => Some(1.0),
            Answer::Partial => Some(0.5),
            Answer::No | Answer::Unknown => Some(0.0),
            Answer::Na => None,
        }
    }

    /// The word used in documents and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::Partial => "partial",
            Answer::No => "no",
            Answer::Na => "na",
            Answer::Unknown => "unknown",
        }
    }

    /// Parses the word of a document or the command line.
    pub fn parse(s: &str) -> Option<Answer> {
        match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" => Some(Answer::Yes),
            "partial" | "partly" => Some(Answer::Partial),
            "no" | "n" | "false" => Some(Answer::No),
            "na" | "n/a" => Some(Answer::Na),
            "unknown" | "?" => Some(Answer::Unknown),
            _ => None,
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnswerVisitor;
        impl serde::de::Visitor<'_> for AnswerVisitor {
            type Value = Answer;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("one of yes, partial, no, na, unknown")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Answer, E> {
                Ok(if v { Answer::Yes } else { Answer::No })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Answer, E> {
                Answer::parse(v)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(AnswerVisitor)
    }
}

/// An asset of the enterprise, valued coarsely (A2.3, DESIGN.md 4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// The id, unique within the enterprise.
    pub id: AssetId,
    /// A name for people.
    pub name: String,
    /// Its asset type in the schema.
    #[serde(rename = "type")]
    pub asset_type: AssetTypeId,
    /// V(a,d) per dimension, 0..10.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<Dimension, f64>,
    /// A strategic value SV in 0..10, used when `values` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategic_value: Option<f64>,
    /// Per-dimension requirements r(d) in 0..3: V(a,d) = SV * r(d) / 3.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requirements: BTreeMap<Dimension, f64>,
    /// For a group of assets: its members (the group takes their maximum).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<AssetId>,
    /// The assets this one relies on: the server that holds these records, the software
    /// that processes them. Each of them accumulates this asset's value (Magerit's
    /// accumulated value), so a threat to the server weighs what the server holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<AssetId>,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A chain of `depends_on` that comes back to where it started (`a -> b -> a`), if the
/// assets have one; dependencies on unknown assets and an asset naming itself (each
/// reported on its own by the callers) are ignored here.
pub fn dependency_cycle(assets: &[Asset]) -> Option<Vec<AssetId>> {
    let index: BTreeMap<&str, &Asset> = assets.iter().map(|a| (a.id.as_str(), a)).collect();
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        id: &'a str,
        index: &BTreeMap<&'a str, &'a Asset>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<AssetId>> {
        match state.get(id) {
            Some(2) => return None,
            Some(1) => {
                let from = path.iter().position(|p| *p == id).unwrap_or(0);
                let mut cycle: Vec<AssetId> =
                    path[from..].iter().map(|p| AssetId::new(*p)).collect();
                cycle.push(AssetId::new(id));
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(id, 1);
        path.push(id);
        if let Some(asset) = index.get(id) {
            for next in asset.depends_on.iter().filter(|next| next.as_str() != id) {
                if let Some((key, _)) = index.get_key_value(next.as_str()) {
                    if let Some(cycle) = visit(key, index, state, path) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        state.insert(id, 2);
        None
    }
    for asset in assets {
        let mut path = Vec::new();
        if let Some(cycle) = visit(asset.id.as_str(), &index, &mut state, &mut path) {
            return Some(cycle);
        }
    }
    None
}

impl Asset {
    /// V(a,d) from its own valuation: explicit values, else SV * r(d) / 3, else SV.
    /// Groups are resolved by the engine, which knows the members.
    pub fn own_value(&self, dimension: Dimension) -> f64 {
        if !self.values.is_empty() {
            return self.values.get(&dimension).copied().unwrap_or(0.0);
        }
        let Some(sv) = self.strategic_value else {
            return 0.0;
        };
        if self.requirements.is_empty() {
            sv
        } else {
            sv * self.requirements.get(&dimension).copied().unwrap_or(0.0) / 3.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_words_and_yaml_booleans() {
        let answers: BTreeMap<String, Answer> = serde_json::from_str(
            r#"{"a": "yes", "b": "partial", "c": false, "d": "na", "e": true, "f": "unknown"}"#,
        )
        .unwrap();
        assert_eq!(answers["a"], Answer::Yes);
        assert_eq!(answers["b"], Answer::Partial);
        assert_eq!(answers["c"], Answer::No);
        assert_eq!(answers["d"], Answer::Na);
        assert_eq!(answers["e"], Answer::Yes);
        assert_eq!(answers["f"], Answer::Unknown);
        let err = serde_json::from_str::<Answer>(r#""maybe""#).unwrap_err();
        assert!(err
            .to_string()
            .contains("one of yes, partial, no, na, unknown"));
    }

    #[test]
    fn strategic_value_with_requirements_follows_design_example() {
        let erp: Asset = serde_json::from_str(
            r#"{"id": "erp", "name": "ERP server", "type": "HW", "strategic_value": 8,
                "requirements": {"D": 3, "I": 3, "C": 2}}"#,
        )
        .unwrap();
        assert_eq!(erp.own_value(Dimension::D), 8.0);
        assert!((erp.own_value(Dimension::C) - 16.0 / 3.0).abs() < 1e-12);
        assert_eq!(erp.own_value(Dimension::A), 0.0);
    }
}
