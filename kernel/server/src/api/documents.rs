//! The documents in force of an ISMS over HTTP (issue 14): the same kernel
//! calls and JSON as `mmsm isms docs ... --json`, and the files it exports.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::error::AppError;
use crate::extract::Auth;
use crate::state::AppState;
use mmsm_reports::{self as reports, Documents};

/// Query of one document: its format.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct DocQuery {
    /// json (default: the document with its Markdown), md, html, pdf or docx.
    pub format: Option<String>,
    /// An earlier version, as it read then.
    pub version: Option<u32>,
}

/// The body of `PUT /api/v1/isms/{id}/documents/{doc}`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRequest {
    /// Fill-in field values by field id; an empty value clears one.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
    /// The user of the ISMS who keeps the document.
    #[serde(default)]
    pub owner: Option<String>,
}

/// The documents in force: id, kind, title, version, state, owner, approval, empty fields.
#[utoipa::path(get, path = "/api/v1/isms/{id}/documents", tag = "documents",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "id, kind, title, version, state, owner, approved, empty, fields")))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let rows = state
        .call(move |k| k.list_documents(&auth.principal, &id))
        .await?;
    Ok(Json(rows).into_response())
}

/// One document, rendered: JSON (with its Markdown), md, html or pdf.
#[utoipa::path(get, path = "/api/v1/isms/{id}/documents/{doc}", tag = "documents",
    params(("id" = String, Path, description = "The ISMS id"),
           ("doc" = String, Path, description = "The document, e.g. tpl-security-policy"), DocQuery),
    responses((status = 200, description = "The document"), (status = 404, description = "Not in force")))]
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, doc)): Path<(String, String)>,
    Query(query): Query<DocQuery>,
) -> Result<Response, AppError> {
    let version = query.version;
    let rendered = state
        .call(move |k| match version {
            Some(v) => k.document_version(&auth.principal, &id, &doc, v),
            None => k.document(&auth.principal, &id, &doc),
        })
        .await?;
    let name = rendered.row.id.clone();
    Ok(match query.format.as_deref().unwrap_or("json") {
        "json" => Json(rendered).into_response(),
        "md" => crate::download::attachment(
            rendered.markdown.into_bytes(),
            "text/markdown; charset=utf-8",
            &format!("{name}.md"),
        ),
        "html" => crate::download::attachment(
            reports::document_html(&rendered).into_bytes(),
            "text/html; charset=utf-8",
            &format!("{name}.html"),
        ),
        "pdf" => crate::download::attachment(
            reports::document_pdf(&rendered),
            "application/pdf",
            &format!("{name}.pdf"),
        ),
        other => {
            return Err(AppError::bad_request(format!(
                "`{other}` is not a format of a document; expected json, md, html, pdf or docx"
            )))
        }
    })
}

/// Fills in fields of a document or sets its owner (the security officer or the consultant).
#[utoipa::path(put, path = "/api/v1/isms/{id}/documents/{doc}", tag = "documents",
    params(("id" = String, Path, description = "The ISMS id"),
           ("doc" = String, Path, description = "The document")),
    request_body = SetRequest,
    responses((status = 200, description = "The document's row"),
              (status = 403, description = "Not the security officer or the consultant"),
              (status = 422, description = "Not a field of the document")))]
pub async fn set(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, doc)): Path<(String, String)>,
    Json(body): Json<SetRequest>,
) -> Result<Response, AppError> {
    let pairs: Vec<(String, String)> = body.fields.into_iter().collect();
    let row = state
        .call(move |k| k.set_document(&auth.principal, &id, &doc, &pairs, body.owner))
        .await?;
    Ok(Json(row).into_response())
}

/// Approves the version a document is at (its speaker or its security officer).
#[utoipa::path(post, path = "/api/v1/isms/{id}/documents/{doc}/approval", tag = "documents",
    params(("id" = String, Path, description = "The ISMS id"),
           ("doc" = String, Path, description = "The document")),
    responses((status = 200, description = "The document's row, approved"),
              (status = 422, description = "Fields still empty, approved already, or not an approver")))]
pub async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, doc)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let row = state
        .call(move |k| k.approve_document(&auth.principal, &id, &doc))
        .await?;
    Ok(Json(row).into_response())
}

/// Every document in force as one PDF, with a table of contents.
#[utoipa::path(get, path = "/api/v1/isms/{id}/documents/pack.pdf", tag = "documents",
    params(("id" = String, Path, description = "The ISMS id")),
    responses((status = 200, description = "The pack", content_type = "application/pdf")))]
pub async fn pack(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let name = format!("{id}-documents.pdf");
    let bytes = state
        .call(move |k| {
            let (enterprise, docs) = k.document_pack(&auth.principal, &id)?;
            Ok(reports::pack_pdf(&enterprise, &docs))
        })
        .await?;
    Ok(crate::download::attachment(
        bytes,
        crate::download::PDF,
        &name,
    ))
}
