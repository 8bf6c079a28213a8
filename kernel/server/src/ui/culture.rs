//! The security-culture pages (A3.1): every user's certificate, the test as
//! a form ([`crate::drawn`] draws it), and its result.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::json;

use crate::drawn::{current_test, drawn_ids};
use crate::error::AppError;
use crate::extract::Page;
use crate::state::AppState;

use super::{field, page, UiError};

/// The routes of the culture pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/isms/{id}/culture", get(status))
        .route("/isms/{id}/culture/test", get(test_form).post(take))
}

async fn status(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (status, name) = state
        .call(move |k| {
            let status = k.culture_status(&who, &isms)?;
            Ok((status, k.isms(&who, &isms)?.enterprise.name))
        })
        .await?;
    let me = &p.0.principal;
    // Mirrors the kernel's rule (each user takes their own test), to show only
    // buttons that work.
    let rows: Vec<serde_json::Value> = status
        .users
        .iter()
        .map(|u| {
            let needs_test = !matches!(
                u.status,
                mmsm_kernel::services::msgs::CertStatus::Valid
                    | mmsm_kernel::services::msgs::CertStatus::NotRequired
            );
            let may = u.user.as_str() == me.user;
            json!({ "user": u.user, "name": u.name, "roles": u.roles, "status": u.status.as_str(),
                    "expires_at": u.expires_at, "regulations": u.regulations,
                    "can_test": may && u.status != mmsm_kernel::services::msgs::CertStatus::NotRequired,
                    "needs_test": needs_test, "me": u.user.as_str() == me.user })
        })
        .collect();
    page(
        &p,
        "culture.html",
        json!({ "id": id, "name": name, "share": status.share, "rows": rows }),
    )
}

#[derive(Debug, Deserialize)]
struct TestQuery {
    user: Option<String>,
}

async fn test_form(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(q): Query<TestQuery>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let user = q.user.unwrap_or_else(|| who.user.clone());
    let secret = p.0.token.clone();
    let isms = id.clone();
    let u = user.clone();
    let (test, name) = state
        .call(move |k| {
            let test = current_test(k, &who, &secret, &isms, &u)?;
            Ok((test, k.isms(&who, &isms)?.enterprise.name))
        })
        .await?;
    page(
        &p,
        "culture_test.html",
        json!({ "id": id, "name": name, "user": user, "drawn": drawn_ids(&test), "test": test }),
    )
}

async fn take(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let user = field(&fields, "user");
    let drawn = field(&fields, "drawn");
    let mut answers = BTreeMap::new();
    for (name, value) in &fields {
        if let Some(q) = name.strip_prefix("q.") {
            let index: usize = value.parse().map_err(|_| {
                AppError::bad_request(format!("the answer to `{q}` is not an option number"))
            })?;
            answers.insert(q.to_owned(), index);
        }
    }
    let who = p.0.principal.clone();
    let secret = p.0.token.clone();
    let isms = id.clone();
    let u = user.clone();
    let (result, test, name) = state
        .call(move |k| {
            let test = current_test(k, &who, &secret, &isms, &u)?;
            if drawn_ids(&test) != drawn {
                return Err(mmsm_kernel::services::ServiceError::Refused(
                    "this test is no longer the current one (another attempt was made, or the session changed): open the test again".into(),
                ));
            }
            let result = k.take_culture_test(&who, &isms, &u, test.seed, &answers)?;
            Ok((result, test, k.isms(&who, &isms)?.enterprise.name))
        })
        .await?;
    let wrong: Vec<&str> = test
        .questions
        .iter()
        .filter(|q| result.wrong.contains(&q.id))
        .map(|q| q.text.as_str())
        .collect();
    page(
        &p,
        "culture_result.html",
        json!({ "id": id, "name": name, "user": user, "r": result, "wrong": wrong }),
    )
}
