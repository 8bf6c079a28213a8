//! The audit zone (AuS, read only): the hash-chained audit trail.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::AppError;
use crate::extract::Auth;
use crate::lists::{event_passes, window, ListQuery};
use crate::state::AppState;
use mmsm_kernel::services::AuditLogEntry;

/// Filters and a window of a list of the API: `user`, `kind` (the start of
/// the action or cause, e.g. `account`), `since` (YYYY-MM-DD), `offset`,
/// `limit`. The list keeps its shape; `X-Total-Count` counts what passed.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Only this user's.
    pub user: Option<String>,
    /// Only actions (or causes) starting with this, e.g. `account` or `isms.answer`.
    pub kind: Option<String>,
    /// Only from this day on (YYYY-MM-DD).
    pub since: Option<String>,
    /// Skip this many.
    pub offset: Option<usize>,
    /// At most this many.
    pub limit: Option<usize>,
}

impl ListParams {
    /// The same as a [`ListQuery`].
    pub fn query(&self) -> ListQuery {
        let mut pairs = BTreeMap::new();
        for (k, v) in [
            ("user", &self.user),
            ("kind", &self.kind),
            ("since", &self.since),
        ] {
            if let Some(v) = v {
                pairs.insert(k.to_owned(), v.clone());
            }
        }
        for (k, v) in [("offset", self.offset), ("limit", self.limit)] {
            if let Some(v) = v {
                pairs.insert(k.to_owned(), v.to_string());
            }
        }
        ListQuery::new(pairs)
    }
}

/// The rows that pass, windowed, as JSON with `X-Total-Count`.
pub fn windowed<T: serde::Serialize>(rows: Vec<T>, query: &ListQuery) -> Response {
    let (rows, total) = window(rows, query);
    ([("x-total-count", total.to_string())], Json(rows)).into_response()
}

fn filtered(entries: Vec<AuditLogEntry>, params: &ListParams) -> Response {
    let query = params.query();
    let rows: Vec<AuditLogEntry> = entries
        .into_iter()
        .filter(|e| event_passes(&query, e.at, &e.user, &e.action))
        .collect();
    windowed(rows, &query)
}

/// The audit trail the caller may read, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(ListParams),
    responses((status = 200, description = "seq, prev, hash, at, user, action, ids, detail", body = [super::docs::AuditLogEntry])))]
pub async fn log(
    State(state): State<AppState>,
    auth: Auth,
    Query(params): Query<ListParams>,
) -> Result<Response, AppError> {
    let entries = state
        .call(move |k| k.audit_log(&auth.principal, None))
        .await?;
    Ok(filtered(entries, &params))
}

/// The audit trail of one ISMS.
#[utoipa::path(get, path = "/api/v1/isms/{id}/audit", tag = "audit",
    params(("id" = String, Path, description = "The ISMS id"), ListParams),
    responses((status = 200, description = "The records about this ISMS", body = [super::docs::AuditLogEntry])))]
pub async fn isms_audit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<Response, AppError> {
    let entries = state
        .call(move |k| k.audit_log(&auth.principal, Some(&id)))
        .await?;
    Ok(filtered(entries, &params))
}

/// Walks the hash chain: `{ "intact": true, entries, head }` or every broken record, the first first.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, description = "intact, entries, head; or intact false, key and reason of the first broken record, checked (records read) and others (every later broken record: key, reason)")))]
pub async fn verify(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    let result = state.call(move |k| k.audit_verify(&auth.principal)).await?;
    Ok(Json(match result {
        Ok(report) => {
            serde_json::json!({ "intact": true, "entries": report.entries, "head": report.head })
        }
        Err(broken) => {
            serde_json::json!({
                "intact": false, "key": broken.key, "reason": broken.reason,
                "checked": broken.checked, "others": broken.others,
            })
        }
    })
    .into_response())
}
