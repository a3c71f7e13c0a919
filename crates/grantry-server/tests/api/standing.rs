//! A user's standing and a key's secrets, on both backends, through the API — and as a second
//! server loads them from the database: a deleted user is gone with their grants and tokens and
//! the email is free; a rotated key's old secret works for the grace period and no longer once the
//! key is revoked; a renamed key keeps its new name.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::{Api, TestServer};
use serde_json::json;

grantry_testkit::on_both_backends!(deleting_a_user_revokes_all_they_hold_and_frees_the_email, rotation_and_rename_hold_in_the_database);

async fn deleting_a_user_revokes_all_they_hold_and_frees_the_email(server: TestServer) {
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (dev_id, dev) = owner.create_user("dev@acme.test", "org_member").await;
    let (bob_id, _) = owner.create_user("bob@acme.test", "org_member").await;
    let conv = owner.register_conversation(&bob_id).await;
    let (status, body) =
        dev.post(&format!("/conversation/{conv}/request_access"), &json!({ "justification": "Debugging issue #42" })).await;
    assert_eq!(status, 201, "{body}");

    let (status, body) = owner.post(&format!("/users/{dev_id}/suspend"), &json!({ "justification": "on leave until December" })).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("suspended")), "{body}");
    assert_eq!(dev.get("/me").await.0, 401, "a suspended user's token is refused");
    let (status, _) = owner.post(&format!("/users/{dev_id}/resume"), &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(dev.get("/me").await.0, 200);

    let (status, body) = owner.delete(&format!("/users/{dev_id}")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("deleted")), "{body}");
    assert_eq!(dev.get("/me").await.0, 401);
    assert_eq!(owner.delete(&format!("/users/{dev_id}")).await.0, 404, "deleted once");
    // A second server, loading everything from the database, agrees.
    let second = server.second().await;
    let owner2 = Api::new(&second.url, "acme", &owner.token);
    let users = owner2.get("/users").await.1;
    assert!(users["users"].as_array().unwrap().iter().all(|u| u["email"] != "dev@acme.test"), "{users}");
    let grants = owner2.get(&format!("/role/temporary_permission_grants/?user_id={dev_id}&is_expired=false")).await.1;
    assert_eq!(grants["temporary_permission_grants"].as_array().unwrap().len(), 0, "{grants}");
    let (new_id, _) = owner2.create_user("dev@acme.test", "org_member").await;
    assert_ne!(new_id, dev_id);
}

async fn rotation_and_rename_hold_in_the_database(server: TestServer) {
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_scopes(&["ml", "ml/agents"]).await;
    let (status, made) = owner.post("/api-keys", &json!({ "project": "ml/agents", "scopes": ["traces:read"], "name": "reader" })).await;
    assert_eq!(status, 201, "{made}");
    let id = made["key"]["id"].as_str().unwrap().to_owned();
    let old = owner.with_token(made["secret"].as_str().unwrap());
    let (status, body) = owner.patch(&format!("/api-keys/{id}"), &json!({ "name": "reader-eu" })).await;
    assert_eq!((status, body["key"]["name"].as_str()), (200, Some("reader-eu")), "{body}");
    let (status, rotated) = owner.post(&format!("/api-keys/{id}/rotate"), &json!({ "grace": "PT1H" })).await;
    assert_eq!(status, 200, "{rotated}");
    let new = owner.with_token(rotated["secret"].as_str().unwrap());
    let (status, tokens) = new.get("/tokens").await;
    assert_eq!(status, 200, "{tokens}");
    let states: Vec<&str> = tokens["tokens"].as_array().unwrap().iter().filter_map(|t| t["status"].as_str()).collect();
    assert_eq!(states, ["retiring", "active"], "the old secret is in its grace period: {tokens}");

    let second = server.second().await;
    let at_second = |api: &Api| Api::new(&second.url, "acme", &api.token);
    assert_eq!(at_second(&old).get("/me").await.0, 200, "the grace period holds on another server");
    let keys = at_second(&owner).get("/api-keys").await.1;
    assert_eq!(keys["keys"][0]["name"], "reader-eu", "{keys}");
    // Revoking the key ends the grace period at once, everywhere.
    assert_eq!(owner.delete(&format!("/api-keys/{id}")).await.0, 200);
    assert_eq!(old.get("/me").await.0, 401);
    assert_eq!(new.get("/me").await.0, 401);
    let third = server.second().await;
    assert_eq!(Api::new(&third.url, "acme", &old.token).get("/me").await.0, 401);
}
