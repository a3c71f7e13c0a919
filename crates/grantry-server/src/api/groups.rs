//! Groups (seed 003): `POST /groups`, `GET /groups`, `GET|PATCH|DELETE /groups/{id}` (archive and
//! restore are a `PATCH` of `status`), and their members in the seed's shape —
//! `POST /groups/{id}/members` `{"userIds": […], "role": "MEMBER"}` (optionally `endDate` and
//! `timezone`), `GET /groups/{id}/members`, `DELETE /groups/{id}/members/{userId}` and
//! `POST /groups/{id}/members:remove` `{"userIds": […]}`. A group is named in the path by its id
//! or its name; a user by id or email.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::error::Result;
use crate::service::{self, GroupPatch, GroupSpec};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::index::OrgState;
use grantry_core::model::{Group, GroupMember, GroupRole, GroupStatus};
use grantry_core::window::{self, Edge};
use grantry_core::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/groups", get(list).post(create))
        .route("/groups/{id}", get(show).patch(update).delete(remove))
        .route("/groups/{id}/members", get(members).post(add_members))
        .route("/groups/{id}/members:remove", post(remove_members))
        .route("/groups/{id}/members/{user}", delete(remove_member))
}

/// A group.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The parent group's id and name, if any.
    pub parent: Option<GroupRefView>,
    /// `active` or `archived`.
    pub status: String,
    /// Memberships in force now.
    pub member_count: usize,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A group named by id and name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupRefView {
    pub id: String,
    pub name: String,
}

impl GroupRefView {
    fn new(g: &Group) -> Self {
        Self { id: g.id.0.clone(), name: g.name.clone() }
    }
}

impl GroupView {
    fn new(g: &Group, o: &OrgState, now: Timestamp) -> Self {
        Self {
            id: g.id.0.clone(),
            name: g.name.clone(),
            description: g.description.clone(),
            parent: g.parent.as_ref().and_then(|p| o.group(p)).map(GroupRefView::new),
            status: match g.status {
                GroupStatus::Active => "active",
                GroupStatus::Archived => "archived",
            }
            .to_owned(),
            member_count: o.active_member_count(&g.id, now),
            created_by: g.created_by.to_string(),
            created_at: g.created_at,
        }
    }
}

/// One member of a group.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    pub user_id: String,
    pub email: Option<String>,
    /// `MEMBER` or `MANAGER`.
    pub role: String,
    #[schema(value_type = String, format = DateTime)]
    pub added_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Whether the membership counts now (it has no end, or its end is still ahead).
    pub active: bool,
}

impl MemberView {
    fn new(m: &GroupMember, o: &OrgState, now: Timestamp) -> Self {
        Self {
            user_id: m.user.0.clone(),
            email: o.user(&m.user).map(|u| u.email.clone()),
            role: m.role.name().to_owned(),
            added_at: m.added_at,
            expires_at: m.expires_at,
            active: m.is_active(now),
        }
    }
}

/// The groups of the organization.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupList {
    pub groups: Vec<GroupView>,
}

/// A group with its children and members.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupDetail {
    pub group: GroupView,
    pub children: Vec<GroupRefView>,
    pub members: Vec<MemberView>,
}

/// A group as written, and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupWritten {
    pub group: GroupView,
    pub revision: u64,
}

/// Members as written (added, changed or removed), and the revision that holds them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MembersWritten {
    pub members: Vec<MemberView>,
    pub revision: u64,
}

/// The members of a group.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberList {
    pub members: Vec<MemberView>,
}

/// A group to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// Unique in the organization without regard to case; 1 to 100 printable characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// The parent group's id or name: the new group inherits its access.
    pub parent: Option<String>,
}

/// What to change about a group; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// The new parent's id or name; `null` makes the group a top-level one.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
    /// `active` or `archived`: archiving stops the group's access reaching its members.
    #[schema(value_type = Option<String>)]
    pub status: Option<GroupStatus>,
}

/// A field that is present, `null` or not: `Some(None)` for `null`, `None` when absent.
fn present<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Users to add to a group (seed 003's shape).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddMembers {
    /// User ids or emails, 1 to 1,000.
    pub user_ids: Vec<String>,
    /// `MEMBER` (the default) or `MANAGER`, who may add and remove members.
    pub role: Option<String>,
    /// The last day of the membership (`2025-01-15`), a time (`2025-01-15T18:00`) or an instant;
    /// none: no end.
    pub end_date: Option<String>,
    /// The IANA timezone `endDate` is read in (UTC unless given).
    pub timezone: Option<String>,
}

/// Users to remove from a group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RemoveMembers {
    /// User ids or emails, 1 to 1,000.
    pub user_ids: Vec<String>,
}

fn group_view(state: &AppState, caller: &Caller, g: &Group) -> Result<GroupView> {
    let ix = state.index();
    Ok(GroupView::new(g, service::org(&ix, &caller.ctx.org)?, caller.ctx.now))
}

fn member_views(state: &AppState, caller: &Caller, members: &[GroupMember]) -> Result<Vec<MemberView>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    Ok(members.iter().map(|m| MemberView::new(m, o, caller.ctx.now)).collect())
}

#[utoipa::path(post, path = "/v1/{org}/groups", request_body = CreateGroup, params(("org" = String, Path)),
    responses((status = 201, body = GroupWritten), (status = 403, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<CreateGroup>,
) -> Result<(StatusCode, Json<GroupWritten>)> {
    let spec = GroupSpec { name: b.name, description: b.description, parent: b.parent };
    let (revision, g) = service::create_group(&state, &caller.ctx, &spec).await?;
    Ok((StatusCode::CREATED, Json(GroupWritten { group: group_view(&state, &caller, &g)?, revision })))
}

#[utoipa::path(get, path = "/v1/{org}/groups", params(("org" = String, Path)), responses((status = 200, body = GroupList)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<GroupList>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    caller.ctx.authorize(&ix, Action::ListGroups)?;
    Ok(Json(GroupList { groups: o.groups().into_iter().map(|g| GroupView::new(g, o, caller.ctx.now)).collect() }))
}

#[utoipa::path(get, path = "/v1/{org}/groups/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the group's id or name")),
    responses((status = 200, body = GroupDetail), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<GroupDetail>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    caller.ctx.authorize(&ix, Action::ListGroups)?;
    let g = service::find_group(o, &id)?;
    let now = caller.ctx.now;
    Ok(Json(GroupDetail {
        group: GroupView::new(g, o, now),
        children: o.children(&g.id).into_iter().map(GroupRefView::new).collect(),
        members: o.members(&g.id).into_iter().map(|m| MemberView::new(m, o, now)).collect(),
    }))
}

#[utoipa::path(patch, path = "/v1/{org}/groups/{id}", request_body = UpdateGroup,
    params(("org" = String, Path), ("id" = String, Path, description = "the group's id or name")),
    responses((status = 200, body = GroupWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<UpdateGroup>,
) -> Result<Json<GroupWritten>> {
    let patch = GroupPatch { name: b.name, description: b.description, parent: b.parent, status: b.status };
    let (revision, g) = service::update_group(&state, &caller.ctx, &id, &patch).await?;
    Ok(Json(GroupWritten { group: group_view(&state, &caller, &g)?, revision }))
}

#[utoipa::path(delete, path = "/v1/{org}/groups/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the group's id or name")),
    responses((status = 200, body = GroupWritten), (status = 404, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<GroupWritten>> {
    let (revision, g) = service::delete_group(&state, &caller.ctx, &id).await?;
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    Ok(Json(GroupWritten { group: GroupView::new(&g, o, caller.ctx.now), revision }))
}

#[utoipa::path(get, path = "/v1/{org}/groups/{id}/members", params(("org" = String, Path), ("id" = String, Path, description = "the group's id or name")),
    responses((status = 200, body = MemberList), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn members(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<MemberList>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    caller.ctx.authorize(&ix, Action::ListGroups)?;
    let g = service::find_group(o, &id)?;
    Ok(Json(MemberList { members: o.members(&g.id).into_iter().map(|m| MemberView::new(m, o, caller.ctx.now)).collect() }))
}

#[utoipa::path(post, path = "/v1/{org}/groups/{id}/members", request_body = AddMembers,
    params(("org" = String, Path), ("id" = String, Path, description = "the group's id or name")),
    responses((status = 200, body = MembersWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn add_members(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<AddMembers>,
) -> Result<Json<MembersWritten>> {
    let role: GroupRole = match b.role.as_deref() {
        None => GroupRole::Member,
        Some(text) => text.parse().map_err(|message| service::ServiceError::Invalid { field: "role".into(), message })?,
    };
    let zone = window::zone("timezone", b.timezone.as_deref().unwrap_or("UTC"))?;
    let end = b.end_date.as_deref().map(|t| window::instant("endDate", t, &zone, Edge::End)).transpose()?;
    let (revision, written) = service::add_members(&state, &caller.ctx, &id, &b.user_ids, role, end).await?;
    Ok(Json(MembersWritten { members: member_views(&state, &caller, &written)?, revision }))
}

#[utoipa::path(post, path = "/v1/{org}/groups/{id}/members:remove", request_body = RemoveMembers,
    params(("org" = String, Path), ("id" = String, Path, description = "the group's id or name")),
    responses((status = 200, body = MembersWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn remove_members(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<RemoveMembers>,
) -> Result<Json<MembersWritten>> {
    let (revision, removed) = service::remove_members(&state, &caller.ctx, &id, &b.user_ids).await?;
    Ok(Json(MembersWritten { members: member_views(&state, &caller, &removed)?, revision }))
}

#[utoipa::path(delete, path = "/v1/{org}/groups/{id}/members/{user}",
    params(("org" = String, Path), ("id" = String, Path, description = "the group's id or name"), ("user" = String, Path, description = "the user's id or email")),
    responses((status = 200, body = MembersWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id, user)): ApiPath<(String, String, String)>,
) -> Result<Json<MembersWritten>> {
    let (revision, removed) = service::remove_members(&state, &caller.ctx, &id, &[user]).await?;
    Ok(Json(MembersWritten { members: member_views(&state, &caller, &removed)?, revision }))
}
