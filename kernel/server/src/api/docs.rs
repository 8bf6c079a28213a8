//! The OpenAPI descriptions of kernel view types: the kernel knows no
//! OpenAPI, so their shapes are described here, field for field, under the
//! kernel types' names. A test compares each with the kernel type's JSON.

use serde::Serialize;

/// One record of the audit trail as shown: its number, hash links and entry
/// (`mmsm_kernel::services::AuditLogEntry`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditLogEntry {
    /// 1 for the first record.
    pub seq: u64,
    /// The hash of the record before.
    pub prev: String,
    /// This record's hash.
    pub hash: String,
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// Who acted.
    pub user: String,
    /// What was done.
    pub action: String,
    /// The ids touched.
    pub ids: Vec<String>,
    /// What changed.
    #[schema(value_type = Object)]
    pub detail: Option<serde_json::Value>,
}

/// An account without its secret: what the API and `user list` show
/// (`mmsm_kernel::services::AccountView`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    /// The login name.
    pub name: String,
    /// The roles held.
    pub roles: Vec<String>,
    /// Whether it is an administrator.
    pub admin: bool,
    /// The ISMS of an enterprise user.
    pub isms: Option<String>,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Whether its password is a one-time password still to be changed.
    pub must_change_password: bool,
    /// The ISMSs a consultancy account is assigned to.
    pub assigned: Vec<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    fn keys(value: Value) -> Vec<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn the_described_shapes_have_the_kernel_types_fields() {
        let kernel = mmsm_kernel::services::AuditLogEntry {
            seq: 1,
            prev: String::new(),
            hash: String::new(),
            at: 0,
            user: "u".into(),
            action: "a".into(),
            ids: vec![],
            detail: Some(json!({})),
        };
        let described = super::AuditLogEntry {
            seq: 1,
            prev: String::new(),
            hash: String::new(),
            at: 0,
            user: "u".into(),
            action: "a".into(),
            ids: vec![],
            detail: Some(json!({})),
        };
        assert_eq!(
            keys(serde_json::to_value(kernel).unwrap()),
            keys(serde_json::to_value(described).unwrap())
        );
        let kernel = mmsm_kernel::services::AccountView {
            name: "n".into(),
            roles: vec![],
            admin: false,
            isms: None,
            disabled: false,
            must_change_password: false,
            assigned: vec![],
        };
        let described = super::AccountView {
            name: "n".into(),
            roles: vec![],
            admin: false,
            isms: None,
            disabled: false,
            must_change_password: false,
            assigned: vec![],
        };
        assert_eq!(
            keys(serde_json::to_value(kernel).unwrap()),
            keys(serde_json::to_value(described).unwrap())
        );
    }
}
