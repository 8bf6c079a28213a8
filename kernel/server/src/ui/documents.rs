//! The Documents pages of an enterprise (issue 14): the documents in force
//! with their version and state, each one rendered, the officer's form for
//! its fill-in fields and owner, the approval button of the speaker and the
//! officer, and the PDF downloads (one document, or the whole pack).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde_json::{json, Value};

use crate::error::AppError;
use crate::extract::Page;
use crate::state::AppState;
use mmsm_kernel::services::{edits_documents, msgs::SECURITY_OFFICER, SPEAKER};
use mmsm_reports::{self as reports, Documents};

use super::{field, page, UiError};

/// The routes of the Documents pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/isms/{id}/documents", get(list))
        .route("/isms/{id}/documents/pack.pdf", get(pack))
        .route("/isms/{id}/documents/pack.zip", get(pack_zip))
        .route("/isms/{id}/documents/{doc}", get(show).post(set))
        .route("/isms/{id}/documents/{doc}/approve", post(approve))
        .route("/isms/{id}/documents/{doc}/pdf", get(pdf))
        .route("/isms/{id}/documents/{doc}/docx", get(docx))
}

async fn list(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (rows, name) = state
        .call(move |k| {
            let rows = k.list_documents(&who, &isms)?;
            Ok((rows, k.isms(&who, &isms)?.enterprise.name))
        })
        .await?;
    let approved = rows.iter().filter(|d| d.state == "approved").count();
    page(
        &p,
        "documents.html",
        json!({ "id": id, "name": name, "rows": rows, "approved": approved }),
    )
}

/// One document; `extra` carries the error of the last form.
async fn render(
    state: &AppState,
    p: &Page,
    id: String,
    doc: String,
    extra: Value,
) -> Result<Response, UiError> {
    render_version(state, p, id, doc, None, extra).await
}

/// One document at `version` (the current one when `None`).
async fn render_version(
    state: &AppState,
    p: &Page,
    id: String,
    doc: String,
    version: Option<u32>,
    extra: Value,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (rendered, record, versions) = state
        .call(move |k| {
            let rendered = match version {
                Some(v) => k.document_version(&who, &isms, &doc, v)?,
                None => k.document(&who, &isms, &doc)?,
            };
            let record = k.isms(&who, &isms)?;
            let versions = k.document_control(&record, &doc)?.versions;
            Ok((rendered, record, versions))
        })
        .await?;
    let principal = &p.0.principal;
    let can_approve = record.users.iter().any(|u| {
        u.id.as_str() == principal.user
            && u.roles
                .iter()
                .any(|r| r.as_str() == SPEAKER || r.as_str() == SECURITY_OFFICER)
    });
    let html = reports::markdown_html(&rendered.markdown, 1);
    let mut context = json!({
        "id": id, "name": record.enterprise.name, "doc": rendered, "html": html,
        "users": record.users, "can_edit": edits_documents(principal) && version.is_none(),
        "can_approve": can_approve && version.is_none(), "versions": versions, "reading": version,
    });
    if let (Value::Object(context), Value::Object(extra)) = (&mut context, extra) {
        context.extend(extra);
    }
    page(p, "document.html", context)
}

async fn show(
    State(state): State<AppState>,
    p: Page,
    Path((id, doc)): Path<(String, String)>,
    Query(query): Query<std::collections::BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    let version = match query.get("version") {
        Some(v) => Some(
            v.parse::<u32>()
                .map_err(|_| AppError::bad_request(format!("`{v}` is not a version number")))?,
        ),
        None => None,
    };
    render_version(&state, &p, id, doc, version, json!({})).await
}

/// Shows a refusal beside the forms; other failures as an error page.
async fn refused_or(
    state: &AppState,
    p: &Page,
    (id, doc): (String, String),
    result: Result<(), AppError>,
    done: &str,
) -> Result<Response, UiError> {
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/isms/{id}/documents/{doc}?done={done}")).into_response())
        }
        // A refusal or an unknown owner: said beside the forms.
        Err(e) if matches!(e.status.as_u16(), 404 | 422) => {
            render(state, p, id, doc, json!({ "error": e.message })).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn set(
    State(state): State<AppState>,
    p: Page,
    Path((id, doc)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let values: Vec<(String, String)> = fields
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("field-").map(|k| (k.to_owned(), v.clone())))
        .collect();
    let owner = Some(field(&fields, "owner")).filter(|o| !o.is_empty());
    let (who, isms, name) = (p.0.principal.clone(), id.clone(), doc.clone());
    let result = state
        .call(move |k| k.set_document(&who, &isms, &name, &values, owner))
        .await
        .map(|_| ());
    refused_or(&state, &p, (id, doc), result, "saved").await
}

async fn approve(
    State(state): State<AppState>,
    p: Page,
    Path((id, doc)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let (who, isms, name) = (p.0.principal.clone(), id.clone(), doc.clone());
    let result = state
        .call(move |k| k.approve_document(&who, &isms, &name))
        .await
        .map(|_| ());
    refused_or(&state, &p, (id, doc), result, "approved").await
}

async fn pdf(
    State(state): State<AppState>,
    p: Page,
    Path((id, doc)): Path<(String, String)>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let rendered = state.call(move |k| k.document(&who, &id, &doc)).await?;
    let name = format!("{}.pdf", rendered.row.id);
    Ok(crate::download::attachment(
        reports::document_pdf(&rendered),
        crate::download::PDF,
        &name,
    ))
}

/// The whole pack as one PDF.
async fn pack(state: State<AppState>, p: Page, path: Path<String>) -> Result<Response, UiError> {
    pack_file(state, p, path, false).await
}

async fn docx(
    State(state): State<AppState>,
    p: Page,
    Path((id, doc)): Path<(String, String)>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let rendered = state.call(move |k| k.document(&who, &id, &doc)).await?;
    let name = format!("{}.docx", rendered.row.id);
    Ok(crate::download::attachment(
        reports::document_docx(&rendered),
        crate::download::DOCX,
        &name,
    ))
}

/// The whole pack as a ZIP: each document as PDF and Word, and pack.pdf.
async fn pack_zip(
    state: State<AppState>,
    p: Page,
    path: Path<String>,
) -> Result<Response, UiError> {
    pack_file(state, p, path, true).await
}

async fn pack_file(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    zip: bool,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (enterprise, docs) = state.call(move |k| k.document_pack(&who, &isms)).await?;
    Ok(if zip {
        crate::download::attachment(
            reports::pack_zip(&enterprise, &docs),
            crate::download::ZIP,
            &format!("{id}-documents.zip"),
        )
    } else {
        crate::download::attachment(
            reports::pack_pdf(&enterprise, &docs),
            crate::download::PDF,
            &format!("{id}-documents.pdf"),
        )
    })
}
