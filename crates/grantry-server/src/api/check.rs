//! `POST /v1/{org}/check`: may this principal do this action on this resource — answered from
//! the decision index, with the reasons. Anyone may ask about themselves; asking about another
//! principal needs `Access:Check`.

use super::auth::Caller;
use super::extract::{ApiJson, ApiQuery};
use super::views::ErrorDetail;
use crate::error::Result;
use crate::service;
use crate::service::{Ctx, ServiceError};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use grantry_core::attr::Attributes;
use grantry_core::authz::Action;
use grantry_core::decision::{Reason, ResourceQuery};
use grantry_core::ids::{ApiKeyId, UserId};
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{Grant, Principal, ResourceRef};
use grantry_core::Timestamp;
use grantry_store::{GrantFilter, GrantState};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new().route("/check", post(check)).route("/check:batch", post(check_batch))
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
    let started = std::time::Instant::now();
    state.at_least(body.at_least_revision).await?;
    let one = BatchCheck { principal: body.principal, permission: body.permission, resource: body.resource, at: body.at };
    let (mut answers, revision) = decide(&state, &caller.ctx, vec![one], options.explain).await?;
    let Answer { allowed, reasons, omitted } = answers.pop().unwrap_or_else(|| Err(ServiceError::Internal("no answer".into()).into()))?;
    state.metrics().checked("check", usize::from(allowed), 1, started.elapsed());
    Ok(Json(CheckResponse { allowed, reasons, reasons_omitted: omitted, revision }))
}

/// The most checks one batch carries.
pub const MAX_BATCH: usize = 1000;

/// One check of a batch: as a single check, without its own revision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCheck {
    pub principal: PrincipalInput,
    pub permission: String,
    pub resource: ResourceInput,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
}

/// Up to 1,000 checks, answered from one index, in order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    #[schema(min_items = 1, max_items = 1000)]
    pub checks: Vec<BatchCheck>,
    /// Answer only from an index that has applied this revision.
    pub at_least_revision: Option<u64>,
}

/// One answer of a batch: the decision, or why this check could not be decided (then `allowed`
/// is false and `error` says what was wrong — the others are answered all the same).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchAnswer {
    pub allowed: bool,
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<Reason>,
    pub reasons_omitted: usize,
    pub error: Option<ErrorDetail>,
}

/// The answers, one per check, in order, all from the index at `revision`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchAnswer>,
    pub revision: u64,
}

#[utoipa::path(post, path = "/v1/{org}/check:batch", request_body = BatchRequest, params(("org" = String, Path), CheckOptions),
    responses((status = 200, body = BatchResponse)))]
pub(super) async fn check_batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(options): ApiQuery<CheckOptions>,
    ApiJson(body): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>> {
    if body.checks.is_empty() || body.checks.len() > MAX_BATCH {
        let message = format!("has {} checks; send 1 to {MAX_BATCH} (split a longer list)", body.checks.len());
        return Err(ServiceError::Invalid { field: "checks".into(), message }.into());
    }
    let started = std::time::Instant::now();
    state.at_least(body.at_least_revision).await?;
    let (answers, revision) = decide(&state, &caller.ctx, body.checks, options.explain).await?;
    let allowed = answers.iter().filter(|a| a.as_ref().is_ok_and(|a| a.allowed)).count();
    let decided = answers.iter().filter(|a| a.is_ok()).count();
    state.metrics().checked("batch", allowed, decided, started.elapsed());
    let results = answers
        .into_iter()
        .map(|a| match a {
            Ok(Answer { allowed, reasons, omitted }) => BatchAnswer { allowed, reasons, reasons_omitted: omitted, error: None },
            Err(e) => BatchAnswer { allowed: false, reasons: Vec::new(), reasons_omitted: 0, error: Some(e.detail()) },
        })
        .collect();
    Ok(Json(BatchResponse { results, revision }))
}

/// The most ended grants an explanation weighs, most recently ended first.
const ENDED_REASONS: u32 = 50;

/// A decision, and why when asked.
#[derive(Debug, Default)]
struct Answer {
    allowed: bool,
    reasons: Vec<Reason>,
    omitted: usize,
}

/// A check ready to answer: whom it is about (the caller may ask), what, where and when.
struct Resolved {
    principal: Principal,
    permission: String,
    resource: ResourceQuery,
    at: Timestamp,
    /// Asked about now (no `at`): only such a check uses up single-use access.
    now: bool,
}

/// Answers `checks` for the caller (see [`answer`]), then uses up the single-use access that
/// allowed any of them now.
async fn decide(state: &AppState, ctx: &Ctx, checks: Vec<BatchCheck>, explain: bool) -> Result<(Vec<Result<Answer>>, u64)> {
    let (asked_now, mut answers, revision) = answer(state, ctx, checks, explain).await?;
    // A check allowed now by single-use access uses it up; one that lost the race to another
    // check is decided again without it.
    // Under one read of the index: decided again where anything was written since the answer
    // (single-use access used up by another check meanwhile), and which may use some up.
    let mut consuming = Vec::new();
    {
        let ix = state.index();
        let o = service::org(&ix, &ctx.org)?;
        let moved = ix.revision() != revision;
        for (i, (r, a)) in asked_now.iter().zip(answers.iter_mut()).enumerate() {
            let (Some(r), Ok(a)) = (r, a) else { continue };
            if !a.allowed {
                continue;
            }
            if service::may_consume(o, &r.principal) {
                consuming.push(i);
            } else if moved && !o.check(&r.principal, &r.permission, &r.resource, r.at) {
                *a = Answer::default();
            }
        }
    }
    for i in consuming {
        let (Some(Some(r)), Some(Ok(a))) = (asked_now.get(i), answers.get_mut(i)) else { continue };
        if !service::consume(state, ctx, &r.principal, &r.permission, &r.resource).await? {
            *a = Answer::default();
        }
    }
    Ok((answers, revision))
}

/// Each check asked about now (else `None`), each answer, and the index revision that answered.
type Answered = (Vec<Option<Resolved>>, Vec<Result<Answer>>, u64);

/// Splits `resolved` into the checks asked about now and the answers `answer` gives.
fn split(resolved: Vec<Result<Resolved>>, answer: impl Fn(&Resolved) -> Answer) -> (Vec<Option<Resolved>>, Vec<Result<Answer>>) {
    resolved
        .into_iter()
        .map(|r| match r {
            Ok(r) => {
                let a = answer(&r);
                (r.now.then_some(r), Ok(a))
            }
            Err(e) => (None, Err(e)),
        })
        .unzip()
}

/// Answers `checks` for the caller, each on its own (one that cannot be decided fails alone), and
/// the index revision that answered. Without `explain`, from the compiled index alone, under one
/// read of it; with it, also weighing each principal's most recently ended grants, which only the
/// store keeps.
async fn answer(state: &AppState, ctx: &Ctx, checks: Vec<BatchCheck>, explain: bool) -> Result<Answered> {
    let resolved = {
        let ix = state.index();
        let o = service::org(&ix, &ctx.org)?;
        // The caller's permission to ask about a principal is decided once per principal.
        let mut permitted = HashSet::new();
        let resolved: Vec<Result<Resolved>> = checks.into_iter().map(|c| resolve(&ix, o, ctx, c, &mut permitted)).collect();
        if !explain {
            let answer = |r: &Resolved| Answer { allowed: o.check(&r.principal, &r.permission, &r.resource, r.at), ..Answer::default() };
            let (now, answers) = split(resolved, answer);
            return Ok((now, answers, ix.revision()));
        }
        resolved
    };
    let mut ended: HashMap<Principal, Vec<Grant>> = HashMap::new();
    for r in resolved.iter().flatten() {
        if !ended.contains_key(&r.principal) {
            let filter = GrantFilter {
                principal: Some(r.principal.clone()),
                state: Some(GrantState::Ended),
                limit: Some(ENDED_REASONS),
                ..GrantFilter::default()
            };
            ended.insert(r.principal.clone(), state.store.grants(&ctx.org, filter).await?);
        }
    }
    let ix = state.index();
    let o = service::org(&ix, &ctx.org)?;
    let answer = |r: &Resolved| {
        let gone = ended.get(&r.principal).map_or(&[][..], Vec::as_slice);
        let d = o.explain(ix.catalogue(), &r.principal, &r.permission, &r.resource, r.at, gone);
        Answer { allowed: d.allowed, reasons: d.reasons, omitted: d.omitted }
    };
    let (now, answers) = split(resolved, answer);
    Ok((now, answers, ix.revision()))
}

/// Resolves one check for the caller: whom it is about, and whether the caller may ask (unless
/// `permitted` says it may already).
fn resolve(ix: &DecisionIndex, o: &OrgState, ctx: &Ctx, check: BatchCheck, permitted: &mut HashSet<Principal>) -> Result<Resolved> {
    let BatchCheck { principal, permission, resource, at } = check;
    let principal = named(ix, o, ctx, principal)?;
    if !permitted.contains(&principal) {
        ctx.authorize(ix, Action::Check { principal: &principal })?;
        permitted.insert(principal.clone());
    }
    let resource = ResourceQuery { reference: ResourceRef::new(resource.kind, resource.id), attributes: resource.attributes };
    Ok(Resolved { principal, permission, resource, at: at.unwrap_or(ctx.now), now: at.is_none() })
}

/// The principal a check or lookup is about, once the caller may ask about it: anyone about
/// themselves, others with `Access:Check`.
pub(super) fn principal_of(ix: &DecisionIndex, o: &OrgState, ctx: &Ctx, input: PrincipalInput) -> Result<Principal> {
    let principal = named(ix, o, ctx, input)?;
    ctx.authorize(ix, Action::Check { principal: &principal })?;
    Ok(principal)
}

/// The principal `input` names; an unknown email is told only to a caller who may check others.
fn named(ix: &DecisionIndex, o: &OrgState, ctx: &Ctx, input: PrincipalInput) -> Result<Principal> {
    Ok(match (input.kind.as_str(), input.id, input.email) {
        ("user", Some(id), None) => Principal::User(UserId(id)),
        ("user", None, Some(email)) => {
            let email = grantry_core::validate::email(&email)?;
            match o.user_by_email(&email) {
                Some(u) => Principal::User(u.id.clone()),
                None => {
                    // Whether an address exists is told only to those who may check others.
                    let someone = Principal::User(UserId(String::new()));
                    ctx.authorize(ix, Action::Check { principal: &someone })?;
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
    })
}
