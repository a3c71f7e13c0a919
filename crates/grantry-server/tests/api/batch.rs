//! `POST /v1/{org}/check:batch`: up to 1,000 checks answered from one index, one answer each, in
//! order; a check the caller may not ask, or a malformed one, gets its own error and the others are
//! answered all the same; each answer equals the single `/check`'s.

use grantry_testkit::TestServer;
use serde_json::{json, Value};

fn one(user: &str, permission: &str, conv: &str) -> Value {
    json!({ "principal": { "type": "user", "id": user }, "permission": permission, "resource": { "type": "conversation", "id": conv } })
}

#[tokio::test]
async fn a_batch_answers_each_check_in_order_as_a_single_check_would() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (dev_id, dev) = owner.create_user("dev@acme.test", "org_member").await;
    let (bob_id, _) = owner.create_user("bob@acme.test", "org_member").await;
    let conv = owner.register_conversation(&bob_id).await;
    let (status, made) =
        dev.post(&format!("/conversation/{conv}/request_access"), &json!({ "justification": "Debugging issue #42" })).await;
    assert_eq!(status, 201, "{made}");

    let checks = vec![
        one(&dev_id, "Conversation:GetMessage", &conv),
        one(&bob_id, "Conversation:GetMessage", &conv),
        json!({ "principal": { "type": "robot", "id": "x" }, "permission": "Conversation:GetMessage", "resource": { "type": "conversation", "id": conv } }),
        one(&dev_id, "Conversation:GetConversation", &conv),
    ];
    let (status, batch) = owner.post("/check:batch", &json!({ "checks": checks })).await;
    assert_eq!(status, 200, "{batch}");
    let results = batch["results"].as_array().unwrap();
    let allowed: Vec<Value> = results.iter().map(|r| r["allowed"].clone()).collect();
    assert_eq!(allowed, [json!(true), json!(false), json!(false), json!(true)], "{batch}");
    assert_eq!(results[2]["error"]["code"], "invalid", "a malformed check gets its own error: {batch}");
    assert!(results.iter().all(|r| r["reasons"] == json!([])), "reasons only when asked for");
    for (check, answer) in checks.iter().zip(results) {
        if answer["error"].is_null() {
            assert_eq!(owner.post("/check", check).await.1["allowed"], answer["allowed"], "{check}");
        }
    }
    let (_, explained) = owner.post("/check:batch?explain=true", &json!({ "checks": checks })).await;
    assert_eq!(explained["results"][0]["reasons"][0]["code"], "granted_by", "{explained}");
    assert_eq!(explained["results"][1]["reasons"][0]["code"], "no_grant", "{explained}");

    // A member may ask about itself, not about others: per check.
    let (status, mine) = dev
        .post(
            "/check:batch",
            &json!({ "checks": [one(&dev_id, "Conversation:GetMessage", &conv), one(&bob_id, "Conversation:GetMessage", &conv)] }),
        )
        .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["results"][0]["allowed"], true);
    assert_eq!(mine["results"][1]["error"]["code"], "forbidden", "{mine}");

    // 1 to 1,000 checks.
    assert_eq!(owner.post("/check:batch", &json!({ "checks": [] })).await.0, 422);
    let many: Vec<Value> = (0..1001).map(|_| one(&dev_id, "Conversation:GetMessage", &conv)).collect();
    let (status, body) = owner.post("/check:batch", &json!({ "checks": many })).await;
    assert_eq!(status, 422, "{body}");
    let full: Vec<Value> = (0..1000).map(|_| one(&dev_id, "Conversation:GetMessage", &conv)).collect();
    let (status, body) = owner.post("/check:batch", &json!({ "checks": full })).await;
    assert_eq!((status, body["results"].as_array().unwrap().len()), (200, 1000));
}
