//! Delegation stays inside its owner: a key a user hands to an agent carries only what they hold
//! at the project now, never allows what they may not do at the moment of a check, and stops with
//! their access — revoked, or expired; the user revokes it themselves.

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};
use std::time::Duration;

fn key(id: &str) -> Value {
    json!({ "type": "api_key", "id": id })
}

#[tokio::test]
async fn a_delegated_key_never_exceeds_its_user_and_ends_with_their_access() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_scopes(&["ml", "ml/agents", "ml/agents/dev", "ml/agents/prod!"]).await;
    let (_, dev) = owner.create_user("dev@acme.test", "org_member").await;
    let (_, other) = owner.create_user("other@acme.test", "org_member").await;
    let trace = owner.capture_trace("ml/agents", "dev").await;
    let delegate =
        |scopes: Value| json!({ "project": "ml/agents", "scopes": scopes, "name": "my agent", "delegate": true, "duration": "PT1H" });
    // Nothing held there yet: nothing to hand on.
    let (status, answer) = dev.post("/api-keys", &delegate(json!(["traces:read"]))).await;
    assert!(status == 403 && answer["error"]["message"].as_str().unwrap().contains("you do not hold `traces:read`"), "{answer}");
    assert_eq!(owner.grant_role("dev@acme.test", "project_developer", "ml/agents", json!({})).await.0, 201);
    let (status, answer) = dev.post("/api-keys", &delegate(json!(["traces:read:prod"]))).await;
    assert_eq!(status, 403, "not what the user lacks: {answer}");
    let (status, answer) = dev.post("/api-keys", &json!({ "project": "ml/agents", "scopes": ["traces:read"] })).await;
    assert_eq!(status, 403, "a project's own key needs ApiKey:Manage: {answer}");
    let (status, made) = dev.post("/api-keys", &delegate(json!(["traces:read"]))).await;
    assert_eq!((status, made["key"]["delegated_by"].as_str()), (201, Some("dev@acme.test")), "{made}");
    let id = made["key"]["id"].as_str().unwrap().to_owned();
    assert!(dev.get("/api-keys").await.1["keys"].as_array().unwrap().iter().any(|k| k["id"] == json!(id)), "the user sees their own key");
    assert!(owner.allowed(key(&id), "traces:read", &trace).await);

    // The user loses the role: the key allows nothing, and says why.
    assert_eq!(owner.revoke_role("dev@acme.test", "project_developer", "ml/agents").await.0, 200);
    assert!(!owner.allowed(key(&id), "traces:read", &trace).await);
    let body = json!({ "principal": key(&id), "permission": "traces:read", "resource": { "type": "trace", "id": trace } });
    let (_, decision) = owner.post("/check?explain=true", &body).await;
    let reason = decision["reasons"][0]["message"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("acts for dev@acme.test") && reason.contains("never holds more than its user"), "{decision}");

    // Back for two seconds: the key works for those two seconds, and stops with it.
    let (status, body) = owner.grant_role("dev@acme.test", "project_developer", "ml/agents", json!({ "duration": "PT2S" })).await;
    assert_eq!(status, 201, "{body}");
    assert!(owner.allowed(key(&id), "traces:read", &trace).await);
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert!(!owner.allowed(key(&id), "traces:read", &trace).await, "ends when the user's access ends");

    // Only its user (or the project's key managers) revokes it.
    assert_eq!(other.delete(&format!("/api-keys/{id}")).await.0, 403);
    assert_eq!(dev.delete(&format!("/api-keys/{id}")).await.0, 200);
    let (_, events) = owner.get("/audit?event_type=apikey.delegated").await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");
}

/// A server, its owner, and `dev@acme.test` (id, caller): project admin of `ml/agents` (with
/// environment `dev`).
async fn project_admin() -> (TestServer, Api, String, Api) {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_scopes(&["ml", "ml/agents", "ml/agents/dev"]).await;
    let (dev_id, dev) = owner.create_user("dev@acme.test", "org_member").await;
    assert_eq!(owner.grant_role("dev@acme.test", "project_admin", "ml/agents", json!({})).await.0, 201);
    (server, owner, dev_id, dev)
}

#[tokio::test]
async fn a_delegated_key_acts_on_the_project_no_more_than_its_user() {
    let (_server, owner, _, dev) = project_admin().await;
    let body = json!({ "project": "ml/agents", "scopes": ["Trace:Capture"], "name": "ingest agent", "delegate": true });
    let (status, made) = dev.post("/api-keys", &body).await;
    assert_eq!(status, 201, "{made}");
    let agent = owner.with_token(made["secret"].as_str().unwrap_or_default());
    let capture = json!({ "project": "ml/agents", "environment": "dev" });
    assert_eq!(agent.post("/traces", &capture).await.0, 201);
    // The user's role ends: so does what the key may do on the project, not only its checks.
    assert_eq!(owner.revoke_role("dev@acme.test", "project_admin", "ml/agents").await.0, 200);
    let (status, answer) = agent.post("/traces", &capture).await;
    assert_eq!(status, 403, "{answer}");
}

#[tokio::test]
async fn a_delegated_key_ends_on_time_whatever_is_rotated_or_added_and_with_its_user() {
    let (_server, owner, dev_id, dev) = project_admin().await;
    let body = json!({ "project": "ml/agents", "scopes": ["traces:read"], "name": "short agent", "delegate": true, "duration": "PT2S" });
    let (status, made) = dev.post("/api-keys", &body).await;
    assert_eq!(status, 201, "{made}");
    let id = made["key"]["id"].as_str().unwrap().to_owned();
    // A new secret with no grace, and a scope added: both end with the key.
    let (status, rotated) = dev.post(&format!("/api-keys/{id}/rotate"), &json!({ "grace": "PT0S" })).await;
    assert_eq!(status, 200, "{rotated}");
    let agent = owner.with_token(rotated["secret"].as_str().unwrap());
    let (status, edited) = dev.patch(&format!("/api-keys/{id}"), &json!({ "add_scopes": ["Trace:Capture"] })).await;
    assert_eq!(status, 200, "{edited}");
    let capture = json!({ "project": "ml/agents", "environment": "dev" });
    assert_eq!(agent.post("/traces", &capture).await.0, 201);
    let trace = owner.capture_trace("ml/agents", "dev").await;
    assert!(owner.allowed(key(&id), "Trace:Capture", &trace).await);
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert_eq!(agent.get("/me").await.0, 401, "the rotated secret ends with the key");
    assert!(!owner.allowed(key(&id), "Trace:Capture", &trace).await, "the added scope ends with the key");

    // A user deleted: the keys they delegated are revoked with them.
    let body = json!({ "project": "ml/agents", "scopes": ["traces:read"], "name": "long agent", "delegate": true });
    let (status, made) = dev.post("/api-keys", &body).await;
    assert_eq!(status, 201, "{made}");
    let long = made["key"]["id"].as_str().unwrap().to_owned();
    let agent = owner.with_token(made["secret"].as_str().unwrap());
    assert_eq!(agent.get("/me").await.0, 200);
    let (status, body) = owner.delete(&format!("/users/{dev_id}?justification=left%20the%20company")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(agent.get("/me").await.0, 401);
    let (_, keys) = owner.get("/api-keys").await;
    let listed = keys["keys"].as_array().unwrap().iter().find(|k| k["id"] == json!(long)).cloned().unwrap_or_default();
    assert!(listed.is_null() || !listed["revoked_at"].is_null(), "{keys}");
    let (_, events) = owner.get(&format!("/audit?event_type=apikey.revoked&target_id={long}")).await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");
}
