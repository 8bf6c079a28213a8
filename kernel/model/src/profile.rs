//! An enterprise profile: what the consultant gathers in the business and
//! technical meetings (paper A2.1-A2.3, DESIGN.md 5).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ids::*;
use super::isms::{Answer, Asset};
use super::schema::Scalar;

/// The profile document that `mmsm isms generate` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The enterprise (name, sector and employees required).
    pub enterprise: Enterprise,
    /// The schema to use; chosen from sector and size when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaId>,
    /// An explicit target maturity level (1..3); otherwise from the size class and the business checklist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_level: Option<u8>,
    /// The enterprise's speaker (Int), who works with the consultant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<Speaker>,
    /// The organisation chart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<Department>,
    /// The users of the information system, with their roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<User>,
    /// Answers of the business meeting, keyed by question id.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub business_checklist: BTreeMap<BusinessQuestionId, Scalar>,
    /// Answers of the technical checklist, keyed by subcontrol id.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub answers: BTreeMap<SubControlId, Answer>,
    /// A few coarse assets.
    pub assets: Vec<Asset>,
}

/// The enterprise's business data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enterprise {
    /// Its name.
    pub name: String,
    /// Its sector id (of the schema's sectors).
    pub sector: SectorId,
    /// Head count.
    pub employees: u32,
    /// Yearly turnover in euros.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turnover_eur: Option<f64>,
}

/// The speaker (Int) designated by the enterprise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Speaker {
    /// Name.
    pub name: String,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A department of the organisation chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// The id.
    pub id: DepartmentId,
    /// Its name.
    pub name: String,
}

/// A user of the enterprise's information system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The id, unique within the enterprise.
    pub id: UserId,
    /// Full name.
    pub name: String,
    /// Roles of the schema (e.g. `Cl/RS`).
    #[serde(default)]
    pub roles: Vec<RoleId>,
    /// Department id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentId>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Reads an empty entry (`answers:` with every line commented out) as empty.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
