//! The web UI: server-rendered HTML (minijinja), one small CSS and one small
//! script, forms with CSRF tokens. Pages per zone: [`isms`] (generation and
//! the board), its [`enterprise`] (assets, users), the maintenance zone ([`procedures`] with [`registers`] as
//! forms, [`culture`], [`follow_up`]: plan, suggestions, metrics),
//! [`schemas`], [`audit`], and the administrator's [`accounts`].

pub mod accounts;
pub mod audit;
pub mod charts;
pub mod culture;
pub mod documents;
pub mod enterprise;
pub mod findings;
pub mod follow_up;
pub mod isms;
pub mod procedures;
pub mod registers;
pub mod schemas;

use std::sync::LazyLock;

use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::value::Serde;
use minijinja::Value;
use serde::{Deserialize, Serialize};

use mmsm_kernel::access::Principal;
use mmsm_model::Zone;

use super::api::session::{clear_cookie, do_login, session_cookie};
use super::error::AppError;
use super::extract::{constant_time_eq, cookie, Page};
use super::state::AppState;

/// The UI's templates, parsed once.
pub struct Templates {
    env: minijinja::Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! template {
    ($env:ident, $name:literal) => {
        $env.add_template($name, include_str!(concat!("../templates/", $name)))
            .expect(concat!("the template ", $name, " parses"));
    };
}

impl Templates {
    /// Parses every template.
    pub fn new() -> Self {
        let mut env = minijinja::Environment::new();
        env.add_filter("pct", |v: Value| -> String {
            match f64::try_from(v) {
                Ok(x) => mmsm_reports::fixed(x, 1),
                Err(_) => "n/a".into(),
            }
        });
        env.add_filter("num", |v: f64| -> String { mmsm_reports::fixed(v, 2) });
        env.add_filter("datetime", |v: u64| -> String {
            chrono::DateTime::from_timestamp(v as i64, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default()
        });
        env.add_filter("prose", |v: String| Value::from_safe_string(prose(&v)));
        env.add_filter("truncate", |v: String, n: usize| -> String {
            if v.chars().count() <= n {
                v
            } else {
                format!("{}…", v.chars().take(n).collect::<String>())
            }
        });
        template!(env, "base.html");
        template!(env, "login.html");
        template!(env, "error.html");
        template!(env, "isms_list.html");
        template!(env, "isms_tabs.html");
        template!(env, "pager.html");
        template!(env, "board.html");
        template!(env, "checklist.html");
        template!(env, "generate.html");
        template!(env, "soa.html");
        template!(env, "obligations.html");
        template!(env, "history.html");
        template!(env, "audit.html");
        template!(env, "schemas.html");
        template!(env, "schema.html");
        template!(env, "schema_contents.html");
        template!(env, "schema_import.html");
        template!(env, "register_fields.html");
        template!(env, "schema_stats.html");
        template!(env, "assets.html");
        template!(env, "users.html");
        template!(env, "accounts.html");
        template!(env, "password.html");
        template!(env, "procedures.html");
        template!(env, "procedure_start.html");
        template!(env, "procedure.html");
        template!(env, "culture.html");
        template!(env, "culture_test.html");
        template!(env, "culture_result.html");
        template!(env, "plan.html");
        template!(env, "suggestions.html");
        template!(env, "metrics.html");
        template!(env, "findings.html");
        template!(env, "documents.html");
        template!(env, "document.html");
        Templates { env }
    }

    /// Renders template `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: Value) -> Result<String, AppError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| {
                eprintln!("internal error: template {name}: {e:#}");
                AppError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "this page cannot be shown; the server log says why",
                )
            })
    }
}

/// The templates (also used for error pages, which have no state).
pub fn templates() -> &'static Templates {
    static T: LazyLock<Templates> = LazyLock::new(Templates::new);
    &T
}

/// What the layout shows about the principal (presentation only: the
/// services decide what it may do).
#[derive(Debug, Serialize)]
pub struct Me {
    user: String,
    admin: bool,
    schemas: bool,
    generation: bool,
    audit: bool,
    maintenance: bool,
}

impl Me {
    /// The layout's view of a principal.
    pub fn of(p: &Principal) -> Self {
        Me {
            user: p.user.clone(),
            admin: p.admin,
            schemas: p.has_zone(Zone::Schemas),
            generation: p.has_zone(Zone::Generation),
            audit: p.has_zone(Zone::Audit) || p.admin,
            maintenance: p.has_zone(Zone::Maintenance),
        }
    }
}

/// Renders a page for an authenticated principal: `ctx` plus `me` and `csrf`.
pub fn page(page: &Page, name: &str, ctx: serde_json::Value) -> Result<Response, UiError> {
    let mut ctx = ctx;
    ctx["me"] = serde_json::to_value(Me::of(&page.0.principal)).unwrap_or_default();
    ctx["csrf"] = serde_json::Value::String(page.0.csrf.clone());
    let html = templates().render(name, serde(&ctx))?;
    Ok(Html(html).into_response())
}

/// A failure shown as an HTML page.
#[derive(Debug)]
pub struct UiError(pub AppError);

impl<E: Into<AppError>> From<E> for UiError {
    fn from(e: E) -> Self {
        UiError(e.into())
    }
}

/// An error page's content, kept in the response so that [`with_navigation`]
/// can draw it again inside the navigation of whoever is logged in.
#[derive(Debug, Clone)]
struct ErrorPage {
    heading: &'static str,
    message: String,
}

fn error_html(page: &ErrorPage, me: Option<(&Principal, &str)>) -> String {
    let mut ctx = serde_json::json!({ "heading": page.heading, "message": page.message });
    if let Some((principal, csrf)) = me {
        ctx["me"] = serde_json::to_value(Me::of(principal)).unwrap_or_default();
        ctx["csrf"] = serde_json::Value::String(csrf.to_owned());
    }
    templates()
        .render("error.html", serde(&ctx))
        .unwrap_or_else(|_| format!("<h1>{}</h1><p>{}</p>", page.heading, page.message))
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let status = self.0.status;
        let heading = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::UNAUTHORIZED => "Please log in",
            s if s.is_server_error() => "Something went wrong",
            _ => "This cannot be done",
        };
        let page = ErrorPage {
            heading,
            message: self.0.message,
        };
        let mut response = (status, Html(error_html(&page, None))).into_response();
        response.extensions_mut().insert(page);
        response
    }
}

/// Draws an error page again with the navigation of the logged-in user
/// (issue 17: error pages dropped the navigation), so that they can go on
/// from where they were refused.
pub async fn with_navigation(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let token = super::extract::cookie_in(request.headers(), super::extract::SESSION_COOKIE);
    let response = next.run(request).await;
    let (Some(page), Some(token)) = (response.extensions().get::<ErrorPage>().cloned(), token)
    else {
        return response;
    };
    let Ok(auth) = state.call(move |k| k.authenticate(&token)).await else {
        return response;
    };
    let status = response.status();
    (
        status,
        Html(error_html(&page, Some((&auth.principal, &auth.csrf)))),
    )
        .into_response()
}

/// A kernel message as HTML: escaped, with its `backticked` names (ids, commands) as
/// `<code>`, so a page never shows literal backticks.
pub fn prose(text: &str) -> String {
    let escaped = minijinja::HtmlEscape(text).to_string();
    let mut out = String::with_capacity(escaped.len() + 16);
    for (n, part) in escaped.split('`').enumerate() {
        if n % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    // An odd number of backticks: the last one was text.
    if escaped.matches('`').count() % 2 == 1 {
        if let Some(i) = out.rfind("<code>") {
            out.replace_range(i..i + "<code>".len(), "`");
            out.truncate(out.len() - "</code>".len());
        }
    }
    out
}

/// The 404 page of an unknown path.
pub fn not_found_page() -> UiError {
    UiError(AppError::new(
        StatusCode::NOT_FOUND,
        "there is no page here; start from the list of enterprises",
    ))
}

/// The routes of the web UI.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/isms") }))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .route("/static/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .merge(isms::router())
        .merge(accounts::router())
        .merge(enterprise::router())
        .merge(procedures::router())
        .merge(culture::router())
        .merge(follow_up::router())
        .merge(findings::router())
        .merge(documents::router())
        .merge(schemas::router())
        .merge(audit::router())
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../templates/app.css"),
    )
        .into_response()
}

/// The icon of every page (also at /favicon.ico, where browsers look).
async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        include_str!("../templates/icon.svg"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../templates/app.js"),
    )
        .into_response()
}

const LOGIN_CSRF: &str = "mmsm_login_csrf";

fn login_form(error: Option<String>, user: Option<String>, status: StatusCode) -> Response {
    let token = mmsm_kernel::services::random_secret();
    let html = templates()
        .render(
            "login.html",
            serde(&serde_json::json!({
                "login_csrf": token, "error": error, "user": user,
            })),
        )
        .unwrap_or_default();
    (
        status,
        [(
            header::SET_COOKIE,
            format!("{LOGIN_CSRF}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600"),
        )],
        Html(html),
    )
        .into_response()
}

async fn login_page() -> Response {
    login_form(None, None, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    user: String,
    password: String,
    csrf: String,
}

async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&parts, LOGIN_CSRF).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(&expected, &form.csrf) {
        return login_form(
            Some("The form had expired: please log in again.".into()),
            Some(form.user),
            StatusCode::FORBIDDEN,
        );
    }
    match do_login(&state, addr.ip(), form.user.clone(), form.password).await {
        Ok(login) => (
            [(
                header::SET_COOKIE,
                session_cookie(&login.token, state.secure_cookies),
            )],
            Redirect::to(if login.account.must_change_password {
                "/password"
            } else {
                "/isms"
            }),
        )
            .into_response(),
        Err(e) => login_form(Some(e.message), Some(form.user), e.status),
    }
}

/// The CSRF field of a form.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    page.check_csrf(&form.csrf)?;
    let token = page.0.token.clone();
    state.call(move |k| k.logout(&token)).await?;
    Ok((
        [(header::SET_COOKIE, clear_cookie(state.secure_cookies))],
        Redirect::to("/login"),
    )
        .into_response())
}

/// The field `name` of a submitted form, trimmed, or empty.
pub fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// Wraps a serialisable value for a template.
pub fn serde<T: Serialize>(v: &T) -> Value {
    Value::from(Serde(v))
}

#[cfg(test)]
mod prose_tests {
    use super::prose;

    #[test]
    fn backticks_become_code_and_html_stays_text() {
        assert_eq!(
            prose("ISMS `a<b` not found; run `mmsm isms list`"),
            "ISMS <code>a&lt;b</code> not found; run <code>mmsm isms list</code>"
        );
        assert_eq!(prose("one ` alone"), "one ` alone");
    }
}
