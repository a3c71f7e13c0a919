//! Webhooks over HTTP, delivered to a real receiver on loopback: notifications of access requests
//! and grants, signed (HMAC-SHA256 of the timestamp and body); the chat payload shape; rotation
//! and ping; a receiver that was down gets everything once it is up (retries with backoff); a
//! refused write sends nothing; bad webhooks are refused whole.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly at the point of failure")]

use axum::http::HeaderMap;
use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a receiver got: each delivery's headers and body.
type Got = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on loopback, on any port, that answers 200 and keeps what it got.
async fn receiver() -> (String, Got) {
    receiver_on(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
}

/// [`receiver`] on `listener`.
fn receiver_on(listener: tokio::net::TcpListener) -> (String, Got) {
    let got: Got = Arc::default();
    let keep = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let keep = Arc::clone(&keep);
            async move {
                keep.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

/// Waits (up to `secs`) until the receiver holds at least `n` deliveries; what it holds.
async fn wait_for(got: &Got, n: usize, secs: u64) -> Vec<(HeaderMap, String)> {
    for _ in 0..secs * 10 {
        if got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got.lock().unwrap().clone()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn types(got: &[(HeaderMap, String)]) -> Vec<String> {
    got.iter().map(|(h, _)| header(h, "x-grantry-event").to_owned()).collect()
}

async fn hook(owner: &Api, body: Value) -> (String, String) {
    let (status, made) = owner.post("/webhooks", &body).await;
    assert_eq!(status, 201, "{made}");
    (made["webhook"]["id"].as_str().unwrap().to_owned(), made["secret"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn notifications_are_signed_delivered_and_shaped_for_chat() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_scopes(&["ml", "ml/agents"]).await;
    let (_, dev) = owner.create_user("dev@acme.test", "org_member").await;
    let (url, got) = receiver().await;
    let (chat_url, chat) = receiver().await;
    let (id, secret) = hook(&owner, json!({ "name": "audit feed", "url": url })).await;
    hook(&owner, json!({ "name": "team chat", "url": chat_url, "format": "chat", "events": ["request.approved"] })).await;

    let body = json!({ "role": "project_developer", "targets": ["ml/agents"], "justification": "debug the flaky job" });
    let (_, made) = dev.post("/access-requests", &body).await;
    let request = made["request"]["id"].as_str().unwrap().to_owned();
    // A refused decision writes nothing, so it sends nothing.
    assert_eq!(dev.post(&format!("/access-requests/{request}/approve"), &json!({})).await.0, 403);
    assert_eq!(owner.post(&format!("/access-requests/{request}/approve"), &json!({ "reason": "ok" })).await.0, 200);
    let delivered = wait_for(&got, 3, 10).await;
    let mut kinds = types(&delivered);
    kinds.sort();
    assert_eq!(kinds, ["grant.activated", "request.approved", "request.created"], "{delivered:?}");
    for (headers, body) in &delivered {
        let ts: i64 = header(headers, "x-grantry-timestamp").parse().unwrap();
        let expected = format!("sha256={}", grantry_server::deliver::signature(&secret, ts, body));
        assert_eq!(header(headers, "x-grantry-signature"), expected, "signed with the webhook's secret");
        assert_eq!(header(headers, "content-type"), "application/json");
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!((payload["organization"].as_str(), payload["id"].as_str()), (Some("acme"), Some(header(headers, "x-grantry-delivery"))));
    }
    let approved: Value = delivered
        .iter()
        .find(|(h, _)| header(h, "x-grantry-event") == "request.approved")
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .unwrap();
    assert_eq!((approved["principal_email"].as_str(), approved["actor_email"].as_str()), (Some("dev@acme.test"), Some("owner@acme.test")));
    assert_eq!(approved["data"]["id"].as_str(), Some(request.as_str()));
    // The chat webhook wanted approvals only, as a message a chat tool posts.
    let said = wait_for(&chat, 1, 5).await;
    assert_eq!(said.len(), 1, "{said:?}");
    let message: Value = serde_json::from_str(&said[0].1).unwrap();
    let text = message["text"].as_str().unwrap();
    assert!(
        message.as_object().unwrap().len() == 1 && text.contains("approved by owner@acme.test") && text.contains("dev@acme.test"),
        "{message}"
    );

    // Rotating gives a new secret; the ping is signed with it.
    let (status, rotated) = owner.post(&format!("/webhooks/{id}/rotate"), &json!({})).await;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert!(status == 200 && new_secret != secret, "{rotated}");
    assert_eq!(owner.post(&format!("/webhooks/{id}/ping"), &json!({})).await.0, 200);
    let all = wait_for(&got, 4, 10).await;
    let (h, b) = all.iter().find(|(h, _)| header(h, "x-grantry-event") == "webhook.ping").unwrap();
    let ts: i64 = header(h, "x-grantry-timestamp").parse().unwrap();
    assert_eq!(header(h, "x-grantry-signature"), format!("sha256={}", grantry_server::deliver::signature(&new_secret, ts, b)));
    let (_, listed) = owner.get(&format!("/webhooks/{id}/deliveries")).await;
    let statuses: Vec<&str> = listed["deliveries"].as_array().unwrap().iter().filter_map(|d| d["status"].as_str()).collect();
    assert_eq!(statuses, ["delivered"; 4], "{listed}");
    // The secret is never shown again, nor written to the audit log.
    assert!(owner.get(&format!("/webhooks/{id}")).await.1.get("secret").is_none());
    let (_, log) = owner.get("/audit?limit=1000").await;
    assert!(!log.to_string().contains(&secret) && !log.to_string().contains(&new_secret));
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_everything_once_it_is_up() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    // A port held but not listened on yet (connections are refused), so nothing else takes it.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    let (id, _) = hook(&owner, json!({ "name": "later", "url": format!("http://127.0.0.1:{port}/hook") })).await;
    assert_eq!(owner.post(&format!("/webhooks/{id}/ping"), &json!({})).await.0, 200);
    // A new user's role is a grant activated: a second notification waiting.
    owner.create_user("dev@acme.test", "org_member").await;
    tokio::time::sleep(Duration::from_millis(1_800)).await;
    let (_, listed) = owner.get(&format!("/webhooks/{id}/deliveries")).await;
    let first = &listed["deliveries"][0];
    assert_eq!(first["status"], json!("pending"), "{listed}");
    assert!(first["attempts"].as_u64().unwrap() >= 1 && first["last_error"].is_string(), "{listed}");
    let (_, got) = receiver_on(socket.listen(64).unwrap());
    let delivered = wait_for(&got, 2, 20).await;
    let mut kinds = types(&delivered);
    kinds.sort();
    assert_eq!(kinds, ["grant.activated", "webhook.ping"], "after the receiver came up");
    let (_, listed) = owner.get(&format!("/webhooks/{id}/deliveries")).await;
    for d in listed["deliveries"].as_array().unwrap() {
        assert!(d["status"] == json!("delivered") && d["attempts"].as_u64().unwrap() >= 2, "{listed}");
    }
}

#[tokio::test]
async fn bad_webhooks_are_refused_whole() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (_, member) = owner.create_user("m@acme.test", "org_member").await;
    let ok = json!({ "name": "x", "url": "https://hooks.example.com/grantry" });
    let with = |key: &str, value: Value| {
        let mut b = ok.clone();
        b[key] = value;
        b
    };
    for (body, field) in [
        (with("url", json!("ftp://hooks.example.com/x")), "url"),
        (with("url", json!("not a url")), "url"),
        (with("url", json!("https://user:pw@hooks.example.com/x")), "url"),
        (with("url", json!("http://169.254.169.254/latest/meta-data")), "url"),
        (with("url", json!("http://[::ffff:169.254.169.254]/")), "url"),
        (with("url", json!("http://[::169.254.169.254]/")), "url"),
        (with("url", json!("http://[64:ff9b::a9fe:a9fe]/")), "url"),
        (with("url", json!("http://[fe80::1]/")), "url"),
        (with("url", json!("http://[fd00:ec2::254]/")), "url"),
        (with("url", json!("http://metadata.google.internal./computeMetadata")), "url"),
        (with("url", json!(format!("https://hooks.example.com/{}", "a".repeat(2_000)))), "url"),
        (with("url", json!("https://hooks.example.com/\u{7}")), "url"),
        (with("events", json!(["request.approved", "everything"])), "events"),
        (with("format", json!("xml")), "format"),
        (with("name", json!("")), "name"),
    ] {
        let (status, answer) = owner.post("/webhooks", &body).await;
        assert_eq!((status, answer["error"]["details"]["field"].as_str()), (422, Some(field)), "{body} → {answer}");
    }
    let (status, answer) = member.post("/webhooks", &ok).await;
    assert!(status == 403 && answer["error"]["message"].as_str().unwrap().contains("Webhook:Manage"), "{answer}");
    assert_eq!(member.get("/webhooks").await.0, 403);
    assert!(owner.get("/webhooks").await.1["webhooks"].as_array().unwrap().is_empty(), "nothing was kept");
    let other = server.bootstrap("globex", "owner@globex.test").await;
    let (id, _) = hook(&owner, ok.clone()).await;
    assert_eq!(other.get(&format!("/webhooks/{id}")).await.0, 404);
    assert_eq!(Api::new(&other.url, "acme", &other.token).delete(&format!("/webhooks/{id}")).await.0, 403);
    assert_eq!(owner.post("/webhooks", &ok).await.0, 409, "names are unique");
    assert_eq!(owner.delete(&format!("/webhooks/{id}")).await.0, 200);
}

#[tokio::test]
async fn the_sweeper_tells_of_starts_warnings_ends_and_lapses() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_scopes(&["ml", "ml/agents", "ml/agents/staging", "ml/agents/prod!"]).await;
    let (_, dev) = owner.create_user("dev@acme.test", "org_member").await;
    let (url, got) = receiver().await;
    hook(
        &owner,
        json!({ "name": "feed", "url": url, "events": ["request.expired", "grant.activated", "grant.expiring_soon", "grant.expired"] }),
    )
    .await;
    let policy = json!({ "name": "staging", "scope": "ml/agents/staging", "autoApprove": true, "expiryWarning": "PT2S" });
    assert_eq!(owner.post("/request-policies", &policy).await.0, 201);
    let quick = json!({ "name": "quick", "scope": "ml/agents/prod", "pendingTimeout": "PT1S", "stages": [ { "approvals": 1, "roles": ["org_admin"] } ] });
    assert_eq!(owner.post("/request-policies", &quick).await.0, 201);
    let start = (grantry_server::clock::now() + Duration::from_millis(1_500)).to_string();
    let (status, booked) = dev
        .post(
            "/access-requests",
            &json!({ "permissions": ["traces:read"], "targets": ["ml/agents/staging"], "duration": "PT3S", "start": start,
                                          "justification": "a short booked look" }),
        )
        .await;
    assert_eq!((status, booked["request"]["state"].as_str()), (201, Some("scheduled")), "{booked}");
    let id = booked["request"]["id"].as_str().unwrap().to_owned();
    let (status, lapsing) = dev
        .post(
            "/access-requests",
            &json!({ "permissions": ["traces:read"], "targets": ["ml/agents/prod"], "justification": "nobody will answer" }),
        )
        .await;
    assert_eq!(status, 201, "{lapsing}");
    let delivered = wait_for(&got, 5, 15).await;
    let kinds = types(&delivered);
    for kind in ["grant.activated", "grant.expiring_soon", "grant.expired", "request.expired"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    // In order for the booked request: started, then warned (with the command that extends it), then ended.
    let of_booked: Vec<&str> = delivered.iter().filter(|(_, b)| b.contains(&id)).map(|(h, _)| header(h, "x-grantry-event")).collect();
    assert_eq!(of_booked, ["grant.activated", "grant.expiring_soon", "grant.expired", "request.expired"], "{delivered:?}");
    let warning: Value = delivered
        .iter()
        .find(|(h, _)| header(h, "x-grantry-event") == "grant.expiring_soon")
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .unwrap();
    assert!(warning["text"].as_str().unwrap().contains(&format!("grantry access extend {id} --duration PT3S")), "{warning}");
    let lapsed_id = lapsing["request"]["id"].as_str().unwrap();
    let lapsed: Value = delivered.iter().find(|(_, b)| b.contains(lapsed_id)).map(|(_, b)| serde_json::from_str(b).unwrap()).unwrap();
    assert_eq!((lapsed["type"].as_str(), lapsed["data"]["lapsed"].as_bool()), (Some("request.expired"), Some(true)), "{lapsed}");
    // Each is written once, at its moment, by the system.
    let (_, events) = owner.get(&format!("/audit?entity=access_request:{id}")).await;
    let kinds: Vec<&str> = events["events"].as_array().unwrap().iter().filter_map(|e| e["event_type"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "access_request.created",
            "access_request.approved",
            "access_request.activated",
            "access_request.expiring_soon",
            "access_request.expired"
        ]
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(owner.get(&format!("/audit?entity=access_request:{id}")).await.1["events"].as_array().unwrap().len(), 5, "nothing twice");
}

#[tokio::test]
async fn breaking_the_glass_tells_the_skipped_approvers_at_once() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_scopes(&["ml", "ml/agents", "ml/agents/prod!"]).await;
    let (_, dev) = owner.create_user("dev@acme.test", "org_member").await;
    assert_eq!(owner.post("/groups", &json!({ "name": "sre" })).await.0, 201);
    let (url, got) = receiver().await;
    hook(&owner, json!({ "name": "oncall", "url": url, "format": "chat", "events": ["request.break_glass"] })).await;
    let policy = json!({ "name": "prod", "scope": "ml", "environment": "production", "breakGlass": true,
        "stages": [ { "name": "peer", "approvals": 1, "groups": ["sre"] }, { "name": "admin", "approvals": 1, "roles": ["org_admin"] } ] });
    assert_eq!(owner.post("/request-policies", &policy).await.0, 201);
    let (status, made) = dev
        .post(
            "/access-requests",
            &json!({ "permissions": ["traces:read:prod"], "targets": ["ml/agents/prod"], "breakGlass": true,
                                          "justification": "outage: nobody answers the pager" }),
        )
        .await;
    assert_eq!((status, made["request"]["state"].as_str()), (201, Some("active")), "{made}");
    let said = wait_for(&got, 1, 5).await;
    assert_eq!(said.len(), 1, "{said:?}");
    let text = serde_json::from_str::<Value>(&said[0].1).unwrap()["text"].as_str().unwrap().to_owned();
    let id = made["request"]["id"].as_str().unwrap();
    for part in ["members of group sre, then holders of role org_admin", &format!("grantry access review {id}"), "dev@acme.test"] {
        assert!(text.contains(part), "{part} in {text}");
    }
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_hold_up_the_others() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    // A tarpit: it takes every connection and never answers (each send waits out its timeout).
    let tarpit = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow = format!("http://{}/hook", tarpit.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = tarpit.accept().await {
            held.push(stream);
        }
    });
    // Thirty notifications waiting for it: five pings (the most a minute takes) to each of six webhooks.
    for n in 0..6 {
        let (stuck, _) = hook(&owner, json!({ "name": format!("stuck {n}"), "url": slow })).await;
        for _ in 0..5 {
            assert_eq!(owner.post(&format!("/webhooks/{stuck}/ping"), &json!({})).await.0, 200);
        }
        let (status, body) = owner.post(&format!("/webhooks/{stuck}/ping"), &json!({})).await;
        assert_eq!(status, 409, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("pinged 5 times in the last minute"), "{body}");
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let other = server.bootstrap("globex", "owner@globex.test").await;
    let (url, got) = receiver().await;
    let (fine, _) = hook(&other, json!({ "name": "fine", "url": url })).await;
    let asked = std::time::Instant::now();
    assert_eq!(other.post(&format!("/webhooks/{fine}/ping"), &json!({})).await.0, 200);
    let delivered = wait_for(&got, 1, 8).await;
    assert_eq!(types(&delivered), ["webhook.ping"]);
    assert!(asked.elapsed() < Duration::from_secs(5), "delivered in {:?}, not behind the tarpit's timeouts", asked.elapsed());
}
