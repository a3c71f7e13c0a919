//! `POST /v1/{org}/check:batch`: up to 1,000 checks answered from one index, one answer each, in
//! order; a check the caller may not ask, or a malformed one, gets its own error and the others are
//! answered all the same; each answer equals the single `/check`'s.

use grantry_testkit::TestServer;

const MSG: &str = "Conversation:GetMessage";
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

#[tokio::test]
async fn lookup_lists_the_conversations_a_principal_may_read_as_check_decides_paged() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (dev_id, dev) = owner.create_user("dev@acme.test", "org_member").await;
    let (bob_id, _) = owner.create_user("bob@acme.test", "org_member").await;
    let (carol_id, _) = owner.create_user("carol@acme.test", "org_member").await;
    let mut bobs = Vec::new();
    for _ in 0..3 {
        bobs.push(owner.register_conversation(&bob_id).await);
    }
    let carols = owner.register_conversation(&carol_id).await;
    let ask = |limit: u64, token: Value| {
        json!({ "principal": { "type": "user", "id": dev_id }, "permission": "Conversation:GetMessage",
                "resource_type": "conversation", "limit": limit, "continuation_token": token })
    };
    // Nothing before access is given.
    let (status, none) = dev.post("/lookup", &ask(100, Value::Null)).await;
    assert_eq!((status, none["ids"].clone()), (200, json!([])), "{none}");
    // Access to one of bob's conversations opens all of bob's (the grant is bound to the owner).
    let (status, made) =
        dev.post(&format!("/conversation/{}/request_access", bobs[0]), &json!({ "justification": "Debugging issue #42" })).await;
    assert_eq!(status, 201, "{made}");
    bobs.sort();
    let (_, page1) = dev.post("/lookup", &ask(2, Value::Null)).await;
    assert_eq!(page1["ids"], json!(bobs[..2]), "{page1}");
    assert_eq!(page1["has_more"], true);
    let (_, page2) = dev.post("/lookup", &ask(2, page1["continuation_token"].clone())).await;
    assert_eq!((page2["ids"].clone(), page2["has_more"].clone()), (json!(bobs[2..]), json!(false)), "{page2}");
    // Each listed id is allowed by /check, and carol's is not listed and not allowed.
    for id in bobs.iter().chain([&carols]) {
        let (_, c) = dev.post("/check", &one(&dev_id, "Conversation:GetMessage", id)).await;
        assert_eq!(c["allowed"].as_bool().unwrap(), bobs.contains(id), "{id}: {c}");
    }
    // A member asks about itself only; bad input is refused with the field named.
    let about_bob =
        json!({ "principal": { "type": "user", "id": bob_id }, "permission": "Conversation:GetMessage", "resource_type": "conversation" });
    assert_eq!(dev.post("/lookup", &about_bob).await.0, 403);
    assert_eq!(owner.post("/lookup", &about_bob).await.0, 200);
    for (bad, field) in [
        (json!({ "limit": 0 }), "limit"),
        (json!({ "limit": 1001 }), "limit"),
        (json!({ "permission": "Nope:Nothing" }), "permission_name"),
        (json!({ "permission": "P".repeat(300) }), "permission_name"),
        (json!({ "resource_type": "x".repeat(300) }), "resource_type"),
        (json!({ "continuation_token": "a\u{202e}b" }), "continuation_token"),
    ] {
        let mut body = about_bob.clone();
        for (k, v) in bad.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, err) = owner.post("/lookup", &body).await;
        assert_eq!((status, err["error"]["details"]["field"].as_str()), (422, Some(field)), "{bad}: {err}");
    }
}

/// `GET /metrics` with `token` as bearer: the status and the text.
async fn scrape(server: &TestServer, token: &str) -> reqwest::Result<(u16, String)> {
    let response = reqwest::Client::new().get(format!("{}/metrics", server.url)).bearer_auth(token).send().await?;
    Ok((response.status().as_u16(), response.text().await?))
}

/// The value of the sample line that starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
}

#[tokio::test]
async fn metrics_count_checks_writes_and_the_index_for_the_metrics_token_only() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (dev_id, dev) = owner.create_user("dev@acme.test", "org_member").await;
    let (bob_id, _) = owner.create_user("bob@acme.test", "org_member").await;
    let conv = owner.register_conversation(&bob_id).await;
    // Organization tokens, the owner's included, do not open it: the figures span organizations.
    for caller in [&owner, &dev] {
        assert_eq!(scrape(&server, &caller.token).await.unwrap().0, 401);
    }
    assert_eq!(scrape(&server, "").await.unwrap().0, 401);
    let (status, before) = scrape(&server, grantry_testkit::METRICS_TOKEN).await.unwrap();
    assert_eq!(status, 200, "{before}");
    let allowed = r#"grantry_checks_total{endpoint="check",decision="allowed"}"#;
    let denied = r#"grantry_checks_total{endpoint="check",decision="denied"}"#;
    let committed = r#"grantry_writes_total{outcome="committed"}"#;
    let writes_before = sample(&before, committed).unwrap_or(0.0);
    assert!(writes_before >= 4.0, "bootstrap, users and the conversation were written: {before}");
    // One denied check, one write, one allowed check.
    assert_eq!(dev.post("/check", &one(&dev_id, MSG, &conv)).await.1["allowed"], false);
    let (status, made) =
        dev.post(&format!("/conversation/{conv}/request_access"), &json!({ "justification": "Debugging issue #42" })).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(dev.post("/check", &one(&dev_id, MSG, &conv)).await.1["allowed"], true);
    let (_, after) = scrape(&server, grantry_testkit::METRICS_TOKEN).await.unwrap();
    assert_eq!(sample(&after, allowed).unwrap_or(0.0) - sample(&before, allowed).unwrap_or(0.0), 1.0, "{after}");
    assert_eq!(sample(&after, denied).unwrap_or(0.0) - sample(&before, denied).unwrap_or(0.0), 1.0, "{after}");
    assert_eq!(sample(&after, committed).unwrap_or(0.0) - writes_before, 1.0, "{after}");
    assert!(sample(&after, r#"grantry_check_request_seconds_count{endpoint="check"}"#).unwrap_or(0.0) >= 2.0, "{after}");
    // The index, read at the scrape: the request's three grants and the owners' roles.
    let grants = sample(&after, r#"grantry_index_entries{org="acme",kind="grants"}"#).unwrap_or(0.0);
    assert!(grants >= 6.0, "{after}");
    assert_eq!(sample(&after, "grantry_follower_lag_revisions"), Some(0.0), "{after}");
    assert!(after.trim_end().ends_with("# EOF"), "OpenMetrics text ends with # EOF");
}

/// Group commit: writes arriving together are validated one after another against the index as
/// it will stand, and committed together; each gets its own answer, revision and audit events, a
/// write refused by validation fails alone, and readers see only what is committed.
#[tokio::test]
async fn concurrent_writes_commit_in_groups_and_a_refused_one_fails_alone() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..32 {
        let api = owner.clone();
        // Every fourth repeats an address another write in the same burst creates.
        let email = if i % 4 == 3 { format!("u{}@acme.test", i - 1) } else { format!("u{i}@acme.test") };
        writes.spawn(async move { (i, api.post("/users", &json!({ "email": email })).await) });
    }
    let mut revisions = Vec::new();
    let mut refused = 0;
    while let Some(done) = writes.join_next().await {
        let (i, (status, body)) = done.unwrap();
        match status {
            201 => revisions.push(body["revision"].as_u64().unwrap()),
            409 if i % 4 == 3 || i % 4 == 2 => refused += 1,
            other => panic!("write {i}: {other} {body}"),
        }
    }
    // Of each pair with one address, exactly one is created.
    assert_eq!((revisions.len(), refused), (24, 8), "{revisions:?}");
    revisions.sort_unstable();
    revisions.dedup();
    assert_eq!(revisions.len(), 24, "each write has its own revision");
    let (_, users) = owner.get("/users").await;
    assert_eq!(users["users"].as_array().unwrap().len(), 25, "{users}");
    let (_, verified) = owner.get("/audit/verify").await;
    assert_eq!(verified["ok"], true, "{verified}");
    let (_, created) = owner.get("/audit?event_type=user.created").await;
    assert_eq!(created["events"].as_array().unwrap().len(), 25, "one event per user created: {created}");
    let (_, text) = scrape(&server, grantry_testkit::METRICS_TOKEN).await.unwrap();
    let (groups, grouped) =
        (sample(&text, "grantry_write_group_size_count").unwrap(), sample(&text, "grantry_write_group_size_sum").unwrap());
    assert!(grouped > groups, "some writes shared a commit: {groups} groups for {grouped} writes");
}
