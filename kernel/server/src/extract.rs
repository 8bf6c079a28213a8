//! Extractors: the principal from the session cookie or `Authorization: Bearer`.
//!
//! The server only authenticates; the services decide what the principal may do.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use mmsm_kernel::access::Principal;

use super::error::AppError;
use super::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "mmsm_session";
/// The header carrying the CSRF token of cookie-authenticated API writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated API request.
#[derive(Debug, Clone)]
pub struct Auth {
    /// Who acts.
    pub principal: Principal,
    /// The session's CSRF token.
    pub csrf: String,
    /// The secret that authenticated the request.
    pub token: String,
    /// The account logged in with a one-time password it must change first.
    pub must_change_password: bool,
}

/// What an account with a one-time password may still do: change it, say
/// who it is, log out.
fn allowed_before_password_change(parts: &Parts, user: &str) -> bool {
    let path = parts.uri.path();
    path == "/api/v1/me"
        || path == "/api/v1/logout"
        || path == "/password"
        || path == "/logout"
        || (parts.method == Method::PUT && path == format!("/api/v1/accounts/{user}/password"))
}

/// The value of cookie `name` in the request, if any.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    cookie_in(&parts.headers, name)
}

/// The value of cookie `name` among `headers`, if any.
pub fn cookie_in(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn bearer(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<(Auth, bool), AppError> {
    let (token, via_cookie) = match bearer(parts) {
        Some(t) => (t, false),
        None => (
            cookie(parts, SESSION_COOKIE).ok_or_else(AppError::unauthenticated)?,
            true,
        ),
    };
    let secret = token.clone();
    let auth = state.call(move |k| k.authenticate(&secret)).await?;
    Ok((
        Auth {
            principal: auth.principal,
            csrf: auth.csrf,
            token,
            must_change_password: auth.must_change_password,
        },
        via_cookie,
    ))
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let (auth, via_cookie) = authenticate(parts, state).await?;
        if auth.must_change_password && !allowed_before_password_change(parts, &auth.principal.user)
        {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "`{user}` logged in with a one-time password: change it first (PUT /api/v1/accounts/{user}/password with {{\"password\"}}, or the page /password), then go on",
                    user = auth.principal.user
                ),
            ));
        }
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !constant_time_eq(sent, &auth.csrf) {
                return Err(AppError::new(
                    StatusCode::FORBIDDEN,
                    "a write with the session cookie needs the header X-CSRF-Token (the `csrf` of the login response); scripts should use `Authorization: Bearer`",
                ));
            }
        }
        Ok(auth)
    }
}

/// An authenticated page of the web UI; without a session it redirects to the login page.
#[derive(Debug, Clone)]
pub struct Page(pub Auth);

/// The rejection of [`Page`]: a redirect to the login page, or to the
/// password page for an account that must change its one-time password.
pub enum ToLogin {
    /// Not logged in.
    Login,
    /// Logged in with a one-time password.
    ChangePassword,
}

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        match self {
            ToLogin::Login => Redirect::to("/login").into_response(),
            ToLogin::ChangePassword => Redirect::to("/password").into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = ToLogin;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ToLogin> {
        match authenticate(parts, state).await {
            Ok((auth, _))
                if auth.must_change_password
                    && !allowed_before_password_change(parts, &auth.principal.user) =>
            {
                Err(ToLogin::ChangePassword)
            }
            Ok((auth, _)) => Ok(Page(auth)),
            Err(_) => Err(ToLogin::Login),
        }
    }
}

impl Page {
    /// Refuses a form whose CSRF token is not the session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        if constant_time_eq(sent, &self.0.csrf) {
            Ok(())
        } else {
            Err(AppError::new(
                StatusCode::FORBIDDEN,
                "the form is stale or was not sent by this site: reload the page and try again",
            ))
        }
    }
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
