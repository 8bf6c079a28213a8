//! Follow-up pages of the maintenance zone: the improvement plan with its
//! owners, dates and results; the suggestions raised by incidents, to accept
//! or reject; and the metrics with their history charts and a run button.

use std::time::SystemTime;

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde_json::{json, Value};

use crate::error::AppError;
use crate::extract::Page;
use crate::state::AppState;
use mmsm_kernel::services::msgs::{PlanSet, SuggestionStatus};
use mmsm_kernel::services::MAX_EVIDENCE_BYTES;

use super::charts::line;
use super::{field, page, UiError};
use crate::lists::{paged, ListQuery};

/// The routes of the follow-up pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/isms/{id}/plan", get(plan))
        .route("/isms/{id}/plan/{rank}", post(set_plan))
        .route("/isms/{id}/suggestions", get(suggestions))
        .route("/isms/{id}/suggestions/{sid}", post(decide))
        .route("/isms/{id}/metrics", get(metrics))
        .route("/isms/{id}/metrics/run", post(run_metrics))
        .route("/isms/{id}/evidence", post(upload_evidence))
}

/// Plan items on one page.
const PLAN_PAGE: usize = 25;

async fn plan(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(pairs): Query<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    let query = ListQuery::new(pairs);
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (rows, record, schema, actions) = state
        .call(move |k| {
            let rows = k.plan_rows(&who, &isms)?;
            let (record, schema) = k.isms_with_schema(&who, &isms)?;
            // Corrective actions of open findings join the follow-up (issue 15).
            let actions: Vec<_> = k
                .list_findings(&who, &isms, true)?
                .into_iter()
                .filter(|f| f.finding.response.is_some())
                .collect();
            Ok((rows, record, schema, actions))
        })
        .await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let title = schema
                .controls
                .iter()
                .find(|c| c.id == r.item.control)
                .map(|c| c.title.clone())
                .unwrap_or_default();
            json!({ "item": r.item, "title": title, "f": r.follow_up, "overdue": r.overdue })
        })
        .collect();
    let done = rows.iter().filter(|r| !r["f"]["done_at"].is_null()).count();
    let all = rows.len();
    let rows: Vec<Value> = rows
        .into_iter()
        .filter(|r| {
            let level = query
                .get("level")
                .is_none_or(|l| l.parse::<u64>().ok() == r["item"]["level"].as_u64());
            let owner = match query.get("owner") {
                None => true,
                Some("none") => r["f"]["owner"].is_null(),
                Some(o) => r["f"]["owner"] == o,
            };
            let is_done = !r["f"]["done_at"].is_null();
            let state = match query.get("state") {
                Some("done") => is_done,
                Some("todo") => !is_done,
                Some("overdue") => r["overdue"] == true,
                _ => true,
            };
            level && owner && state
        })
        .collect();
    let (rows, pager) = paged(rows, &query, PLAN_PAGE, &format!("/isms/{id}/plan"));
    page(
        &p,
        "plan.html",
        json!({ "id": id, "name": record.enterprise.name, "rows": rows, "users": record.users, "done": done, "actions": actions,
                "all": all, "pager": pager, "filters": query.filters(),
                "can_manage": mmsm_kernel::services::msgs::manages(&p.0.principal) }),
    )
}

async fn set_plan(
    State(state): State<AppState>,
    p: Page,
    Path((id, rank)): Path<(String, usize)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let mut sets = Vec::new();
    for key in ["owner", "due", "result"] {
        let value = field(&fields, key);
        if !value.is_empty() {
            sets.push(PlanSet::parse(&format!("{key}={value}")).map_err(AppError::bad_request)?);
        }
    }
    sets.push(if field(&fields, "done") == "on" {
        PlanSet::Done
    } else {
        PlanSet::Undone
    });
    let who = p.0.principal.clone();
    let isms = id.clone();
    state
        .call(move |k| k.set_plan(&who, &isms, rank, &sets))
        .await?;
    Ok(Redirect::to(&format!("/isms/{id}/plan#rank-{rank}")).into_response())
}

async fn suggestions(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (list, record, schema) = state
        .call(move |k| {
            let list = k.suggestions(&who, &isms)?;
            let (record, schema) = k.isms_with_schema(&who, &isms)?;
            Ok((list, record, schema))
        })
        .await?;
    let incident_procedure = schema
        .procedures
        .iter()
        .find(|p| p.id.as_str() == "incident-management")
        .map(|p| p.id.clone());
    let open: Vec<_> = list
        .iter()
        .filter(|s| s.status == SuggestionStatus::Open)
        .collect();
    // A decided suggestion's effect in words, with asset and threat names.
    let asset = |id: &mmsm_model::AssetId| {
        record
            .inputs
            .assets
            .iter()
            .find(|a| &a.id == id)
            .map_or_else(|| id.to_string(), |a| a.name.clone())
    };
    let threat = |id: &mmsm_model::ThreatId| {
        schema
            .threats
            .iter()
            .find(|t| &t.id == id)
            .map_or_else(|| id.to_string(), |t| format!("{} ({id})", t.name))
    };
    let value = |v: Option<f64>| v.map_or("n/a".into(), |v| mmsm_reports::fixed(v, 2));
    let decided: Vec<_> = list
        .iter()
        .filter(|s| s.status != SuggestionStatus::Open)
        .rev()
        .map(|s| {
            let effect: Vec<String> = s
                .effect
                .iter()
                .map(|d| {
                    format!(
                        "{} {} → {}",
                        d.subject.describe(&asset, &threat),
                        value(d.before),
                        value(d.after)
                    )
                })
                .collect();
            let mut shown = serde_json::to_value(s).unwrap_or_default();
            shown["effect_text"] = json!(effect);
            shown
        })
        .collect();
    page(
        &p,
        "suggestions.html",
        json!({ "id": id, "name": record.enterprise.name, "open": open, "decided": decided,
                "incident_procedure": incident_procedure, "can_manage": mmsm_kernel::services::msgs::manages(&p.0.principal) }),
    )
}

async fn decide(
    State(state): State<AppState>,
    p: Page,
    Path((id, sid)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let decision = field(&fields, "decision");
    let note = Some(field(&fields, "note")).filter(|n| !n.is_empty());
    let who = p.0.principal.clone();
    let isms = id.clone();
    let s = sid.clone();
    state
        .call(move |k| match decision.as_str() {
            "accept" => k.accept_suggestion(&who, &isms, &s),
            "reject" => k.reject_suggestion(&who, &isms, &s, note),
            other => Err(mmsm_kernel::services::ServiceError::Refused(format!(
                "`{other}` is not a decision: accept or reject"
            ))),
        })
        .await?;
    Ok(Redirect::to(&format!("/isms/{id}/suggestions#{sid}")).into_response())
}

async fn metrics(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    render_metrics(&state, &p, id, json!({})).await
}

/// The metrics page, with `outcome` (what a run collected, an upload) on top.
async fn render_metrics(
    state: &AppState,
    p: &Page,
    id: String,
    outcome: Value,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let registry = state.registry.clone();
    let (listing, histories, name, evidence) = state
        .call(move |k| {
            let now = SystemTime::from(k.now_utc());
            let listing = k.list_metrics(
                &who,
                &isms,
                registry
                    .as_deref()
                    .map(|r| r as &dyn mmsm_kernel::services::MetricRunner),
                now,
            )?;
            let histories = k.metric_histories(&who, &isms)?;
            let evidence = k.list_evidence(&who, &isms)?;
            Ok((
                listing,
                histories,
                k.isms(&who, &isms)?.enterprise.name,
                evidence,
            ))
        })
        .await?;
    let metrics: Vec<Value> = listing
        .metrics
        .iter()
        .map(|m| {
            let values = histories
                .get(&m.binding.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let scores: Vec<f64> = values.iter().filter_map(|v| v.score).collect();
            let chart = (!scores.is_empty()).then(|| line(&scores, 0.0, 1.0, (40.0, 10.0, 540.0, 80.0)));
            let recent: Vec<&mmsm_kernel::services::MetricValue> = values.iter().rev().take(10).collect();
            json!({ "m": m, "freshness": m.freshness.as_str(), "chart": chart, "count": values.len(),
                    "recent": recent })
        })
        .collect();
    let mut context = json!({ "id": id, "name": name, "metrics": metrics, "expired": listing.expired,
                "scripts_loaded": state.registry.is_some(), "evidence": evidence,
                "max_mb": MAX_EVIDENCE_BYTES / 1_048_576 });
    if let (Some(context), Some(outcome)) = (context.as_object_mut(), outcome.as_object()) {
        context.extend(outcome.clone());
    }
    page(p, "metrics.html", context)
}

/// An evidence file from the page's upload form (multipart: csrf, file).
async fn upload_evidence(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Result<Response, UiError> {
    let (mut csrf, mut file) = (String::new(), None);
    while let Some(part) = form
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(format!("the upload could not be read: {e}")))?
    {
        match part.name() {
            Some("csrf") => csrf = part.text().await.unwrap_or_default(),
            Some("file") => {
                let name = part.file_name().unwrap_or_default().to_owned();
                let bytes = part.bytes().await.map_err(|e| {
                    AppError::bad_request(format!("the upload could not be read: {e}"))
                })?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    p.check_csrf(&csrf)?;
    let Some((name, bytes)) = file.filter(|(name, _)| !name.is_empty()) else {
        return render_metrics(
            &state,
            &p,
            id,
            json!({ "upload_error": "choose a file to upload" }),
        )
        .await;
    };
    // A browser sends the file's name only; keep its last part all the same.
    let name = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let who = p.0.principal.clone();
    let isms = id.clone();
    match state
        .call(move |k| k.add_evidence(&who, &isms, &name, &bytes))
        .await
    {
        Ok(file) => render_metrics(&state, &p, id, json!({ "uploaded": file })).await,
        Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            render_metrics(&state, &p, id, json!({ "upload_error": e.message })).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn run_metrics(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let registry = state.registry.clone().ok_or_else(|| {
        AppError::bad_request(
            "no script is loaded in this server, so no metric can run: start `mmsm serve` from a folder with scripts/ (or give --scripts)",
        )
    })?;
    let who = p.0.principal.clone();
    let isms = id.clone();
    let run = state
        .call(move |k| {
            let now = SystemTime::from(k.now_utc());
            k.run_metrics(&who, registry.as_ref(), &isms, None, now)
        })
        .await?;
    let collected = run.metrics.iter().filter(|m| m.error.is_none()).count();
    let summary = json!({ "collected": collected, "failed": run.metrics.len() - collected,
                          "outcomes": run.metrics, "moved": run.deltas.len() });
    render_metrics(&state, &p, id, json!({ "run": summary })).await
}
