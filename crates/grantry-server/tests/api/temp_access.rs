//! Temporary access instances over HTTP (seed 004): every limit at its edge (50 users ok, 51
//! refused; 20 pools, 21; 31 days, 32; 100 active instances ok, the 101st refused), the
//! privileged role's quota bypass answered by `/check`, immutability, deletion revoking at once,
//! an instance that expires on its own, bad input, and who may not.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};
use std::time::Duration;

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

async fn pool(owner: &Api, name: &str) -> String {
    let (status, made) = owner.post("/agent-pools", &json!({ "name": name })).await;
    assert_eq!(status, 201, "{made}");
    made["pool"]["id"].as_str().unwrap().to_owned()
}

async fn allowed(owner: &Api, user: &str, permission: &str, pool: &str) -> bool {
    owner.check(user, permission, "agent_pool", pool).await["allowed"].as_bool().unwrap()
}

#[tokio::test]
async fn limits_hold_at_their_edges() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let mut emails = vec![];
    for i in 0..51 {
        let email = format!("u{i}@acme.test");
        owner.create_user(&email, "org_member").await;
        emails.push(email);
    }
    let mut pools = vec![];
    for i in 0..21 {
        pools.push(pool(&owner, &format!("Pool {i}")).await);
    }
    let create = |body: Value| {
        let api = owner.clone();
        async move { api.post("/temp-access", &body).await }
    };
    let body = |users: &[String], pools: &[String], days: u32| json!({ "name": "edge", "role": "standard", "poolIds": pools, "userIds": users, "days": days });
    let (status, made) = create(body(&emails[..50], &pools[..20], 31)).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["instance"]["live_grants"], json!(1000), "{}", made["instance"]);
    for (b, says) in [
        (body(&emails, &pools[..1], 1), "temp_access_max_users"),
        (body(&emails[..1], &pools, 1), "temp_access_max_pools"),
        (body(&emails[..1], &pools[..1], 32), "temp_access_max_duration"),
    ] {
        let (status, answer) = create(b).await;
        assert!(status == 422 && message(&answer).contains(says), "{answer}");
    }
    let (status, answer) =
        create(json!({ "name": "h", "role": "standard", "poolIds": [pools[0]], "userIds": [emails[0]], "hours": 745 })).await;
    assert!(status == 422 && message(&answer).contains("31 days"), "{answer}");
    // 100 active at once: one is there, 99 more are fine, the 101st is refused naming the limit.
    for i in 1..100 {
        let (status, answer) =
            create(json!({ "name": format!("n{i}"), "role": "standard", "poolIds": [pools[0]], "userIds": [emails[0]], "hours": 1 })).await;
        assert_eq!(status, 201, "instance {i}: {answer}");
    }
    let (status, answer) =
        create(json!({ "name": "one too many", "role": "standard", "poolIds": [pools[0]], "userIds": [emails[0]], "hours": 1 })).await;
    assert!(status == 409 && message(&answer).contains("temp_access_max_active"), "{answer}");
    // The limits are the organization's settings.
    let (status, settings) = owner.patch("/settings", &json!({ "temp_access_max_active": 101, "temp_access_max_duration": "P7D" })).await;
    assert_eq!((status, settings["temp_access_max_duration"].as_str()), (200, Some("P7D")), "{settings}");
    let (status, answer) =
        create(json!({ "name": "101st", "role": "standard", "poolIds": [pools[0]], "userIds": [emails[0]], "days": 7 })).await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = owner.patch("/settings", &json!({ "temp_access_max_users": 0 })).await;
    assert_eq!((status, answer["error"]["details"]["field"].as_str()), (422, Some("temp_access_max_users")), "{answer}");
}

#[tokio::test]
async fn an_instance_grants_checks_expires_and_is_deleted_whole() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (sam, sam_api) = owner.create_user("sam@acme.test", "org_member").await;
    let (kim, _) = owner.create_user("kim@acme.test", "org_member").await;
    let (eu, us) = (pool(&owner, "Production EU").await, pool(&owner, "Production US").await);
    let (status, made) = owner
        .post(
            "/temp-access",
            &json!({ "name": "incident", "role": "privileged", "poolIds": ["Production EU", us], "userIds": [sam], "hours": 8 }),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let id = made["instance"]["id"].as_str().unwrap().to_owned();
    let (status, _) = owner
        .post("/temp-access", &json!({ "name": "standard", "role": "standard", "poolIds": [eu], "userIds": ["kim@acme.test"], "days": 1 }))
        .await;
    assert_eq!(status, 201);
    // Privileged ignores the quota; standard uses the pool only; nobody else has anything.
    assert!(allowed(&owner, &sam, "AgentPool:IgnoreQuota", &eu).await && allowed(&owner, &sam, "AgentPool:Use", &us).await);
    assert!(allowed(&owner, &kim, "AgentPool:Use", &eu).await && !allowed(&owner, &kim, "AgentPool:IgnoreQuota", &eu).await);
    assert!(!allowed(&owner, &kim, "AgentPool:Use", &us).await);
    // An active instance cannot be modified; a member may neither make, read nor delete one.
    let (status, answer) = owner.patch(&format!("/temp-access/{id}"), &json!({ "userIds": [] })).await;
    assert!(status == 409 && message(&answer).contains("cannot be modified"), "{answer}");
    let mine = json!({ "name": "mine", "role": "privileged", "poolIds": [eu], "userIds": [sam], "hours": 1 });
    for (status, answer) in
        [sam_api.post("/temp-access", &mine).await, sam_api.get("/temp-access").await, sam_api.delete(&format!("/temp-access/{id}")).await]
    {
        assert_eq!(status, 403, "{answer}");
    }
    let other = server.bootstrap("globex", "owner@globex.test").await;
    assert_eq!(other.get(&format!("/temp-access/{id}")).await.0, 404);
    assert_eq!(Api::new(&other.url, "acme", &other.token).delete(&format!("/temp-access/{id}")).await.0, 403);
    // Deleted: every grant ends at once.
    let (status, gone) = owner.delete(&format!("/temp-access/{id}")).await;
    assert_eq!((status, gone["revoked_grants"].as_u64()), (200, Some(2)), "{gone}");
    assert!(!allowed(&owner, &sam, "AgentPool:Use", &eu).await && !allowed(&owner, &sam, "AgentPool:Use", &us).await);
    assert!(allowed(&owner, &kim, "AgentPool:Use", &eu).await, "the other instance stands");
    assert_eq!(owner.get(&format!("/temp-access/{id}")).await.0, 404);
    let events = owner.get(&format!("/audit?entity=temp_access:{id}")).await.1;
    assert_eq!(events["events"].as_array().map(Vec::len), Some(2), "{events}");
    // One that ends in two seconds ends on its own, decided at check time, and stays listed.
    let soon = grantry_server::clock::now().checked_add(jiff::SignedDuration::from_secs(2)).unwrap().to_string();
    let (status, made) =
        owner.post("/temp-access", &json!({ "name": "brief", "role": "standard", "poolIds": [us], "userIds": [kim], "until": soon })).await;
    assert_eq!(status, 201, "{made}");
    assert!(allowed(&owner, &kim, "AgentPool:Use", &us).await);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(!allowed(&owner, &kim, "AgentPool:Use", &us).await);
    let listed = owner.get("/temp-access").await.1;
    let brief = listed["instances"].as_array().unwrap().iter().find(|t| t["name"] == "brief").unwrap().clone();
    assert_eq!(brief["status"], "expired", "{brief}");
    let (status, answer) = owner.patch("/temp-access/brief", &json!({})).await;
    assert!(status == 409 && message(&answer).contains("expired"), "{answer}");
}

#[tokio::test]
async fn bad_requests_are_refused_with_nothing_written() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (sam, _) = owner.create_user("sam@acme.test", "org_member").await;
    let eu = pool(&owner, "Production EU").await;
    let ok = json!({ "name": "x", "role": "standard", "poolIds": [eu], "userIds": [sam], "hours": 1 });
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (with("poolIds", json!(["Nowhere"])), "poolIds"),
        (with("poolIds", json!([])), "poolIds"),
        (with("userIds", json!(["nobody@acme.test"])), "userIds"),
        (with("userIds", json!([])), "userIds"),
        (with("role", json!("root")), "role"),
        (with("days", json!(1)), "days"),
        (with("hours", Value::Null), "days"),
        (with("until", json!("2020-01-01")), "days"),
        (with("name", json!("\u{1b}[2J")), "name"),
        (with("timezone", json!("Mars/Olympus")), "timezone"),
    ] {
        let (status, answer) = owner.post("/temp-access", &body).await;
        assert_eq!((status, answer["error"]["details"]["field"].as_str()), (422, Some(field)), "{body} → {answer}");
    }
    let mut past = ok.clone();
    past["hours"] = Value::Null;
    past["until"] = json!("2020-01-01");
    let (status, answer) = owner.post("/temp-access", &past).await;
    assert_eq!((status, answer["error"]["details"]["field"].as_str()), (422, Some("expiration")), "{answer}");
    assert_eq!(owner.get("/temp-access").await.1["instances"], json!([]));
}

/// What an attack found: deleting one of two alike instances took the other's grants; a long
/// list of pools held every write; a suspended user, and a second active instance of one name.
#[tokio::test]
async fn alike_instances_stay_apart_and_long_lists_are_refused_early() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (sam, _) = owner.create_user("sam@acme.test", "org_member").await;
    let (gone, _) = owner.create_user("gone@acme.test", "org_member").await;
    let eu = pool(&owner, "Production EU").await;
    let alike = |name: &str| json!({ "name": name, "role": "standard", "poolIds": [eu], "userIds": [sam], "days": 2 });
    let (a, b) = (owner.post("/temp-access", &alike("a")).await, owner.post("/temp-access", &alike("b")).await);
    assert_eq!((a.0, b.0), (201, 201), "{a:?} {b:?}");
    assert_eq!((a.1["instance"]["status"].as_str(), a.1["instance"]["live_grants"].as_u64()), (Some("active"), Some(1)), "{a:?}");
    let (status, deleted) = owner.delete("/temp-access/a").await;
    assert_eq!((status, deleted["revoked_grants"].as_u64()), (200, Some(1)), "{deleted}");
    let b_now = owner.get("/temp-access/b").await.1;
    assert_eq!((b_now["status"].as_str(), b_now["live_grants"].as_u64()), (Some("active"), Some(1)), "{b_now}");
    assert!(allowed(&owner, &sam, "AgentPool:Use", &eu).await, "b still grants");
    // A second active instance of the same name is refused; so is a suspended user.
    let (status, answer) = owner.post("/temp-access", &alike("B")).await;
    assert!(status == 409 && message(&answer).contains("already named"), "{answer}");
    owner.post(&format!("/users/{gone}/suspend"), &json!({})).await;
    let mut body = alike("c");
    body["userIds"] = json!([gone]);
    let (status, answer) = owner.post("/temp-access", &body).await;
    assert!(status == 422 && message(&answer).contains("suspended"), "{answer}");
    // Thousands of pool names are refused before any is looked up.
    body["userIds"] = json!([sam]);
    body["poolIds"] = json!(vec!["EU"; 30_000]);
    let started = std::time::Instant::now();
    let (status, answer) = owner.post("/temp-access", &body).await;
    assert!(status == 422 && message(&answer).contains("temp_access_max_pools"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(2), "refused early: {:?}", started.elapsed());
}
