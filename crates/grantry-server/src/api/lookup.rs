//! `POST /v1/{org}/lookup`: which registered resources of one type a principal may act on with
//! one permission — the list a caller filters by (seed 003's data sources) — decided from the
//! compiled index exactly as `/check` decides each, in id order, paged. Asking about another
//! principal needs `Access:Check`, as for a check.

use super::auth::Caller;
use super::check::{principal_of, PrincipalInput};
use super::extract::ApiJson;
use crate::error::Result;
use crate::service::{self, ServiceError};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use grantry_core::validate::bounded;
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/lookup", post(lookup))
}

/// The most ids one page carries, and how many when the request does not say.
const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;
/// The longest permission, resource type or continuation token taken.
const MAX_TEXT: usize = 256;

/// Which resources to list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    pub principal: PrincipalInput,
    pub permission: String,
    /// The type of the resources to list: `conversation`, `trace`, …
    #[schema(max_length = 256)]
    pub resource_type: String,
    /// Decide as of this time instead of now.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    /// At most this many ids (1 to 1,000; 100 when absent).
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// The `continuation_token` of the page before.
    #[schema(max_length = 256)]
    pub continuation_token: Option<String>,
    /// Answer only from an index that has applied this revision.
    pub at_least_revision: Option<u64>,
}

/// One page of the resources the principal may act on.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LookupResponse {
    pub resource_type: String,
    /// Their ids, in order.
    pub ids: Vec<String>,
    pub has_more: bool,
    /// Send it back for the next page.
    pub continuation_token: Option<String>,
    /// The index revision that decided.
    pub revision: u64,
}

#[utoipa::path(post, path = "/v1/{org}/lookup", request_body = LookupRequest, params(("org" = String, Path)),
    responses((status = 200, body = LookupResponse), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<LookupRequest>,
) -> Result<Json<LookupResponse>> {
    let started = std::time::Instant::now();
    let limit = body.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        let message = format!("is {limit}; ask for 1 to {MAX_PAGE} ids a page (follow continuation_token for more)");
        return Err(ServiceError::Invalid { field: "limit".into(), message }.into());
    }
    let bounded = |field, text: &str| bounded(field, text, MAX_TEXT).map_err(ServiceError::from);
    bounded("permission_name", &body.permission)?;
    bounded("resource_type", &body.resource_type)?;
    if let Some(token) = &body.continuation_token {
        bounded("continuation_token", token)?;
    }
    state.at_least(body.at_least_revision).await?;
    let ctx = &caller.ctx;
    let ix = state.index();
    let o = service::org(&ix, &ctx.org)?;
    let principal = principal_of(&ix, o, ctx, body.principal)?;
    ix.catalogue().permission(&body.permission).map_err(ServiceError::from)?;
    let at = body.at.unwrap_or(ctx.now);
    let (ids, has_more) = o.lookup(&principal, &body.permission, &body.resource_type, at, body.continuation_token.as_deref(), limit);
    let continuation_token = if has_more { ids.last().cloned() } else { None };
    // Its time is counted; what it listed is not a count of decisions.
    state.metrics().checked("lookup", 0, 0, started.elapsed());
    Ok(Json(LookupResponse { resource_type: body.resource_type, ids, has_more, continuation_token, revision: ix.revision() }))
}
