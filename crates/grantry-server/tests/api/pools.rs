//! Agent pools over HTTP (seed 004): registered by whoever holds `AgentPool:Manage`, listed in
//! both shapes, named by id or name; bad names refused; another organization sees none of them;
//! the privileged permission `AgentPool:IgnoreQuota` is answered by `/check`.

use grantry_testkit::{Api, TestServer};
use serde_json::json;

#[tokio::test]
async fn pools_are_registered_listed_checked_and_deleted() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (mo, member) = owner.create_user("mo@acme.test", "org_member").await;
    let (status, made) = owner.post("/agent-pools", &json!({ "name": "Production EU", "description": "on-call" })).await;
    assert_eq!(status, 201, "{made}");
    let id = made["pool"]["id"].as_str().unwrap().to_owned();
    for (body, status, says) in [
        (json!({ "name": "production eu" }), 409, "already exists"),
        (json!({ "name": "  " }), 422, "empty"),
        (json!({ "name": "0123456789abcdef01234567" }), 422, "looks like an id"),
        (json!({ "name": "EU\u{202e}" }), 422, "U+202E"),
        (json!({ "name": "x".repeat(101) }), 422, "100"),
    ] {
        let (got, answer) = owner.post("/agent-pools", &body).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(says), "{body} → {answer}");
    }
    assert_eq!(member.post("/agent-pools", &json!({ "name": "Mine" })).await.0, 403);
    // Both shapes list it; a member finds it by name.
    assert_eq!(member.get("/agent-pools").await.1["pools"][0]["id"], json!(id));
    assert_eq!(member.get("/agent-pool").await.1[0]["name"], json!("Production EU"));
    assert_eq!(member.get("/agent-pools/production%20eu").await.1["id"], json!(id));
    // The check answers the privileged permission: the owner holds it, a member does not.
    let owner_id = owner.get("/users").await.1["users"].as_array().unwrap().iter().find(|u| u["email"] == "owner@acme.test").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let quota = |user: &str| {
        let (api, user) = (owner.clone(), user.to_owned());
        let id = id.clone();
        async move { api.check(&user, "AgentPool:IgnoreQuota", "agent_pool", &id).await["allowed"].as_bool().unwrap() }
    };
    assert!(quota(&owner_id).await);
    assert!(!quota(&mo).await);
    // Another organization sees none of it.
    let other = server.bootstrap("globex", "owner@globex.test").await;
    assert_eq!(other.get("/agent-pools").await.1["pools"], json!([]));
    assert_eq!(other.get(&format!("/agent-pools/{id}")).await.0, 404);
    assert_eq!(Api::new(&other.url, "acme", &other.token).get("/agent-pools").await.0, 403);
    // Deleted: gone from the lists, and a member may not delete.
    assert_eq!(member.delete(&format!("/agent-pools/{id}")).await.0, 403);
    let (status, gone) = owner.delete("/agent-pools/Production%20EU").await;
    assert_eq!((status, gone["pool"]["id"].as_str()), (200, Some(id.as_str())), "{gone}");
    assert_eq!(owner.get(&format!("/agent-pools/{id}")).await.0, 404);
    let events = owner.get(&format!("/audit?entity=agent_pool:{id}")).await.1;
    assert_eq!(events["events"].as_array().map(Vec::len), Some(2), "created and deleted: {events}");
}
