//! Authentication: the bearer token names a credential in the decision index, which must belong
//! to the organization in the path and to an active principal.

use crate::clock;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::service::Ctx;
use crate::service::ServiceError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use grantry_core::index::AuthFailure;
use grantry_core::model::{Principal, UserStatus};
use grantry_core::secret::{hash_secret, is_well_formed};
use std::collections::HashMap;

/// The header that names the revision a request must see.
pub const AT_LEAST_REVISION: &str = "grantry-at-least-revision";

/// The authenticated caller of an `/v1/{org}/…` endpoint, as a service context.
pub struct Caller {
    pub ctx: Ctx,
    pub org_slug: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let slug = params.get("org").cloned().unwrap_or_default();
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let token = header.strip_prefix("Bearer ").ok_or_else(|| {
            ApiError::Unauthenticated(
                "missing credentials; send `Authorization: Bearer <token>` with a token issued by this organization".to_owned(),
            )
        })?;
        if !is_well_formed(token) {
            return Err(ApiError::Unauthenticated(
                "malformed token; send `Authorization: Bearer gty_…` with one space and the 68-character token".to_owned(),
            ));
        }
        let revision = match parts.headers.get(AT_LEAST_REVISION) {
            None => None,
            Some(v) => Some(v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()).ok_or_else(|| {
                ApiError::BadRequest(format!("header `{AT_LEAST_REVISION}` must be a revision number, as returned by a write"))
            })?),
        };
        let secret_hash = hash_secret(token);
        // A token minted on another server is unknown here until the change log is read: a caller
        // that names a revision gets one catch-up (no waiting) before its token is judged.
        if revision.is_some() && state.index().authenticate(&secret_hash, clock::now()) == Err(AuthFailure::Unknown) {
            state.catch_up_if_idle().await?;
        }
        let caller = Self::authenticate(state, &secret_hash, &slug, parts)?;
        // Read-your-writes, only for an authenticated caller: answered from an index at least
        // that new, so a grant written through another server is seen here too.
        state.at_least(revision).await?;
        Ok(caller)
    }
}

impl Caller {
    fn authenticate(state: &AppState, secret_hash: &str, slug: &str, parts: &Parts) -> Result<Self, ApiError> {
        let now = clock::now();
        let ix = state.index();
        let cred = ix.authenticate(secret_hash, now).map_err(|f| match f {
            AuthFailure::Unknown => ApiError::Unauthenticated("unknown token; check it or get a new one".to_owned()),
            AuthFailure::Expired(at) => ApiError::Unauthenticated(format!("token expired at {at}; get a new one")),
            AuthFailure::Revoked(at) => ApiError::Unauthenticated(format!("token was revoked at {at}; get a new one")),
        })?;
        let org = ix.org_by_slug(slug).filter(|o| o.org().id == cred.org).ok_or_else(|| {
            ServiceError::Forbidden(format!("this token is not valid for organization `{slug}`; use a token issued in `{slug}`"))
        })?;
        if let Principal::User(id) = &cred.principal {
            if org.user(id).is_none_or(|u| u.status != UserStatus::Active) {
                return Err(ApiError::Unauthenticated("this token's user is suspended".to_owned()));
            }
        }
        // A caller's request id is kept in the audit log only if it is short, printable ASCII.
        let request_id = match parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()) {
            Some(id) if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()) => id.to_owned(),
            _ => new_id()?,
        };
        let ctx = Ctx::new(org.org().id.clone(), cred.principal.clone(), Some(request_id), now).with_credential(cred);
        Ok(Self { ctx, org_slug: slug.to_owned() })
    }
}
