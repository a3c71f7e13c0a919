//! The API's one error type: a stable code, the right status and a message that says what was
//! wrong and how to fix it. A 5xx body is generic; its detail goes to the log. Services speak
//! their own, transport-free `ServiceError`; the HTTP layer adds only what is its own (a
//! malformed request, no credentials, a method, size or target it refuses), and every error
//! becomes a status here, and only here.

use crate::api::views::{ErrorBody, ErrorDetail};
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
                // After reading the change log, which holds every revision a write has returned.
                ServiceError::Behind { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "not_yet_current"),
                ServiceError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            },
        }
    }

    /// The error as the body says it: code, message (a 5xx's detail stays in the log) and details.
    pub fn detail(&self) -> ErrorDetail {
        let (_, code) = self.status_and_code();
        let (message, details) = self.message_and_details();
        ErrorDetail { code: code.to_owned(), message, details }
    }

    fn message_and_details(&self) -> (String, serde_json::Value) {
        match self {
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
                format!("no write has returned revision {wanted}: the change log ends at {have}; pass the revision a write returned"),
                json!({ "wanted": wanted, "have": have }),
            ),
            Self::Service(
                ServiceError::Forbidden(m) | ServiceError::NotFound(m) | ServiceError::Conflict(m) | ServiceError::RateLimited(m),
            )
            | Self::BadRequest(m)
            | Self::Unauthenticated(m)
            | Self::MethodNotAllowed(m)
            | Self::TooLarge(m)
            | Self::UriTooLong(m) => (m.clone(), json!({})),
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
        let (status, _) = self.status_and_code();
        (status, axum::Json(ErrorBody { error: self.detail() })).into_response()
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
