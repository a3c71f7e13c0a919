//! The links the server hands out resolve: `GET /{org}/admin/conversation/{id}`, the URL
//! `conversation create` prints (seed 001's console address), answers with what the link is and
//! how to ask for access to it. It reads nothing (a browser sends no token), so it tells nothing
//! the link does not already say; path values are validated, and the answer is plain text.

use super::extract::ApiPath;
use crate::error::Result;
use crate::state::AppState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use grantry_core::validate;

pub fn router() -> Router<AppState> {
    Router::new().route("/{org}/admin/conversation/{id}", get(conversation))
}

async fn conversation(ApiPath((org, id)): ApiPath<(String, String)>) -> Result<impl IntoResponse> {
    let org = validate::slug("organization", &org)?;
    let id = validate::conversation_id(&id)?;
    let page = format!(
        "Conversation {id} in organization `{org}`.\n\n\
         Reading its messages needs temporary access. Ask for it with the Grantry CLI (`grantry`, also\n\
         installed as `forge`):\n\n  \
         forge conversation request-access <this page's URL> -j \"why you need it\"\n\n\
         The API is under /v1/{org}/ (see /openapi.json).\n"
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], page))
}
