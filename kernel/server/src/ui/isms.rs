//! Pages of an enterprise: list, generation form (saved as a draft as it is
//! filled), board, checklist with save-as-you-go answers, SoA (and its
//! xlsx), report, history, audit trail.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::api::isms::{encode, soa_workbook, xlsx_response};
use crate::extract::Page;
use crate::state::AppState;
use mmsm_engine::Change;
use mmsm_kernel::services::{IsmsQuery, IsmsSort, ServiceError};
use mmsm_model::{Answer, QuestionKind, SubControlId, Zone};
use mmsm_reports::{self as reports, Documents};

use super::{page, UiError};
use crate::lists::{event_passes, paged, ListQuery};

/// The routes of the enterprise pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/isms", get(list))
        .route("/isms/new", get(new_form).post(generate))
        .route("/isms/new/draft", axum::routing::post(save_draft))
        .route(
            "/isms/new/draft/discard",
            axum::routing::post(discard_draft),
        )
        .route("/isms/{id}", get(board))
        .route("/isms/{id}/checklist", get(checklist))
        .route("/isms/{id}/answer", axum::routing::post(answer))
        .route("/isms/{id}/why", axum::routing::post(answer_why))
        .route("/isms/{id}/delete", axum::routing::post(delete_isms))
        .route("/isms/{id}/archive", axum::routing::post(archive_isms))
        .route("/isms/{id}/approve", axum::routing::post(approve_isms))
        .route("/isms/{id}/certify", axum::routing::post(certify_level))
        .route("/isms/{id}/rebase", axum::routing::post(rebase))
        .route("/isms/{id}/obligations", get(obligations))
        .route("/isms/{id}/business", axum::routing::post(answer_business))
        .route("/isms/{id}/soa", get(soa))
        .route("/isms/{id}/soa.xlsx", get(soa_xlsx))
        .route("/isms/{id}/soa.pdf", get(soa_pdf))
        .route("/isms/{id}/report", get(report))
        .route("/isms/{id}/history", get(history))
        .route("/isms/{id}/audit", get(audit))
}

const OPTIONS: [(&str, &str); 6] = [
    ("", "unanswered"),
    ("yes", "yes"),
    ("partial", "partly"),
    ("no", "no"),
    ("na", "does not apply"),
    ("unknown", "do not know"),
];

/// Enterprises shown on one page of the list.
const PAGE: usize = 50;

/// The list page's query: a search text and where the page starts.
#[derive(Debug, Default, Deserialize)]
struct EnterprisesQuery {
    q: Option<String>,
    after: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    p: Page,
    Query(q): Query<EnterprisesQuery>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let text = q.q.clone().filter(|s| !s.trim().is_empty());
    let query = IsmsQuery {
        limit: Some(PAGE),
        after: q.after.clone().filter(|s| !s.is_empty()),
        filter: text.clone(),
        sort: IsmsSort::Id,
    };
    let listing = state.call(move |k| k.list_isms_page(&who, &query)).await?;
    let next = listing.next.map(|next| {
        let mut link = format!("/isms?after={}", encode(next.as_str()));
        if let Some(text) = &text {
            link.push_str(&format!("&q={}", encode(text)));
        }
        link
    });
    let first = q.after.is_some().then(|| match &text {
        Some(text) => format!("/isms?q={}", encode(text)),
        None => "/isms".to_owned(),
    });
    page(
        &p,
        "isms_list.html",
        json!({ "list": listing.items, "q": text, "next": next, "first": first }),
    )
}

fn can_edit(p: &Page) -> bool {
    let who = &p.0.principal;
    who.has_zone(Zone::Maintenance) || who.has_zone(Zone::Generation)
}

async fn board(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let speaker =
        p.0.principal
            .roles
            .iter()
            .any(|r| r.as_str() == mmsm_kernel::services::SPEAKER)
            && p.0.principal.enterprise.as_deref() == Some(id.as_str());
    let (view, newer, archived, certificates, (findings, documents_due)) = state
        .call(move |k| {
            let record = k.isms(&who, &isms)?;
            let latest = k
                .schema(&who, record.schema.id.as_str(), None)?
                .schema
                .schema
                .version;
            let newer = (latest > record.schema.version).then_some(latest);
            let certificates = k.certificates_of(&record)?;
            let findings = k.finding_figures(&record)?;
            let schema = k.isms_schema(&record)?;
            let due = k.documents_due(&record, &schema)?;
            Ok((
                k.report(&who, &isms)?,
                newer,
                record.archived,
                certificates,
                (findings, due),
            ))
        })
        .await?;
    // The trend is the report's: the same chart, dated axes and legend.
    page(
        &p,
        "board.html",
        json!({ "r": view, "id": id, "can_edit": can_edit(&p), "newer": newer, "archived": archived, "speaker": speaker, "certificates": certificates, "findings": findings, "documents_due": documents_due,
                "can_rebase": p.0.principal.has_zone(Zone::Generation) }),
    )
}

async fn checklist(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (record, engine, notes, files) = state
        .call(move |k| {
            let (record, engine) = k.isms_engine(&who, &isms)?;
            let notes = k.answer_notes(&who, &isms)?;
            let files: Vec<String> = k
                .list_evidence(&who, &isms)?
                .into_iter()
                .map(|f| f.name)
                .collect();
            Ok((record, engine, notes, files))
        })
        .await?;
    let schema = engine.schema();
    let answers = &record.inputs.answers;
    let mut total = 0;
    let mut answered = 0;
    let domains: Vec<serde_json::Value> = schema
        .domains
        .iter()
        .map(|d| {
            let mut d_total = 0;
            let mut d_answered = 0;
            let controls: Vec<serde_json::Value> = schema
                .controls
                .iter()
                .filter(|c| c.domain == d.id)
                .map(|c| {
                    let subs: Vec<serde_json::Value> = c
                        .subcontrols
                        .iter()
                        .map(|s| {
                            let a = answers.get(&s.id).map(|a| a.as_str());
                            d_total += 1;
                            if a.is_some() {
                                d_answered += 1;
                            }
                            json!({ "id": s.id, "text": s.text, "level": s.level, "mandatory": s.mandatory, "answer": a,
                                    "why": notes.get(&s.id) })
                        })
                        .collect();
                    json!({ "id": c.id, "title": c.title, "subcontrols": subs })
                })
                .collect();
            total += d_total;
            answered += d_answered;
            json!({ "id": d.id, "name": d.name, "controls": controls, "total": d_total, "answered": d_answered })
        })
        .collect();
    // One domain at a time (issue 17.6: 296 forms on one page took 1.3 s in
    // the browser): the one asked for, else the first with a question left.
    let asked = q.get("domain").filter(|d| !d.is_empty());
    let position = asked
        .and_then(|d| domains.iter().position(|x| x["id"] == d.as_str()))
        .or_else(|| domains.iter().position(|x| x["answered"] != x["total"]))
        .unwrap_or(0);
    let href = |d: &serde_json::Value| {
        format!(
            "/isms/{id}/checklist?domain={}",
            encode(d["id"].as_str().unwrap_or_default())
        )
    };
    let neighbour = |at: Option<usize>| {
        at.and_then(|i| domains.get(i))
            .map(|d| json!({ "id": d["id"], "name": d["name"], "href": href(d) }))
    };
    let (previous, next) = (
        neighbour(position.checked_sub(1)),
        neighbour(Some(position + 1)),
    );
    let current = domains.get(position).cloned();
    let index: Vec<serde_json::Value> = domains
        .iter()
        .map(|d| json!({ "id": d["id"], "name": d["name"], "total": d["total"], "answered": d["answered"], "href": href(d) }))
        .collect();
    page(
        &p,
        "checklist.html",
        json!({
            "id": id, "name": record.enterprise.name, "domains": index, "current": current,
            "previous": previous, "next": next,
            "total": total, "answered": answered, "compliance": record.board.compliance,
            "options": OPTIONS, "can_edit": can_edit(&p), "files": files,
        }),
    )
}

/// The speaker approves the enterprise's ISMS from its board.
async fn approve_isms(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&super::field(&fields, "csrf"))?;
    let note = Some(super::field(&fields, "note"));
    let (who, isms) = (p.0.principal.clone(), id.clone());
    state
        .call(move |k| k.approve_isms(&who, &isms, note))
        .await?;
    Ok(Redirect::to(&format!("/isms/{id}")).into_response())
}

/// An auditor certifies a maturity level from the board.
async fn certify_level(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&super::field(&fields, "csrf"))?;
    let level: u8 = super::field(&fields, "level").parse().map_err(|_| {
        crate::error::AppError::bad_request("choose the level to certify: 1, 2 or 3")
    })?;
    let (who, isms) = (p.0.principal.clone(), id.clone());
    state
        .call(move |k| k.certify_level(&who, &isms, level))
        .await?;
    Ok(Redirect::to(&format!("/isms/{id}")).into_response())
}

/// An administrator archives an enterprise from its board, or takes it out.
async fn archive_isms(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&super::field(&fields, "csrf"))?;
    let archive = super::field(&fields, "archive") == "yes";
    let (who, isms) = (p.0.principal.clone(), id.clone());
    state
        .call(move |k| k.set_archived(&who, &isms, archive))
        .await?;
    Ok(Redirect::to(&format!("/isms/{id}")).into_response())
}

/// An administrator deletes an enterprise from its board, typing its id.
async fn delete_isms(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&super::field(&fields, "csrf"))?;
    let confirm = super::field(&fields, "confirm");
    let who = p.0.principal.clone();
    state
        .call(move |k| k.delete_isms(&who, &id, &confirm))
        .await?;
    Ok(Redirect::to("/isms").into_response())
}

/// The reasons of an answer from the checklist's "Why" form (multipart: a
/// file given with it becomes an evidence file of the ISMS, attached).
async fn answer_why(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    mut form: axum::extract::Multipart,
) -> Result<Response, UiError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut upload = None;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        crate::error::AppError::bad_request(format!("the form could not be read: {e}"))
    };
    while let Some(part) = form.next_field().await.map_err(unreadable)? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file = part.file_name().unwrap_or_default().to_owned();
            let bytes = part.bytes().await.map_err(unreadable)?;
            if !file.is_empty() {
                let file = file
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                upload = Some((file, bytes));
            }
        } else {
            fields.push((name, part.text().await.map_err(unreadable)?));
        }
    }
    p.check_csrf(&super::field(&fields, "csrf"))?;
    let subcontrol = super::field(&fields, "subcontrol");
    let mut evidence: Vec<String> = fields
        .iter()
        .filter(|(n, _)| n == "evidence")
        .map(|(_, v)| v.clone())
        .collect();
    if let Some((file, _)) = &upload {
        evidence.push(file.clone());
    }
    let why = mmsm_kernel::services::AnswerWhy {
        note: Some(super::field(&fields, "note")),
        justification: Some(super::field(&fields, "justification")),
        evidence,
    };
    let who = p.0.principal.clone();
    let (isms, question) = (id.clone(), subcontrol.clone());
    let back = state
        .call(move |k| {
            if let Some((file, bytes)) = &upload {
                k.add_evidence(&who, &isms, file, bytes)?;
            }
            k.set_answer_why(&who, &isms, &question, why)?;
            let (_, schema) = k.isms_with_schema(&who, &isms)?;
            Ok(question_link(&schema, &isms, &question))
        })
        .await?;
    Ok(Redirect::to(&back).into_response())
}

/// The checklist page of a question: its own domain, scrolled to it.
fn question_link(schema: &mmsm_model::Schema, isms: &str, subcontrol: &str) -> String {
    let domain = schema
        .controls
        .iter()
        .find(|c| c.subcontrols.iter().any(|s| s.id.as_str() == subcontrol))
        .map(|c| format!("?domain={}", encode(c.domain.as_str())))
        .unwrap_or_default();
    format!("/isms/{isms}/checklist{domain}#sc-{subcontrol}")
}

#[derive(Debug, Deserialize)]
struct AnswerForm {
    csrf: String,
    subcontrol: String,
    answer: String,
}

async fn answer(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<AnswerForm>,
) -> Result<Response, Response> {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let fail = |e: crate::error::AppError| {
        if wants_json {
            e.into_response()
        } else {
            UiError(e).into_response()
        }
    };
    p.check_csrf(&form.csrf).map_err(fail)?;
    let answer = if form.answer.is_empty() {
        None
    } else {
        Some(Answer::parse(&form.answer).ok_or_else(|| {
            fail(crate::error::AppError::bad_request(format!(
                "`{}` is not an answer",
                form.answer
            )))
        })?)
    };
    let change = Change::Answer {
        subcontrol: SubControlId::new(form.subcontrol.clone()),
        answer,
    };
    let who = p.0.principal.clone();
    let isms = id.clone();
    let subcontrol = form.subcontrol.clone();
    let (updated, answered, total, back) = state
        .call(move |k| {
            let updated = k.update_isms(&who, &isms, change, "answer")?;
            let record = k.isms(&who, &isms)?;
            let index = k.schema_index(&who, record.schema.id.as_str(), record.schema.version)?;
            let total = index.schema().subcontrols().count();
            let back = question_link(index.schema(), &isms, &subcontrol);
            Ok((updated, record.inputs.answers.len(), total, back))
        })
        .await
        .map_err(fail)?;
    if wants_json {
        let c = updated
            .board
            .compliance
            .map(|c| format!("{c:.1}"))
            .unwrap_or_else(|| "n/a".into());
        return Ok(
            Json(json!({ "compliance": c, "answered": answered, "total": total })).into_response(),
        );
    }
    // Back to the question's own domain of the checklist.
    Ok(Redirect::to(&back).into_response())
}

#[derive(Debug, Deserialize)]
struct RebaseForm {
    csrf: String,
    version: u32,
}

async fn rebase(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(form): Form<RebaseForm>,
) -> Result<Response, UiError> {
    p.check_csrf(&form.csrf)?;
    let who = p.0.principal.clone();
    let isms = id.clone();
    state
        .call(move |k| k.rebase_isms(&who, &isms, Some(form.version)))
        .await?;
    Ok(Redirect::to(&format!("/isms/{id}/history")).into_response())
}

#[derive(Debug, Deserialize)]
struct SchemaPick {
    schema: Option<String>,
}

/// The form's view of a schema: sectors, business questions, asset types, subcontrols.
fn schema_form_view(schema: &mmsm_model::Schema) -> serde_json::Value {
    // A question that fills an enterprise field (employees, turnover,
    // sector) is asked once, by that field of the form.
    let business: Vec<serde_json::Value> = schema
        .business_checklist
        .iter()
        .filter(|q| q.maps_to.is_none())
        .map(|q| {
            let kind = match q.kind {
                QuestionKind::Bool => "bool",
                QuestionKind::Choice => "choice",
                QuestionKind::Number => "number",
            };
            json!({ "id": q.id, "text": q.text, "kind": kind, "options": q.options })
        })
        .collect();
    let domains: Vec<serde_json::Value> = schema
        .domains
        .iter()
        .map(|d| {
            let subs: Vec<serde_json::Value> = schema
                .subcontrols()
                .filter(|(c, _)| c.domain == d.id)
                .map(|(_, s)| json!({ "id": s.id, "text": s.text }))
                .collect();
            json!({ "id": d.id, "name": d.name, "subcontrols": subs })
        })
        .collect();
    json!({
        "id": schema.schema.id, "sectors": schema.sectors, "business": business,
        "asset_types": schema.asset_types, "domains": domains,
    })
}

/// The generation form of `schema_id` (or the draft's, or the base schema),
/// filled with `values` (field name -> value).
async fn render_new_form(
    state: &AppState,
    p: &Page,
    schema_id: Option<String>,
    values: Vec<(String, String)>,
    errors: Vec<String>,
    saved_at: Option<u64>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let drafted = values
        .iter()
        .find(|(n, _)| n == "schema")
        .map(|(_, v)| v.clone());
    let (schemas, schema) = state
        .call(move |k| {
            who.require(Zone::Generation, "create an enterprise")?;
            let schemas = k.list_schemas(&who)?;
            let id = schema_id.or(drafted).unwrap_or_else(|| "base".into());
            let schema = k.schema(&who, &id, None)?.schema;
            Ok((schemas, schema))
        })
        .await?;
    let answered = values
        .iter()
        .filter(|(n, v)| n.starts_with("sc.") && !v.is_empty())
        .count();
    let asset_rows = values
        .iter()
        .filter_map(|(n, _)| {
            n.strip_prefix("asset.")?
                .split('.')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .max()
        .map_or(3, |last| (last + 2).clamp(3, MAX_ASSET_ROWS));
    let v: serde_json::Map<String, serde_json::Value> = values
        .into_iter()
        .map(|(n, v)| (n, serde_json::Value::String(v)))
        .collect();
    page(
        p,
        "generate.html",
        json!({
            "schemas": schemas, "schema": schema_form_view(&schema), "v": v,
            "errors": errors, "asset_rows": asset_rows, "options": OPTIONS,
            "answered": answered, "total": schema.subcontrols().count(), "saved_at": saved_at,
        }),
    )
}

/// Asset rows the generation form offers at most.
const MAX_ASSET_ROWS: usize = 20;

async fn new_form(
    State(state): State<AppState>,
    p: Page,
    Query(q): Query<SchemaPick>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let draft = state.call(move |k| k.draft(&who)).await?;
    let saved_at = draft.as_ref().map(|d| d.saved_at);
    let values = draft.map(|d| d.fields).unwrap_or_default();
    render_new_form(&state, &p, q.schema, values, Vec::new(), saved_at).await
}

/// Save-as-you-go of the generation form: the fields as they are now.
async fn save_draft(
    State(state): State<AppState>,
    p: Page,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let csrf = fields
        .iter()
        .find(|(n, _)| n == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    p.check_csrf(&csrf).map_err(IntoResponse::into_response)?;
    let who = p.0.principal.clone();
    let draft = state
        .call(move |k| k.save_draft(&who, fields))
        .await
        .map_err(IntoResponse::into_response)?;
    let time = chrono::DateTime::from_timestamp(draft.saved_at as i64, 0)
        .map(|d| d.format("%H:%M:%S").to_string())
        .unwrap_or_default();
    Ok(Json(
        json!({ "saved_at": draft.saved_at, "saved_time": time, "fields": draft.fields.len() }),
    )
    .into_response())
}

async fn discard_draft(
    State(state): State<AppState>,
    p: Page,
    Form(form): Form<super::CsrfOnly>,
) -> Result<Response, UiError> {
    p.check_csrf(&form.csrf)?;
    let who = p.0.principal.clone();
    state.call(move |k| k.discard_draft(&who)).await?;
    Ok(Redirect::to("/isms/new").into_response())
}

/// The profile (DESIGN.md 5) a generation form describes.
fn profile_of(
    fields: &[(String, String)],
    schema: &mmsm_model::Schema,
) -> Result<serde_json::Value, String> {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let employees: u32 = get("employees")
        .parse()
        .map_err(|_| "Employees: give the head count as a whole number".to_string())?;
    let mut enterprise =
        json!({ "name": get("name"), "sector": get("sector"), "employees": employees });
    let turnover = get("turnover");
    if !turnover.is_empty() {
        let t: f64 = turnover
            .parse()
            .map_err(|_| "Turnover: give a number of euros".to_string())?;
        enterprise["turnover_eur"] = json!(t);
    }
    let mut business = serde_json::Map::new();
    for q in &schema.business_checklist {
        let v = match q.maps_to.as_deref() {
            // Answered by the enterprise's own fields of the form.
            Some("employees") => get("employees"),
            Some("turnover") => get("turnover"),
            Some("sector") => get("sector"),
            _ => get(&format!("bq.{}", q.id)),
        };
        if v.is_empty() {
            continue;
        }
        let value = match q.kind {
            QuestionKind::Bool => json!(v == "true"),
            QuestionKind::Number => json!(v
                .parse::<f64>()
                .map_err(|_| format!("{}: give a number", q.text))?),
            QuestionKind::Choice => json!(v),
        };
        business.insert(q.id.to_string(), value);
    }
    let mut answers = BTreeMap::new();
    for (name, value) in fields {
        if let Some(sc) = name.strip_prefix("sc.") {
            if !value.is_empty() {
                answers.insert(sc.to_owned(), value.clone());
            }
        }
    }
    let mut assets = Vec::new();
    let mut taken = std::collections::BTreeSet::new();
    for n in 0..MAX_ASSET_ROWS {
        let name = get(&format!("asset.{n}.name"));
        if name.is_empty() {
            continue;
        }
        let mut values = serde_json::Map::new();
        for dim in ["D", "I", "C"] {
            let v = get(&format!("asset.{n}.{dim}"));
            if !v.is_empty() {
                let x: f64 = v
                    .parse()
                    .map_err(|_| format!("Asset {}: {dim} must be a number from 0 to 10", n + 1))?;
                values.insert(dim.into(), json!(x));
            }
        }
        let mut id: String = name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        id = id.trim_matches('-').to_owned();
        if id.is_empty() {
            id = format!("asset-{}", n + 1);
        }
        while !taken.insert(id.clone()) {
            id.push('x');
        }
        assets.push(json!({ "id": id, "name": name, "type": get(&format!("asset.{n}.type")), "values": values }));
    }
    let mut profile = json!({
        "enterprise": enterprise, "schema": schema.schema.id,
        "business_checklist": business, "answers": answers, "assets": assets,
    });
    // The speaker approves the generated ISMS (issue 15); departments are
    // named one per line, their ids made from the names.
    let speaker = get("speaker.name");
    if !speaker.is_empty() {
        let email = get("speaker.email");
        profile["speaker"] = json!({ "name": speaker });
        if !email.is_empty() {
            profile["speaker"]["email"] = json!(email);
        }
    }
    let departments: Vec<serde_json::Value> = get("departments")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|name| json!({ "id": super::enterprise::slug(name), "name": name }))
        .collect();
    if !departments.is_empty() {
        profile["departments"] = json!(departments);
    }
    Ok(profile)
}

async fn generate(
    State(state): State<AppState>,
    p: Page,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    p.check_csrf(&get("csrf"))?;
    let schema_id = get("schema");
    let who = p.0.principal.clone();
    let sid = schema_id.clone();
    let mut submitted = fields.clone();
    let confirmed = get("confirm_duplicate") == "yes";
    let name = get("name");
    // A second enterprise of the same name is made on purpose only.
    let duplicate = if confirmed {
        None
    } else {
        let (who, name) = (who.clone(), name.clone());
        state
            .call(move |k| k.enterprise_named(&who, name.trim()))
            .await?
    };
    if let Some(existing) = duplicate {
        submitted.push(("duplicate_of".into(), existing.clone()));
        let who = p.0.principal.clone();
        let keep = submitted.clone();
        let draft = state.call(move |k| k.save_draft(&who, keep)).await?;
        return render_new_form(
            &state,
            &p,
            Some(schema_id),
            submitted,
            vec![format!(
                "an enterprise named \"{}\" exists already (`{existing}`): if this is another enterprise of the same name, tick \"Yes, another enterprise of this name\" below and generate again",
                name.trim()
            )],
            Some(draft.saved_at),
        )
        .await;
    }
    let result = state
        .call(move |k| {
            let schema = k.schema(&who, &sid, None)?.schema;
            let profile = match profile_of(&fields, &schema) {
                Ok(p) => p,
                Err(message) => return Ok(Err(vec![message])),
            };
            match k.generate_isms_text(&who, "form.json", &profile.to_string(), Some(&sid)) {
                Ok(g) => Ok(Ok(g)),
                Err(ServiceError::Invalid(problems)) => Ok(Err(problems
                    .0
                    .iter()
                    .map(|p| {
                        if p.id.is_empty() {
                            p.message.clone()
                        } else {
                            format!("{} `{}`: {}", p.kind, p.id, p.message)
                        }
                    })
                    .collect())),
                Err(e) => Err(e),
            }
        })
        .await?;
    let who = p.0.principal.clone();
    match result {
        Ok(generated) => {
            state.call(move |k| k.discard_draft(&who)).await?;
            Ok(Redirect::to(&format!("/isms/{}", generated.id)).into_response())
        }
        Err(errors) => {
            // Keep what was typed, in the page and in the draft.
            let keep = submitted.clone();
            let draft = state.call(move |k| k.save_draft(&who, keep)).await?;
            render_new_form(
                &state,
                &p,
                Some(schema_id),
                submitted,
                errors,
                Some(draft.saved_at),
            )
            .await
        }
    }
}

/// The laws and obligations page: the catalogue's obligations that apply, how far
/// each is met, those still undetermined and those that do not apply.
async fn obligations(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    use mmsm_model::Applicability;
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (name, rows, questions) = state
        .call(move |k| {
            let (name, rows) = k.obligations(&who, &isms)?;
            let record = k.isms(&who, &isms)?;
            let schema = k.isms_schema(&record)?;
            // The business checklist as answered, for the form that changes it.
            let questions: Vec<serde_json::Value> = schema
                .business_checklist
                .iter()
                .map(|q| {
                    let answer = record.inputs.business.get(&q.id).map(|v| v.words());
                    let options: Vec<String> = match q.kind {
                        QuestionKind::Bool => vec!["yes".into(), "no".into()],
                        QuestionKind::Choice => q.options.clone(),
                        QuestionKind::Number => Vec::new(),
                    };
                    json!({ "id": q.id, "text": q.text, "answer": answer, "options": options })
                })
                .collect();
            Ok((name, rows, questions))
        })
        .await?;
    let (applying, others): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|o| o.applies == Applicability::Applies);
    let (undetermined, excluded): (Vec<_>, Vec<_>) = others
        .into_iter()
        .partition(|o| matches!(o.applies, Applicability::Undetermined(_)));
    let summary = mmsm_reports::obligations_summary(&applying, undetermined.len());
    page(
        &p,
        "obligations.html",
        json!({ "id": id, "name": name, "applying": applying, "undetermined": undetermined,
                "excluded": excluded, "summary": summary, "questions": questions,
                "can_edit": can_edit(&p) }),
    )
}

/// A business answer given again from the obligations page.
async fn answer_business(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&super::field(&fields, "csrf"))?;
    let question = super::field(&fields, "question");
    let value = Some(super::field(&fields, "value"))
        .filter(|v| !v.is_empty())
        .map(mmsm_model::Scalar::Text);
    let (who, isms) = (p.0.principal.clone(), id.clone());
    state
        .call(move |k| k.answer_business(&who, &isms, &question, value))
        .await?;
    Ok(Redirect::to(&format!("/isms/{id}/obligations#business")).into_response())
}

async fn soa(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(pairs): Query<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    let query = ListQuery::new(pairs);
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (name, rows, approval) = state
        .call(move |k| {
            let (name, rows) = k.soa(&who, &isms)?;
            Ok((name, rows, k.approval_status(&who, &isms)?.words()))
        })
        .await?;
    let domains = choices(rows.iter().map(|r| r.domain.as_str()))
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let all = rows.len();
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| {
            let applies = match query.get("applies") {
                Some("yes") => r.applicable,
                Some("no") => !r.applicable,
                _ => true,
            };
            // Implemented: green yes, amber partly, red no (the SoA's own words).
            let implemented = query.get("implemented").is_none_or(|s| r.status == s);
            applies && implemented && query.get("domain").is_none_or(|d| r.domain == d)
        })
        .collect();
    let (rows, pager) = paged(rows, &query, 50, &format!("/isms/{id}/soa"));
    page(
        &p,
        "soa.html",
        json!({ "id": id, "name": name, "rows": rows, "pager": pager, "all": all, "approval": approval,
                "filters": query.filters(), "domains": domains }),
    )
}

async fn soa_xlsx(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let bytes = state
        .call(move |k| {
            let (name, rows) = k.soa(&who, &isms)?;
            // The status travels with the file (issue 15: "draft, not approved").
            let status = k.approval_status(&who, &isms)?.words();
            soa_workbook(&rows, &format!("{name}: {status}"))
        })
        .await?;
    Ok(xlsx_response(bytes, &format!("{id}-soa.xlsx")))
}

async fn soa_pdf(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let bytes = state
        .call(move |k| {
            let (name, rows) = k.soa(&who, &isms)?;
            let status = k.approval_status(&who, &isms)?.words();
            Ok(mmsm_reports::soa_pdf(
                &format!("Statement of Applicability: {name} ({status})"),
                &rows,
            ))
        })
        .await?;
    Ok(crate::download::attachment(
        bytes,
        crate::download::PDF,
        &format!("{id}-soa.pdf"),
    ))
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    /// `html` or `md`: send the report as a file to keep.
    download: Option<String>,
}

async fn report(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let view = state.call(move |k| k.report(&who, &isms)).await?;
    let failed = |e: minijinja::Error| {
        crate::error::AppError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("the report cannot be rendered: {e}"),
        )
    };
    let (body, kind, extension) = match q.download.as_deref() {
        None => {
            let html = reports::render_html(&view).map_err(failed)?;
            return Ok(Html(html).into_response());
        }
        Some("html") => (
            reports::render_html(&view).map_err(failed)?,
            "text/html; charset=utf-8",
            "html",
        ),
        Some("md") => (
            reports::render_markdown(&view).map_err(failed)?,
            "text/markdown; charset=utf-8",
            "md",
        ),
        Some(other) => {
            return Err(crate::error::AppError::bad_request(format!(
                "`{other}` is not a report format: html or md"
            ))
            .into())
        }
    };
    Ok(crate::download::attachment(
        body,
        kind,
        &format!("{id}-report.{extension}"),
    ))
}

/// History events and audit records on one page.
const EVENTS_PAGE: usize = 50;

/// The distinct values of a field, sorted, for a filter's choices.
fn choices<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let set: std::collections::BTreeSet<&str> = values.collect();
    set.into_iter().collect()
}

async fn history(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(pairs): Query<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    let query = ListQuery::new(pairs);
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (record, events) = state
        .call(move |k| Ok((k.isms(&who, &isms)?, k.isms_history(&who, &isms)?)))
        .await?;
    let kinds = choices(events.iter().map(|e| e.cause.as_str()));
    let users = choices(events.iter().map(|e| e.user.as_str()));
    let events: Vec<serde_json::Value> = events
        .iter()
        .rev()
        .filter(|e| event_passes(&query, e.at, &e.user, &e.cause))
        .map(|e| {
            let change_text = e
                .change
                .as_ref()
                .map(ToString::to_string)
                .or_else(|| e.note.clone())
                .unwrap_or_default();
            let compliance = e
                .deltas
                .iter()
                .find(|d| d.subject == mmsm_engine::Subject::Isms)
                .map(|d| {
                    format!(
                        "{} → {}",
                        d.before.map(|x| format!("{x:.1}")).unwrap_or("n/a".into()),
                        d.after.map(|x| format!("{x:.1}")).unwrap_or("n/a".into())
                    )
                });
            // A note beside a change says what else moved (documents entering force).
            let note = e.change.as_ref().and(e.note.clone());
            json!({ "at": e.at, "user": e.user, "cause": e.cause, "change_text": change_text, "deltas": e.deltas, "compliance": compliance, "note": note })
        })
        .collect();
    let (events, pager) = paged(events, &query, EVENTS_PAGE, &format!("/isms/{id}/history"));
    page(
        &p,
        "history.html",
        json!({ "id": id, "name": record.enterprise.name, "events": events, "pager": pager,
                "filters": query.filters(), "kinds": kinds, "users": users }),
    )
}

async fn audit(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(pairs): Query<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    let query = ListQuery::new(pairs);
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (record, entries) = state
        .call(move |k| Ok((k.isms(&who, &isms)?, k.audit_log(&who, Some(&isms))?)))
        .await?;
    let (entries, pager, kinds, users) =
        filtered_audit(entries, &query, &format!("/isms/{id}/audit"));
    page(
        &p,
        "audit.html",
        json!({ "id": id, "name": record.enterprise.name, "entries": entries, "pager": pager,
                "filters": query.filters(), "kinds": kinds, "users": users }),
    )
}

/// The audit records, newest first, that pass the filters, one page of
/// them, and the choices of the kind and user filters.
pub(super) fn filtered_audit(
    entries: Vec<mmsm_kernel::services::AuditLogEntry>,
    query: &ListQuery,
    path: &str,
) -> (
    Vec<mmsm_kernel::services::AuditLogEntry>,
    serde_json::Value,
    Vec<String>,
    Vec<String>,
) {
    // The kind is the action's first word: `isms`, `account`, `schema`...
    let kind_of = |action: &str| action.split('.').next().unwrap_or(action).to_owned();
    let kinds = choices(
        entries
            .iter()
            .map(|e| e.action.split('.').next().unwrap_or(&e.action)),
    )
    .into_iter()
    .map(str::to_owned)
    .collect();
    let users = choices(entries.iter().map(|e| e.user.as_str()))
        .into_iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<_> = entries
        .into_iter()
        .rev()
        .filter(|e| event_passes(query, e.at, &e.user, &kind_of(&e.action)))
        .collect();
    let (rows, pager) = paged(rows, query, EVENTS_PAGE, path);
    (rows, pager, kinds, users)
}

#[cfg(test)]
mod form_tests {
    use super::{profile_of, schema_form_view};

    fn base() -> mmsm_model::Schema {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/base");
        mmsm_schema::load_path(&dir).unwrap().schema
    }

    #[test]
    fn employees_turnover_and_sector_are_asked_once_and_still_answer_their_business_questions() {
        // Issue 17.7: the form asked them as enterprise fields and again as
        // business questions.
        let schema = base();
        let view = schema_form_view(&schema);
        let asked: Vec<&str> = view["business"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|q| q["id"].as_str())
            .collect();
        for once in ["employees", "turnover", "sector"] {
            assert!(!asked.contains(&once), "{once} in {asked:?}");
        }
        assert!(asked.contains(&"special_category_data"), "{asked:?}");
        let fields: Vec<(String, String)> = [
            ("name", "Clínica Sonrisa"),
            ("sector", "health"),
            ("employees", "12"),
            ("turnover", "800000"),
            ("bq.special_category_data", "true"),
            ("speaker.name", "Marta Gil"),
            ("speaker.email", "marta@example.org"),
            ("departments", "Reception\n\nClinic rooms\n"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let profile = profile_of(&fields, &schema).unwrap();
        let business = &profile["business_checklist"];
        assert_eq!(business["employees"], 12.0);
        assert_eq!(business["turnover"], 800000.0);
        assert_eq!(business["sector"], "health");
        assert_eq!(business["special_category_data"], true);
        // The speaker who approves (issue 15) and the departments come from the form too.
        assert_eq!(profile["speaker"]["name"], "Marta Gil");
        assert_eq!(profile["speaker"]["email"], "marta@example.org");
        assert_eq!(
            profile["departments"],
            serde_json::json!([{ "id": "reception", "name": "Reception" }, { "id": "clinic-rooms", "name": "Clinic rooms" }])
        );
    }
}
