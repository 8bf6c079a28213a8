//! `AppError`: every failure of a handler as a status and a JSON body
//! `{ "error": ... }` (API) or a plain page (web UI).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use mmsm_kernel::services::ServiceError;

/// A failed request: its status, the message the client sees, and details.
#[derive(Debug)]
pub struct AppError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, in words that say what to do.
    pub message: String,
    /// Structured details (e.g. located validation problems).
    pub details: Option<serde_json::Value>,
}

impl AppError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AppError {
            status,
            message: message.into(),
            details: None,
        }
    }

    /// 401: no valid session or token.
    pub fn unauthenticated() -> Self {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            "log in first: POST /api/v1/login with {\"user\", \"password\"}, then send the session cookie or `Authorization: Bearer TOKEN`",
        )
    }

    /// 400: a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        let message = error.to_string();
        match error {
            ServiceError::Invalid(problems) => AppError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message,
                details: serde_json::to_value(&problems).ok(),
            },
            ServiceError::Forbidden(_) | ServiceError::NotYours(_) => {
                AppError::new(StatusCode::FORBIDDEN, message)
            }
            ServiceError::Unauthenticated(_) => AppError::new(StatusCode::UNAUTHORIZED, message),
            ServiceError::NotFound { .. } => AppError::new(StatusCode::NOT_FOUND, message),
            ServiceError::Exists { .. } => AppError::new(StatusCode::CONFLICT, message),
            ServiceError::Refused(_) => AppError::new(StatusCode::UNPROCESSABLE_ENTITY, message),
            #[allow(unreachable_patterns)]
            _ => {
                eprintln!("internal error: {message}");
                AppError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "something went wrong on the server; the log says what",
                )
            }
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(error: tokio::task::JoinError) -> Self {
        eprintln!("internal error: a service call panicked: {error}");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "something went wrong on the server; the log says what",
        )
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.message });
        if let Some(details) = self.details {
            body["details"] = details;
        }
        (self.status, Json(body)).into_response()
    }
}
