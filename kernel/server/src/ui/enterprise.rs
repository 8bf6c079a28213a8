//! What an enterprise is made of, after generation: its assets (added or
//! revalued through the engine, so the risks follow at once) and its users
//! with their roles (the security officer's, since roles decide certificates
//! and who may move procedures).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde_json::{json, Value};

use crate::error::AppError;
use crate::extract::Page;
use crate::state::AppState;
use mmsm_engine::Change;
use mmsm_model::{Asset, AssetId, AssetTypeId, Dimension, RoleId, User, UserId, Zone};

use super::registers::DIMENSIONS;
use super::{field, page, UiError};

/// The routes of the asset and user pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/isms/{id}/assets", get(assets).post(save_asset))
        .route("/isms/{id}/users", get(users).post(add_user))
        .route("/isms/{id}/users/{user}", post(change_user))
}

async fn assets(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    render_assets(&state, &p, id, json!({})).await
}

/// The assets page, with `outcome` (a refusal and what was typed) on top.
async fn render_assets(
    state: &AppState,
    p: &Page,
    id: String,
    outcome: Value,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (record, schema) = state.call(move |k| k.isms_with_schema(&who, &isms)).await?;
    let rows: Vec<Value> = record
        .inputs
        .assets
        .iter()
        .map(|a| {
            let values: BTreeMap<&str, String> = DIMENSIONS
                .iter()
                .filter_map(|(d, _)| {
                    let dim = Dimension::parse(d)?;
                    let v = a.own_value(dim);
                    (v > 0.0).then(|| (*d, format!("{}", (v * 100.0).round() / 100.0)))
                })
                .collect();
            let type_name = schema
                .asset_types
                .iter()
                .find(|t| t.id == a.asset_type)
                .map(|t| t.name.clone())
                .unwrap_or_default();
            let rests_on: Vec<&str> = a
                .depends_on
                .iter()
                .filter_map(|d| record.inputs.assets.iter().find(|b| &b.id == d))
                .map(|b| b.name.as_str())
                .collect();
            json!({ "id": a.id, "name": a.name, "type": a.asset_type, "type_name": type_name,
                    "values": values, "group": !a.members.is_empty(),
                    "rests_on": rests_on, "depends_on": a.depends_on })
        })
        .collect();
    let who = &p.0.principal;
    let can_edit = who.has_zone(Zone::Maintenance) || who.has_zone(Zone::Generation);
    let mut context = json!({ "id": id, "name": record.enterprise.name, "rows": rows,
                "asset_types": schema.asset_types, "dims": DIMENSIONS, "can_edit": can_edit });
    if let (Some(context), Some(outcome)) = (context.as_object_mut(), outcome.as_object()) {
        context.extend(outcome.clone());
    }
    let mut response = page(p, "assets.html", context)?;
    if outcome.get("error").is_some() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// An asset id from a name: lower-case letters, digits and dashes.
pub(super) fn slug(name: &str) -> String {
    let mut id = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    // An id stays short whatever the name's length (ids have at most 64 characters).
    id.trim_matches('-')
        .chars()
        .take(64)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

async fn save_asset(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    // A refusal stays on the page, above the form, with what was typed.
    let typed: serde_json::Map<String, Value> = fields
        .iter()
        .filter(|(n, _)| n != "csrf")
        .map(|(n, v)| (n.clone(), Value::String(v.chars().take(200).collect())))
        .collect();
    match checked_asset(&state, &p, &id, &fields).await {
        Ok(()) => Ok(Redirect::to(&format!("/isms/{id}/assets")).into_response()),
        Err(UiError(e))
            if [
                axum::http::StatusCode::BAD_REQUEST,
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            ]
            .contains(&e.status) =>
        {
            render_assets(
                &state,
                &p,
                id,
                json!({ "error": e.message, "typed": typed }),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Saves the asset a form describes.
async fn checked_asset(
    state: &AppState,
    p: &Page,
    id: &str,
    fields: &[(String, String)],
) -> Result<(), UiError> {
    let name = field(fields, "name");
    if name.is_empty() {
        return Err(AppError::bad_request("the asset needs a name").into());
    }
    // The name is what the person typed: its length is said before any id made from it.
    mmsm_model::check_length("the asset's name", &name, mmsm_model::MAX_NAME)
        .map_err(AppError::bad_request)?;
    let asset_id = match field(fields, "asset") {
        existing if !existing.is_empty() => existing,
        _ => slug(&name),
    };
    if asset_id.is_empty() {
        return Err(AppError::bad_request(format!(
            "`{name}` gives no usable id: use letters or digits in the name"
        ))
        .into());
    }
    let mut values = BTreeMap::new();
    for (dim, label) in DIMENSIONS {
        let text = field(fields, dim);
        if text.is_empty() {
            continue;
        }
        let v: f64 = text
            .parse()
            .ok()
            .filter(|v: &f64| (0.0..=10.0).contains(v))
            .ok_or_else(|| {
                AppError::bad_request(format!(
                    "{dim} ({label}) of `{name}`: `{text}` is not a value from 0 to 10"
                ))
            })?;
        if let Some(d) = Dimension::parse(dim) {
            values.insert(d, v);
        }
    }
    // Every asset the person ticked as one this one rests on.
    let depends_on: Vec<AssetId> = fields
        .iter()
        .filter(|(n, v)| n == "depends_on" && !v.trim().is_empty())
        .map(|(_, v)| AssetId::new(v.trim()))
        .collect();
    let who = p.0.principal.clone();
    let isms = id.to_owned();
    let asset_type = field(fields, "type");
    state
        .call(move |k| {
            let record = k.isms(&who, &isms)?;
            let existing = record
                .inputs
                .assets
                .iter()
                .find(|a| a.id.as_str() == asset_id);
            let asset = Asset {
                id: AssetId::new(asset_id.clone()),
                name,
                asset_type: AssetTypeId::new(asset_type),
                values,
                strategic_value: None,
                requirements: BTreeMap::new(),
                members: existing.map(|a| a.members.clone()).unwrap_or_default(),
                depends_on,
                description: existing.and_then(|a| a.description.clone()),
            };
            k.update_isms(&who, &isms, Change::AssetValue { asset }, "asset")
        })
        .await?;
    Ok(())
}

async fn users(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let who = p.0.principal.clone();
    let isms = id.clone();
    let (record, schema, culture) = state
        .call(move |k| {
            let (record, schema) = k.isms_with_schema(&who, &isms)?;
            let culture = k.culture_status(&who, &isms)?;
            Ok((record, schema, culture))
        })
        .await?;
    let roles: Vec<Value> = schema
        .roles
        .iter()
        .filter(|r| r.zone == Zone::Maintenance)
        .map(|r| json!({ "id": r.id, "name": r.name }))
        .collect();
    let rows: Vec<Value> = record
        .users
        .iter()
        .map(|u| {
            let status = culture
                .users
                .iter()
                .find(|c| c.user == u.id)
                .map(|c| c.status.as_str());
            json!({ "id": u.id, "name": u.name, "roles": u.roles, "department": u.department, "certificate": status })
        })
        .collect();
    page(
        &p,
        "users.html",
        json!({ "id": id, "name": record.enterprise.name, "rows": rows, "roles": roles,
                "can_manage": mmsm_kernel::services::msgs::manages(&p.0.principal),
                "departments": record.departments }),
    )
}

/// The roles ticked in a form.
fn roles_of(fields: &[(String, String)]) -> Vec<RoleId> {
    fields
        .iter()
        .filter(|(n, _)| n == "role")
        .map(|(_, v)| RoleId::new(v.as_str()))
        .collect()
}

async fn add_user(
    State(state): State<AppState>,
    p: Page,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let department = Some(field(&fields, "department")).filter(|d| !d.is_empty());
    let user = User {
        id: UserId::new(field(&fields, "user")),
        name: field(&fields, "name"),
        roles: roles_of(&fields),
        department: department.map(Into::into),
        email: Some(field(&fields, "email")).filter(|e| !e.is_empty()),
    };
    if user.id.as_str().is_empty() || user.name.is_empty() || user.roles.is_empty() {
        return Err(AppError::bad_request(
            "a user needs an id (the account name they log in with), a name and at least one role",
        )
        .into());
    }
    let who = p.0.principal.clone();
    let isms = id.clone();
    state.call(move |k| k.add_user(&who, &isms, user)).await?;
    Ok(Redirect::to(&format!("/isms/{id}/users")).into_response())
}

async fn change_user(
    State(state): State<AppState>,
    p: Page,
    Path((id, user)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    p.check_csrf(&field(&fields, "csrf"))?;
    let remove = field(&fields, "remove") == "yes";
    let roles = roles_of(&fields);
    let who = p.0.principal.clone();
    let isms = id.clone();
    state
        .call(move |k| {
            if remove {
                k.remove_user(&who, &isms, &user)
            } else {
                k.set_user_roles(&who, &isms, &user, roles)
            }
        })
        .await?;
    Ok(Redirect::to(&format!("/isms/{id}/users")).into_response())
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn asset_ids_come_from_names() {
        assert_eq!(slug("ERP server (main)"), "erp-server-main");
        assert_eq!(slug("  Recepción  PC "), "recepci-n-pc");
        assert_eq!(slug("!!!"), "");
    }
}
