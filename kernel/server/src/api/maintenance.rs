//! The maintenance zone (MSGS) over HTTP: procedures, culture (status, test),
//! suggestions, plan follow-up, metrics (list, history, run), schema
//! statistics and the script registry. Each handler makes one
//! service call with the caller's principal; the services decide access (a
//! foreign ISMS is 404, as everywhere). The shapes are those of the CLI's `--json`.

use std::time::SystemTime;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::drawn::current_test;
use crate::error::AppError;
use crate::extract::Auth;
use crate::state::AppState;
use mmsm_kernel::services::msgs::PlanSet;

/// Query of the procedure list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ProceduresQuery {
    /// Only the instances that have not reached a final phase.
    #[serde(default)]
    pub open: bool,
}

/// The procedure instances of an ISMS.
#[utoipa::path(get, path = "/api/v1/isms/{id}/procedures", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id"), ProceduresQuery),
    responses((status = 200, description = "id, procedure, phase, next, roles, paths, closed, history, registers, suggestions"),
              (status = 404, description = "No such ISMS, or not yours")))]
pub async fn list_procedures(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<ProceduresQuery>,
) -> Result<Response, AppError> {
    let list = state
        .call(move |k| k.procedure_instances(&auth.principal, &id, q.open))
        .await?;
    Ok(Json(list).into_response())
}

/// The body of a procedure start.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The procedure id of the ISMS's schema (e.g. incident-management).
    pub procedure: String,
    /// Register fields of the start phase.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
}

/// Start an instance of a procedure in its start phase.
#[utoipa::path(post, path = "/api/v1/isms/{id}/procedures", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id")),
    request_body = StartRequest,
    responses((status = 201, description = "instance, suggestions, notes"),
              (status = 403, description = "The caller's role or certificate does not allow it"),
              (status = 422, description = "A rule of the procedure refuses the start")))]
pub async fn start_procedure(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<StartRequest>,
) -> Result<Response, AppError> {
    let moved = state
        .call(move |k| k.start_procedure(&auth.principal, &id, &body.procedure, body.fields))
        .await?;
    Ok((StatusCode::CREATED, Json(moved)).into_response())
}

/// The full instance id of `instance` in ISMS `id`: `PROCEDURE-N`, or the
/// whole `ISMS/PROCEDURE-N` percent-encoded, which must name the same ISMS.
fn instance_id(id: &str, instance: &str) -> Result<String, AppError> {
    match instance.split_once('/') {
        None => Ok(format!("{id}/{instance}")),
        Some((isms, _)) if isms == id => Ok(instance.to_owned()),
        Some(_) => Err(AppError::new(
            StatusCode::NOT_FOUND,
            format!("instance `{instance}` is not one of ISMS `{id}`"),
        )),
    }
}

/// One procedure instance: where it is, where it may go, who may move it, its history.
#[utoipa::path(get, path = "/api/v1/isms/{id}/procedures/{instance}", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id"),
           ("instance" = String, Path, description = "The instance, PROCEDURE-N (e.g. incident-management-1)")),
    responses((status = 200, description = "id, procedure, phase, next, roles, paths, closed, history, registers, suggestions"),
              (status = 404, description = "No such ISMS or instance, or not yours")))]
pub async fn show_procedure(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, instance)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let full = instance_id(&id, &instance)?;
    let view = state
        .call(move |k| k.procedure_instance(&auth.principal, &full))
        .await?;
    Ok(Json(view).into_response())
}

/// The body of a move.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceRequest {
    /// The phase to move to.
    pub phase: String,
    /// Register fields of that phase.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
}

/// Move a procedure instance to a phase, checking every rule of the procedure.
#[utoipa::path(post, path = "/api/v1/isms/{id}/procedures/{instance}/advance", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id"),
           ("instance" = String, Path, description = "The instance, PROCEDURE-N")),
    request_body = AdvanceRequest,
    responses((status = 200, description = "instance, suggestions, notes"),
              (status = 403, description = "The caller's role or certificate does not allow it"),
              (status = 422, description = "A rule of the procedure refuses the move")))]
pub async fn advance_procedure(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, instance)): Path<(String, String)>,
    Json(body): Json<AdvanceRequest>,
) -> Result<Response, AppError> {
    let full = instance_id(&id, &instance)?;
    let moved = state
        .call(move |k| k.advance_procedure(&auth.principal, &full, &body.phase, body.fields))
        .await?;
    Ok(Json(moved).into_response())
}

/// The security-culture status: every user's certificate and the share of valid ones.
#[utoipa::path(get, path = "/api/v1/isms/{id}/culture", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "The culture status per user"),
              (status = 404, description = "No such ISMS, or not yours")))]
pub async fn culture(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let status = state
        .call(move |k| k.culture_status(&auth.principal, &id))
        .await?;
    Ok(Json(status).into_response())
}

/// The suggestions of an ISMS (open and decided), in order.
#[utoipa::path(get, path = "/api/v1/isms/{id}/suggestions", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "id, status, reason, changes, ..."),
              (status = 404, description = "No such ISMS, or not yours")))]
pub async fn suggestions(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let list = state
        .call(move |k| k.suggestions(&auth.principal, &id))
        .await?;
    Ok(Json(list).into_response())
}

/// Accept an open suggestion: its changes are applied to the ISMS (security officer).
#[utoipa::path(post, path = "/api/v1/isms/{id}/suggestions/{sid}/accept", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id"), ("sid" = String, Path, description = "The suggestion id, e.g. s1")),
    responses((status = 200, description = "The decided suggestion with its effect"),
              (status = 403, description = "Only the security officer decides"),
              (status = 404, description = "No such ISMS or suggestion, or not yours")))]
pub async fn accept_suggestion(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let decided = state
        .call(move |k| k.accept_suggestion(&auth.principal, &id, &sid))
        .await?;
    Ok(Json(decided).into_response())
}

/// The optional body of a rejection.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why it is rejected.
    pub note: Option<String>,
}

/// Reject an open suggestion: the inputs stay as they are (security officer).
#[utoipa::path(post, path = "/api/v1/isms/{id}/suggestions/{sid}/reject", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id"), ("sid" = String, Path, description = "The suggestion id, e.g. s1")),
    request_body(content = Option<RejectRequest>, description = "Optional: { note }", content_type = "application/json"),
    responses((status = 200, description = "The decided suggestion"),
              (status = 403, description = "Only the security officer decides"),
              (status = 404, description = "No such ISMS or suggestion, or not yours")))]
pub async fn reject_suggestion(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, sid)): Path<(String, String)>,
    body: String,
) -> Result<Response, AppError> {
    let body: RejectRequest = if body.trim().is_empty() {
        RejectRequest::default()
    } else {
        serde_json::from_str(&body)
            .map_err(|e| AppError::bad_request(format!("the body is not {{\"note\"}}: {e}")))?
    };
    let decided = state
        .call(move |k| k.reject_suggestion(&auth.principal, &id, &sid, body.note))
        .await?;
    Ok(Json(decided).into_response())
}

/// The metrics of an ISMS: each one's last value and freshness.
#[utoipa::path(get, path = "/api/v1/isms/{id}/metrics", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "isms, metrics: id, last value, freshness, due"),
              (status = 404, description = "No such ISMS, or not yours")))]
pub async fn metrics(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let registry = state.registry.clone();
    let listing = state
        .call(move |k| {
            let now = SystemTime::from(k.now_utc());
            k.list_metrics(
                &auth.principal,
                &id,
                registry
                    .as_deref()
                    .map(|r| r as &dyn mmsm_kernel::services::MetricRunner),
                now,
            )
        })
        .await?;
    Ok(Json(listing).into_response())
}

/// Query of the schema statistics.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StatsQuery {
    /// Also the schema changes the statistics support.
    #[serde(default)]
    pub suggest: bool,
}

/// Statistics of a schema across its ISMSs (schemas zone).
#[utoipa::path(get, path = "/api/v1/schemas/{id}/stats", tag = "schemas",
    params(("id" = String, Path, description = "The schema id"), StatsQuery),
    responses((status = 200, description = "answers, incidents, measured, suggestions"),
              (status = 403, description = "Not a schemas-zone role"),
              (status = 404, description = "No such schema")))]
pub async fn schema_stats(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<StatsQuery>,
) -> Result<Response, AppError> {
    let stats = state
        .call(move |k| k.schema_stats(&auth.principal, &id, q.suggest))
        .await?;
    Ok(Json(stats).into_response())
}

/// The suggestions to make, by their number in the statistics.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// 0-based positions in `suggestions` of `GET /api/v1/schemas/{id}/stats?suggest=true`.
    pub picked: Vec<usize>,
}

/// Make the next version of a schema with suggestions of its statistics (raise a probability,
/// lower a level); the others are made by editing the document.
#[utoipa::path(post, path = "/api/v1/schemas/{id}/stats/apply", tag = "schemas",
    params(("id" = String, Path, description = "The schema id")),
    request_body = ApplyRequest,
    responses((status = 200, description = "outcome (id, version, status), applied"),
              (status = 403, description = "Not a schemas-zone role"),
              (status = 422, description = "A picked suggestion cannot be made by itself, or no longer exists")))]
pub async fn apply_stats(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<ApplyRequest>,
) -> Result<Response, AppError> {
    let applied = state
        .call(move |k| k.apply_stats_suggestions(&auth.principal, &id, &body.picked))
        .await?;
    Ok(Json(applied).into_response())
}

/// The scripts and plugins of the server's registry, with their load state.
#[utoipa::path(get, path = "/api/v1/scripts", tag = "scripts",
    responses((status = 200, description = "id, kind, runtime, source, version, state")))]
pub async fn scripts(State(state): State<AppState>, _auth: Auth) -> Result<Response, AppError> {
    let statuses = state
        .registry
        .as_ref()
        .map(|r| r.statuses_shown())
        .unwrap_or_default();
    Ok(Json(statuses).into_response())
}

/// Query of a culture test.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CultureTestQuery {
    /// The user tested (default: the caller).
    pub user: Option<String>,
}

/// Draw the caller's current culture test (questions without their answers).
/// The draw is fixed for the session and the attempt: the same call shows the same questions.
#[utoipa::path(get, path = "/api/v1/isms/{id}/culture/test", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id"), CultureTestQuery),
    responses((status = 200, description = "isms, user, regulations, questions (id, regulation, text, options), attempts_left"),
              (status = 403, description = "Not the user, nor the security officer"),
              (status = 422, description = "No attempt left, or nothing to certify")))]
pub async fn culture_test(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<CultureTestQuery>,
) -> Result<Response, AppError> {
    let user = q.user.unwrap_or_else(|| auth.principal.user.clone());
    let test = state
        .call(move |k| current_test(k, &auth.principal, &auth.token, &id, &user))
        .await?;
    Ok(Json(test).into_response())
}

/// The answers to a culture test.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TakeRequest {
    /// The user tested (default: the caller).
    #[serde(default)]
    pub user: Option<String>,
    /// Question id -> index of the chosen option (from 0), for the questions of the current draw.
    pub answers: std::collections::BTreeMap<String, usize>,
}

/// Hand in the current culture test: scored, the attempt recorded, a certificate issued on a pass.
#[utoipa::path(post, path = "/api/v1/isms/{id}/culture/test", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id")),
    request_body = TakeRequest,
    responses((status = 200, description = "user, passed, score, pass_mark, per_regulation, wrong, certificate, attempts_left, board"),
              (status = 403, description = "Not the user, nor the security officer"),
              (status = 422, description = "No attempt left, an unknown question, or nothing to certify")))]
pub async fn take_culture_test(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<TakeRequest>,
) -> Result<Response, AppError> {
    let user = body.user.unwrap_or_else(|| auth.principal.user.clone());
    let result = state
        .call(move |k| {
            let test = current_test(k, &auth.principal, &auth.token, &id, &user)?;
            k.take_culture_test(&auth.principal, &id, &user, test.seed, &body.answers)
        })
        .await?;
    Ok(Json(result).into_response())
}

/// Every stored value of one metric of an ISMS, oldest first (its history).
#[utoipa::path(get, path = "/api/v1/isms/{id}/metrics/{metric}/values", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id"), ("metric" = String, Path, description = "The metric id")),
    responses((status = 200, description = "metric, source, version, value, score, subcontrols, at"),
              (status = 404, description = "No such ISMS, or not yours")))]
pub async fn metric_values(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, metric)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let values = state
        .call(move |k| k.metric_values(&auth.principal, &id, &metric))
        .await?;
    Ok(Json(values).into_response())
}

/// The optional body of a metrics run.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// Only this metric (default: every metric of the ISMS).
    pub metric: Option<String>,
}

/// Collect the metrics of an ISMS now (as `mmsm metric run`): values stored, the board re-valued.
#[utoipa::path(post, path = "/api/v1/isms/{id}/metrics/run", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id")),
    request_body(content = Option<RunRequest>, description = "Optional: { metric }", content_type = "application/json"),
    responses((status = 200, description = "isms, at, metrics (outcome per metric), expired, deltas, board"),
              (status = 403, description = "Not a maintenance or generation role"),
              (status = 404, description = "No such ISMS or metric, or not yours"),
              (status = 503, description = "The server has no scripts loaded")))]
pub async fn run_metrics(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    let body: RunRequest = if body.trim().is_empty() {
        RunRequest::default()
    } else {
        serde_json::from_str(&body)
            .map_err(|e| AppError::bad_request(format!("the body is not {{\"metric\"}}: {e}")))?
    };
    let registry = state.registry.clone().ok_or_else(|| {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no script is loaded in this server, so no metric can run: start `mmsm serve` with a scripts folder (--scripts)",
        )
    })?;
    let run = state
        .call(move |k| {
            let now = SystemTime::from(k.now_utc());
            k.run_metrics(
                &auth.principal,
                registry.as_ref(),
                &id,
                body.metric.as_deref(),
                now,
            )
        })
        .await?;
    Ok(Json(run).into_response())
}

/// The follow-up of a plan item; what is left out stays as it is.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanFollowUpRequest {
    /// The user responsible (a user id of the ISMS).
    pub owner: Option<String>,
    /// The planned date, YYYY-MM-DD.
    pub due: Option<String>,
    /// What was done.
    pub result: Option<String>,
    /// Done (true) or not done again (false).
    pub done: Option<bool>,
}

/// Follow up a plan item (security officer): owner, due date, result, done.
#[utoipa::path(post, path = "/api/v1/isms/{id}/plan/{rank}", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id"), ("rank" = usize, Path, description = "The rank of the item in the plan")),
    request_body = PlanFollowUpRequest,
    responses((status = 200, description = "item, follow_up, overdue"),
              (status = 400, description = "A value is not valid (e.g. the date)"),
              (status = 403, description = "Only the security officer follows up the plan"),
              (status = 404, description = "No such ISMS, or not yours")))]
pub async fn follow_up_plan(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, rank)): Path<(String, usize)>,
    Json(body): Json<PlanFollowUpRequest>,
) -> Result<Response, AppError> {
    let mut sets = Vec::new();
    for (key, value) in [
        ("owner", &body.owner),
        ("due", &body.due),
        ("result", &body.result),
    ] {
        if let Some(v) = value {
            sets.push(PlanSet::parse(&format!("{key}={v}")).map_err(AppError::bad_request)?);
        }
    }
    match body.done {
        Some(true) => sets.push(PlanSet::Done),
        Some(false) => sets.push(PlanSet::Undone),
        None => {}
    }
    let row = state
        .call(move |k| k.set_plan(&auth.principal, &id, rank, &sets))
        .await?;
    Ok(Json(row).into_response())
}

/// Add (or replace) an evidence file of an ISMS, which its metrics read: the
/// body is the file (at most 5 MB).
#[utoipa::path(put, path = "/api/v1/isms/{id}/evidence/{name}", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id"),
           ("name" = String, Path, description = "The file's name, e.g. backups.csv")),
    request_body(content = Vec<u8>, description = "The file", content_type = "application/octet-stream"),
    responses((status = 200, description = "name, sha256, size, uploaded_by, at"),
              (status = 403, description = "Not a maintenance or generation role"),
              (status = 404, description = "No such ISMS, or not yours"),
              (status = 422, description = "A bad name or a file over 5 MB")))]
pub async fn put_evidence(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, name)): Path<(String, String)>,
    body: axum::body::Body,
) -> Result<Response, AppError> {
    // The body was read whole (within the server's limit) before the handler.
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| AppError::bad_request(format!("the body could not be read: {e}")))?;
    let file = state
        .call(move |k| k.add_evidence(&auth.principal, &id, &name, &bytes))
        .await?;
    Ok(Json(file).into_response())
}

/// The evidence files of an ISMS (without their contents).
#[utoipa::path(get, path = "/api/v1/isms/{id}/evidence", tag = "maintenance",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "Each file: name, sha256, size, uploaded_by, at"),
              (status = 404, description = "No such ISMS, or not yours")))]
pub async fn list_evidence(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let files = state
        .call(move |k| k.list_evidence(&auth.principal, &id))
        .await?;
    Ok(Json(files).into_response())
}
