//! The administrator's page of accounts: who may log in, with which roles,
//! bound to which enterprise; create one (with a one-time password the
//! server makes when none is typed) and assign consultants to enterprises.
//! The account service refuses anyone but an administrator.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde_json::json;

use crate::extract::Page;
use crate::state::AppState;
use mmsm_kernel::access::ROLE_ZONES;
use mmsm_kernel::services::{random_password, IsmsQuery, NewAccount};

use super::{field, page, UiError};
use crate::lists::{paged, ListQuery};

/// The routes of the account pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts/{name}/assign", post(assign))
        .route("/accounts/{name}/unassign", post(unassign))
        .route("/accounts/{name}/disable", post(disable))
        .route("/accounts/{name}/enable", post(enable))
        .route("/accounts/{name}/remove", post(remove))
        .route("/accounts/{name}/roles", post(roles))
        .route("/accounts/{name}/reset", post(reset))
        .route("/password", get(password_form).post(set_password))
}

/// Every user's own password page.
async fn password_form(p: Page) -> Result<Response, UiError> {
    page(
        &p,
        "password.html",
        json!({ "one_time": p.0.must_change_password }),
    )
}

async fn set_password(
    State(state): State<AppState>,
    p: Page,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let password = field(&fields, "password");
    if password != field(&fields, "again") {
        return page(
            &p,
            "password.html",
            json!({ "error": "the two passwords differ: type the same one twice", "one_time": p.0.must_change_password }),
        );
    }
    let who = p.0.principal.clone();
    let name = who.user.clone();
    match state
        .call(move |k| k.set_password(&who, &name, &password, false))
        .await
    {
        Ok(()) => page(&p, "password.html", json!({ "done": true })),
        // The form stays, with the reason in place.
        Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => page(
            &p,
            "password.html",
            json!({ "error": e.message, "one_time": p.0.must_change_password }),
        ),
        Err(e) => Err(e.into()),
    }
}

/// The roles a consultancy account may hold (an enterprise user's come from its ISMS).
const CONSULTANCY_ROLES: [&str; 4] = ["AGS", "GED", "CoS", "AuS"];

/// Enterprises offered as suggestions in the account forms.
const SUGGESTED: usize = 200;

async fn render(
    state: &AppState,
    p: &Page,
    outcome: Option<serde_json::Value>,
) -> Result<Response, UiError> {
    render_filtered(state, p, outcome, ListQuery::default()).await
}

/// The accounts page: the accounts that pass the filters (`q` in the name,
/// `kind` consultancy or enterprise, `state` active, one-time or disabled),
/// one page of them.
async fn render_filtered(
    state: &AppState,
    p: &Page,
    outcome: Option<serde_json::Value>,
    query: ListQuery,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let (accounts, isms) = state
        .call(move |k| {
            // Suggestions for the enterprise fields, not a list of every ISMS:
            // the kernel checks whatever id is typed.
            let first = IsmsQuery {
                limit: Some(SUGGESTED),
                ..IsmsQuery::default()
            };
            Ok((
                k.list_accounts(&who)?,
                k.list_isms_page(&who, &first)?.items,
            ))
        })
        .await?;
    let roles: Vec<serde_json::Value> = ROLE_ZONES
        .iter()
        .map(|(r, z)| json!({ "id": r, "zone": format!("{z:?}").to_lowercase() }))
        .collect();
    let accounts: Vec<_> = accounts
        .into_iter()
        .filter(|a| {
            let text = query
                .get("q")
                .is_none_or(|q| a.name.to_lowercase().contains(&q.to_lowercase()));
            let kind = match query.get("kind") {
                Some("enterprise") => a.isms.is_some(),
                Some("consultancy") => a.isms.is_none(),
                _ => true,
            };
            let state = match query.get("state") {
                Some("disabled") => a.disabled,
                Some("one-time") => !a.disabled && a.must_change_password,
                Some("active") => !a.disabled && !a.must_change_password,
                _ => true,
            };
            text && kind && state
        })
        .collect();
    let (accounts, pager) = paged(accounts, &query, ACCOUNTS_PAGE, "/accounts");
    let mut context = json!({ "accounts": accounts, "isms": isms, "roles": roles,
        "consultancy_roles": CONSULTANCY_ROLES, "pager": pager, "filters": query.filters() });
    if let (Some(outcome), Some(context)) = (outcome, context.as_object_mut()) {
        context.extend(outcome.as_object().cloned().unwrap_or_default());
    }
    page(p, "accounts.html", context)
}

async fn list(
    State(state): State<AppState>,
    p: Page,
    Query(pairs): Query<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    render_filtered(&state, &p, None, ListQuery::new(pairs)).await
}

/// Accounts on one page.
const ACCOUNTS_PAGE: usize = 50;

async fn create(
    State(state): State<AppState>,
    p: Page,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let typed = field(&fields, "password");
    let generated = typed.is_empty();
    let password = if generated { random_password() } else { typed };
    let account = NewAccount {
        name: field(&fields, "name"),
        roles: fields
            .iter()
            .filter(|(n, _)| n == "role")
            .map(|(_, v)| v.clone())
            .collect(),
        admin: field(&fields, "admin") == "on",
        isms: Some(field(&fields, "isms")).filter(|i| !i.is_empty()),
        password: password.clone(),
        // Chosen by the administrator for someone else: changed at the first login.
        permanent: false,
    };
    let who = p.0.principal.clone();
    let typed = json!({ "name": account.name, "isms": account.isms, "roles": account.roles, "admin": account.admin });
    let view = match state.call(move |k| k.create_account(&who, account)).await {
        Ok(view) => view,
        // The form stays as it was typed, with the reason above it.
        Err(e)
            if [
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                axum::http::StatusCode::CONFLICT,
                axum::http::StatusCode::NOT_FOUND,
            ]
            .contains(&e.status) =>
        {
            return render(
                &state,
                &p,
                Some(json!({ "create_error": e.message, "typed": typed })),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let created = json!({ "name": view.name, "password": generated.then_some(password) });
    render(&state, &p, Some(json!({ "created": created }))).await
}

async fn unassign(
    State(state): State<AppState>,
    p: Page,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let isms = field(&fields, "isms");
    let who = p.0.principal.clone();
    state
        .call(move |k| k.unassign_isms(&who, &name, &isms))
        .await?;
    Ok(Redirect::to("/accounts").into_response())
}

async fn set_disabled(
    state: AppState,
    p: Page,
    name: String,
    fields: Vec<(String, String)>,
    disabled: bool,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let who = p.0.principal.clone();
    state
        .call(move |k| k.set_account_disabled(&who, &name, disabled))
        .await?;
    Ok(Redirect::to("/accounts").into_response())
}

async fn disable(
    State(state): State<AppState>,
    p: Page,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    set_disabled(state, p, name, fields, true).await
}

async fn enable(
    State(state): State<AppState>,
    p: Page,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    set_disabled(state, p, name, fields, false).await
}

async fn remove(
    State(state): State<AppState>,
    p: Page,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    if field(&fields, "confirm") != "on" {
        return render(
            &state,
            &p,
            Some(json!({ "error": format!("`{name}` was not removed: tick \"yes, remove it\" beside the button to confirm") })),
        )
        .await;
    }
    let who = p.0.principal.clone();
    let removed = name.clone();
    state
        .call(move |k| k.remove_account(&who, &removed))
        .await?;
    render(&state, &p, Some(json!({ "removed": name }))).await
}

async fn roles(
    State(state): State<AppState>,
    p: Page,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let roles: Vec<String> = fields
        .iter()
        .filter(|(n, _)| n == "role")
        .map(|(_, v)| v.clone())
        .collect();
    let who = p.0.principal.clone();
    state
        .call(move |k| k.set_account_roles(&who, &name, &roles))
        .await?;
    Ok(Redirect::to("/accounts").into_response())
}

/// A new one-time password for an account, shown once to the administrator.
async fn reset(
    State(state): State<AppState>,
    p: Page,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let password = random_password();
    let who = p.0.principal.clone();
    let (target, secret) = (name.clone(), password.clone());
    state
        .call(move |k| k.set_password(&who, &target, &secret, false))
        .await?;
    render(
        &state,
        &p,
        Some(json!({ "reset": { "name": name, "password": password } })),
    )
    .await
}

async fn assign(
    State(state): State<AppState>,
    p: Page,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let isms = field(&fields, "isms");
    let who = p.0.principal.clone();
    state
        .call(move |k| k.assign_isms(&who, &name, &isms))
        .await?;
    Ok(Redirect::to("/accounts").into_response())
}
