//! Access reviews (seed 003): `POST /reviews` certifies or revokes a group's assignment to an
//! agent or a user's membership of a group; the compliance report (`api/reports.rs`) reads them.

use super::auth::Caller;
use super::extract::ApiJson;
use crate::error::Result;
use crate::service::{self, Reviewed, ServiceError, Verdict};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/reviews", post(review))
}

/// A review to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `assignment` (give `agent` and `group`) or `membership` (give `group` and `user`).
    pub kind: String,
    /// The agent's id or name.
    pub agent: Option<String>,
    /// The group's id or name.
    pub group: String,
    /// The user's email or id.
    pub user: Option<String>,
    /// `certify` (it stays) or `revoke` (it is taken away now).
    pub verdict: String,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// A review as recorded.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewView {
    /// `assignment` or `membership`.
    pub kind: String,
    /// `AGENT/GROUP` or `GROUP/USER` ids.
    pub target: String,
    /// `certified` or `revoked`.
    pub verdict: String,
    pub summary: String,
    pub revision: u64,
}

#[utoipa::path(post, path = "/v1/{org}/reviews", request_body = ReviewBody, params(("org" = String, Path)),
    responses((status = 201, body = ReviewView), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn review(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ReviewBody>,
) -> Result<(StatusCode, Json<ReviewView>)> {
    let missing = |field: &str, kind: &str| ServiceError::Invalid {
        field: field.into(),
        message: format!("a review of an {kind} names its {field}"),
    };
    let reviewed = match (b.kind.as_str(), b.agent, b.user) {
        ("assignment", Some(agent), None) => Reviewed::Assignment { agent, group: b.group },
        ("assignment", None, _) => return Err(missing("agent", "assignment").into()),
        ("membership", None, Some(user)) => Reviewed::Membership { group: b.group, user },
        ("membership", _, None) => return Err(missing("user", "membership").into()),
        ("assignment" | "membership", ..) => {
            return Err(ServiceError::Invalid {
                field: "kind".into(),
                message: "an assignment names an agent, a membership a user; not both".into(),
            }
            .into())
        }
        _ => return Err(ServiceError::Invalid { field: "kind".into(), message: "give `assignment` or `membership`".into() }.into()),
    };
    let verdict = match b.verdict.as_str() {
        "certify" => Verdict::Certify,
        "revoke" => Verdict::Revoke,
        _ => return Err(ServiceError::Invalid { field: "verdict".into(), message: "give `certify` or `revoke`".into() }.into()),
    };
    let (revision, r) = service::review(&state, &caller.ctx, &reviewed, verdict, b.note.as_deref()).await?;
    let verdict = if r.verdict == Verdict::Certify { "certified" } else { "revoked" };
    Ok((
        StatusCode::CREATED,
        Json(ReviewView { kind: r.target_type.to_owned(), target: r.target_id, verdict: verdict.to_owned(), summary: r.summary, revision }),
    ))
}
