//! Accounts, sessions and API tokens (issue 8.4).
//!
//! An account has roles, may be an administrator, and is either a
//! consultancy account or an enterprise user bound to one ISMS. Passwords are
//! stored as argon2 hashes; sessions and API tokens are random 256-bit
//! secrets of which the store keeps only the sha256. Every change is one
//! atomic batch with its audit entry. The server authenticates with
//! [`Kernel::authenticate`] and passes the resulting [`Principal`] to the
//! services, which do the access checks.

use std::collections::BTreeSet;

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::{zone_of, Principal, ROLE_ZONES};
use mmsm_model::RoleId;
use mmsm_store::{chain::hex, Repo};

use super::{audit, Kernel, Result, ServiceError};

/// How long a browser session lasts, in seconds (12 hours).
pub const SESSION_SECONDS: u64 = 12 * 3600;

/// How long a claim of the first start holds ([`Kernel::claim_first_start`]).
pub const FIRST_START_SECONDS: u64 = 300;

/// Where the claim of the first start is kept (info repository).
const FIRST_START_KEY: &str = "first-start";
/// How long an API token lasts unless told otherwise, in days.
pub const TOKEN_DAYS: u64 = 90;
/// How long a one-time password (chosen for someone else) may be used, in days.
pub const ONE_TIME_DAYS: u64 = 7;

/// An account as stored (`account/{name}` in the isms repository).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// The login name.
    pub name: String,
    /// The roles held.
    pub roles: BTreeSet<RoleId>,
    /// Administrators see every ISMS and manage accounts.
    #[serde(default)]
    pub admin: bool,
    /// The ISMS of an enterprise user; `None` for a consultancy account.
    #[serde(default)]
    pub isms: Option<String>,
    /// The argon2 hash of the password (PHC string).
    pub password_hash: String,
    /// When it was created (seconds since the Unix epoch).
    pub created_at: u64,
    /// Who created it.
    pub created_by: String,
    /// A disabled account cannot log in and its sessions and tokens stop working.
    #[serde(default)]
    pub disabled: bool,
    /// Set when someone else chose the password (an administrator, or the
    /// server's first start): until when that one-time password may be used.
    /// Its owner must change it before doing anything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_until: Option<u64>,
    /// A random mark copied into each of its sessions and tokens; a new one
    /// (when the account is disabled, an administrator sets its password,
    /// or the account is removed and made again) voids every earlier one.
    #[serde(default)]
    pub session_epoch: String,
}

/// An account without its secret: what the API and `user list` show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub disabled: bool,
    /// Whether its password is a one-time password still to be changed.
    #[serde(default)]
    pub must_change_password: bool,
    /// The ISMSs a consultancy account is assigned to (`mmsm user assign`).
    #[serde(default)]
    pub assigned: Vec<String>,
}

/// What an account is to be created with.
#[derive(Debug, Clone, Deserialize)]
pub struct NewAccount {
    /// The login name: letters, digits, `.`, `_` or `-`.
    pub name: String,
    /// The roles, e.g. `CoS` or `Cl/RS`.
    pub roles: Vec<String>,
    /// Whether it is an administrator.
    #[serde(default)]
    pub admin: bool,
    /// The ISMS of an enterprise user.
    #[serde(default)]
    pub isms: Option<String>,
    /// The password ([`check_password`]: 12 characters at least).
    pub password: String,
    /// Keep the password as it is: without this, a password chosen for
    /// someone else is a one-time password (see [`ONE_TIME_DAYS`]).
    #[serde(default)]
    pub permanent: bool,
}

/// A browser session or an API token, stored under the sha256 of its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The account.
    pub user: String,
    /// When it expires (seconds since the Unix epoch).
    pub expires: u64,
    /// The CSRF token of the session's forms.
    pub csrf: String,
    /// `session` (login) or `token` (API token).
    pub kind: String,
    /// What a token is for.
    #[serde(default)]
    pub label: Option<String>,
    /// A token's login session (the key of its record): the token ends with
    /// it. `None` for a session, and for a long-lived token an administrator
    /// minted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// When it was made (seconds since the Unix epoch; 0 before tokens were listed).
    #[serde(default)]
    pub created: u64,
    /// The account's [`Account::session_epoch`] when it was made.
    #[serde(default)]
    pub epoch: String,
}

/// A fresh [`Account::session_epoch`].
pub(super) fn new_epoch() -> String {
    random_secret()[..16].to_owned()
}

/// An API token as its owner and administrators see it: never the secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenView {
    /// The token's id (the start of its hash), for `revoke`.
    pub id: String,
    /// Whose it is.
    pub user: String,
    /// What it is for.
    pub label: Option<String>,
    /// When it was made (seconds since the Unix epoch).
    pub created: u64,
    /// When it expires (seconds since the Unix epoch).
    pub expires: u64,
    /// Whether it ends with the login session that made it.
    pub ends_with_session: bool,
}

/// What a successful login returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Login {
    /// The secret: the session cookie's value, or `Authorization: Bearer`.
    pub token: String,
    /// The CSRF token to send back with every form.
    pub csrf: String,
    /// When it expires (seconds since the Unix epoch).
    pub expires: u64,
    /// The account.
    pub account: AccountView,
}

/// An authenticated request: who, and its session's CSRF token.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticated {
    /// The principal to pass to the services.
    pub principal: Principal,
    /// The session's CSRF token.
    pub csrf: String,
    /// The account logged in with a one-time password: it may change its
    /// password, read who it is and log out, nothing else.
    pub must_change_password: bool,
}

pub(super) fn account_key(name: &str) -> String {
    format!("account/{name}")
}

fn session_key(token: &str) -> String {
    format!("session/{}", token_hash(token))
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The index of `user`'s API tokens: `token/{user}/{id}` -> the token's hash.
pub(super) fn token_index_key(user: &str, id: &str) -> String {
    format!("token/{user}/{id}")
}

/// A token's id: the first 12 hex digits of its hash.
fn token_id(hash: &str) -> &str {
    &hash[..12.min(hash.len())]
}

/// The key recording that consultancy user `user` is assigned to ISMS `isms`.
pub(crate) fn assign_key(user: &str, isms: &str) -> String {
    format!("assign/{user}/{isms}")
}

/// A random secret of 32 bytes, hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    hex(&bytes)
}

/// A random password of 16 letters and digits (for the first admin account).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

impl Account {
    /// The view without the hash, with the roles as stored (see
    /// [`Kernel::account_view`] for the roles an enterprise account holds).
    pub fn view(&self) -> AccountView {
        AccountView {
            name: self.name.clone(),
            roles: self.roles.iter().map(|r| r.to_string()).collect(),
            admin: self.admin,
            isms: self.isms.clone(),
            disabled: self.disabled,
            must_change_password: self.one_time_until.is_some(),
            assigned: Vec::new(),
        }
    }

    /// The principal of a consultancy account (its own roles). An enterprise
    /// account's roles are those its ISMS gives it: [`Kernel::principal_of`].
    fn consultancy_principal(&self) -> Principal {
        let mut p = Principal::new(self.name.clone(), self.roles.iter().cloned());
        p.admin = self.admin;
        p.enterprise = self.isms.clone();
        p
    }
}

/// Tokens are managed by their owner and by administrators.
fn may_manage_tokens(principal: &Principal, user: &str) -> Result<()> {
    if principal.user == user {
        return Ok(());
    }
    Ok(principal.require_admin(&format!("manage the API tokens of `{user}`"))?)
}

/// The shortest password an account may have.
pub const MIN_PASSWORD: usize = 12;

/// Refuses a password that is short, one character repeated, the account's
/// name, or among the most common ones (`common-passwords.txt`).
pub fn check_password(password: &str, account: &str) -> Result<()> {
    let refuse = |why: &str| Err(ServiceError::Refused(format!("the password {why}")));
    if password.chars().count() < MIN_PASSWORD {
        return refuse(&format!(
            "is too short: use at least {MIN_PASSWORD} characters (a few words make a good one)"
        ));
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return refuse("repeats one character: use words or a mix");
    }
    let folded = password.trim().to_lowercase();
    if folded == account.to_lowercase() {
        return refuse("is the account's name: choose another");
    }
    let common = include_str!("common-passwords.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|l| l.trim() == folded);
    if common {
        return refuse("is among the most common ones: choose another");
    }
    Ok(())
}

/// Names no account may take: the principals the kernel acts as
/// (`Principal::local_operator`, `Principal::system`), which see every ISMS.
const RESERVED_NAMES: [&str; 2] = ["local", "system"];

/// A role held inside one enterprise (the client's `Cl/...` roles and its
/// speaker `Int`), as opposed to the consultancy's.
pub(super) fn is_enterprise_role(role: &str) -> bool {
    role.starts_with("Cl/") || role == "Int"
}

impl Kernel {
    /// Creates an account (administrators only; the CLI's local operator is one).
    pub fn create_account(&self, principal: &Principal, new: NewAccount) -> Result<AccountView> {
        principal.require_admin("create an account")?;
        let name = new.name.trim().to_owned();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(ServiceError::Refused(format!(
                "`{name}` is not a valid account name: use letters, digits, `.`, `_` or `-`"
            )));
        }
        mmsm_model::check_length("the account name", &name, mmsm_model::MAX_NAME)
            .map_err(ServiceError::Refused)?;
        if RESERVED_NAMES.contains(&name.as_str()) {
            return Err(ServiceError::Refused(format!(
                "`{name}` is reserved for the kernel itself (the command line's operator, the scheduler): choose another name"
            )));
        }
        if new.isms.is_none()
            && !new.admin
            && !new.roles.is_empty()
            && new.roles.iter().all(|r| is_enterprise_role(r))
        {
            return Err(ServiceError::Refused(format!(
                "an account with only enterprise roles ({}) belongs to one enterprise: name its ISMS with --isms ID",
                new.roles.join(", ")
            )));
        }
        check_password(&new.password, &name)?;
        if new.roles.is_empty() && !new.admin {
            return Err(ServiceError::Refused(format!(
                "give the account at least one role, one of {}",
                ROLE_ZONES.map(|(r, _)| r).join(", ")
            )));
        }
        for role in &new.roles {
            if zone_of(role).is_none() {
                return Err(ServiceError::Refused(format!(
                    "`{role}` is not a role; the roles are {}",
                    ROLE_ZONES.map(|(r, _)| r).join(", ")
                )));
            }
        }
        if let Some(isms) = &new.isms {
            self.isms(principal, isms)?;
            if let Some(role) = new.roles.iter().find(|r| !is_enterprise_role(r)) {
                return Err(ServiceError::Refused(format!(
                    "an enterprise user (--isms {isms}) holds enterprise roles (Cl/..., Int), not the consultancy role `{role}`"
                )));
            }
        }
        let hash = hash_password(&new.password)?;
        let now = self.now();
        self.store()
            .write(|store, batch| {
                if store
                    .get::<Account>(Repo::Isms, &account_key(&name))?
                    .is_some()
                {
                    return Err(ServiceError::Exists {
                        kind: "account",
                        id: name.clone(),
                        hint: "; choose another name".into(),
                    });
                }
                let account = Account {
                    name: name.clone(),
                    roles: new.roles.iter().map(|r| RoleId::new(r.clone())).collect(),
                    admin: new.admin,
                    isms: new.isms.clone(),
                    password_hash: hash.clone(),
                    created_at: now,
                    created_by: principal.user.clone(),
                    disabled: false,
                    one_time_until: (!new.permanent).then_some(now + ONE_TIME_DAYS * 86400),
                    session_epoch: new_epoch(),
                };
                batch.put(Repo::Isms, account_key(&name), &account);
                // The ISMS is the one place an enterprise user's roles live: an
                // account it does not list yet joins its users with the roles given.
                if let Some(isms) = &new.isms {
                    let listed = super::stored::users(store, isms)?
                        .is_some_and(|users| users.iter().any(|u| u.id.as_str() == name));
                    if !listed {
                        self.add_user_in(
                            store,
                            batch,
                            principal,
                            isms,
                            mmsm_model::User {
                                id: mmsm_model::UserId::new(name.clone()),
                                name: name.clone(),
                                roles: account.roles.iter().cloned().collect(),
                                department: None,
                                email: None,
                            },
                        )?;
                    }
                }
                let mut ids = vec![format!("account/{name}")];
                ids.extend(account.isms.iter().cloned());
                audit(batch, principal, "account.create", ids);
                Ok(account)
            })
            .and_then(|account| self.account_view(&account))
    }

    /// The principal acting for `account`. An enterprise account holds the
    /// roles its ISMS gives the user of the same name (`isms user roles`, the
    /// Users page), read on every request, so that a change takes effect on
    /// the next one; an account its ISMS no longer lists holds no role.
    pub fn principal_of(&self, account: &Account) -> Result<Principal> {
        let mut principal = account.consultancy_principal();
        if let Some(isms) = &account.isms {
            principal.roles = super::stored::users(self.store(), isms)?
                .and_then(|users| users.into_iter().find(|u| u.id.as_str() == account.name))
                .map(|u| u.roles.into_iter().collect())
                .unwrap_or_default();
        }
        Ok(principal)
    }

    /// The account as people read it: an enterprise account with the roles
    /// its ISMS gives it, a consultancy account with the ISMSs assigned to it.
    pub fn account_view(&self, account: &Account) -> Result<AccountView> {
        let mut view = account.view();
        if account.isms.is_some() {
            view.roles = self
                .principal_of(account)?
                .roles
                .iter()
                .map(|r| r.to_string())
                .collect();
        } else {
            view.assigned = self
                .store()
                .keys(Repo::Isms, &assign_key(&account.name, ""))?
                .into_iter()
                .filter_map(|k| k.rsplit('/').next().map(str::to_owned))
                .collect();
        }
        Ok(view)
    }

    /// Every account (administrators only).
    pub fn list_accounts(&self, principal: &Principal) -> Result<Vec<AccountView>> {
        principal.require_admin("list the accounts")?;
        self.store()
            .scan::<Account>(Repo::Isms, "account/")?
            .into_iter()
            .map(|(_, a)| self.account_view(&a))
            .collect()
    }

    /// Whether the store has any account yet.
    pub fn has_accounts(&self) -> Result<bool> {
        Ok(self.store().any(Repo::Isms, "account/")?)
    }

    /// Claims the first start of a store with no account, at `now`: of
    /// several servers starting at once on one empty database, exactly one
    /// gets `true` and makes the admin account and the demo. A claim whose
    /// server died before making them lapses after [`FIRST_START_SECONDS`].
    pub fn claim_first_start(&self, now: u64) -> Result<bool> {
        self.store().write(|store, batch| {
            if store.any(Repo::Isms, "account/")? {
                return Ok(false);
            }
            let claimed: Option<u64> = store.get(Repo::Info, FIRST_START_KEY)?;
            if claimed.is_some_and(|at| now < at + FIRST_START_SECONDS) {
                return Ok(false);
            }
            batch.put(Repo::Info, FIRST_START_KEY, &now);
            Ok(true)
        })
    }

    /// The principal of account `name`, for the CLI's `--as NAME`.
    pub fn account_principal(&self, name: &str) -> Result<Option<Principal>> {
        self.store()
            .get::<Account>(Repo::Isms, &account_key(name))?
            .map(|a| self.principal_of(&a))
            .transpose()
    }

    /// Checks a password and opens a session. A wrong user or password gives
    /// the same error, so that it does not tell which accounts exist.
    pub fn login(&self, user: &str, password: &str) -> Result<Login> {
        let account: Option<Account> = self.store().get(Repo::Isms, &account_key(user))?;
        // An unknown user costs the same hash as a known one: the time of
        // the answer does not tell which names exist.
        let verified = match &account {
            Some(a) => verify_password(&a.password_hash, password),
            None => {
                let _ = verify_password(dummy_hash(), password);
                false
            }
        };
        let Some(account) = account.filter(|_| verified) else {
            // Failed logins are in the trail too (administrators read them).
            self.store().write(|_, batch| {
                audit(
                    batch,
                    &Principal::system(),
                    "account.login.failed",
                    vec![user.chars().take(64).collect()],
                );
                Ok::<_, ServiceError>(())
            })?;
            return Err(ServiceError::Unauthenticated(
                "wrong user name or password".into(),
            ));
        };
        // Said only to whoever knows the password: the refusal tells
        // nothing to someone guessing names.
        if account.disabled {
            return Err(ServiceError::Unauthenticated(format!(
                "the account `{}` is disabled: ask an administrator to enable it",
                account.name
            )));
        }
        if account
            .one_time_until
            .is_some_and(|until| until <= self.now())
        {
            return Err(ServiceError::Unauthenticated(format!(
                "the one-time password of `{}` has expired ({ONE_TIME_DAYS} days after it was set): ask an administrator for a new one",
                account.name
            )));
        }
        let token = random_secret();
        let session = Session {
            user: account.name.clone(),
            expires: self.now() + SESSION_SECONDS,
            csrf: random_secret(),
            kind: "session".into(),
            label: None,
            parent: None,
            created: self.now(),
            epoch: account.session_epoch.clone(),
        };
        let principal = self.principal_of(&account)?;
        let view = self.account_view(&account)?;
        self.store().write(|_, batch| {
            batch.put(Repo::Isms, session_key(&token), &session);
            audit(
                batch,
                &principal,
                "account.login",
                vec![account.name.clone()],
            );
            Ok::<_, ServiceError>(())
        })?;
        Ok(Login {
            token,
            csrf: session.csrf,
            expires: session.expires,
            account: view,
        })
    }

    /// Records in the audit trail that failed logins locked `keys` (`user:NAME`,
    /// `ip:ADDRESS`): the next attempts wait.
    pub fn record_login_lockout(&self, keys: Vec<String>) -> Result<()> {
        self.store().write(|_, batch| {
            let keys = keys
                .into_iter()
                .map(|k| k.chars().take(80).collect())
                .collect();
            audit(batch, &Principal::system(), "account.login.locked", keys);
            Ok::<_, ServiceError>(())
        })
    }

    /// Ends the session or revokes the token `token`.
    pub fn logout(&self, token: &str) -> Result<()> {
        let Ok(auth) = self.authenticate(token) else {
            return Ok(());
        };
        self.store().write(|_, batch| {
            batch.delete(Repo::Isms, session_key(token));
            audit(
                batch,
                &auth.principal,
                "account.logout",
                vec![auth.principal.user.clone()],
            );
            Ok::<_, ServiceError>(())
        })
    }

    /// An API token for scripts and integrations, acting as `principal`, for
    /// `days` (default and at most [`TOKEN_DAYS`]). It ends with the login
    /// session `caller` (the secret the request came with; a token made with
    /// a token ends with that token's session), unless `long_lived`, which
    /// only an administrator may ask.
    pub fn create_token(
        &self,
        principal: &Principal,
        caller: Option<&str>,
        label: Option<String>,
        days: Option<u64>,
        long_lived: bool,
    ) -> Result<Login> {
        let account: Account = self
            .store()
            .get(Repo::Isms, &account_key(&principal.user))?
            .ok_or_else(|| {
                ServiceError::Refused(format!(
                    "`{}` has no account: only accounts get API tokens",
                    principal.user
                ))
            })?;
        let days = days.unwrap_or(TOKEN_DAYS);
        if !(1..=TOKEN_DAYS).contains(&days) {
            return Err(ServiceError::Refused(format!(
                "a token lives 1 to {TOKEN_DAYS} days, not {days}"
            )));
        }
        if long_lived && !principal.admin {
            return Err(ServiceError::Refused(
                "only an administrator makes a long-lived token (one that outlives the login session)"
                    .into(),
            ));
        }
        let parent = match (long_lived, caller) {
            (true, _) | (false, None) => None,
            (false, Some(caller)) => {
                let session: Option<Session> =
                    self.store().get(Repo::Isms, &session_key(caller))?;
                match session {
                    Some(s) if s.kind == "token" => s.parent,
                    Some(_) => Some(token_hash(caller)),
                    None => None,
                }
            }
        };
        let token = random_secret();
        let hash = token_hash(&token);
        let now = self.now();
        let session = Session {
            user: account.name.clone(),
            expires: now + days * 86400,
            csrf: random_secret(),
            kind: "token".into(),
            label: label.clone(),
            parent,
            created: now,
            epoch: account.session_epoch.clone(),
        };
        self.store().write(|_, batch| {
            batch.put(Repo::Isms, session_key(&token), &session);
            batch.put(
                Repo::Isms,
                token_index_key(&account.name, token_id(&hash)),
                &hash,
            );
            audit(
                batch,
                principal,
                "account.token",
                vec![
                    account.name.clone(),
                    token_id(&hash).to_owned(),
                    label.clone().unwrap_or_default(),
                ],
            );
            Ok::<_, ServiceError>(())
        })?;
        Ok(Login {
            token,
            csrf: session.csrf,
            expires: session.expires,
            account: self.account_view(&account)?,
        })
    }

    /// The live API tokens of `user` (its own, or any for an administrator).
    pub fn list_tokens(&self, principal: &Principal, user: &str) -> Result<Vec<TokenView>> {
        may_manage_tokens(principal, user)?;
        if self
            .store()
            .get::<Account>(Repo::Isms, &account_key(user))?
            .is_none()
        {
            return Err(ServiceError::NotFound {
                kind: "account",
                id: user.to_owned(),
                hint: "; `mmsm user list` shows the accounts".into(),
            });
        }
        let now = self.now();
        let mut views = Vec::new();
        for (_, hash) in self
            .store()
            .scan::<String>(Repo::Isms, &token_index_key(user, ""))?
        {
            let Some(session) = self
                .store()
                .get::<Session>(Repo::Isms, &format!("session/{hash}"))?
            else {
                continue;
            };
            if session.expires <= now || !self.parent_alive(&session)? {
                continue;
            }
            views.push(TokenView {
                id: token_id(&hash).to_owned(),
                user: session.user,
                label: session.label,
                created: session.created,
                expires: session.expires,
                ends_with_session: session.parent.is_some(),
            });
        }
        Ok(views)
    }

    /// Revokes `user`'s token `id` (its own, or any for an administrator).
    pub fn revoke_token(&self, principal: &Principal, user: &str, id: &str) -> Result<()> {
        may_manage_tokens(principal, user)?;
        let index = token_index_key(user, id);
        self.store().write(|store, batch| {
            let Some(hash) = store.get::<String>(Repo::Isms, &index)? else {
                return Err(ServiceError::NotFound {
                    kind: "token",
                    id: id.to_owned(),
                    hint: format!("; `mmsm user tokens {user}` lists them"),
                });
            };
            batch.delete(Repo::Isms, format!("session/{hash}"));
            batch.delete(Repo::Isms, index.clone());
            audit(
                batch,
                principal,
                "account.token.revoke",
                vec![user.to_owned(), id.to_owned()],
            );
            Ok(())
        })
    }

    /// Whether the login session a token ends with is still open.
    fn parent_alive(&self, session: &Session) -> Result<bool> {
        let Some(parent) = &session.parent else {
            return Ok(true);
        };
        let parent: Option<Session> = self.store().get(Repo::Isms, &format!("session/{parent}"))?;
        Ok(parent.is_some_and(|p| p.expires > self.now()))
    }

    /// The principal of a session cookie or API token.
    pub fn authenticate(&self, token: &str) -> Result<Authenticated> {
        let unauthenticated = || {
            ServiceError::Unauthenticated(
                "log in first: the session is unknown or has expired".into(),
            )
        };
        let session: Session = self
            .store()
            .get(Repo::Isms, &session_key(token))?
            .ok_or_else(unauthenticated)?;
        if session.expires <= self.now() || !self.parent_alive(&session)? {
            return Err(unauthenticated());
        }
        let account: Account = self
            .store()
            .get(Repo::Isms, &account_key(&session.user))?
            // A session of an account removed and made again, or made before
            // the account was disabled or its password reset, is void.
            .filter(|a: &Account| !a.disabled && session.epoch == a.session_epoch)
            .ok_or_else(unauthenticated)?;
        Ok(Authenticated {
            principal: self.principal_of(&account)?,
            csrf: session.csrf,
            must_change_password: account.one_time_until.is_some(),
        })
    }

    /// Sets the password of account `name`: its own, or any for an
    /// administrator. The policy of [`check_password`] applies; the change
    /// is in the audit trail. A password set for someone else is a one-time
    /// password (its owner changes it at the next login) unless `permanent`.
    pub fn set_password(
        &self,
        principal: &Principal,
        name: &str,
        password: &str,
        permanent: bool,
    ) -> Result<()> {
        if principal.user != name {
            principal.require_admin(&format!("set the password of `{name}`"))?;
        }
        check_password(password, name)?;
        let hash = hash_password(password)?;
        self.store().write(|store, batch| {
            let mut account: Account =
                store.get(Repo::Isms, &account_key(name))?.ok_or_else(|| {
                    ServiceError::NotFound {
                        kind: "account",
                        id: name.to_owned(),
                        hint: "; `mmsm user list` shows the accounts".into(),
                    }
                })?;
            account.password_hash = hash.clone();
            let for_someone_else = principal.user != name;
            account.one_time_until =
                (for_someone_else && !permanent).then_some(self.now() + ONE_TIME_DAYS * 86400);
            if for_someone_else {
                // Whoever held the account's sessions must log in again.
                account.session_epoch = new_epoch();
            }
            batch.put(Repo::Isms, account_key(name), &account);
            audit(batch, principal, "account.password", vec![name.to_owned()]);
            Ok(())
        })
    }

    /// Assigns consultancy account `user` to ISMS `isms` (administrators only).
    pub fn assign_isms(&self, principal: &Principal, user: &str, isms: &str) -> Result<()> {
        principal.require_admin("assign an ISMS to a consultancy account")?;
        self.isms(principal, isms)?;
        let account: Account = self
            .store()
            .get(Repo::Isms, &account_key(user))?
            .ok_or_else(|| ServiceError::NotFound {
                kind: "account",
                id: user.to_owned(),
                hint: "; create it with `mmsm user add`".into(),
            })?;
        if account.isms.is_some() {
            return Err(ServiceError::Refused(format!(
                "`{user}` is an enterprise user: it belongs to one ISMS and cannot be assigned others"
            )));
        }
        self.store().write(|_, batch| {
            batch.put(Repo::Isms, assign_key(user, isms), &true);
            audit(
                batch,
                principal,
                "account.assign",
                vec![user.to_owned(), isms.to_owned()],
            );
            Ok(())
        })
    }
}

fn hash_password(password: &str) -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| ServiceError::Refused(format!("the password cannot be hashed: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Refused(format!("the password cannot be hashed: {e}")))
}

/// The hash an unknown user's password is checked against: a real argon2
/// hash (of a random password), made once per process.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_password()).unwrap_or_default())
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsm_store::Store;

    fn kernel() -> Kernel {
        Kernel::new(Store::temporary().unwrap())
    }

    fn refusal(k: &Kernel, name: &str, roles: &[&str], isms: Option<&str>) -> String {
        let new = NewAccount {
            name: name.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            admin: false,
            isms: isms.map(str::to_owned),
            password: "correct horse".into(),
            permanent: true,
        };
        match k.create_account(&Principal::local_operator(), new) {
            Err(ServiceError::Refused(message)) => message,
            other => panic!("{name} {roles:?}: {other:?}"),
        }
    }

    #[test]
    fn the_first_start_is_claimed_once_until_the_claim_lapses_or_an_account_exists() {
        let k = kernel();
        assert!(k.claim_first_start(1_000).unwrap());
        assert!(!k.claim_first_start(1_001).unwrap(), "claimed");
        assert!(
            k.claim_first_start(1_000 + FIRST_START_SECONDS).unwrap(),
            "a claimant that died is replaced"
        );
        k.create_account(
            &Principal::local_operator(),
            NewAccount {
                name: "ana".into(),
                roles: vec!["CoS".into()],
                admin: true,
                isms: None,
                password: "a long enough passphrase".into(),
                permanent: true,
            },
        )
        .unwrap();
        assert!(!k.claim_first_start(1_000_000).unwrap(), "set up already");
    }

    #[test]
    fn names_the_kernel_acts_as_and_enterprise_roles_without_an_enterprise_are_refused() {
        // Issue 18: `local` saw every ISMS generated from the command line,
        // and `jorge` with Cl/US alone every ISMS that had a user `jorge`.
        let k = kernel();
        for name in ["local", "system"] {
            let message = refusal(&k, name, &["CoS"], None);
            assert!(message.contains("is reserved"), "{message}");
        }
        for roles in [&["Cl/US"][..], &["Cl/RS", "Int"][..]] {
            let message = refusal(&k, "jorge", roles, None);
            assert!(message.contains("name its ISMS with --isms"), "{message}");
        }
        assert!(k
            .list_accounts(&Principal::local_operator())
            .unwrap()
            .is_empty());
        // A consultancy role needs no enterprise.
        k.create_account(
            &Principal::local_operator(),
            NewAccount {
                name: "jorge".into(),
                roles: vec!["CoS".into(), "Cl/US".into()],
                admin: false,
                isms: None,
                password: "correct horse".into(),
                permanent: true,
            },
        )
        .unwrap();
    }

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        for (password, why) in [
            ("correct", "too short"),
            ("            ", "repeats one character"),
            ("aaaaaaaaaaaaaaaa", "repeats one character"),
            ("Password1234", "most common"),
            (" qwerty123456 ", "most common"),
            ("Marta.Lopez-2", "account's name"),
        ] {
            match check_password(password, "marta.lopez-2") {
                Err(ServiceError::Refused(message)) => {
                    assert!(message.contains(why), "{password:?}: {message}")
                }
                other => panic!("{password:?}: {other:?}"),
            }
        }
        check_password("correct horse", "marta").unwrap();
    }

    #[test]
    fn a_password_is_changed_by_its_owner_or_an_administrator_and_the_old_one_stops_working() {
        let k = kernel();
        account(&k, "carla", false);
        account(&k, "pepe", false);
        let carla = k
            .authenticate(&k.login("carla", "correct horse").unwrap().token)
            .unwrap()
            .principal;
        assert!(matches!(
            k.set_password(&carla, "carla", "short", false),
            Err(ServiceError::Refused(m)) if m.contains("too short")
        ));
        k.set_password(&carla, "carla", "a new long phrase", false)
            .unwrap();
        assert!(k.login("carla", "correct horse").is_err());
        assert!(k.login("carla", "a new long phrase").is_ok());
        assert!(matches!(
            k.set_password(&carla, "pepe", "another long phrase", false),
            Err(ServiceError::Forbidden(_))
        ));
        k.set_password(
            &Principal::local_operator(),
            "pepe",
            "reset by the admin",
            true,
        )
        .unwrap();
        assert!(k.login("pepe", "reset by the admin").is_ok());
        let trail = k.audit_log(&Principal::local_operator(), None).unwrap();
        assert_eq!(
            trail
                .iter()
                .filter(|e| e.action == "account.password")
                .count(),
            2
        );
    }

    #[test]
    fn failed_logins_are_in_the_audit_trail() {
        let k = kernel();
        account(&k, "carla", false);
        assert!(k.login("carla", "wrong password").is_err());
        assert!(k.login("nobody", "whatever").is_err());
        let trail = k.audit_log(&Principal::local_operator(), None).unwrap();
        let failed: Vec<&str> = trail
            .iter()
            .filter(|e| e.action == "account.login.failed")
            .map(|e| e.ids[0].as_str())
            .collect();
        assert_eq!(failed, ["carla", "nobody"]);
        check_password("Clínica-Sonrisa-2026", "marta").unwrap();
    }

    fn account(k: &Kernel, name: &str, admin: bool) {
        k.create_account(
            &Principal::local_operator(),
            NewAccount {
                name: name.into(),
                roles: vec!["CoS".into()],
                admin,
                isms: None,
                password: "correct horse".into(),
                permanent: true,
            },
        )
        .unwrap();
    }

    #[test]
    fn tokens_end_with_their_login_session_and_are_listed_and_revoked() {
        let k = kernel();
        account(&k, "carla", false);
        account(&k, "root", true);
        let login = k.login("carla", "correct horse").unwrap();
        let carla = k.authenticate(&login.token).unwrap().principal;
        let token = k
            .create_token(&carla, Some(&login.token), Some("ci".into()), None, false)
            .unwrap();
        // A token made with that token ends with the same session.
        let second = k
            .create_token(&carla, Some(&token.token), None, Some(7), false)
            .unwrap();
        let listed = k.list_tokens(&carla, "carla").unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|t| t.ends_with_session));
        assert!(listed.iter().any(|t| t.label.as_deref() == Some("ci")));
        assert!(k.authenticate(&token.token).is_ok());
        k.logout(&login.token).unwrap();
        assert!(
            k.authenticate(&token.token).is_err(),
            "dies with its session"
        );
        assert!(k.authenticate(&second.token).is_err());
        assert!(k.list_tokens(&carla, "carla").unwrap().is_empty());

        // Only an administrator outlives its session; at most 90 days.
        let login = k.login("carla", "correct horse").unwrap();
        let refused = k.create_token(&carla, Some(&login.token), None, None, true);
        assert!(
            matches!(refused, Err(ServiceError::Refused(m)) if m.contains("only an administrator"))
        );
        let refused = k.create_token(&carla, Some(&login.token), None, Some(3650), false);
        assert!(matches!(refused, Err(ServiceError::Refused(m)) if m.contains("1 to 90 days")));
        let admin_login = k.login("root", "correct horse").unwrap();
        let root = k.authenticate(&admin_login.token).unwrap().principal;
        let lasting = k
            .create_token(&root, Some(&admin_login.token), None, None, true)
            .unwrap();
        k.logout(&admin_login.token).unwrap();
        assert!(k.authenticate(&lasting.token).is_ok(), "long-lived");

        // Revoking: the owner or an administrator, nobody else.
        let mine = k
            .create_token(&carla, Some(&login.token), None, None, false)
            .unwrap();
        let id = k.list_tokens(&carla, "carla").unwrap()[0].id.clone();
        assert!(matches!(
            k.list_tokens(&carla, "root"),
            Err(ServiceError::Forbidden(_))
        ));
        k.revoke_token(&root, "carla", &id).unwrap();
        assert!(k.authenticate(&mine.token).is_err());
        assert!(matches!(
            k.revoke_token(&carla, "carla", &id),
            Err(ServiceError::NotFound { .. })
        ));
    }

    #[test]
    fn a_created_account_logs_in_and_its_token_authenticates() {
        let k = kernel();
        let admin = Principal::local_operator();
        k.create_account(
            &admin,
            NewAccount {
                name: "carla".into(),
                roles: vec!["CoS".into()],
                admin: false,
                isms: None,
                password: "correct horse".into(),
                permanent: true,
            },
        )
        .unwrap();
        assert!(matches!(
            k.login("carla", "wrong password"),
            Err(ServiceError::Unauthenticated(_))
        ));
        assert!(matches!(
            k.login("nobody", "correct horse"),
            Err(ServiceError::Unauthenticated(_))
        ));
        let login = k.login("carla", "correct horse").unwrap();
        let auth = k.authenticate(&login.token).unwrap();
        assert_eq!(auth.principal.user, "carla");
        assert!(auth.principal.has_zone(mmsm_model::Zone::Generation));
        assert!(!auth.principal.admin);
        k.logout(&login.token).unwrap();
        assert!(k.authenticate(&login.token).is_err());
        // The store holds the hash, never the password or the token.
        let stored: Account = k.store().get(Repo::Isms, "account/carla").unwrap().unwrap();
        assert!(stored.password_hash.starts_with("$argon2"));
        assert!(k
            .store()
            .keys(Repo::Isms, "session/")
            .unwrap()
            .iter()
            .all(|key| !key.contains(&login.token)));
    }

    #[test]
    fn only_an_admin_creates_accounts_and_roles_are_checked() {
        let k = kernel();
        let new = |name: &str, role: &str| NewAccount {
            name: name.into(),
            roles: vec![role.into()],
            admin: false,
            isms: None,
            password: "long enough words".into(),
            permanent: true,
        };
        let err = k
            .create_account(&Principal::new("carl", ["CoS"]), new("x", "CoS"))
            .unwrap_err();
        assert!(err.to_string().contains("administrator"), "{err}");
        let err = k
            .create_account(&Principal::local_operator(), new("x", "Boss"))
            .unwrap_err();
        assert!(err.to_string().contains("not a role"), "{err}");
    }
}
