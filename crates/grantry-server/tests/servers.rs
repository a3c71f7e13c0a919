//! Several servers over one database: each follows the change log, and `at_least_revision`
//! gives read-your-writes across them. Each case runs on SQLite and on PostgreSQL.

#![expect(clippy::unwrap_used, reason = "tests fail loudly at the point of failure")]

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};

const MSG: &str = "Conversation:GetMessage";

fn check_body(user: &str, conv: &str, revision: Option<u64>) -> Value {
    json!({ "principal": { "type": "user", "id": user }, "permission": MSG, "resource": { "type": "conversation", "id": conv }, "at_least_revision": revision })
}

use grantry_testkit::on_both_backends;

on_both_backends!(
    a_write_through_one_server_is_seen_on_another_that_asks_for_its_revision,
    a_token_minted_on_one_server_works_on_another_with_the_header,
    concurrent_writers_on_two_servers_keep_one_valid_chain,
    two_servers_racing_cannot_both_pass_a_rule,
    two_servers_racing_keep_one_assignment_per_group_and_agent,
    a_mixed_run_never_allows_after_an_acknowledged_revoke,
);

/// Checks on a following server while another grants and revokes: every grant shows up there on
/// its own, and no check that names an acknowledged revoke's revision is allowed.
async fn a_mixed_run_never_allows_after_an_acknowledged_revoke(a: TestServer) {
    let run = grantry_testkit::mixed_run(&a, 8, 3).await;
    assert!(run.allows_after_revoke.is_empty(), "allowed after an acknowledged revoke: {:?}", run.allows_after_revoke);
    assert_eq!(run.visible.len(), 8, "each grant was seen");
    assert!(run.allows > 0 && run.allows < run.checks, "the run saw both answers: {run:?}");
}

/// Check-then-act across servers: each write commits only if nothing committed since it was
/// validated, so two owners removing each other through two servers leave one owner, and two
/// permanent roles given at once on one node leave one.
async fn two_servers_racing_cannot_both_pass_a_rule(a: TestServer) {
    let owner_a = a.bootstrap("acme", "owner@acme.test").await;
    let (_, owner2_a) = owner_a.create_user("owner2@acme.test", "org_owner").await;
    owner_a.create_user("dev@acme.test", "org_member").await;
    owner_a.create_scopes(&["ml", "ml/agents"]).await;
    let b = a.second().await;
    let owner2_b = Api::new(&b.url, "acme", &owner2_a.token);
    for round in 0..5 {
        let (x, y) = tokio::join!(
            owner_a.grant_role("dev@acme.test", if round % 2 == 0 { "project_admin" } else { "project_owner" }, "ml/agents", json!({})),
            owner2_b.grant_role("dev@acme.test", "project_developer", "ml/agents", json!({}))
        );
        assert!(x.0 == 201 || y.0 == 201, "{x:?} {y:?}");
        let (_, matrix) = owner_a.get("/roles/matrix").await;
        let dev = matrix["rows"].as_array().unwrap().iter().find(|r| r["email"] == "dev@acme.test").unwrap().clone();
        let at_node = dev["roles"].as_array().unwrap().iter().filter(|h| h["scope"] == "ml/agents").count();
        assert_eq!(at_node, 1, "one permanent role per node, round {round}: {dev}");
    }
    let (x, y) = tokio::join!(
        owner_a.revoke_role("owner2@acme.test", "org_owner", "org"),
        owner2_b.revoke_role("owner@acme.test", "org_owner", "org")
    );
    let mut statuses = [x.0, y.0];
    statuses.sort_unstable();
    assert!(statuses[0] == 200 && matches!(statuses[1], 403 | 409), "exactly one removal wins: {x:?} {y:?}");
    let (_, matrix) = owner_a.get("/roles/matrix").await;
    let owners =
        matrix["rows"].as_array().unwrap().iter().filter(|r| r["roles"].as_array().unwrap().iter().any(|h| h["role"] == "org_owner"));
    assert_eq!(owners.count(), 1, "the organization keeps an owner: {matrix}");
}

/// Seed 003's rules across servers: a group holds one assignment per agent however the two
/// servers are asked (the seed's endpoint on one, a bulk change on the other), and a group is
/// not assigned while another server takes its last member out.
async fn two_servers_racing_keep_one_assignment_per_group_and_agent(a: TestServer) {
    let owner_a = a.bootstrap("acme", "owner@acme.test").await;
    let (sam, _) = owner_a.create_user("sam@acme.test", "org_member").await;
    let b = a.second().await;
    let owner_b = Api::new(&b.url, "acme", &owner_a.token);
    for round in 0..4 {
        let (_, g) = owner_a.post("/groups", &json!({ "name": format!("Team {round}") })).await;
        let group = g["group"]["id"].as_str().unwrap().to_owned();
        owner_a.post(&format!("/groups/{group}/members"), &json!({ "userIds": [sam] })).await;
        let (_, made) = owner_a.post("/agents", &json!({ "name": format!("Agent {round}"), "access_type": "group" })).await;
        let agent = made["agent"]["id"].as_str().unwrap().to_owned();
        let (path, one, many) = (
            format!("/ai-agent-managers/{agent}/groups"),
            json!({ "groupId": group, "permission": "EDIT" }),
            json!({ "groupIds": [group], "addAgentIds": [agent] }),
        );
        let (x, y) = tokio::join!(owner_a.post(&path, &one), owner_b.post("/groups:bulk", &many));
        assert!(x.0 == 201 || y.0 == 200, "{x:?} {y:?}");
        let revision = [&x.1, &y.1].iter().filter_map(|v| v["revision"].as_u64()).max().unwrap();
        let listed = after(&owner_a, &path, revision).await;
        assert_eq!(listed["assignments"].as_array().unwrap().len(), 1, "round {round}: {x:?} {y:?} {listed}");
        // One server takes the last member out while the other assigns another agent.
        let (_, other) = owner_a.post("/agents", &json!({ "name": format!("Other {round}"), "access_type": "group" })).await;
        let other = other["agent"]["id"].as_str().unwrap().to_owned();
        let (leave, leaving, assign, assigning) = (
            format!("/groups/{group}/members:remove"),
            json!({ "userIds": [sam] }),
            format!("/ai-agent-managers/{other}/groups"),
            json!({ "groupId": group, "permission": "VIEW_AND_USE" }),
        );
        let (x, y) = tokio::join!(owner_a.post(&leave, &leaving), owner_b.post(&assign, &assigning));
        assert_eq!(x.0, 200, "{x:?}");
        let revision = [&x.1, &y.1].iter().filter_map(|v| v["revision"].as_u64()).max().unwrap();
        let listed = after(&owner_a, &assign, revision).await;
        let assigned = listed["assignments"].as_array().unwrap().len();
        assert!(y.0 == 409 || (y.0 == 201 && assigned == 1), "the assignment came first, or was refused: {y:?} {listed}");
    }
}

/// `GET path` through `api`'s server once it holds `revision` (the header every route honours).
async fn after(api: &Api, path: &str, revision: u64) -> Value {
    let url = format!("{}/v1/{}{path}", api.url, api.org);
    let resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(&api.token)
        .header("grantry-at-least-revision", revision.to_string())
        .send()
        .await
        .unwrap();
    resp.json().await.unwrap()
}

async fn a_write_through_one_server_is_seen_on_another_that_asks_for_its_revision(a: TestServer) {
    let owner_a = a.bootstrap("acme", "owner@acme.test").await;
    let (dev_id, dev_a) = owner_a.create_user("dev@acme.test", "org_member").await;
    let (bob_id, _) = owner_a.create_user("bob@acme.test", "org_member").await;
    let conv = owner_a.register_conversation(&bob_id).await;

    // B starts from the database as it is now, then follows only when asked.
    let b = a.second().await;
    let dev_b = Api::new(&b.url, "acme", &dev_a.token);
    let (status, made) =
        dev_a.post(&format!("/conversation/{conv}/request_access"), &json!({ "justification": "Debugging reported issue #42" })).await;
    assert_eq!(status, 201, "{made}");
    let revision = made["revision"].as_u64().unwrap();

    let (_, stale) = dev_b.post("/check", &check_body(&dev_id, &conv, None)).await;
    assert_eq!(stale["allowed"], false, "without a revision, B answers from what it has applied: {stale}");
    let (_, fresh) = dev_b.post("/check", &check_body(&dev_id, &conv, Some(revision))).await;
    assert_eq!(fresh["allowed"], true, "{fresh}");
    assert!(fresh["revision"].as_u64().unwrap() >= revision);

    // A revoke through A is refused on B at the revoke's revision.
    let id = made["grants"][1]["id"].as_str().unwrap();
    let (_, revoked) = owner_a.delete(&format!("/role/temporary_permission_grant/{id}/")).await;
    let (_, after) = dev_b.post("/check?explain=true", &check_body(&dev_id, &conv, revoked["revision"].as_u64())).await;
    assert_eq!((after["allowed"].clone(), after["reasons"][0]["code"].clone()), (json!(false), json!("revoked")), "{after}");
}

async fn a_token_minted_on_one_server_works_on_another_with_the_header(a: TestServer) {
    let owner_a = a.bootstrap("acme", "owner@acme.test").await;
    let b = a.second().await;
    let (status, made) = owner_a.post("/users", &json!({ "email": "new@acme.test", "token": true })).await;
    assert_eq!(status, 201);
    let token = made["token"]["token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let me = |revision: Option<u64>| {
        let mut req = http.get(format!("{}/v1/acme/me", b.url)).bearer_auth(token);
        if let Some(r) = revision {
            req = req.header("grantry-at-least-revision", r.to_string());
        }
        req.send()
    };
    assert_eq!(me(None).await.unwrap().status(), 401, "B has not applied the token yet");
    let resp = me(made["revision"].as_u64()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user"]["email"], "new@acme.test");

    // A revision no one has written: refused, after one read of the change log.
    let resp = me(Some(1_000_000)).await.unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_yet_current");
    assert!(body["error"]["details"]["have"].is_number(), "{body}");
}

async fn concurrent_writers_on_two_servers_keep_one_valid_chain(a: TestServer) {
    let owner_a = a.bootstrap("acme", "owner@acme.test").await;
    let b = a.second().await;
    let owner_b = Api::new(&b.url, "acme", &owner_a.token);
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..16 {
        let api = if i % 2 == 0 { owner_a.clone() } else { owner_b.clone() };
        writes.spawn(async move { api.post("/users", &json!({ "email": format!("u{i}@acme.test") })).await });
    }
    while let Some(done) = writes.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, 201, "{body}");
    }
    let (_, verified) = owner_a.get("/audit/verify").await;
    assert_eq!(verified["ok"], true, "{verified}");
    assert_eq!(a.state.catch_up().await.unwrap(), b.state.catch_up().await.unwrap(), "both servers reach the same revision");
    for api in [&owner_a, &owner_b] {
        let (_, users) = api.get("/users").await;
        assert_eq!(users["users"].as_array().unwrap().len(), 17, "{users}");
    }
}

#[tokio::test]
async fn killing_database_connections_loses_no_acknowledged_write() {
    let Some(a) = TestServer::start_postgres().await else { return };
    let owner = a.bootstrap("acme", "owner@acme.test").await;
    // Kill every connection to this test's database, over and over, while writes go on.
    let killer = sqlx::PgPool::connect(&a.db_url()).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killing = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut killed = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let n: Option<i64> = sqlx::query_scalar(
                    "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .fetch_one(&killer)
                .await
                .ok();
                killed += n.unwrap_or(0);
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            killed
        }
    });
    let mut acknowledged = Vec::new();
    for i in 0..60 {
        let email = format!("w{i}@acme.test");
        let (status, body) = owner.post("/users", &json!({ "email": email })).await;
        match status {
            201 => acknowledged.push(email),
            503 | 409 => {}
            other => panic!("a lost connection must read as 503 (or 409 on a retry that did land), not {other}: {body}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let killed = killing.await.unwrap();
    assert!(killed > 0, "the test killed no connection");
    // Restored: writes go through again.
    let (status, body) = owner.post("/users", &json!({ "email": "after@acme.test" })).await;
    assert_eq!(status, 201, "{body}");
    acknowledged.push("after@acme.test".to_owned());

    // Every acknowledged write is in the database, as a fresh server loads it…
    let fresh = grantry_server::AppState::load(grantry_store::open(&a.db_url(), a.audit_key()).await.unwrap()).await.unwrap();
    let emails: Vec<String> = fresh.index().org_by_slug("acme").unwrap().users().iter().map(|u| u.email.clone()).collect();
    for e in &acknowledged {
        assert!(emails.contains(e), "acknowledged write of {e} was lost");
    }
    // …and the serving index agrees with it once caught up, with an intact audit chain.
    a.state.catch_up().await.unwrap();
    assert_eq!(a.state.index().org_by_slug("acme").unwrap().users().len(), emails.len());
    let (_, verified) = owner.get("/audit/verify").await;
    assert_eq!(verified["ok"], true, "{verified}");
    eprintln!("killed {killed} connections; {} of 61 writes acknowledged", acknowledged.len());
}
