//! `app(state)`: the whole HTTP surface, the API under `/api/v1` (with its
//! OpenAPI document) and the web UI.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::error::AppError;
use super::state::AppState;
use super::{api, ui};

/// The OpenAPI document of the API, generated from its routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().split_for_parts().1
}

/// The router of the server over `state`.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api::router().split_for_parts();
    let doc = Arc::new(doc.to_pretty_json().unwrap_or_else(|_| "{}".into()));
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        doc.as_ref().clone(),
                    )
                }
            }),
        )
        .merge(ui::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ui::with_navigation,
        ))
        .layer(middleware::from_fn(security_headers))
        // The whole body is read, within BODY_LIMIT, by `read_body_first`;
        // the extractors (forms, uploads) need no lower limit of their own.
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(read_body_first))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        AppError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no route {}: see /api/v1/openapi.json for the API",
                uri.path()
            ),
        )
        .into_response()
    } else {
        ui::not_found_page().into_response()
    }
}

/// Headers that keep pages from being framed, sniffed or leaking referrers.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    response
}

/// The largest request body accepted (schema imports and profiles included).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Reads the whole request body before any extractor may refuse the request:
/// a refusal sent while the client is still writing its body closes the
/// connection under it, and the client sees a broken pipe instead of the
/// status and message (e.g. a missing CSRF token).
async fn read_body_first(request: Request, next: Next) -> Result<Response, AppError> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is over {} MiB",
                BODY_LIMIT / (1024 * 1024)
            ),
        )
    })?;
    Ok(next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await)
}
