//! Extractors that turn malformed requests into the API's error shape.

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;

/// The largest request body, in bytes: ample for any request the API takes.
pub const BODY_LIMIT: usize = 256 * 1024;
/// The largest body of a CSV import (50,000 rows fit).
pub const IMPORT_LIMIT: usize = 16 * 1024 * 1024;
/// The longest request target (path and query), in bytes.
pub const URI_LIMIT: usize = 8 * 1024;
use axum::Json;
use serde::de::DeserializeOwned;

/// A JSON body; a bad one is a 400 in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::TooLarge(format!(
                "the body is larger than a request may carry ({} KiB; {} MiB for a CSV import)",
                BODY_LIMIT / 1024,
                IMPORT_LIMIT / 1024 / 1024
            ))),
            Err(rej) => Err(ApiError::BadRequest(format!("{}; see /openapi.json for the request's shape", rej.body_text()))),
        }
    }
}

/// A query string; a bad one is a 400 in the API's error shape.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Self(v)),
            Err(rej) => Err(ApiError::BadRequest(format!("{}; see /openapi.json for the parameters", rej.body_text()))),
        }
    }
}

/// Path parameters; a bad one (not UTF-8, say) is a 400 in the API's error shape.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Self(v)),
            Err(rej) => Err(ApiError::BadRequest(format!("{}; see /openapi.json for the paths", rej.body_text()))),
        }
    }
}
