//! Managing accounts after they are made (issue 17.2): disable, enable,
//! remove, the roles of a consultancy account, and unassigning an ISMS. Only
//! administrators manage accounts; none of these can leave the store without
//! an administrator who can log in. An enterprise account's roles are not
//! managed here: its ISMS gives them (`isms user roles`).

use crate::access::{zone_of, Principal, ROLE_ZONES};
use mmsm_model::RoleId;
use mmsm_store::{Repo, Store};

use super::accounts::{account_key, assign_key, is_enterprise_role, new_epoch, token_index_key};
use super::{audit, audit_detail, Account, AccountView, Kernel, Result, ServiceError};

fn unknown_account(name: &str) -> ServiceError {
    ServiceError::NotFound {
        kind: "account",
        id: name.to_owned(),
        hint: "; `mmsm user list` shows the accounts".into(),
    }
}

fn account(store: &Store, name: &str) -> Result<Account> {
    store
        .get(Repo::Isms, &account_key(name))?
        .ok_or_else(|| unknown_account(name))
}

/// Refuses when taking `name` out of service would leave no administrator
/// who can log in, or when an administrator would lock themselves out.
fn keeps_an_administrator(
    store: &Store,
    principal: &Principal,
    target: &Account,
    what: &str,
) -> Result<()> {
    if principal.user == target.name {
        return Err(ServiceError::Refused(format!(
            "an administrator cannot {what} their own account: another administrator does it"
        )));
    }
    if !target.admin || target.disabled {
        return Ok(());
    }
    let others = store
        .scan::<Account>(Repo::Isms, "account/")?
        .into_iter()
        .filter(|(_, a)| a.admin && !a.disabled && a.name != target.name)
        .count();
    if others == 0 {
        return Err(ServiceError::Refused(format!(
            "`{}` is the last administrator who can log in: make another one before you {what} it",
            target.name
        )));
    }
    Ok(())
}

/// Deletes account `name` in `batch`, with its API tokens and assignments.
pub(super) fn drop_account(store: &Store, batch: &mut mmsm_store::Batch, name: &str) -> Result<()> {
    batch.delete(Repo::Isms, account_key(name));
    for (key, hash) in store.scan::<String>(Repo::Isms, &token_index_key(name, ""))? {
        batch.delete(Repo::Isms, format!("session/{hash}"));
        batch.delete(Repo::Isms, key);
    }
    for key in store.keys(Repo::Isms, &assign_key(name, ""))? {
        batch.delete(Repo::Isms, key);
    }
    Ok(())
}

impl Kernel {
    /// Disables (`disabled`) or enables account `name`. A disabled account
    /// cannot log in, and its open sessions and tokens stop working at once
    /// and for good (enabling it again does not revive them).
    pub fn set_account_disabled(
        &self,
        principal: &Principal,
        name: &str,
        disabled: bool,
    ) -> Result<AccountView> {
        let verb = if disabled { "disable" } else { "enable" };
        principal.require_admin(&format!("{verb} an account"))?;
        let changed = self.store().write(|store, batch| {
            let mut target = account(store, name)?;
            if disabled {
                keeps_an_administrator(store, principal, &target, verb)?;
                target.session_epoch = new_epoch();
            }
            target.disabled = disabled;
            batch.put(Repo::Isms, account_key(name), &target);
            audit(
                batch,
                principal,
                &format!("account.{verb}"),
                vec![name.to_owned()],
            );
            Ok::<_, ServiceError>(target)
        })?;
        self.account_view(&changed)
    }

    /// Removes account `name` with its API tokens and assignments. What it
    /// did stays in the audit trail and the ISMSs' histories; an enterprise
    /// user stays listed in its ISMS (remove that with `isms user remove`).
    pub fn remove_account(&self, principal: &Principal, name: &str) -> Result<()> {
        principal.require_admin("remove an account")?;
        self.store().write(|store, batch| {
            let target = account(store, name)?;
            keeps_an_administrator(store, principal, &target, "remove")?;
            drop_account(store, batch, name)?;
            audit(batch, principal, "account.remove", vec![name.to_owned()]);
            Ok(())
        })
    }

    /// Replaces the roles of consultancy account `name`; they take effect on
    /// its next request.
    pub fn set_account_roles(
        &self,
        principal: &Principal,
        name: &str,
        roles: &[String],
    ) -> Result<AccountView> {
        principal.require_admin("change an account's roles")?;
        for role in roles {
            if zone_of(role).is_none() {
                return Err(ServiceError::Refused(format!(
                    "`{role}` is not a role; the roles are {}",
                    ROLE_ZONES.map(|(r, _)| r).join(", ")
                )));
            }
        }
        let changed = self.store().write(|store, batch| {
            let mut target = account(store, name)?;
            if let Some(isms) = &target.isms {
                return Err(ServiceError::Refused(format!(
                    "`{name}` is a user of the enterprise {isms}: its roles are those the ISMS gives it; change them with `mmsm isms user roles {isms} {name} --role ROLE` or on the enterprise's Users page"
                )));
            }
            if roles.is_empty() && !target.admin {
                return Err(ServiceError::Refused(
                    "give the account at least one role (--role)".into(),
                ));
            }
            if let Some(role) = roles.iter().find(|r| is_enterprise_role(r)) {
                return Err(ServiceError::Refused(format!(
                    "`{role}` is a role inside one enterprise: a consultancy account holds consultancy roles (AGS, GED, CoS, AuS); make an account of the enterprise with `mmsm user add NAME --isms ISMS`"
                )));
            }
            let before: Vec<String> = target.roles.iter().map(|r| r.to_string()).collect();
            target.roles = roles.iter().map(|r| RoleId::new(r.clone())).collect();
            batch.put(Repo::Isms, account_key(name), &target);
            audit_detail(
                batch,
                principal,
                "account.roles",
                vec![name.to_owned()],
                Some(serde_json::json!({ "before": before, "after": roles })),
            );
            Ok::<_, ServiceError>(target)
        })?;
        self.account_view(&changed)
    }

    /// Takes ISMS `isms` from consultancy account `user`'s assignments.
    pub fn unassign_isms(&self, principal: &Principal, user: &str, isms: &str) -> Result<()> {
        principal.require_admin("unassign an ISMS from a consultancy account")?;
        self.store().write(|store, batch| {
            account(store, user)?;
            let key = assign_key(user, isms);
            if store.get::<bool>(Repo::Isms, &key)?.is_none() {
                return Err(ServiceError::NotFound {
                    kind: "assignment",
                    id: format!("{user} to {isms}"),
                    hint: format!("; `mmsm user list` shows what `{user}` is assigned"),
                });
            }
            batch.delete(Repo::Isms, key);
            audit(
                batch,
                principal,
                "account.unassign",
                vec![user.to_owned(), isms.to_owned()],
            );
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixture::msgs_kernel;
    use crate::services::{NewAccount, ONE_TIME_DAYS};
    use chrono::{Duration, Utc};
    use mmsm_store::Store;

    const PASSWORD: &str = "correct horse";

    fn add(k: &Kernel, name: &str, roles: &[&str], isms: Option<&str>, permanent: bool) {
        k.create_account(
            &Principal::local_operator(),
            NewAccount {
                name: name.into(),
                roles: roles.iter().map(|r| r.to_string()).collect(),
                admin: roles.contains(&"AGS"),
                isms: isms.map(str::to_owned),
                password: PASSWORD.into(),
                permanent,
            },
        )
        .unwrap();
    }

    fn session(k: &Kernel, name: &str) -> String {
        k.login(name, PASSWORD).unwrap().token
    }

    #[test]
    fn an_enterprise_account_holds_the_roles_its_isms_gives_from_the_next_request() {
        // Issue 17: the Users page gave nora Cl/GDS and her login still held Cl/RS only.
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let isms = &ids[0];
        add(&k, "luis", &["Cl/US"], Some(isms), true);
        let token = session(&k, "luis");
        let roles = |k: &Kernel| -> Vec<String> {
            let p = k.authenticate(&token).unwrap().principal;
            p.roles.iter().map(|r| r.to_string()).collect()
        };
        assert_eq!(roles(&k), ["Cl/US"]);
        let local = Principal::local_operator();
        k.set_user_roles(&local, isms, "luis", vec!["Cl/US".into(), "Cl/RS".into()])
            .unwrap();
        assert_eq!(
            roles(&k),
            ["Cl/RS", "Cl/US"],
            "the same session, the new roles"
        );
        let listed = k.list_accounts(&local).unwrap();
        let luis = listed.iter().find(|a| a.name == "luis").unwrap();
        assert_eq!(luis.roles, ["Cl/RS", "Cl/US"]);
        // Taken off the ISMS, the account holds no role there.
        k.remove_user(&local, isms, "luis").unwrap();
        assert!(roles(&k).is_empty());
        // An account the ISMS does not list yet joins its users.
        add(&k, "nora", &["Cl/GDS"], Some(isms), true);
        let nora = k.users(&local, isms).unwrap();
        let nora = nora.iter().find(|u| u.id.as_str() == "nora").unwrap();
        assert_eq!(nora.roles, [RoleId::new("Cl/GDS")]);
        // Its roles are not the account's to change.
        match k.set_account_roles(&local, "nora", &["Cl/RS".into()]) {
            Err(ServiceError::Refused(m)) => assert!(m.contains("isms user roles"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_one_time_password_must_be_changed_and_expires_after_a_week() {
        let k = Kernel::new(Store::temporary().unwrap());
        add(&k, "carla", &["CoS"], None, false);
        let login = k.login("carla", PASSWORD).unwrap();
        assert!(login.account.must_change_password);
        let auth = k.authenticate(&login.token).unwrap();
        assert!(auth.must_change_password);
        k.set_password(&auth.principal, "carla", "my own long phrase", false)
            .unwrap();
        let auth = k.authenticate(&login.token).unwrap();
        assert!(!auth.must_change_password, "the same session goes on");

        // An administrator's reset: a one-time password again, and the
        // sessions opened before it are closed.
        let local = Principal::local_operator();
        k.set_password(&local, "carla", "reset by an admin", false)
            .unwrap();
        assert!(k.authenticate(&login.token).is_err());
        assert!(
            k.login("carla", "reset by an admin")
                .unwrap()
                .account
                .must_change_password
        );
        // A week later it no longer opens a session.
        let later = Kernel::new(k.store().clone())
            .with_clock(Utc::now() + Duration::days(ONE_TIME_DAYS as i64) + Duration::hours(1));
        match later.login("carla", "reset by an admin") {
            Err(ServiceError::Unauthenticated(m)) => assert!(m.contains("has expired"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_disabled_account_cannot_log_in_and_its_sessions_end_for_good() {
        let k = Kernel::new(Store::temporary().unwrap());
        let local = Principal::local_operator();
        add(&k, "carla", &["CoS"], None, true);
        let token = session(&k, "carla");
        let view = k.set_account_disabled(&local, "carla", true).unwrap();
        assert!(view.disabled);
        assert!(k.authenticate(&token).is_err());
        match k.login("carla", PASSWORD) {
            Err(ServiceError::Unauthenticated(m)) => assert!(m.contains("is disabled"), "{m}"),
            other => panic!("{other:?}"),
        }
        k.set_account_disabled(&local, "carla", false).unwrap();
        assert!(
            k.authenticate(&token).is_err(),
            "enabling revives no session"
        );
        assert!(k.login("carla", PASSWORD).is_ok());
        let actions: Vec<String> = k
            .audit_log(&local, None)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.iter().any(|a| a == "account.disable"));
        assert!(actions.iter().any(|a| a == "account.enable"));
    }

    #[test]
    fn a_removed_account_takes_its_tokens_and_assignments_and_a_new_one_of_that_name_starts_clean()
    {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let local = Principal::local_operator();
        add(&k, "carla", &["CoS"], None, true);
        k.assign_isms(&local, "carla", &ids[0]).unwrap();
        let listed = k.list_accounts(&local).unwrap();
        assert_eq!(listed[0].assigned, [ids[0].clone()]);
        let login = k.login("carla", PASSWORD).unwrap();
        let carla = k.authenticate(&login.token).unwrap().principal;
        let token = k
            .create_token(&carla, Some(&login.token), None, None, false)
            .unwrap();
        k.remove_account(&local, "carla").unwrap();
        assert!(k.authenticate(&token.token).is_err());
        assert!(k.login("carla", PASSWORD).is_err());
        assert!(k.list_accounts(&local).unwrap().is_empty());
        // A new account of the same name neither inherits the old session nor its assignment.
        add(&k, "carla", &["CoS"], None, true);
        assert!(k.authenticate(&login.token).is_err());
        assert!(k.list_accounts(&local).unwrap()[0].assigned.is_empty());
        assert!(k
            .isms(&k.account_principal("carla").unwrap().unwrap(), &ids[0])
            .is_err());
    }

    #[test]
    fn the_last_administrator_and_ones_own_account_are_kept() {
        let k = Kernel::new(Store::temporary().unwrap());
        add(&k, "root", &["AGS"], None, true);
        add(&k, "carla", &["CoS"], None, true);
        let root = k.account_principal("root").unwrap().unwrap();
        for outcome in [
            k.set_account_disabled(&root, "root", true).map(|_| ()),
            k.remove_account(&root, "root"),
        ] {
            match outcome {
                Err(ServiceError::Refused(m)) => assert!(m.contains("their own account"), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        let local = Principal::local_operator();
        match k.remove_account(&local, "root") {
            Err(ServiceError::Refused(m)) => assert!(m.contains("last administrator"), "{m}"),
            other => panic!("{other:?}"),
        }
        let carla = k.account_principal("carla").unwrap().unwrap();
        assert!(matches!(
            k.set_account_disabled(&carla, "root", true),
            Err(ServiceError::Forbidden(_))
        ));
        // With a second administrator, the first may go.
        add(&k, "root2", &["AGS"], None, true);
        k.remove_account(&local, "root").unwrap();
    }

    #[test]
    fn a_consultancy_accounts_roles_change_and_an_isms_is_unassigned() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let local = Principal::local_operator();
        add(&k, "carla", &["CoS"], None, true);
        let token = session(&k, "carla");
        let view = k
            .set_account_roles(&local, "carla", &["AuS".into()])
            .unwrap();
        assert_eq!(view.roles, ["AuS"]);
        let p = k.authenticate(&token).unwrap().principal;
        assert!(p.roles.contains(&RoleId::new("AuS")) && p.roles.len() == 1);
        for (roles, says) in [
            (vec!["Cl/RS".to_owned()], "inside one enterprise"),
            (vec!["XX".to_owned()], "is not a role"),
            (vec![], "at least one role"),
        ] {
            match k.set_account_roles(&local, "carla", &roles) {
                Err(ServiceError::Refused(m)) => assert!(m.contains(says), "{m}"),
                other => panic!("{roles:?}: {other:?}"),
            }
        }
        k.assign_isms(&local, "carla", &ids[0]).unwrap();
        assert!(k.isms(&p, &ids[0]).is_ok());
        k.unassign_isms(&local, "carla", &ids[0]).unwrap();
        assert!(k.isms(&p, &ids[0]).is_err());
        assert!(matches!(
            k.unassign_isms(&local, "carla", &ids[0]),
            Err(ServiceError::NotFound { .. })
        ));
    }
}
