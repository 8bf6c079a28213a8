//! Login, logout, API tokens and accounts.

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use mmsm_kernel::services::{NewAccount, SESSION_SECONDS};

use crate::error::AppError;
use crate::extract::{Auth, SESSION_COOKIE};
use crate::limiter::{FREE_PER_ADDRESS, FREE_PER_NAME};
use crate::state::AppState;

/// The body of `POST /api/v1/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The account name.
    pub user: String,
    /// Its password.
    pub password: String,
}

/// The `Set-Cookie` value of a session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Checks the rate limit, the password, and opens a session.
pub async fn do_login(
    state: &AppState,
    client: std::net::IpAddr,
    user: String,
    password: String,
) -> Result<mmsm_kernel::services::Login, AppError> {
    let keys = vec![
        (format!("user:{user}"), FREE_PER_NAME),
        (format!("ip:{client}"), FREE_PER_ADDRESS),
    ];
    let attempt = state.limiter.begin(keys).map_err(|wait| {
        AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed logins: wait {wait} s and try again"),
        )
    })?;
    let name = user.clone();
    match state.call(move |k| k.login(&name, &password)).await {
        Ok(login) => {
            attempt.succeeded();
            Ok(login)
        }
        Err(e) => {
            if e.status == StatusCode::UNAUTHORIZED {
                let locked = attempt.failed();
                if !locked.is_empty() {
                    // A lockout is in the trail once, when it starts, not per refused attempt.
                    let _ = state.call(move |k| k.record_login_lockout(locked)).await;
                }
            }
            Err(e)
        }
    }
}

/// Log in: a session cookie, and `{token, csrf, expires, account}`.
#[utoipa::path(post, path = "/api/v1/login", tag = "session",
    request_body = Credentials,
    responses((status = 200, description = "Logged in: the token for `Authorization: Bearer`, the CSRF token for cookie writes"),
              (status = 401, description = "Wrong user name or password"),
              (status = 429, description = "Too many failed logins")))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    Json(body): Json<Credentials>,
) -> Result<Response, AppError> {
    let login = do_login(&state, addr.ip(), body.user, body.password).await?;
    let cookie = session_cookie(&login.token, state.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Json(login)).into_response())
}

/// Log out: ends the session (or revokes the token) that authenticates the request.
#[utoipa::path(post, path = "/api/v1/logout", tag = "session",
    responses((status = 204, description = "Logged out"), (status = 401, description = "Not logged in")))]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    let token = auth.token.clone();
    state.call(move |k| k.logout(&token)).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_cookie(state.secure_cookies))],
    )
        .into_response())
}

/// Who is logged in.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, description = "The principal: user, roles, admin, enterprise")))]
pub async fn me(auth: Auth) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "user": auth.principal.user,
        "roles": auth.principal.roles,
        "admin": auth.principal.admin,
        "enterprise": auth.principal.enterprise,
        "csrf": auth.csrf,
        "must_change_password": auth.must_change_password,
    }))
}

/// The body of `POST /api/v1/tokens`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for.
    #[serde(default)]
    pub label: Option<String>,
    /// Days until it expires (default and at most 90).
    #[serde(default)]
    pub days: Option<u64>,
    /// Outlive the login session that makes it (administrators only).
    #[serde(default)]
    pub long_lived: bool,
}

/// Whose tokens: `?user=NAME` (administrators), else the caller's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TokenOwner {
    /// The account (default: the caller).
    #[serde(default)]
    pub user: Option<String>,
}

/// A long-lived API token for scripts and integrations, acting as the caller.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "session",
    request_body = TokenRequest,
    responses((status = 200, description = "The new token: shown once")))]
pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<TokenRequest>,
) -> Result<Response, AppError> {
    let login = state
        .call(move |k| {
            k.create_token(
                &auth.principal,
                Some(&auth.token),
                body.label,
                body.days,
                body.long_lived,
            )
        })
        .await?;
    Ok(Json(login).into_response())
}

/// The live API tokens of the caller (or of `?user=NAME`, administrators): never the secrets.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "session",
    params(TokenOwner),
    responses((status = 200, description = "id, user, label, created, expires, ends_with_session")))]
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(owner): axum::extract::Query<TokenOwner>,
) -> Result<Response, AppError> {
    let user = owner.user.unwrap_or_else(|| auth.principal.user.clone());
    let list = state
        .call(move |k| k.list_tokens(&auth.principal, &user))
        .await?;
    Ok(Json(list).into_response())
}

/// Revokes a token of the caller (or of `?user=NAME`, administrators).
#[utoipa::path(delete, path = "/api/v1/tokens/{token}", tag = "session",
    params(("token" = String, Path, description = "The token's id, from the listing"), TokenOwner),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    axum::extract::Query(owner): axum::extract::Query<TokenOwner>,
) -> Result<Response, AppError> {
    let user = owner.user.unwrap_or_else(|| auth.principal.user.clone());
    state
        .call(move |k| k.revoke_token(&auth.principal, &user, &id))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Every account (administrators).
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    responses((status = 200, description = "The accounts", body = [super::docs::AccountView])))]
pub async fn list_accounts(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, AppError> {
    let list = state
        .call(move |k| k.list_accounts(&auth.principal))
        .await?;
    Ok(Json(list).into_response())
}

/// The body of `POST /api/v1/accounts`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRequest {
    /// The login name.
    pub name: String,
    /// The roles (e.g. `CoS`, `Cl/RS`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Administrator.
    #[serde(default)]
    pub admin: bool,
    /// The ISMS of an enterprise user.
    #[serde(default)]
    pub isms: Option<String>,
    /// The password (12 characters at least, not one of the most common).
    pub password: String,
    /// Keep the password: otherwise it is a one-time password, changed at
    /// the first login and void after 7 days.
    #[serde(default)]
    pub permanent: bool,
}

/// Create an account (administrators).
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts",
    request_body = AccountRequest,
    responses((status = 201, description = "Created", body = super::docs::AccountView),
              (status = 403, description = "Not an administrator")))]
pub async fn create_account(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<AccountRequest>,
) -> Result<Response, AppError> {
    let view = state
        .call(move |k| {
            k.create_account(
                &auth.principal,
                NewAccount {
                    name: body.name,
                    roles: body.roles,
                    admin: body.admin,
                    isms: body.isms,
                    password: body.password,
                    permanent: body.permanent,
                },
            )
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// The body of `POST /api/v1/accounts/{name}/assign`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The ISMS to assign.
    pub isms: String,
}

/// The body of `PUT /api/v1/accounts/{name}/password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// The new password (12 characters at least, not a common one).
    pub password: String,
    /// When an administrator sets someone else's: keep it, rather than make
    /// it a one-time password.
    #[serde(default)]
    pub permanent: bool,
}

/// Set an account's password: one's own, or any (administrators).
#[utoipa::path(put, path = "/api/v1/accounts/{name}/password", tag = "accounts",
    params(("name" = String, Path, description = "The account")),
    request_body = PasswordRequest,
    responses((status = 204, description = "Set")))]
pub async fn set_password(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    Json(body): Json<PasswordRequest>,
) -> Result<Response, AppError> {
    state
        .call(move |k| k.set_password(&auth.principal, &name, &body.password, body.permanent))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Assign a consultancy account to an ISMS (administrators).
#[utoipa::path(post, path = "/api/v1/accounts/{name}/assign", tag = "accounts",
    params(("name" = String, Path, description = "The account")),
    request_body = AssignRequest,
    responses((status = 204, description = "Assigned")))]
pub async fn assign(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    Json(body): Json<AssignRequest>,
) -> Result<Response, AppError> {
    state
        .call(move |k| k.assign_isms(&auth.principal, &name, &body.isms))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Disable an account: it cannot log in, its sessions and tokens stop working (administrators).
#[utoipa::path(post, path = "/api/v1/accounts/{name}/disable", tag = "accounts",
    params(("name" = String, Path, description = "The account")),
    responses((status = 200, description = "Disabled", body = super::docs::AccountView)))]
pub async fn disable_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let view = state
        .call(move |k| k.set_account_disabled(&auth.principal, &name, true))
        .await?;
    Ok(Json(view).into_response())
}

/// Enable a disabled account (administrators).
#[utoipa::path(post, path = "/api/v1/accounts/{name}/enable", tag = "accounts",
    params(("name" = String, Path, description = "The account")),
    responses((status = 200, description = "Enabled", body = super::docs::AccountView)))]
pub async fn enable_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let view = state
        .call(move |k| k.set_account_disabled(&auth.principal, &name, false))
        .await?;
    Ok(Json(view).into_response())
}

/// Remove an account with its tokens and assignments (administrators).
#[utoipa::path(delete, path = "/api/v1/accounts/{name}", tag = "accounts",
    params(("name" = String, Path, description = "The account")),
    responses((status = 204, description = "Removed")))]
pub async fn remove_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    state
        .call(move |k| k.remove_account(&auth.principal, &name))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The body of `PUT /api/v1/accounts/{name}/roles`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesRequest {
    /// The roles (consultancy roles: AGS, GED, CoS, AuS).
    pub roles: Vec<String>,
}

/// Replace a consultancy account's roles (administrators).
#[utoipa::path(put, path = "/api/v1/accounts/{name}/roles", tag = "accounts",
    params(("name" = String, Path, description = "The account")),
    request_body = RolesRequest,
    responses((status = 200, description = "The account", body = super::docs::AccountView)))]
pub async fn set_account_roles(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    Json(body): Json<RolesRequest>,
) -> Result<Response, AppError> {
    let view = state
        .call(move |k| k.set_account_roles(&auth.principal, &name, &body.roles))
        .await?;
    Ok(Json(view).into_response())
}

/// Take an ISMS from a consultancy account's assignments (administrators).
#[utoipa::path(delete, path = "/api/v1/accounts/{name}/assign/{isms}", tag = "accounts",
    params(("name" = String, Path, description = "The account"),
           ("isms" = String, Path, description = "The ISMS")),
    responses((status = 204, description = "Unassigned")))]
pub async fn unassign(
    State(state): State<AppState>,
    auth: Auth,
    Path((name, isms)): Path<(String, String)>,
) -> Result<Response, AppError> {
    state
        .call(move |k| k.unassign_isms(&auth.principal, &name, &isms))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
