//! The users of an ISMS and their roles (issue 7.1). Changing a user's roles
//! may revoke their culture certificate (DESIGN.md 6.3), and every change of
//! the users re-values the culture share on the board.

use serde::Serialize;

use crate::access::Principal;
use mmsm_model::{DepartmentId, RoleId, User, UserId};
use mmsm_store::{Batch, Repo, Store};

use super::culture::{cert_key, Certificate};
use super::{Event, IsmsRecord, Kernel, Result, ServiceError};
use mmsm_engine::Delta;

/// The outcome of a change to the users of an ISMS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsersChanged {
    /// The ISMS.
    pub isms: String,
    /// The user as it is now (`None` once removed).
    pub user: Option<User>,
    /// Roles before the change (empty for a new user).
    pub roles_before: Vec<RoleId>,
    /// Why the user's certificate was revoked by this change, if it was.
    pub revoked: Option<String>,
    /// The board figures that moved (the culture share).
    pub board: Vec<Delta>,
}

/// A user's id and roles, as listed in messages.
pub(crate) fn user_list(record: &IsmsRecord) -> String {
    if record.users.is_empty() {
        return "none yet".into();
    }
    record
        .users
        .iter()
        .map(|u| u.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Kernel {
    /// The users of an ISMS.
    pub fn users(&self, principal: &Principal, isms: &str) -> Result<Vec<User>> {
        Ok(self
            .maintained(principal, isms, "list the users of an ISMS")?
            .users)
    }

    /// Adds a user with roles (of the ISMS's schema) and an optional department.
    pub fn add_user(&self, principal: &Principal, isms: &str, user: User) -> Result<UsersChanged> {
        self.store()
            .write(|store, batch| self.add_user_in(store, batch, principal, isms, user))
    }

    /// [`Kernel::add_user`] inside a write that may do more (an account
    /// made for the user at the same time).
    pub(crate) fn add_user_in(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        isms: &str,
        user: User,
    ) -> Result<UsersChanged> {
        let action = "add a user to an ISMS";
        mmsm_schema::check_id("user", user.id.as_str()).map_err(ServiceError::Refused)?;
        mmsm_model::check_length("the user's name", &user.name, mmsm_model::MAX_NAME)
            .map_err(ServiceError::Refused)?;
        let mut record = self.officer(principal, isms, action)?;
        record.ensure_open()?;
        if record.users.iter().any(|u| u.id == user.id) {
            return Err(ServiceError::Exists {
                    kind: "user",
                    id: user.id.to_string(),
                    hint: format!(
                        " in ISMS {isms}; change its roles with `mmsm isms user roles {isms} {} --role ROLE`",
                        user.id
                    ),
                });
        }
        self.check_roles(&record, &user.roles)?;
        check_department(&record, user.department.as_ref())?;
        record.users.push(user.clone());
        let board = self.culture_refresh(store, batch, principal, &mut record, None)?;
        self.record_event(
            store,
            batch,
            &record.id,
            &Event {
                at: self.now(),
                user: principal.user.clone(),
                kind: "user.added".into(),
                ids: vec![user.id.to_string()],
                data: serde_json::json!({ "roles": user.roles }),
            },
        )?;
        super::super::audit(
            batch,
            principal,
            "isms.user.add",
            vec![record.id.to_string(), user.id.to_string()],
        );
        Ok(UsersChanged {
            isms: record.id.to_string(),
            user: Some(user.clone()),
            roles_before: Vec::new(),
            revoked: None,
            board,
        })
    }

    /// Removes a user from an ISMS (their past events and certificates stay in the history).
    pub fn remove_user(
        &self,
        principal: &Principal,
        isms: &str,
        user: &str,
    ) -> Result<UsersChanged> {
        let action = "remove a user from an ISMS";
        self.store().write(|store, batch| {
            let mut record = self.officer(principal, isms, action)?;
            record.ensure_open()?;
            let Some(position) = record.users.iter().position(|u| u.id.as_str() == user) else {
                return Err(unknown_user(&record, user));
            };
            let removed = record.users.remove(position);
            let board = self.culture_refresh(store, batch, principal, &mut record, None)?;
            self.record_event(
                store,
                batch,
                &record.id,
                &Event {
                    at: self.now(),
                    user: principal.user.clone(),
                    kind: "user.removed".into(),
                    ids: vec![removed.id.to_string()],
                    data: serde_json::Value::Null,
                },
            )?;
            super::super::audit(
                batch,
                principal,
                "isms.user.remove",
                vec![record.id.to_string(), user.to_owned()],
            );
            Ok(UsersChanged {
                isms: record.id.to_string(),
                user: None,
                roles_before: removed.roles,
                revoked: None,
                board,
            })
        })
    }

    /// Replaces a user's roles. When the new roles require a regulation the
    /// user's certificate does not cover, the certificate is revoked.
    pub fn set_user_roles(
        &self,
        principal: &Principal,
        isms: &str,
        user: &str,
        roles: Vec<RoleId>,
    ) -> Result<UsersChanged> {
        let action = "change a user's roles";
        self.store().write(|store, batch| {
            let mut record = self.officer(principal, isms, action)?;
            record.ensure_open()?;
            self.check_roles(&record, &roles)?;
            let Some(position) = record.users.iter().position(|u| u.id.as_str() == user) else {
                return Err(unknown_user(&record, user));
            };
            let before = std::mem::replace(&mut record.users[position].roles, roles.clone());
            let schema = self.isms_schema(&record)?;
            let required = super::culture::required_regulations(&schema, &record, &roles);
            let mut revoked = None;
            let mut certificate: Option<Certificate> =
                store.get(Repo::Isms, &cert_key(&record.id, user))?;
            if let Some(cert) = certificate.as_mut().filter(|c| c.revoked.is_none()) {
                let new: Vec<String> = required
                    .keys()
                    .filter(|r| !cert.regulations.contains_key(*r))
                    .map(|r| r.to_string())
                    .collect();
                if !new.is_empty() {
                    let reason = format!(
                        "the roles {} require regulations the certificate does not cover: {}",
                        roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
                        new.join(", ")
                    );
                    cert.revoked = Some(super::culture::Revocation {
                        at: self.now(),
                        reason: reason.clone(),
                    });
                    batch.put(Repo::Isms, cert_key(&record.id, user), &*cert);
                    revoked = Some(reason);
                }
            }
            let overrides = certificate.map(|c| (UserId::new(user), c));
            let board = self.culture_refresh(store, batch, principal, &mut record, overrides)?;
            self.record_event(
                store,
                batch,
                &record.id,
                &Event {
                    at: self.now(),
                    user: principal.user.clone(),
                    kind: "user.roles".into(),
                    ids: vec![user.to_owned()],
                    data: serde_json::json!({ "before": before, "after": roles, "revoked": revoked }),
                },
            )?;
            super::super::audit(batch, principal, "isms.user.roles", vec![record.id.to_string(), user.to_owned()]);
            Ok(UsersChanged {
                isms: record.id.to_string(),
                user: Some(record.users[position].clone()),
                roles_before: before,
                revoked,
                board,
            })
        })
    }

    fn check_roles(&self, record: &IsmsRecord, roles: &[RoleId]) -> Result<()> {
        if roles.is_empty() {
            return Err(ServiceError::Refused(
                "a user needs at least one role: give it with --role ROLE (e.g. --role Cl/US)"
                    .into(),
            ));
        }
        let schema = self.isms_schema(record)?;
        for role in roles {
            if !schema.roles.iter().any(|r| &r.id == role) {
                let known: Vec<&str> = schema.roles.iter().map(|r| r.id.as_str()).collect();
                return Err(ServiceError::Refused(format!(
                    "`{role}` is not a role of schema {}@{}; its roles are {}",
                    record.schema.id,
                    record.schema.version,
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The schema version an ISMS was generated from (shared: versions are
    /// immutable, so it is decoded once per process).
    pub fn isms_schema(&self, record: &IsmsRecord) -> Result<std::sync::Arc<mmsm_model::Schema>> {
        Ok(self
            .schema_index(
                &Principal::system(),
                record.schema.id.as_str(),
                record.schema.version,
            )?
            .schema()
            .clone())
    }

    /// An ISMS the principal sees, with the schema version it was generated from.
    pub fn isms_with_schema(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(IsmsRecord, std::sync::Arc<mmsm_model::Schema>)> {
        let record = self.isms(principal, id)?;
        let schema = self.isms_schema(&record)?;
        Ok((record, schema))
    }
}

fn check_department(record: &IsmsRecord, department: Option<&DepartmentId>) -> Result<()> {
    let Some(department) = department else {
        return Ok(());
    };
    if record.departments.iter().any(|d| &d.id == department) {
        return Ok(());
    }
    let known: Vec<&str> = record.departments.iter().map(|d| d.id.as_str()).collect();
    Err(ServiceError::Refused(format!(
        "`{department}` is not a department of ISMS {}; its departments are {}",
        record.id,
        if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        }
    )))
}

pub(crate) fn unknown_user(record: &IsmsRecord, user: &str) -> ServiceError {
    ServiceError::NotFound {
        kind: "user",
        id: user.to_owned(),
        hint: format!(
            " in ISMS {}; its users are {}",
            record.id,
            user_list(record)
        ),
    }
}
