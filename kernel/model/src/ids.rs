//! Id newtypes: one per kind of element, so that a `ControlId` can never be
//! passed where a `SubControlId` or a `ThreatId` is expected.

use std::borrow::Borrow;
use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps a string as this kind of id.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}

id_type!(
    /// A schema's id (`base`, `health-small`).
    SchemaId,
    /// A role of the master tables (`Cl/RS`, `AGS`).
    RoleId,
    /// A business sector (`health`).
    SectorId,
    /// A size class (`micro`, `small`, `medium`).
    SizeId,
    /// A domain of controls (`5`).
    DomainId,
    /// A control objective.
    ObjectiveId,
    /// A control (`8.13`).
    ControlId,
    /// A subcontrol (`8.13.1`).
    SubControlId,
    /// A question of the business checklist.
    BusinessQuestionId,
    /// An asset type of the Magerit tree (`HW`, `HW.pc`).
    AssetTypeId,
    /// A threat (`A.24`).
    ThreatId,
    /// A vulnerability.
    VulnerabilityId,
    /// A procedure of the artefact library.
    ProcedureId,
    /// A phase of a procedure.
    PhaseId,
    /// A regulation (a set of rules).
    RegulationId,
    /// A template, register or technical instruction.
    ArtefactId,
    /// A metric definition.
    MetricId,
    /// A question of the security-culture bank.
    CultureQuestionId,
    /// An asset of an enterprise.
    AssetId,
    /// A user of an enterprise's ISMS.
    UserId,
    /// A department of an enterprise.
    DepartmentId,
    /// An ISMS in the isms repository.
    IsmsId,
    /// An audit of a schema's audit programme (`internal-audit`).
    AuditPlanId,
    /// A legal, regulatory or contractual obligation (`GDPR-32`, `ENS-op.acc.6`).
    ObligationId,
    /// The law, regulation or contract obligations come from (`GDPR`, `ENS`).
    ObligationSourceId,
);

/// Orders ids "naturally": numeric runs compare as numbers, so `5.2` < `5.10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (&a[..na], &b[..nb]);
                let ta = trim_zeros(da);
                let tb = trim_zeros(db);
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|c| **c == b'0').count();
    &digits[zeros..]
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;
    use std::cmp::Ordering::*;

    #[test]
    fn natural_order_compares_numbers_by_value() {
        assert_eq!(natural_cmp("5.2", "5.10"), Less);
        assert_eq!(natural_cmp("5.10", "5.9"), Greater);
        assert_eq!(natural_cmp("8.13.1", "8.13.1"), Equal);
        assert_eq!(natural_cmp("A.3", "A.24"), Less);
        assert_eq!(natural_cmp("E.1", "A.1"), Greater);
        assert_eq!(natural_cmp("5", "5.1"), Less);
    }
}
