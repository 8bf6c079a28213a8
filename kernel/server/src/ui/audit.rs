//! The audit zone's page: the whole trail and the verification of its chain.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::extract::Page;
use crate::state::AppState;

use super::isms::filtered_audit;
use super::{page, UiError};
use crate::lists::ListQuery;

/// The routes of the audit pages.
pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(trail))
}

async fn trail(
    State(state): State<AppState>,
    p: Page,
    Query(pairs): Query<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    let query = ListQuery::new(pairs);
    let who = p.0.principal.clone();
    let (entries, verify) = state
        .call(move |k| {
            let entries = k.audit_log(&who, None)?;
            let verify = k.audit_verify(&who).ok().map(|r| match r {
                Ok(report) => {
                    json!({ "intact": true, "entries": report.entries, "head": report.head })
                }
                Err(b) => json!({
                    "intact": false, "key": b.key, "reason": b.reason,
                    "checked": b.checked, "others": b.others,
                }),
            });
            Ok((entries, verify))
        })
        .await?;
    let (entries, pager, kinds, users) = filtered_audit(entries, &query, "/audit");
    page(
        &p,
        "audit.html",
        json!({ "entries": entries, "verify": verify, "pager": pager,
                "filters": query.filters(), "kinds": kinds, "users": users }),
    )
}
