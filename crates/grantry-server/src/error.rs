//! The API's one error type: a stable code, the right status and a message that says what was
//! wrong and how to fix it. A 5xx body is generic; its detail goes to the log. Services speak
//! their own, transport-free `ServiceError`; the HTTP layer adds only what is its own (a
//! malformed request, no credentials, a method, size or target it refuses), and every error
//! becomes a status here, and only here.

use crate::service::ServiceError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use grantry_core::CoreError;
use grantry_store::StoreError;
use serde_json::json;

/// An error an operation returns, and the response it becomes.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UriTooLong(String),
    /// What a service (or the validation a handler does before one) says.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// The server's result type.
pub type Result<T> = std::result::Result<T, ApiError>;

impl ApiError {
    /// The status and the stable code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Self::UriTooLong(_) => (StatusCode::URI_TOO_LONG, "uri_too_long"),
            Self::Service(e) => match e {
                ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
                ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
                ServiceError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
                ServiceError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
                ServiceError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
                ServiceError::Behind { .. } => (StatusCode::SERVICE_UNAVAILABLE, "not_yet_current"),
                ServiceError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            },
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let (message, details) = match &self {
            Self::Service(ServiceError::Internal(detail)) => {
                tracing::error!(%detail, "internal error");
                ("internal error; the server log has the detail".to_owned(), json!({}))
            }
            Self::Service(ServiceError::Unavailable(detail)) => {
                tracing::warn!(%detail, "database unavailable");
                ("the database is unavailable; try again shortly".to_owned(), json!({}))
            }
            Self::Service(ServiceError::Invalid { field, message }) => (format!("{field}: {message}"), json!({ "field": field })),
            Self::Service(ServiceError::Behind { wanted, have }) => (
                format!("this server has applied revision {have}, not yet {wanted}; retry shortly"),
                json!({ "wanted": wanted, "have": have, "retry_after_ms": 200 }),
            ),
            Self::Service(
                ServiceError::Forbidden(m) | ServiceError::NotFound(m) | ServiceError::Conflict(m) | ServiceError::RateLimited(m),
            )
            | Self::BadRequest(m)
            | Self::Unauthenticated(m)
            | Self::MethodNotAllowed(m)
            | Self::TooLarge(m)
            | Self::UriTooLong(m) => (m.clone(), json!({})),
        };
        let body = json!({ "error": { "code": code, "message": message, "details": details } });
        (status, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drivers_words_never_reach_the_client() {
        let e = ApiError::from(StoreError::Conflict("UNIQUE constraint failed: users.org_id, users.email".into()));
        let (status, _) = e.status_and_code();
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(!e.to_string().contains("UNIQUE") && !e.to_string().contains("users."), "{e}");
    }
}
