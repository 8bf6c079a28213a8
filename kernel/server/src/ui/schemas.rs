//! The schemas zone's pages: list, view (with versions and diff), clone,
//! import with the validation errors shown in place, and the knowledge
//! loop's statistics and suggested changes.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::json;

use crate::extract::Page;
use crate::state::AppState;
use mmsm_kernel::services::ServiceError;

use super::{page, UiError};

/// The routes of the schema pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/schemas", get(list))
        .route("/schemas/import", get(import_form).post(import))
        .route("/schemas/{id}", get(show))
        .route("/schemas/{id}/diff", get(diff))
        .route("/schemas/{id}/contents", get(contents))
        .route("/schemas/{id}/clone", post(clone))
        .route("/schemas/{id}/stats", get(stats).post(apply_stats))
        .route("/schemas/{id}/document.yaml", get(document))
}

/// The knowledge loop (paper 3.6, DESIGN.md 6.4): how the enterprises of a
/// schema answer, where they fail, what incidents say, and the schema
/// changes that follow. Never an enterprise's name.
async fn stats(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let (stats, schema) = state
        .call(move |k| {
            Ok((
                k.schema_stats(&who, &id, true)?,
                k.schema(&who, &id, None)?.schema,
            ))
        })
        .await?;
    // The questions' text beside their ids (issue 17.10).
    let texts: std::collections::BTreeMap<String, String> = schema
        .subcontrols()
        .map(|(_, s)| (s.id.to_string(), s.text.clone()))
        .collect();
    let trend: Vec<f64> = stats.trends.iter().filter_map(|t| t.compliance).collect();
    let chart = (trend.len() > 1)
        .then(|| super::charts::line(&trend, 0.0, 100.0, (40.0, 10.0, 540.0, 100.0)));
    let applicable: Vec<bool> = stats.suggestions.iter().map(|s| s.applicable()).collect();
    page(
        &p,
        "schema_stats.html",
        json!({ "s": stats, "chart": chart, "applicable": applicable, "texts": texts }),
    )
}

async fn list(State(state): State<AppState>, p: Page) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let list = state.call(move |k| k.list_schemas(&who)).await?;
    page(&p, "schemas.html", json!({ "list": list }))
}

#[derive(Debug, Deserialize)]
struct VersionQuery {
    version: Option<u32>,
}

async fn show(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let d = state
        .call(move |k| k.show_schema(&who, &id, q.version))
        .await?;
    page(&p, "schema.html", json!({ "d": d }))
}

#[derive(Debug, Deserialize)]
struct ContentsQuery {
    version: Option<u32>,
    /// `controls` (default), `risks` or `documents`.
    part: Option<String>,
}

/// A version of a schema to read (issue 17.10): its domains, controls and
/// questions; its risk tables; or its documents, procedures and regulations.
async fn contents(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(q): Query<ContentsQuery>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let part = match q.part.as_deref() {
        None | Some("controls") => "controls",
        Some("risks") => "risks",
        Some("documents") => "documents",
        Some(other) => {
            return Err(crate::error::AppError::bad_request(format!(
                "`{other}` is not a part of a schema: controls, risks or documents"
            ))
            .into())
        }
    };
    let schema = state
        .call(move |k| Ok(k.schema(&who, &id, q.version)?.schema))
        .await?;
    let name_of = |kind: &str, id: &str| -> String {
        match kind {
            "threat" => schema
                .threats
                .iter()
                .find(|t| t.id.as_str() == id)
                .map(|t| t.name.clone()),
            "asset_type" => schema
                .asset_types
                .iter()
                .find(|t| t.id.as_str() == id)
                .map(|t| t.name.clone()),
            "control" => schema
                .controls
                .iter()
                .find(|c| c.id.as_str() == id)
                .map(|c| c.title.clone()),
            _ => None,
        }
        .map_or_else(|| id.to_owned(), |name| format!("{id} {name}"))
    };
    let m = &schema.matrices;
    let tad: Vec<serde_json::Value> = m
        .asset_type_threat
        .iter()
        .map(|r| {
            json!({ "asset_type": name_of("asset_type", r.asset_type.as_str()),
                    "threat": name_of("threat", r.threat.as_str()),
                    "probability": r.probability,
                    "degradation": mmsm_schema::value_words(&serde_json::to_value(&r.degradation).unwrap_or_default()) })
        })
        .collect();
    let mitigation: Vec<serde_json::Value> = m
        .threat_control
        .iter()
        .map(|r| {
            json!({ "threat": name_of("threat", r.threat.as_str()),
                    "control": name_of("control", r.control.as_str()), "effect": r.effect })
        })
        .collect();
    page(
        &p,
        "schema_contents.html",
        json!({ "s": schema, "part": part, "tad": tad, "mitigation": mitigation }),
    )
}

#[derive(Debug, Deserialize)]
struct DiffQuery {
    v1: u32,
    v2: u32,
}

async fn diff(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let (d, diff) = state
        .call(move |k| {
            Ok((
                k.show_schema(&who, &id, None)?,
                k.diff_schema(&who, &id, q.v1, q.v2)?,
            ))
        })
        .await?;
    // Each changed field with its value before and after, in words.
    let items: Vec<serde_json::Value> = diff
        .kinds
        .iter()
        .flat_map(|(kind, changes)| {
            changes.iter().map(move |c| {
                let what = serde_json::to_value(c.change)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let values: Vec<serde_json::Value> = c
                    .values
                    .iter()
                    .map(|v| {
                        json!({ "field": v.field,
                                "before": mmsm_schema::value_words(&v.before),
                                "after": mmsm_schema::value_words(&v.after) })
                    })
                    .collect();
                json!({ "kind": kind, "id": c.id, "change": what, "values": values })
            })
        })
        .collect();
    page(
        &p,
        "schema.html",
        json!({ "d": d, "diff": true, "diff_items": items, "diff_label": format!("from version {} to {}", q.v1, q.v2) }),
    )
}

#[derive(Debug, Deserialize)]
struct CloneForm {
    csrf: String,
    new: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    sector: String,
}

async fn clone(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(form): Form<CloneForm>,
) -> Result<Response, UiError> {
    p.check_csrf(&form.csrf)?;
    let who = p.0.principal.clone();
    let some = |s: String| if s.trim().is_empty() { None } else { Some(s) };
    let outcome = state
        .call(move |k| {
            k.clone_schema(
                &who,
                &id,
                &form.new,
                some(form.name),
                some(form.sector),
                None,
            )
        })
        .await?;
    Ok(Redirect::to(&format!("/schemas/{}", outcome.id)).into_response())
}

#[derive(Debug, Deserialize)]
struct FromQuery {
    /// Start from this schema's document (to make its next version).
    from: Option<String>,
    version: Option<u32>,
}

async fn import_form(
    State(state): State<AppState>,
    p: Page,
    Query(q): Query<FromQuery>,
) -> Result<Response, UiError> {
    let Some(id) = q.from else {
        return page(&p, "schema_import.html", json!({}));
    };
    let who = p.0.principal.clone();
    let (stored, text) = state
        .call(move |k| k.schema_document(&who, &id, q.version))
        .await?;
    page(
        &p,
        "schema_import.html",
        json!({ "name": format!("{}.yaml", stored.schema.schema.id), "text": text,
                "from": stored.schema.schema.id, "from_version": stored.schema.schema.version }),
    )
}

/// Makes the next version with the ticked suggestions.
async fn apply_stats(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&super::field(&fields, "csrf"))?;
    let picked: Vec<usize> = fields
        .iter()
        .filter(|(n, _)| n == "pick")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let who = p.0.principal.clone();
    let applied = state
        .call(move |k| k.apply_stats_suggestions(&who, &id, &picked))
        .await?;
    Ok(Redirect::to(&format!(
        "/schemas/{}?version={}",
        applied.outcome.id, applied.outcome.version
    ))
    .into_response())
}

/// A schema version as one YAML file.
async fn document(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let (stored, text) = state
        .call(move |k| k.schema_document(&who, &id, q.version))
        .await?;
    Ok(crate::download::attachment(
        text,
        "application/yaml; charset=utf-8",
        &format!(
            "{}-v{}.yaml",
            stored.schema.schema.id, stored.schema.schema.version
        ),
    ))
}

#[derive(Debug, Deserialize)]
struct ImportForm {
    csrf: String,
    name: String,
    text: String,
}

async fn import(
    State(state): State<AppState>,
    p: Page,
    Form(form): Form<ImportForm>,
) -> Result<Response, UiError> {
    p.check_csrf(&form.csrf)?;
    let who = p.0.principal.clone();
    let name = if form.name.trim().is_empty() {
        "schema.yaml".to_owned()
    } else {
        form.name.trim().to_owned()
    };
    let (n, t) = (name.clone(), form.text.clone());
    let result = state
        .call(move |k| match k.import_schema_text(&who, &n, t) {
            Ok(o) => Ok(Ok(o)),
            Err(ServiceError::Invalid(problems)) => Ok(Err(problems)),
            Err(e) => Err(e),
        })
        .await?;
    match result {
        Ok(outcome) => Ok(Redirect::to(&format!(
            "/schemas/{}?version={}",
            outcome.id, outcome.version
        ))
        .into_response()),
        Err(problems) => {
            let errors: Vec<serde_json::Value> = problems
                .0
                .iter()
                .map(|pr| {
                    let mut place = pr
                        .file
                        .as_ref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_default();
                    if let Some(l) = pr.line {
                        place.push_str(&format!(" line {l}"));
                        if let Some(c) = pr.column {
                            place.push_str(&format!(", column {c}"));
                        }
                    }
                    if !pr.id.is_empty() {
                        place.push_str(&format!(" {} `{}`", pr.kind, pr.id));
                    }
                    json!({ "where": place.trim(), "message": pr.message })
                })
                .collect();
            page(
                &p,
                "schema_import.html",
                json!({ "errors": errors, "name": name, "text": form.text }),
            )
        }
    }
}
