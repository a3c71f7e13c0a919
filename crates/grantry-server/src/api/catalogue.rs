//! `GET /v1/{org}/catalogue`: the permissions (with the attributes conditions may test) and the
//! roles (with their tier and what they carry), for anyone in the organization.

use super::auth::Caller;
use crate::error::Result;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/catalogue", get(catalogue))
}

/// One permission.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PermissionView {
    pub name: String,
    /// `data` (reaches resources; may be granted temporarily) or `admin`.
    pub kind: String,
    pub description: String,
    /// The attributes a condition on this permission may test, with their types.
    pub attributes: Vec<(String, String)>,
}

/// One role.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleView {
    pub name: String,
    pub tier: String,
    pub description: String,
    /// The permissions it carries, with their conditions when they have any.
    #[schema(value_type = Vec<Object>)]
    pub grants: Vec<serde_json::Value>,
}

/// The catalogue.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CatalogueView {
    pub permissions: Vec<PermissionView>,
    pub roles: Vec<RoleView>,
}

fn text<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

#[utoipa::path(get, path = "/v1/{org}/catalogue", params(("org" = String, Path)), responses((status = 200, body = CatalogueView)))]
pub(super) async fn catalogue(State(state): State<AppState>, _caller: Caller) -> Result<Json<CatalogueView>> {
    let ix = state.index();
    let cat = ix.catalogue();
    let permissions = cat
        .permissions()
        .into_iter()
        .map(|p| PermissionView {
            name: p.name.clone(),
            kind: text(&p.kind),
            description: p.description.clone(),
            attributes: p.attributes.iter().map(|(n, t)| ((*n).to_owned(), text(t))).collect(),
        })
        .collect();
    let roles = cat
        .roles()
        .into_iter()
        .map(|r| RoleView {
            name: r.name.clone(),
            tier: text(&r.tier),
            description: r.description.clone(),
            grants: r.grants.iter().filter_map(|g| serde_json::to_value(g).ok()).collect(),
        })
        .collect();
    Ok(Json(CatalogueView { permissions, roles }))
}
