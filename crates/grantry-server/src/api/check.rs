//! `POST /v1/{org}/check`: may this principal do this action on this resource — answered from
//! the decision index, with the reasons. Anyone may ask about themselves; asking about another
//! principal needs `Access:Check`.

use super::auth::Caller;
use super::extract::{ApiJson, ApiQuery};
use crate::error::Result;
use crate::service;
use crate::service::ServiceError;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use grantry_core::attr::Attributes;
use grantry_core::authz::Action;
use grantry_core::decision::{Reason, ResourceQuery};
use grantry_core::ids::{ApiKeyId, UserId};
use grantry_core::model::{Principal, ResourceRef};
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new().route("/check", post(check))
}

/// Whom the check is about: `{"type": "user", "id": …}` or `{"type": "user", "email": …}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrincipalInput {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    pub email: Option<String>,
}

/// The resource: type, id and (for resources grantry does not know) attributes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceInput {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Attributes,
}

/// A check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub principal: PrincipalInput,
    pub permission: String,
    pub resource: ResourceInput,
    /// Decide as of this time instead of now (what-if).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    /// Answer only from an index that has applied this revision (the `revision` a write returned).
    pub at_least_revision: Option<u64>,
}

/// How to answer a check.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CheckOptions {
    /// Also say why: the grants that allowed it, or what was missing (at most ten, and how many
    /// more). Without it the answer comes from the compiled index alone, and `reasons` is empty.
    #[serde(default)]
    pub explain: bool,
}

/// The decision, and why when asked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckResponse {
    pub allowed: bool,
    /// Why, with `?explain=true`; empty otherwise.
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<Reason>,
    /// How many more grants decided the same way than `reasons` lists.
    #[serde(default)]
    pub reasons_omitted: usize,
    /// The index revision that decided.
    pub revision: u64,
}

#[utoipa::path(post, path = "/v1/{org}/check", request_body = CheckRequest, params(("org" = String, Path), CheckOptions),
    responses((status = 200, body = CheckResponse), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn check(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(options): ApiQuery<CheckOptions>,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<Json<CheckResponse>> {
    let ctx = &caller.ctx;
    state.at_least(body.at_least_revision).await?;
    let ix = state.index();
    let o = service::org(&ix, &ctx.org)?;
    let principal = match (body.principal.kind.as_str(), body.principal.id, body.principal.email) {
        ("user", Some(id), None) => Principal::User(UserId(id)),
        ("user", None, Some(email)) => {
            let email = grantry_core::validate::email(&email)?;
            match o.user_by_email(&email) {
                Some(u) => Principal::User(u.id.clone()),
                None => {
                    // Whether an address exists is told only to those who may check others.
                    let someone = Principal::User(UserId(String::new()));
                    ctx.authorize(&ix, Action::Check { principal: &someone })?;
                    return Err(ServiceError::NotFound(format!("no user with email `{email}` in this organization")).into());
                }
            }
        }
        ("api_key", Some(id), None) => Principal::ApiKey(ApiKeyId(id)),
        (kind, _, _) => {
            return Err(ServiceError::Invalid {
                field: "principal".into(),
                message: format!("`{kind}` principal needs exactly one of id or email (email only for users); types: user, api_key"),
            }
            .into());
        }
    };
    ctx.authorize(&ix, Action::Check { principal: &principal })?;
    let resource =
        ResourceQuery { reference: ResourceRef::new(body.resource.kind, body.resource.id), attributes: body.resource.attributes };
    let at = body.at.unwrap_or(ctx.now);
    let response = if options.explain {
        let d = o.explain(ix.catalogue(), &principal, &body.permission, &resource, at);
        CheckResponse { allowed: d.allowed, reasons: d.reasons, reasons_omitted: d.omitted, revision: ix.revision() }
    } else {
        let allowed = o.check(&principal, &body.permission, &resource, at);
        CheckResponse { allowed, reasons: Vec::new(), reasons_omitted: 0, revision: ix.revision() }
    };
    Ok(Json(response))
}
