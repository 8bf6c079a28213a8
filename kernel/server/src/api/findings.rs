//! Findings, corrective actions, the audit programme and the printable
//! certificate (issue 15): the same kernel calls as `mmsm finding` and `mmsm
//! isms audits|audit-held|certificate`, with the same JSON as their `--json`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::AppError;
use crate::extract::Auth;
use crate::state::AppState;
use mmsm_kernel::services::{FindingKind, NewFinding, Response as ActionResponse};
use mmsm_reports::Documents;

/// Query of the findings listing.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct FindingsQuery {
    /// Only the findings not closed.
    #[serde(default)]
    pub open: bool,
}

/// An evidence file sent with a finding.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceUpload {
    /// The file's name, e.g. `restore-log.txt`.
    pub name: String,
    /// Its contents, base64.
    pub base64: String,
}

/// The body of `POST /api/v1/isms/{id}/findings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingRequest {
    /// The control, e.g. `8.13`.
    pub control: String,
    /// The procedure, if any.
    #[serde(default)]
    pub procedure: Option<String>,
    /// The audit of the programme it was raised in, if any.
    #[serde(default)]
    pub audit: Option<String>,
    /// major, minor, observation or opportunity.
    pub kind: String,
    /// What was found.
    pub text: String,
    /// An evidence file.
    #[serde(default)]
    pub evidence: Option<EvidenceUpload>,
}

/// The body of `POST /api/v1/isms/{id}/findings/{finding}/response`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseRequest {
    /// What will be done.
    pub action: String,
    /// The user of the ISMS who does it.
    pub owner: String,
    /// By when, YYYY-MM-DD.
    pub due: String,
}

/// The body of the done and close calls.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// A note: what was done, what the auditor verified.
    #[serde(default)]
    pub note: Option<String>,
}

/// The body of `POST /api/v1/isms/{id}/audits`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditHeldRequest {
    /// The audit of the programme, e.g. `internal-audit`.
    pub audit: String,
    /// The day it was held, YYYY-MM-DD (today by default).
    #[serde(default)]
    pub on: Option<String>,
    /// Scope and conclusion.
    #[serde(default)]
    pub note: Option<String>,
}

fn day(field: &str, text: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::bad_request(format!(
            "{field} `{text}` is not a date; expected YYYY-MM-DD, e.g. 2027-03-01"
        ))
    })
}

/// An optional JSON body: empty is the default.
fn optional_body<T: Default + for<'de> Deserialize<'de>>(body: &str) -> Result<T, AppError> {
    if body.trim().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(body)
        .map_err(|e| AppError::bad_request(format!("the body is not {{\"note\"}}: {e}")))
}

/// The findings of an ISMS, oldest first, with their state.
#[utoipa::path(get, path = "/api/v1/isms/{id}/findings", tag = "findings",
    params(("id" = String, Path, description = "The ISMS id"), FindingsQuery),
    responses((status = 200, description = "id (F1...), number, control, control_title, kind, kind_words, text, evidence, raised, response, closed, state, overdue")))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(query): Query<FindingsQuery>,
) -> Result<Response, AppError> {
    let list = state
        .call(move |k| k.list_findings(&auth.principal, &id, query.open))
        .await?;
    Ok(Json(list).into_response())
}

/// Records a finding (an auditor AuS or a consultant CoS); a major
/// non-conformity holds its control until it is closed.
#[utoipa::path(post, path = "/api/v1/isms/{id}/findings", tag = "findings",
    params(("id" = String, Path, description = "The ISMS id")),
    request_body = FindingRequest,
    responses((status = 201, description = "The finding"),
              (status = 403, description = "Neither an auditor nor a consultant"),
              (status = 404, description = "No such control, procedure or audit")))]
pub async fn add(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<FindingRequest>,
) -> Result<Response, AppError> {
    let kind = FindingKind::parse(&body.kind).map_err(AppError::bad_request)?;
    let evidence = match body.evidence {
        Some(upload) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(upload.base64.trim())
                .map_err(|e| {
                    AppError::bad_request(format!("evidence.base64 is not base64: {e}"))
                })?;
            Some((upload.name, bytes))
        }
        None => None,
    };
    let new = NewFinding {
        control: body.control,
        procedure: body.procedure,
        audit: body.audit,
        kind,
        text: body.text,
        evidence,
    };
    let added = state
        .call(move |k| k.add_finding(&auth.principal, &id, new))
        .await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

/// One finding.
#[utoipa::path(get, path = "/api/v1/isms/{id}/findings/{finding}", tag = "findings",
    params(("id" = String, Path, description = "The ISMS id"),
           ("finding" = String, Path, description = "The finding, e.g. F3")),
    responses((status = 200, description = "The finding"), (status = 404, description = "No such finding")))]
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, finding)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let f = state
        .call(move |k| k.finding(&auth.principal, &id, &finding))
        .await?;
    Ok(Json(f).into_response())
}

/// The security officer answers a finding with a corrective action.
#[utoipa::path(post, path = "/api/v1/isms/{id}/findings/{finding}/response", tag = "findings",
    params(("id" = String, Path, description = "The ISMS id"),
           ("finding" = String, Path, description = "The finding, e.g. F3")),
    request_body = ResponseRequest,
    responses((status = 200, description = "The finding"),
              (status = 403, description = "Not the security officer or the consultant"),
              (status = 422, description = "Closed, a past date, or the owner is not a user of the ISMS")))]
pub async fn respond(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, finding)): Path<(String, String)>,
    Json(body): Json<ResponseRequest>,
) -> Result<Response, AppError> {
    let response = ActionResponse {
        action: body.action,
        owner: body.owner,
        due: day("due", &body.due)?,
    };
    let f = state
        .call(move |k| k.respond_finding(&auth.principal, &id, &finding, response))
        .await?;
    Ok(Json(f).into_response())
}

/// The owner of the corrective action (or the officer) reports it done.
#[utoipa::path(post, path = "/api/v1/isms/{id}/findings/{finding}/done", tag = "findings",
    params(("id" = String, Path, description = "The ISMS id"),
           ("finding" = String, Path, description = "The finding, e.g. F3")),
    request_body(content = Option<NoteRequest>, description = "Optional: { note }", content_type = "application/json"),
    responses((status = 200, description = "The finding")))]
pub async fn done(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, finding)): Path<(String, String)>,
    body: String,
) -> Result<Response, AppError> {
    let body: NoteRequest = optional_body(&body)?;
    let f = state
        .call(move |k| k.finding_action_done(&auth.principal, &id, &finding, body.note))
        .await?;
    Ok(Json(f).into_response())
}

/// The auditor closes a finding; a non-conformity needs its corrective action first.
#[utoipa::path(post, path = "/api/v1/isms/{id}/findings/{finding}/close", tag = "findings",
    params(("id" = String, Path, description = "The ISMS id"),
           ("finding" = String, Path, description = "The finding, e.g. F3")),
    request_body(content = Option<NoteRequest>, description = "Optional: { note }", content_type = "application/json"),
    responses((status = 200, description = "The finding, closed"),
              (status = 403, description = "Not an auditor"),
              (status = 422, description = "No corrective action yet, or closed already")))]
pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, finding)): Path<(String, String)>,
    body: String,
) -> Result<Response, AppError> {
    let body: NoteRequest = optional_body(&body)?;
    let f = state
        .call(move |k| k.close_finding(&auth.principal, &id, &finding, body.note))
        .await?;
    Ok(Json(f).into_response())
}

/// The audit programme: each audit the schema schedules, last held and due.
#[utoipa::path(get, path = "/api/v1/isms/{id}/audits", tag = "findings",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "id, name, kind, every, every_words, last, due, overdue, held, findings")))]
pub async fn audits(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let rows = state
        .call(move |k| k.audit_programme(&auth.principal, &id))
        .await?;
    Ok(Json(rows).into_response())
}

/// Records that the ISMS underwent an audit of its programme.
#[utoipa::path(post, path = "/api/v1/isms/{id}/audits", tag = "findings",
    params(("id" = String, Path, description = "The ISMS id")),
    request_body = AuditHeldRequest,
    responses((status = 201, description = "audit, kind, on, by, at, note"),
              (status = 403, description = "Neither an auditor nor a consultant")))]
pub async fn audit_held(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<AuditHeldRequest>,
) -> Result<Response, AppError> {
    let on = match &body.on {
        Some(text) => Some(day("on", text)?),
        None => None,
    };
    let held = state
        .call(move |k| {
            let on = on.unwrap_or_else(|| k.now_utc().date_naive());
            k.record_audit(&auth.principal, &id, &body.audit, on, body.note)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(held)).into_response())
}

/// A level certificate as a PDF, with its state now.
#[utoipa::path(get, path = "/api/v1/isms/{id}/certificates/{level}/pdf", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id"),
           ("level" = u8, Path, description = "The level, 1 to 3")),
    responses((status = 200, description = "The certificate", content_type = "application/pdf"),
              (status = 404, description = "No certificate of that level")))]
pub async fn certificate_pdf(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, level)): Path<(String, u8)>,
) -> Result<Response, AppError> {
    let name = format!("{id}-level-{level}-certificate.pdf");
    let bytes = state
        .call(move |k| k.certificate_pdf(&auth.principal, &id, level))
        .await?;
    Ok(crate::download::attachment(
        bytes,
        crate::download::PDF,
        &name,
    ))
}
