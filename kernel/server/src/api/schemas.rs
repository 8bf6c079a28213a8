//! The schemas zone (AGS, GED): list, show, import, clone, diff.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::error::AppError;
use crate::extract::Auth;
use crate::state::AppState;

/// Every schema: id, latest version, name, counts.
#[utoipa::path(get, path = "/api/v1/schemas", tag = "schemas",
    responses((status = 200, description = "The schemas")))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    let list = state.call(move |k| k.list_schemas(&auth.principal)).await?;
    Ok(Json(list).into_response())
}

/// Query of `GET /api/v1/schemas/{id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct VersionQuery {
    /// A version (default: the latest).
    pub version: Option<u32>,
}

/// A schema's header, versions, counts and subcontrols per level.
#[utoipa::path(get, path = "/api/v1/schemas/{id}", tag = "schemas",
    params(("id" = String, Path, description = "The schema id"), VersionQuery),
    responses((status = 200, description = "The schema"), (status = 404, description = "No such schema")))]
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, AppError> {
    let details = state
        .call(move |k| k.show_schema(&auth.principal, &id, q.version))
        .await?;
    Ok(Json(details).into_response())
}

/// Import a schema document (YAML, JSON or TOML by `Content-Type`): a new
/// schema, or a new version of an existing one; located errors on 422.
#[utoipa::path(post, path = "/api/v1/schemas", tag = "schemas",
    request_body(content = String, description = "One schema document", content_type = "application/yaml"),
    responses((status = 201, description = "Imported"), (status = 422, description = "Invalid: every located problem")))]
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: String,
) -> Result<Response, AppError> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = if kind.contains("json") {
        "request.json"
    } else if kind.contains("toml") {
        "request.toml"
    } else {
        "request.yaml"
    };
    let outcome = state
        .call(move |k| k.import_schema_text(&auth.principal, name, body))
        .await?;
    Ok((StatusCode::CREATED, Json(outcome)).into_response())
}

/// The body of `POST /api/v1/schemas/{id}/clone`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloneRequest {
    /// The new schema's id.
    pub new: String,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Narrow it to this sector.
    #[serde(default)]
    pub sector: Option<String>,
    /// Narrow it to this size class.
    #[serde(default)]
    pub size: Option<String>,
}

/// Clone a schema as a new one that records `based_on`.
#[utoipa::path(post, path = "/api/v1/schemas/{id}/clone", tag = "schemas",
    params(("id" = String, Path, description = "The schema to clone")),
    request_body = CloneRequest,
    responses((status = 201, description = "Cloned"), (status = 409, description = "The new id exists")))]
pub async fn clone(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<CloneRequest>,
) -> Result<Response, AppError> {
    let outcome = state
        .call(move |k| {
            k.clone_schema(
                &auth.principal,
                &id,
                &body.new,
                body.name,
                body.sector,
                body.size,
            )
        })
        .await?;
    Ok((StatusCode::CREATED, Json(outcome)).into_response())
}

/// Query of the diff.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DiffQuery {
    /// The older version.
    pub v1: u32,
    /// The newer version.
    pub v2: u32,
}

/// Elements added, removed and changed between two versions.
#[utoipa::path(get, path = "/api/v1/schemas/{id}/diff", tag = "schemas",
    params(("id" = String, Path, description = "The schema id"), DiffQuery),
    responses((status = 200, description = "The differences per kind")))]
pub async fn diff(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, AppError> {
    if q.v1 == 0 || q.v2 == 0 {
        return Err(AppError::bad_request("versions start at 1"));
    }
    let diff = state
        .call(move |k| k.diff_schema(&auth.principal, &id, q.v1, q.v2))
        .await?;
    Ok(Json(diff).into_response())
}
