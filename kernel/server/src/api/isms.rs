//! The generation zone (CoS: generate) and the maintenance zone (the
//! enterprise's users: board, risks, plan, answers, assets, documents).
//! The shapes are those of DESIGN.md 5, identical to the CLI's `--json`.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::error::AppError;
use crate::extract::Auth;
use crate::state::AppState;
use mmsm_engine::Change;
use mmsm_kernel::services::{IsmsQuery, IsmsSort, ServiceError};
use mmsm_model::{Answer, Asset, Scalar, SubControlId};
use mmsm_reports::{self as reports, Documents};

/// Query of the listing.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// At most this many (default 100, at most 1,000).
    pub limit: Option<usize>,
    /// Start after the ISMS with this id (the `Link: rel="next"` header gives it).
    pub after: Option<String>,
    /// Only ISMSs whose id, name, sector or schema contains this text (any case).
    pub q: Option<String>,
    /// The order: id (default), name, compliance, risk or updated.
    pub sort: Option<String>,
}

/// The default page of the listing.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page of the listing.
pub const MAX_LIMIT: usize = 1000;

/// The ISMSs the caller may see, a page at a time.
#[utoipa::path(get, path = "/api/v1/isms", tag = "isms",
    params(ListQuery),
    responses((status = 200, description = "id, name, sector, schema, compliance, levels; `Link: <...>; rel=\"next\"` when more remain"),
              (status = 400, description = "An unknown order")))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let sort = match q.sort.as_deref() {
        Some(sort) => sort
            .parse()
            .map_err(|e: String| AppError::from(ServiceError::Refused(e)))?,
        None => IsmsSort::Id,
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let query = IsmsQuery {
        limit: Some(limit),
        after: q.after.clone(),
        filter: q.q.clone().filter(|s| !s.trim().is_empty()),
        sort,
    };
    let page = state
        .call(move |k| k.list_isms_page(&auth.principal, &query))
        .await?;
    let mut response = Json(page.items).into_response();
    if let Some(next) = page.next {
        let mut link = format!("/api/v1/isms?limit={limit}&after={}", encode(next.as_str()));
        if let Some(text) = q.q.as_deref().filter(|s| !s.trim().is_empty()) {
            link.push_str(&format!("&q={}", encode(text)));
        }
        if let Some(sort) = &q.sort {
            link.push_str(&format!("&sort={}", encode(sort)));
        }
        if let Ok(value) = header::HeaderValue::from_str(&format!("<{link}>; rel=\"next\"")) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}

/// What a query value keeps as it is: RFC 3986's unreserved characters.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a query value.
pub(crate) fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// Query of the generation.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct GenerateQuery {
    /// Use this schema instead of choosing one from sector and size.
    pub schema: Option<String>,
}

/// Generate an ISMS from an enterprise profile (JSON, or YAML by `Content-Type`).
#[utoipa::path(post, path = "/api/v1/isms", tag = "isms",
    params(GenerateQuery),
    request_body(content = String, description = "An enterprise profile (DESIGN.md 5)", content_type = "application/json"),
    responses((status = 201, description = "Generated: id, schema choice, first board"),
              (status = 422, description = "Invalid profile: every located problem")))]
pub async fn generate(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<GenerateQuery>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, AppError> {
    let yaml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("yaml"));
    let name = if yaml { "request.yaml" } else { "request.json" };
    let generated = state
        .call(move |k| k.generate_isms_text(&auth.principal, name, &body, q.schema.as_deref()))
        .await?;
    Ok((StatusCode::CREATED, Json(generated)).into_response())
}

/// An ISMS as stored: enterprise, schema, users, inputs, instantiated artefacts, board.
#[utoipa::path(get, path = "/api/v1/isms/{id}", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "The ISMS"), (status = 404, description = "No such ISMS, or not yours")))]
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let record = state.call(move |k| k.isms(&auth.principal, &id)).await?;
    Ok(Json(record).into_response())
}

/// The control board (DESIGN.md 5).
#[utoipa::path(get, path = "/api/v1/isms/{id}/board", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "isms, schema, compliance, maturity, domains, controls, risk"),
              (status = 404, description = "No such ISMS, or not yours")))]
pub async fn board(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let board = if state.kernel.store().is_remote() {
        // Round trips to the database: off the async workers.
        state.call(move |k| k.board(&auth.principal, &id)).await?
    } else {
        // On the embedded store a board read is a few microseconds: no blocking pool.
        state.kernel.board(&auth.principal, &id)?
    };
    Ok(Json(board).into_response())
}

/// The risk of every (asset, threat) pair (DESIGN.md 5).
#[utoipa::path(get, path = "/api/v1/isms/{id}/risks", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "asset, threat, impact, probability, potential, vulnerability, residual, level")))]
pub async fn risks(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let risks = state.call(move |k| k.risks(&auth.principal, &id)).await?;
    Ok(Json(risks).into_response())
}

/// The ordered improvement plan (DESIGN.md 5) with its follow-up (owner, due date, overdue).
#[utoipa::path(get, path = "/api/v1/isms/{id}/plan", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "rank, control, subcontrols, level, effort, risk_reduction")))]
pub async fn plan(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let plan = state
        .call(move |k| k.plan_rows(&auth.principal, &id))
        .await?;
    Ok(Json(plan).into_response())
}

/// Every change of the board with its cause, oldest first.
#[utoipa::path(get, path = "/api/v1/isms/{id}/history", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id"), super::audit::ListParams),
    responses((status = 200, description = "at, user, cause, change, deltas; X-Total-Count counts what passed the filters")))]
pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    axum::extract::Query(params): axum::extract::Query<super::audit::ListParams>,
) -> Result<Response, AppError> {
    let events = state
        .call(move |k| k.isms_history(&auth.principal, &id))
        .await?;
    let query = params.query();
    let events: Vec<_> = events
        .into_iter()
        .filter(|e| crate::lists::event_passes(&query, e.at, &e.user, &e.cause))
        .collect();
    Ok(super::audit::windowed(events, &query))
}

/// The body of an answer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// yes, partial, no, na or unknown; null leaves the question unanswered.
    pub answer: Option<String>,
}

/// Answer one question of the technical checklist; returns what changed and the new board.
#[utoipa::path(put, path = "/api/v1/isms/{id}/answers/{subcontrol}", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id"), ("subcontrol" = String, Path, description = "e.g. 8.13.1")),
    request_body = AnswerRequest,
    responses((status = 200, description = "isms, change, changed, board")))]
pub async fn answer(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, subcontrol)): Path<(String, String)>,
    Json(body): Json<AnswerRequest>,
) -> Result<Response, AppError> {
    let answer = match body.answer.as_deref() {
        None => None,
        Some(text) => Some(Answer::parse(text).ok_or_else(|| {
            AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("`{text}` is not an answer; expected yes, partial, no, na or unknown"),
            )
        })?),
    };
    let change = Change::Answer {
        subcontrol: SubControlId::new(subcontrol),
        answer,
    };
    let updated = state
        .call(move |k| k.update_isms(&auth.principal, &id, change, "answer"))
        .await?;
    Ok(Json(updated).into_response())
}

/// The body of a business answer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessRequest {
    /// true or false, a number, or one of the question's options; null clears it.
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
}

/// Answer a question of the business checklist again: the target level, the
/// obligations and the controls its rules make not applicable follow at once.
#[utoipa::path(put, path = "/api/v1/isms/{id}/business/{question}", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id"), ("question" = String, Path, description = "e.g. card_payments")),
    request_body = BusinessRequest,
    responses((status = 200, description = "isms, change, changed, board, note")))]
pub async fn business(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, question)): Path<(String, String)>,
    Json(body): Json<BusinessRequest>,
) -> Result<Response, AppError> {
    let value = match body.value {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Bool(b)) => Some(Scalar::Bool(b)),
        Some(serde_json::Value::Number(n)) => n.as_f64().map(Scalar::Number),
        Some(serde_json::Value::String(t)) => Some(Scalar::Text(t)),
        Some(other) => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("`{other}` is not an answer; expected true or false, a number or a text"),
            ))
        }
    };
    let updated = state
        .call(move |k| k.answer_business(&auth.principal, &id, &question, value))
        .await?;
    Ok(Json(updated).into_response())
}

/// The optional body of a re-base.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebaseRequest {
    /// The schema version to move to (default: the newest).
    pub version: Option<u32>,
}

/// Move an ISMS to a newer version of its schema (the consultancy, CoS): inputs carry over,
/// what the version lacks is dropped and listed, certificates of changed regulations are revoked.
#[utoipa::path(post, path = "/api/v1/isms/{id}/rebase", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    request_body(content = Option<RebaseRequest>, description = "Optional: { version }", content_type = "application/json"),
    responses((status = 200, description = "isms, schema, from, to, dropped, instantiated, changed, board"),
              (status = 403, description = "Not a generation-zone role"),
              (status = 404, description = "No such ISMS or version, or not yours"),
              (status = 422, description = "Already on that version, or an asset's type is gone")))]
pub async fn rebase(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    let body: RebaseRequest = if body.trim().is_empty() {
        RebaseRequest::default()
    } else {
        serde_json::from_str(&body)
            .map_err(|e| AppError::bad_request(format!("the body is not {{\"version\"}}: {e}")))?
    };
    let rebased = state
        .call(move |k| k.rebase_isms(&auth.principal, &id, body.version))
        .await?;
    Ok(Json(rebased).into_response())
}

/// Add or revalue an asset; returns what changed and the new board.
#[utoipa::path(put, path = "/api/v1/isms/{id}/assets/{asset}", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id"), ("asset" = String, Path, description = "The asset id")),
    request_body(content = Object, description = "The asset as in a profile: id, name, type, values or strategic_value and requirements"),
    responses((status = 200, description = "isms, change, changed, board")))]
pub async fn asset(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, asset_id)): Path<(String, String)>,
    Json(asset): Json<Asset>,
) -> Result<Response, AppError> {
    if asset.id.as_str() != asset_id {
        return Err(AppError::bad_request(format!(
            "the path names asset `{asset_id}` but the body `{}`",
            asset.id
        )));
    }
    let updated = state
        .call(move |k| k.update_isms(&auth.principal, &id, Change::AssetValue { asset }, "asset"))
        .await?;
    Ok(Json(updated).into_response())
}

/// The Statement of Applicability: every control, applicable or not.
#[utoipa::path(get, path = "/api/v1/isms/{id}/soa", tag = "documents",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "One row per control")))]
pub async fn soa(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (_, rows) = state.call(move |k| k.soa(&auth.principal, &id)).await?;
    Ok(Json(rows).into_response())
}

/// The obligations of the schema's legal catalogue for the ISMS: whether each
/// applies (from the business checklist), why, and how far its controls meet it.
#[utoipa::path(get, path = "/api/v1/isms/{id}/obligations", tag = "documents",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "One row per obligation of the catalogue")))]
pub async fn obligations(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (_, rows) = state
        .call(move |k| k.obligations(&auth.principal, &id))
        .await?;
    Ok(Json(rows).into_response())
}

/// The Statement of Applicability as an Excel workbook.
#[utoipa::path(get, path = "/api/v1/isms/{id}/soa.xlsx", tag = "documents",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "An xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn soa_xlsx(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let name = id.clone();
    let bytes = state
        .call(move |k| {
            let (name, rows) = k.soa(&auth.principal, &id)?;
            // The status travels with the file (issue 15: "draft, not approved").
            let status = k.approval_status(&auth.principal, &id)?.words();
            soa_workbook(&rows, &format!("{name}: {status}"))
        })
        .await?;
    Ok(xlsx_response(bytes, &format!("{name}-soa.xlsx")))
}

/// The Statement of Applicability as a printable PDF (the same columns).
#[utoipa::path(get, path = "/api/v1/isms/{id}/soa.pdf", tag = "documents",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "A PDF", content_type = "application/pdf")))]
pub async fn soa_pdf(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let name = format!("{id}-soa.pdf");
    let bytes = state
        .call(move |k| {
            let (enterprise, rows) = k.soa(&auth.principal, &id)?;
            let status = k.approval_status(&auth.principal, &id)?.words();
            Ok(reports::soa_pdf(
                &format!("Statement of Applicability: {enterprise} ({status})"),
                &rows,
            ))
        })
        .await?;
    Ok(crate::download::attachment(
        bytes,
        crate::download::PDF,
        &name,
    ))
}

/// The SoA workbook's bytes.
pub fn soa_workbook(rows: &[reports::SoaRow], title: &str) -> Result<Vec<u8>, ServiceError> {
    let dir = std::env::temp_dir().join(format!(
        "mmsm-soa-{}",
        mmsm_kernel::services::random_secret()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| ServiceError::Io {
        path: dir.display().to_string(),
        source: e,
    })?;
    let path = dir.join("soa.xlsx");
    let result = reports::write_soa_xlsx(rows, title, &path)
        .map_err(|e| ServiceError::Refused(format!("the workbook cannot be written: {e}")))
        .and_then(|()| {
            std::fs::read(&path).map_err(|e| ServiceError::Io {
                path: path.display().to_string(),
                source: e,
            })
        });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A download response for an xlsx file.
pub fn xlsx_response(bytes: Vec<u8>, file: &str) -> Response {
    crate::download::attachment(bytes, crate::download::XLSX, file)
}

/// The enterprise's report, as its data (JSON).
#[utoipa::path(get, path = "/api/v1/isms/{id}/report", tag = "documents",
    params(("id" = String, Path, description = "The ISMS id"), ReportQuery),
    responses((status = 200, description = "The report's data: maturity, domains, heat map, risks, plan, SoA, artefacts; or the report as a PDF with ?format=pdf")))]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let name = format!("{id}-report.pdf");
    let view = state.call(move |k| k.report(&auth.principal, &id)).await?;
    match query.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(view).into_response()),
        "pdf" => {
            let bytes = reports::report_pdf(&view).map_err(|e| {
                AppError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the report cannot be printed: {e}"),
                )
            })?;
            Ok(crate::download::attachment(
                bytes,
                crate::download::PDF,
                &name,
            ))
        }
        other => Err(AppError::bad_request(format!(
            "`{other}` is not a format of the report; expected json or pdf"
        ))),
    }
}

/// Query of the report: its format.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// json (default) or pdf.
    pub format: Option<String>,
}

/// Give the reasons of an answer: a note, evidence files of the ISMS and, for
/// a question answered na, the justification of the exclusion (all empty
/// removes them).
#[utoipa::path(put, path = "/api/v1/isms/{id}/answers/{subcontrol}/why", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id"), ("subcontrol" = String, Path, description = "e.g. 8.13.1")),
    request_body(content = WhyRequest, description = "{ note, justification, evidence: [names] }"),
    responses((status = 200, description = "The reasons kept, or null once removed"),
              (status = 422, description = "An evidence file the ISMS does not have, or a text too long")))]
pub async fn answer_why(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, subcontrol)): Path<(String, String)>,
    Json(body): Json<WhyRequest>,
) -> Result<Response, AppError> {
    let why = mmsm_kernel::services::AnswerWhy {
        note: body.note,
        justification: body.justification,
        evidence: body.evidence,
    };
    let kept = state
        .call(move |k| k.set_answer_why(&auth.principal, &id, &subcontrol, why))
        .await?;
    Ok(Json(kept).into_response())
}

/// The body of `PUT /api/v1/isms/{id}/answers/{subcontrol}/why`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhyRequest {
    /// A note on the answer.
    #[serde(default)]
    pub note: Option<String>,
    /// Why the question does not apply (for an answer na).
    #[serde(default)]
    pub justification: Option<String>,
    /// Evidence files of the ISMS backing the answer.
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// The reasons given with the answers of an ISMS, by subcontrol.
#[utoipa::path(get, path = "/api/v1/isms/{id}/answers/why", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "subcontrol -> { note, justification, evidence, by, at }")))]
pub async fn answers_why(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let notes = state
        .call(move |k| k.answer_notes(&auth.principal, &id))
        .await?;
    Ok(Json(notes).into_response())
}

/// `?confirm=ID` of `DELETE /api/v1/isms/{id}`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct DeleteQuery {
    /// The ISMS id again, to confirm.
    #[serde(default)]
    pub confirm: String,
}

/// Delete an ISMS for good, with everything kept under it and its enterprise
/// accounts (administrators); `?confirm=` repeats its id.
#[utoipa::path(delete, path = "/api/v1/isms/{id}", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id"), DeleteQuery),
    responses((status = 200, description = "isms, name, entries, accounts"),
              (status = 403, description = "Not an administrator"),
              (status = 422, description = "The confirmation is not the id")))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<DeleteQuery>,
) -> Result<Response, AppError> {
    let deleted = state
        .call(move |k| k.delete_isms(&auth.principal, &id, &q.confirm))
        .await?;
    Ok(Json(deleted).into_response())
}

/// Archive an ISMS: read only until it is unarchived (administrators).
#[utoipa::path(post, path = "/api/v1/isms/{id}/archive", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "isms, archived: { at, by }"),
              (status = 403, description = "Not an administrator")))]
pub async fn archive(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    archived(state, auth, id, true).await
}

/// Take an ISMS out of the archive (administrators).
#[utoipa::path(post, path = "/api/v1/isms/{id}/unarchive", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "isms, archived: null"),
              (status = 403, description = "Not an administrator")))]
pub async fn unarchive(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    archived(state, auth, id, false).await
}

async fn archived(
    state: AppState,
    auth: Auth,
    id: String,
    archive: bool,
) -> Result<Response, AppError> {
    let record = state
        .call(move |k| k.set_archived(&auth.principal, &id, archive))
        .await?;
    Ok(Json(serde_json::json!({ "isms": record.id, "archived": record.archived })).into_response())
}

/// The body of `POST /api/v1/isms/{id}/approval`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// The speaker's note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Where the ISMS stands: draft, approved (by whom, when, the digest) or pending (what changed since).
#[utoipa::path(get, path = "/api/v1/isms/{id}/approval", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "state: draft | approved | pending, approval, changed, words")))]
pub async fn approval(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let status = state
        .call(move |k| k.approval_status(&auth.principal, &id))
        .await?;
    Ok(approval_json(&status))
}

/// The speaker (a user of the ISMS holding Int) approves it.
#[utoipa::path(post, path = "/api/v1/isms/{id}/approval", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    request_body(content = Option<ApprovalRequest>, description = "Optional: { note }", content_type = "application/json"),
    responses((status = 200, description = "state approved, approval, words"),
              (status = 422, description = "Not the enterprise's speaker")))]
pub async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    let body: ApprovalRequest = if body.trim().is_empty() {
        ApprovalRequest::default()
    } else {
        serde_json::from_str(&body)
            .map_err(|e| AppError::bad_request(format!("the body is not {{\"note\"}}: {e}")))?
    };
    let status = state
        .call(move |k| k.approve_isms(&auth.principal, &id, body.note))
        .await?;
    Ok(approval_json(&status))
}

fn approval_json(status: &mmsm_kernel::services::ApprovalStatus) -> Response {
    let mut value = serde_json::to_value(status).unwrap_or_default();
    value["words"] = serde_json::Value::String(status.words());
    Json(value).into_response()
}

/// The level certificates of an ISMS with their state: valid, suspended or expired.
#[utoipa::path(get, path = "/api/v1/isms/{id}/certificates", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "level, issued_by, issued_at, expires_at, level_compliance, compliance, schema_version, state, reason")))]
pub async fn certificates(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let list = state
        .call(move |k| k.level_certificates(&auth.principal, &id))
        .await?;
    Ok(Json(list).into_response())
}

/// The body of `POST /api/v1/isms/{id}/certificates`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertifyRequest {
    /// The maturity level, 1 to 3.
    pub level: u8,
}

/// An auditor certifies a maturity level the board says is reached.
#[utoipa::path(post, path = "/api/v1/isms/{id}/certificates", tag = "isms",
    params(("id" = String, Path, description = "The ISMS id")),
    request_body = CertifyRequest,
    responses((status = 200, description = "The certificate, valid"),
              (status = 403, description = "Not an auditor"),
              (status = 422, description = "The level is not reached, with the reason")))]
pub async fn certify(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<CertifyRequest>,
) -> Result<Response, AppError> {
    let issued = state
        .call(move |k| k.certify_level(&auth.principal, &id, body.level))
        .await?;
    Ok(Json(issued).into_response())
}
