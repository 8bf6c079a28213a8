//! The audit zone (AuS, read only): the hash-chained audit trail.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::AppError;
use crate::extract::Auth;
use crate::state::AppState;

/// The audit trail the caller may read, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    responses((status = 200, description = "seq, prev, hash, at, user, action, ids, detail", body = [super::docs::AuditLogEntry])))]
pub async fn log(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    let entries = state
        .call(move |k| k.audit_log(&auth.principal, None))
        .await?;
    Ok(Json(entries).into_response())
}

/// The audit trail of one ISMS.
#[utoipa::path(get, path = "/api/v1/isms/{id}/audit", tag = "audit",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "The records about this ISMS", body = [super::docs::AuditLogEntry])))]
pub async fn isms_audit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let entries = state
        .call(move |k| k.audit_log(&auth.principal, Some(&id)))
        .await?;
    Ok(Json(entries).into_response())
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
