//! The findings page of an enterprise (issue 15): the audit programme, the
//! findings with their corrective actions, and the forms of each actor: the
//! auditor (or consultant) records findings and audits held, the officer
//! responds, the owner reports the action done, the auditor closes. The
//! printable level certificate is served here too. Every rule is the
//! kernel's; a form shown to someone the kernel would refuse is a defect.

use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::error::AppError;
use crate::extract::Page;
use crate::state::AppState;
use mmsm_kernel::services::msgs::manages;
use mmsm_kernel::services::{FindingKind, NewFinding, Response as ActionResponse};
use mmsm_model::Zone;
use mmsm_reports::Documents;

use super::{field, page, UiError};

/// The routes of the findings page and the printable certificate.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/isms/{id}/findings", get(findings).post(add_finding))
        .route("/isms/{id}/findings/{finding}/respond", post(respond))
        .route("/isms/{id}/findings/{finding}/done", post(done))
        .route("/isms/{id}/findings/{finding}/close", post(close))
        .route("/isms/{id}/audits", post(audit_held))
        .route("/isms/{id}/certificates/{level}/pdf", get(certificate_pdf))
}

async fn findings(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    render(&state, &p, id, json!({})).await
}

/// The page with `extra` (an error of the last form, say) in its context.
async fn render(state: &AppState, p: &Page, id: String, extra: Value) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (list, programme, record, schema) = state
        .call(move |k| {
            let list = k.list_findings(&who, &isms, false)?;
            let programme = k.audit_programme(&who, &isms)?;
            let (record, schema) = k.isms_with_schema(&who, &isms)?;
            Ok((list, programme, record, schema))
        })
        .await?;
    let principal = &p.0.principal;
    let controls: Vec<Value> = schema
        .controls
        .iter()
        .map(|c| json!({ "id": c.id, "title": c.title }))
        .collect();
    let procedures: Vec<Value> = schema
        .procedures
        .iter()
        .map(|pr| json!({ "id": pr.id, "name": pr.name }))
        .collect();
    let users: Vec<Value> = record
        .users
        .iter()
        .map(|u| json!({ "id": u.id, "name": u.name }))
        .collect();
    let (open, closed): (Vec<_>, Vec<_>) = list.into_iter().partition(|f| f.finding.is_open());
    let mut context = json!({
        "id": id,
        "name": record.enterprise.name,
        "open": open,
        "closed": closed,
        "programme": programme,
        "controls": controls,
        "procedures": procedures,
        "users": users,
        "kinds": FindingKind::ALL.iter().map(|k| json!({ "id": k.as_str(), "words": k.words() })).collect::<Vec<_>>(),
        "can_record": principal.has_zone(Zone::Audit) || principal.has_zone(Zone::Generation) || principal.admin,
        "can_close": principal.has_zone(Zone::Audit) || principal.admin,
        "can_respond": manages(principal) || principal.admin,
        "today": chrono::Utc::now().date_naive().to_string(),
    });
    if let (Value::Object(context), Value::Object(extra)) = (&mut context, extra) {
        context.extend(extra);
    }
    page(p, "findings.html", context)
}

/// Shows a refusal of the kernel on the page, next to the form; any other
/// failure as an error page.
async fn refused_or(
    state: &AppState,
    p: &Page,
    id: String,
    result: Result<(), AppError>,
    anchor: &str,
) -> Result<Response, UiError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/isms/{id}/findings{anchor}")).into_response()),
        // A refusal or an unknown control, user or finding: said beside the forms.
        Err(e) if matches!(e.status.as_u16(), 404 | 422) => {
            render(state, p, id, json!({ "error": e.message })).await
        }
        Err(e) => Err(e.into()),
    }
}

fn day(name: &str, text: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::bad_request(format!(
            "{name} `{text}` is not a date; expected YYYY-MM-DD, e.g. 2027-03-01"
        ))
    })
}

/// The auditor's (or consultant's) form: multipart for its evidence file.
async fn add_finding(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Result<Response, UiError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut file = None;
    while let Some(part) = form
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(format!("the form could not be read: {e}")))?
    {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "evidence" {
            let file_name = part.file_name().unwrap_or_default().to_owned();
            let bytes = part
                .bytes()
                .await
                .map_err(|e| AppError::bad_request(format!("the file could not be read: {e}")))?;
            if !file_name.is_empty() && !bytes.is_empty() {
                file = Some((file_name, bytes.to_vec()));
            }
        } else {
            fields.push((name, part.text().await.unwrap_or_default()));
        }
    }
    p.check_csrf(&field(&fields, "csrf"))?;
    let kind = FindingKind::parse(&field(&fields, "kind")).map_err(AppError::bad_request)?;
    let optional = |name: &str| Some(field(&fields, name)).filter(|v| !v.trim().is_empty());
    let new = NewFinding {
        control: field(&fields, "control"),
        procedure: optional("procedure"),
        audit: optional("audit"),
        kind,
        text: field(&fields, "text"),
        evidence: file,
    };
    let who = p.0.principal.clone();
    let isms = id.clone();
    let result = state
        .call(move |k| k.add_finding(&who, &isms, new))
        .await
        .map(|_| ());
    refused_or(&state, &p, id, result, "#open").await
}

async fn respond(
    State(state): State<AppState>,
    p: Page,
    Path((id, finding)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let response = ActionResponse {
        action: field(&fields, "action"),
        owner: field(&fields, "owner"),
        due: day("the due date", &field(&fields, "due"))?,
    };
    let (who, isms, label) = (p.0.principal.clone(), id.clone(), finding.clone());
    let result = state
        .call(move |k| k.respond_finding(&who, &isms, &label, response))
        .await
        .map(|_| ());
    refused_or(&state, &p, id, result, &format!("#{finding}")).await
}

/// What a finding form with a note does: report the action done, or close.
#[derive(Clone, Copy)]
enum NoteAct {
    Done,
    Close,
}

async fn done(
    state: State<AppState>,
    p: Page,
    path: Path<(String, String)>,
    form: Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    with_note(state, p, path, form, NoteAct::Done).await
}

async fn close(
    state: State<AppState>,
    p: Page,
    path: Path<(String, String)>,
    form: Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    with_note(state, p, path, form, NoteAct::Close).await
}

async fn with_note(
    State(state): State<AppState>,
    p: Page,
    Path((id, finding)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
    act: NoteAct,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let note = Some(field(&fields, "note"));
    let (who, isms, label) = (p.0.principal.clone(), id.clone(), finding.clone());
    let result = state
        .call(move |k| match act {
            NoteAct::Done => k.finding_action_done(&who, &isms, &label, note),
            NoteAct::Close => k.close_finding(&who, &isms, &label, note),
        })
        .await
        .map(|_| ());
    let anchor = match act {
        NoteAct::Done => format!("#{finding}"),
        NoteAct::Close => "#closed".to_owned(),
    };
    refused_or(&state, &p, id, result, &anchor).await
}

async fn audit_held(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let on = match field(&fields, "on") {
        text if text.trim().is_empty() => None,
        text => Some(day("the day it was held", &text)?),
    };
    let (audit, note) = (field(&fields, "audit"), Some(field(&fields, "note")));
    let (who, isms) = (p.0.principal.clone(), id.clone());
    let result = state
        .call(move |k| {
            let on = on.unwrap_or_else(|| k.now_utc().date_naive());
            k.record_audit(&who, &isms, &audit, on, note)
        })
        .await
        .map(|_| ());
    refused_or(&state, &p, id, result, "#programme").await
}

/// The printable certificate, for those who see the enterprise.
async fn certificate_pdf(
    State(state): State<AppState>,
    p: Page,
    Path((id, level)): Path<(String, u8)>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let name = format!("{id}-level-{level}-certificate.pdf");
    let bytes = state
        .call(move |k| k.certificate_pdf(&who, &id, level))
        .await?;
    Ok(crate::download::attachment(
        bytes,
        crate::download::PDF,
        &name,
    ))
}
