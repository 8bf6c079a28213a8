//! Procedure pages of the maintenance zone (A3.2): the procedures of an
//! enterprise with their schedule, starting one with its start phase's
//! registers as a form, and an instance with its history and one form per
//! phase it may move to. Refusals of the kernel (role, certificate, register
//! data, path) are shown above the form, with what was typed kept.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::AppError;
use crate::extract::Page;
use crate::state::AppState;
use mmsm_kernel::services::msgs::registers::phase_registers;
use mmsm_model::{FieldKind, Procedure, Schema};

use super::registers::{form_view, read_form, DIMENSIONS};
use super::{field, page, UiError};

/// The routes of the procedure pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/isms/{id}/procedures", get(list))
        .route("/isms/{id}/procedures/new", get(start_form).post(start))
        .route("/isms/{id}/procedures/{instance}", get(show).post(advance))
}

/// Whether a kernel refusal should be shown on the form rather than as an error page.
fn shown_in_form(e: &AppError) -> bool {
    matches!(
        e.status,
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::FORBIDDEN
    )
}

async fn list(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (record, schema, instances, figures) = state
        .call(move |k| {
            let instances = k.procedure_instances(&who, &isms, false)?;
            let (record, schema) = k.isms_with_schema(&who, &isms)?;
            let figures = k.maintenance_figures(&who, &isms)?;
            Ok((record, schema, instances, figures))
        })
        .await?;
    let name_of = |pid: &str| {
        schema
            .procedures
            .iter()
            .find(|p| p.id.as_str() == pid)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| pid.to_owned())
    };
    let procedures: Vec<Value> = schema
        .procedures
        .iter()
        .filter(|p| record.instantiated.procedures.contains(&p.id))
        .map(|p| {
            let due = figures.schedule.iter().find(|s| s.procedure == p.id);
            json!({ "id": p.id, "name": p.name, "description": p.description, "schedule": p.schedule, "due": due })
        })
        .collect();
    let instances: Vec<Value> = instances
        .iter()
        .rev()
        .map(|i| {
            let short = i.id.split_once('/').map_or(i.id.as_str(), |(_, s)| s);
            json!({ "id": i.id, "short": short, "name": name_of(i.procedure.as_str()), "phase": i.phase,
                    "closed": i.closed, "started": i.history.first().map(|t| t.at), "by": i.history.first().map(|t| t.user.clone()),
                    "suggestions": i.suggestions })
        })
        .collect();
    page(
        &p,
        "procedures.html",
        json!({ "id": id, "name": record.enterprise.name, "procedures": procedures, "instances": instances, "figures": figures }),
    )
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    procedure: String,
}

fn procedure<'s>(schema: &'s Schema, id: &str) -> Result<&'s Procedure, AppError> {
    schema
        .procedures
        .iter()
        .find(|p| p.id.as_str() == id)
        .ok_or_else(|| {
            AppError::new(
                StatusCode::NOT_FOUND,
                format!("schema {} has no procedure `{id}`", schema.schema.id),
            )
        })
}

/// The start form of `procedure`, with `values` typed so far and `errors`.
async fn render_start(
    state: &AppState,
    p: &Page,
    id: String,
    procedure_id: String,
    values: Map<String, Value>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (record, schema, files) = state
        .call(move |k| {
            let (record, schema) = k.isms_with_schema(&who, &isms)?;
            Ok((record, schema, evidence_names(k, &who, &isms)?))
        })
        .await?;
    let proc = procedure(&schema, &procedure_id)?;
    let phase = proc
        .phases
        .iter()
        .find(|ph| ph.id == proc.start)
        .ok_or_else(|| AppError::bad_request("the procedure has no start phase"))?;
    let registers = form_view(
        &schema,
        &record,
        &files,
        &phase_registers(&schema, &phase.objects),
        &values,
    );
    let mut response = page(
        p,
        "procedure_start.html",
        json!({ "id": id, "name": record.enterprise.name, "procedure": proc, "phase": phase,
                "registers": registers, "errors": errors }),
    )?;
    *response.status_mut() = status;
    Ok(response)
}

async fn start_form(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
) -> Result<Response, UiError> {
    render_start(
        &state,
        &p,
        id,
        q.procedure,
        Map::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// The registers of `phase_id` (the start phase without one) of `procedure_id`
/// in the ISMS's schema: what a submitted form is read against.
async fn registers_of(
    state: &AppState,
    p: &Page,
    id: &str,
    procedure_id: &str,
    phase_id: Option<&str>,
) -> Result<Vec<mmsm_model::Artefact>, UiError> {
    let who = p.0.principal.clone();
    let isms = id.to_owned();
    let (_, schema) = state.call(move |k| k.isms_with_schema(&who, &isms)).await?;
    let proc = procedure(&schema, procedure_id)?;
    let phase_id = phase_id.unwrap_or(proc.start.as_str());
    Ok(proc
        .phases
        .iter()
        .find(|ph| ph.id.as_str() == phase_id)
        .map(|ph| {
            phase_registers(&schema, &ph.objects)
                .into_iter()
                .cloned()
                .collect()
        })
        .unwrap_or_default())
}

async fn start(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let procedure_id = field(&fields, "procedure");
    let registers = registers_of(&state, &p, &id, &procedure_id, None).await?;
    let refs: Vec<&mmsm_model::Artefact> = registers.iter().collect();
    let data = match read_form(&refs, &fields) {
        Ok(d) => d,
        Err(errors) => {
            let echo = read_lenient(&refs, &fields);
            return render_start(
                &state,
                &p,
                id,
                procedure_id,
                echo,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let who = p.0.principal.clone();
    let isms = id.clone();
    let pid = procedure_id.clone();
    let given = data.clone();
    let result = state
        .call(move |k| k.start_procedure(&who, &isms, &pid, (!given.is_empty()).then_some(given)))
        .await;
    match result {
        Ok(moved) => {
            let short = moved
                .instance
                .id
                .split_once('/')
                .map_or(moved.instance.id.clone(), |(_, s)| s.to_owned());
            Ok(Redirect::to(&format!("/isms/{id}/procedures/{short}?moved=1")).into_response())
        }
        Err(e) if shown_in_form(&e) => {
            render_start(
                &state,
                &p,
                id,
                procedure_id,
                data,
                vec![e.message],
                e.status,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// What was typed, for showing it again when the form had an error.
fn read_lenient(
    registers: &[&mmsm_model::Artefact],
    fields: &[(String, String)],
) -> Map<String, Value> {
    let mut echo = Map::new();
    for r in registers {
        let mut entry = Map::new();
        for f in &r.fields {
            let name = format!("f.{}.{}", r.id, f.id);
            let value = match f.kind {
                FieldKind::Assets => Value::from(
                    fields
                        .iter()
                        .filter(|(n, _)| *n == name)
                        .map(|(_, v)| v.clone())
                        .collect::<Vec<_>>(),
                ),
                FieldKind::Damage => Value::Object(
                    DIMENSIONS
                        .iter()
                        .map(|(d, _)| {
                            (
                                d.to_string(),
                                Value::String(field(fields, &format!("{name}.{d}"))),
                            )
                        })
                        .collect(),
                ),
                _ => Value::String(field(fields, &name)),
            };
            entry.insert(f.id.clone(), value);
        }
        echo.insert(r.id.to_string(), Value::Object(entry));
    }
    echo
}

#[derive(Debug, Default, Deserialize)]
struct ShowQuery {
    #[serde(default)]
    moved: Option<u8>,
}

/// The instance page, with `errors` of a refused move on phase `failed`.
async fn render_instance(
    state: &AppState,
    p: &Page,
    id: String,
    instance: String,
    notice: Option<String>,
    failed: Option<(String, Map<String, Value>, Vec<String>)>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let full = format!("{id}/{instance}");
    let (record, schema, view, suggestions, files) = state
        .call(move |k| {
            let view = k.procedure_instance(&who, &full)?;
            let (record, schema) = k.isms_with_schema(&who, &isms)?;
            let suggestions = k.suggestions(&who, &isms)?;
            let files = evidence_names(k, &who, &isms)?;
            Ok((record, schema, view, suggestions, files))
        })
        .await?;
    let proc = procedure(&schema, view.procedure.as_str())?;
    let phase_name = |pid: &str| {
        proc.phases
            .iter()
            .find(|ph| ph.id.as_str() == pid)
            .map(|ph| ph.name.clone())
            .unwrap_or_else(|| pid.to_owned())
    };
    let current = serde_json::to_value(&view.registers).unwrap_or_default();
    let current = current.as_object().cloned().unwrap_or_default();
    let moves: Vec<Value> = view
        .paths
        .iter()
        .map(|path| {
            let ph = proc.phases.iter().find(|ph| ph.id == path.phase);
            let objects = ph.map(|ph| ph.objects.clone()).unwrap_or_default();
            let (values, errors) = match &failed {
                Some((phase, values, errors)) if phase == path.phase.as_str() => {
                    (values.clone(), errors.clone())
                }
                _ => (current.clone(), Vec::new()),
            };
            json!({
                "phase": path.phase, "name": phase_name(path.phase.as_str()), "roles": path.roles,
                "description": ph.and_then(|ph| ph.description.clone()),
                "final": ph.is_some_and(|ph| ph.next.is_empty()),
                "registers": form_view(&schema, &record, &files, &phase_registers(&schema, &objects), &values),
                "errors": errors,
            })
        })
        .collect();
    let history: Vec<Value> = view
        .history
        .iter()
        .map(|t| {
            json!({ "at": t.at, "user": t.user, "from": t.from.as_ref().map(|f| phase_name(f.as_str())),
                    "to": phase_name(t.to.as_str()), "action": t.action, "data": t.data })
        })
        .collect();
    let registers: Vec<Value> = view
        .registers
        .iter()
        .map(|(rid, data)| {
            let artefact = schema.artefacts.iter().find(|a| &a.id == rid);
            let rows: Vec<Value> = data
                .iter()
                .map(|(k, v)| {
                    let field = artefact.and_then(|a| a.fields.iter().find(|f| &f.id == k));
                    let label = field.map_or(k.clone(), |f| f.label.clone());
                    let value = match field.map(|f| f.kind) {
                        Some(kind) => named(&schema, &record, kind, v),
                        None => shown(v),
                    };
                    json!({ "label": label, "value": value })
                })
                .collect();
            json!({ "id": rid, "name": artefact.map_or(rid.to_string(), |a| a.name.clone()), "rows": rows })
        })
        .collect();
    let raised: Vec<&mmsm_kernel::services::msgs::Suggestion> = suggestions
        .iter()
        .filter(|s| view.suggestions.contains(&s.id))
        .collect();
    let now = state.kernel.now();
    let mut response = page(
        p,
        "procedure.html",
        json!({
            "id": id, "name": record.enterprise.name, "instance": instance, "procedure": proc,
            "phase": phase_name(view.phase.as_str()), "closed": view.closed, "moves": moves,
            "history": history, "registers": registers, "suggestions": raised, "notice": notice,
            "clocks": view.clocks, "now": now,
        }),
    )?;
    *response.status_mut() = status;
    Ok(response)
}

/// A register value in words.
/// A register value with the names of the assets, threat and user it holds
/// (issue 17: registers showed ids and bare threat codes).
fn named(
    schema: &mmsm_model::Schema,
    record: &mmsm_kernel::services::IsmsRecord,
    kind: mmsm_model::FieldKind,
    v: &Value,
) -> String {
    use mmsm_model::FieldKind;
    let asset = |id: &str| {
        record
            .inputs
            .assets
            .iter()
            .find(|a| a.id.as_str() == id)
            .map_or_else(|| id.to_owned(), |a| a.name.clone())
    };
    match (kind, v) {
        (FieldKind::Assets, Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(asset)
            .collect::<Vec<_>>()
            .join(", "),
        (FieldKind::Assets, Value::String(id)) => asset(id),
        (FieldKind::Threat, Value::String(id)) => schema
            .threats
            .iter()
            .find(|t| t.id.as_str() == id)
            .map_or_else(|| id.clone(), |t| format!("{} ({id})", t.name)),
        (FieldKind::User, Value::String(id)) => record
            .users
            .iter()
            .find(|u| u.id.as_str() == id)
            .map_or_else(|| id.clone(), |u| format!("{} ({id})", u.name)),
        _ => shown(v),
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k} {}", shown(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

async fn show(
    State(state): State<AppState>,
    p: Page,
    Path((id, instance)): Path<(String, String)>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, UiError> {
    let notice = q.moved.map(|_| "Saved.".to_owned());
    render_instance(&state, &p, id, instance, notice, None, StatusCode::OK).await
}

async fn advance(
    State(state): State<AppState>,
    p: Page,
    Path((id, instance)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let phase = field(&fields, "phase");
    let procedure_id = instance
        .rsplit_once('-')
        .map_or(instance.as_str(), |(p, _)| p)
        .to_owned();
    let registers = registers_of(&state, &p, &id, &procedure_id, Some(&phase)).await?;
    let refs: Vec<&mmsm_model::Artefact> = registers.iter().collect();
    let data = match read_form(&refs, &fields) {
        Ok(d) => d,
        Err(errors) => {
            let echo = read_lenient(&refs, &fields);
            return render_instance(
                &state,
                &p,
                id,
                instance,
                None,
                Some((phase, echo, errors)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let who = p.0.principal.clone();
    let full = format!("{id}/{instance}");
    let target = phase.clone();
    let given = data.clone();
    let result = state
        .call(move |k| {
            k.advance_procedure(&who, &full, &target, (!given.is_empty()).then_some(given))
        })
        .await;
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/isms/{id}/procedures/{instance}?moved=1")).into_response())
        }
        Err(e) if shown_in_form(&e) => {
            render_instance(
                &state,
                &p,
                id,
                instance,
                None,
                Some((phase, data, vec![e.message])),
                e.status,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The names of the ISMS's evidence files, the choices of an attachments field.
fn evidence_names(
    k: &mmsm_kernel::services::Kernel,
    who: &mmsm_kernel::access::Principal,
    isms: &str,
) -> mmsm_kernel::services::Result<Vec<String>> {
    Ok(k.list_evidence(who, isms)?
        .into_iter()
        .map(|f| f.name)
        .collect())
}
