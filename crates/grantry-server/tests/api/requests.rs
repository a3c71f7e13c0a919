//! Access requests over HTTP: a two-stage approval (a peer from a group, then a workspace admin)
//! with a ticket pattern; self-approval and approving twice refused; the clock starting at
//! approval; the organization's approvers when no policy covers a target; N of M; deny, cancel,
//! revoke and give back; auto-approval, a scheduled start activating, break-glass and its review;
//! a lapsed request; escalation; overlapping grants; bad input; who sees what.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};
use std::time::Duration;

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

fn field(body: &Value) -> &str {
    body["error"]["details"]["field"].as_str().unwrap_or_default()
}

/// An organization with workspace `payments`, project `payments/api` and its environments `prod`
/// (production) and `staging`; a developer, two SRE peers (group `sre`), a workspace admin, and
/// a production trace.
struct World {
    server: TestServer,
    owner: Api,
    dev: Api,
    dev_id: String,
    peer1: Api,
    peer2: Api,
    lead: Api,
    trace: String,
}

async fn world() -> World {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_scopes(&["payments", "payments/api", "payments/api/prod!", "payments/api/staging"]).await;
    let (dev_id, dev) = owner.create_user("dev@acme.test", "org_member").await;
    // Approvers decide with tokens of their own, not the ones the owner minted for them.
    let (_, peer1) = owner.create_user("peer1@acme.test", "org_member").await;
    let peer1 = peer1.own_token().await;
    let (_, peer2) = owner.create_user("peer2@acme.test", "org_member").await;
    let peer2 = peer2.own_token().await;
    let (_, lead) = owner.create_user("lead@acme.test", "org_member").await;
    let lead = lead.own_token().await;
    let (status, body) = owner.grant_role("lead@acme.test", "workspace_admin", "payments", json!({})).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = owner.post("/groups", &json!({ "name": "sre" })).await;
    assert_eq!(status, 201, "{body}");
    let sre = body["group"]["id"].as_str().unwrap().to_owned();
    let (status, body) = owner.post(&format!("/groups/{sre}/members"), &json!({ "userIds": ["peer1@acme.test", "peer2@acme.test"] })).await;
    assert!(status < 300, "{body}");
    let trace = owner.capture_trace("payments/api", "prod").await;
    World { server, owner, dev, dev_id, peer1, peer2, lead, trace }
}

impl World {
    async fn owner_id(&self) -> String {
        self.owner.get("/me").await.1["user"]["id"].as_str().unwrap().to_owned()
    }

    async fn reads_prod(&self) -> bool {
        self.owner.check(&self.dev_id, "traces:read:prod", "trace", &self.trace).await["allowed"].as_bool().unwrap()
    }
}

fn prod_traces(ticket: Option<&str>) -> Value {
    json!({ "permissions": ["traces:read:prod"], "targets": ["payments/api/prod"], "duration": "PT1H", "ticket": ticket,
            "justification": "incident 42: read the failing traces" })
}

async fn request(api: &Api, body: &Value) -> String {
    let (status, made) = api.post("/access-requests", body).await;
    assert_eq!(status, 201, "{made}");
    made["request"]["id"].as_str().unwrap().to_owned()
}

async fn decide(api: &Api, id: &str, decision: &str, reason: Option<&str>) -> (u16, Value) {
    api.post(&format!("/access-requests/{id}/{decision}"), &json!({ "reason": reason })).await
}

#[tokio::test]
async fn two_stages_must_both_pass_and_the_clock_starts_at_approval() {
    let w = world().await;
    let two_step = json!({ "name": "prod two-step", "scope": "payments", "environment": "production", "ticketPattern": "INC-[0-9]+",
        "stages": [ { "name": "peer", "approvals": 1, "groups": ["sre"] }, { "name": "manager", "approvals": 1, "roles": ["workspace_admin"] } ] });
    let (status, made) = w.owner.post("/request-policies", &two_step).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["policy"]["summary"], json!("peer (1 approval) then manager (1 approval)"), "{made}");
    // The ticket is the policy's.
    let (status, answer) = w.dev.post("/access-requests", &prod_traces(None)).await;
    assert!(status == 422 && field(&answer) == "ticket" && message(&answer).contains("INC-[0-9]+"), "{answer}");
    let (status, answer) = w.dev.post("/access-requests", &prod_traces(Some("INC-42; drop"))).await;
    assert_eq!((status, field(&answer)), (422, "ticket"), "{answer}");
    let id = request(&w.dev, &prod_traces(Some("INC-42"))).await;
    let (status, answer) = w.dev.post("/access-requests", &prod_traces(Some("INC-42"))).await;
    assert!(status == 409 && message(&answer).contains("already asked"), "{answer}");

    let (status, answer) = decide(&w.dev, &id, "approve", None).await;
    assert!(status == 403 && message(&answer).contains("own request"), "{answer}");
    // The manager's stage is not open yet, and the lead is no peer.
    let (status, answer) = decide(&w.lead, &id, "approve", None).await;
    assert!(status == 403 && message(&answer).contains("group `sre`"), "{answer}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, after_peer) = decide(&w.peer1, &id, "approve", Some("on call with them")).await;
    assert_eq!(status, 200, "{after_peer}");
    assert_eq!((after_peer["request"]["state"].as_str(), after_peer["request"]["openStage"].as_u64()), (Some("pending"), Some(1)));
    assert!(!w.reads_prod().await, "one stage of two gives nothing");
    let (status, answer) = decide(&w.peer1, &id, "approve", None).await;
    assert!(status == 409 && message(&answer).contains("already approved"), "{answer}");
    let (status, answer) = decide(&w.peer2, &id, "approve", None).await;
    assert!(status == 403 && message(&answer).contains("workspace_admin"), "the peer stage has passed: {answer}");
    let (status, approved) = decide(&w.lead, &id, "approve", Some("ok")).await;
    assert_eq!(status, 200, "{approved}");
    let r = &approved["request"];
    assert_eq!(r["state"], json!("active"), "{r}");
    let created: jiff::Timestamp = r["createdAt"].as_str().unwrap().parse().unwrap();
    let starts: jiff::Timestamp = r["startsAt"].as_str().unwrap().parse().unwrap();
    let ends: jiff::Timestamp = r["expiresAt"].as_str().unwrap().parse().unwrap();
    assert!(starts >= created + Duration::from_millis(300), "the clock starts at approval, not at the request: {r}");
    assert_eq!(ends.duration_since(starts), jiff::SignedDuration::from_hours(1));
    assert!(w.reads_prod().await);
    let (status, answer) = decide(&w.lead, &id, "approve", None).await;
    assert!(status == 409 && message(&answer).contains("already approved"), "{answer}");
    // The holder gives it back early.
    let (status, back) = decide(&w.dev, &id, "revoke", None).await;
    assert_eq!((status, back["request"]["state"].as_str()), (200, Some("revoked")), "{back}");
    assert!(!w.reads_prod().await);
    let (_, events) = w.owner.get(&format!("/audit?entity=access_request:{id}")).await;
    let kinds: Vec<&str> = events["events"].as_array().unwrap().iter().filter_map(|e| e["event_type"].as_str()).collect();
    for kind in ["access_request.created", "access_request.stage_approved", "access_request.approved", "access_request.revoked"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn without_a_policy_the_organizations_approvers_decide_one_approval() {
    let w = world().await;
    let body = json!({ "role": "project_developer", "targets": ["payments/api"], "duration": "PT2H", "justification": "rotate the api's keys today" });
    let id = request(&w.dev, &body).await;
    let (status, answer) = decide(&w.peer1, &id, "approve", None).await;
    assert!(status == 403 && message(&answer).contains("AccessRequest:Approve"), "{answer}");
    // Nobody decides what they could not see: the peer does not find it.
    assert_eq!(w.peer1.get(&format!("/access-requests/{id}")).await.0, 404);
    assert!(w.peer1.get("/access-requests").await.1["requests"].as_array().unwrap().is_empty());
    // The lead may approve requests in the workspace and holds what project_developer carries
    // there (not project_admin: it reads production traces, which only org_admin or higher gives).
    let (_, mine) = w.lead.get("/access-requests?toDecide=true").await;
    assert_eq!(mine["requests"][0]["id"].as_str(), Some(id.as_str()), "{mine}");
    let (status, answer) = decide(&w.lead, &id, "deny", None).await;
    assert!(status == 422 && field(&answer) == "reason", "{answer}");
    let (status, denied) = decide(&w.lead, &id, "deny", Some("use the staging keys")).await;
    assert_eq!((status, denied["request"]["state"].as_str()), (200, Some("denied")), "{denied}");
    let (status, answer) = decide(&w.owner, &id, "approve", None).await;
    assert!(status == 409 && message(&answer).contains("denied"), "{answer}");
    // Ask again; a stranger cannot cancel it, the requester can.
    let id = request(&w.dev, &body).await;
    let (status, answer) = decide(&w.lead, &id, "cancel", None).await;
    assert!(status == 403 && message(&answer).contains("only the requester"), "{answer}");
    let (status, cancelled) = decide(&w.dev, &id, "cancel", Some("done without it")).await;
    assert_eq!((status, cancelled["request"]["state"].as_str()), (200, Some("cancelled")), "{cancelled}");
    // A third time, approved by the owner; the lead revokes it (with a reason).
    let id = request(&w.dev, &body).await;
    let (status, approved) = decide(&w.owner, &id, "approve", None).await;
    assert_eq!((status, approved["request"]["state"].as_str()), (200, Some("active")), "{approved}");
    assert_eq!(approved["request"]["grants"].as_array().unwrap().len(), 1);
    let (status, answer) = decide(&w.lead, &id, "revoke", None).await;
    assert!(status == 422 && field(&answer) == "reason", "{answer}");
    let (status, revoked) = decide(&w.owner, &id, "revoke", Some("keys rotated")).await;
    assert_eq!((status, revoked["request"]["state"].as_str()), (200, Some("revoked")), "{revoked}");
    assert!(revoked["request"]["grants"].as_array().unwrap().is_empty());
    // Every state stays queryable.
    let (_, all) = w.owner.get("/access-requests").await;
    let states: Vec<&str> = all["requests"].as_array().unwrap().iter().filter_map(|r| r["state"].as_str()).collect();
    assert_eq!(states, ["revoked", "cancelled", "denied"]);
    assert_eq!(w.owner.get("/access-requests?state=denied").await.1["requests"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn n_of_m_needs_distinct_approvers_and_escalation_opens_after_its_time() {
    let w = world().await;
    let policy = json!({ "name": "two sre", "scope": "payments/api", "stages": [
        { "name": "sre", "approvals": 2, "groups": ["sre"], "escalateAfter": "PT2S", "escalationRoles": ["workspace_admin"] } ] });
    assert_eq!(w.owner.post("/request-policies", &policy).await.0, 201);
    let id =
        request(&w.dev, &json!({ "role": "project_developer", "targets": ["payments/api"], "justification": "debug the flaky job" })).await;
    assert_eq!(decide(&w.peer1, &id, "approve", None).await.0, 200);
    let (_, r) = w.dev.get(&format!("/access-requests/{id}")).await;
    assert_eq!((r["state"].as_str(), r["stages"][0]["approvals"].as_array().unwrap().len()), (Some("pending"), 1), "{r}");
    // The lead is not in the group, and the escalation has not opened yet.
    let (status, answer) = decide(&w.lead, &id, "approve", None).await;
    assert!(status == 403 && message(&answer).contains("after PT2S"), "{answer}");
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    // The sweeper tells of the escalation once (and its webhooks with it).
    let mut told = 0;
    for _ in 0..30 {
        let (_, events) = w.owner.get(&format!("/audit?event_type=access_request.escalated&entity=access_request:{id}")).await;
        told = events["events"].as_array().unwrap().len();
        if told > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(told, 1);
    // The owner minted peer1's first token, so their approval would count twice for the owner.
    let (status, answer) = decide(&w.owner, &id, "approve", Some("escalated")).await;
    assert!(status == 403 && message(&answer).contains("would count twice for them"), "{answer}");
    let (status, r) = decide(&w.lead, &id, "approve", Some("escalated")).await;
    assert_eq!((status, r["request"]["state"].as_str()), (200, Some("active")), "{r}");
}

#[tokio::test]
async fn auto_approval_a_booked_start_and_break_glass() {
    let w = world().await;
    let staging = json!({ "name": "staging self-service", "scope": "payments/api/staging", "autoApprove": true, "maxDuration": "PT8H" });
    assert_eq!(w.owner.post("/request-policies", &staging).await.0, 201);
    let body = |duration: &str, start: Option<String>| {
        json!({ "permissions": ["traces:read"], "targets": ["payments/api/staging"], "duration": duration, "start": start,
                "justification": "reproduce the staging bug" })
    };
    let (status, answer) = w.dev.post("/access-requests", &body("PT9H", None)).await;
    assert!(status == 422 && field(&answer) == "duration", "{answer}");
    let (status, made) = w.dev.post("/access-requests", &body("PT8H", None)).await;
    assert_eq!((status, made["request"]["state"].as_str()), (201, Some("active")), "{made}");
    // Booked two seconds ahead: scheduled, then active on its own.
    let staging_trace = w.owner.capture_trace("payments/api", "staging").await;
    let (booker, other) = w.owner.create_user("booker@acme.test", "org_member").await;
    let start = (grantry_server::clock::now() + Duration::from_secs(2)).to_string();
    let (status, made) = other.post("/access-requests", &body("PT1H", Some(start))).await;
    assert_eq!((status, made["request"]["state"].as_str()), (201, Some("scheduled")), "{made}");
    let reads = || async { w.owner.check(&booker, "traces:read", "trace", &staging_trace).await["allowed"].as_bool().unwrap() };
    assert!(!reads().await, "not before its start");
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert!(reads().await, "active from its start");
    let (_, r) = other.get(&format!("/access-requests/{}", made["request"]["id"].as_str().unwrap())).await;
    assert_eq!(r["state"], json!("active"));
    let (status, answer) = w.dev.post("/access-requests", &body("PT1H", Some("2020-01-01T00:00:00Z".into()))).await;
    assert_eq!((status, field(&answer)), (422, "start"), "{answer}");

    // Break-glass only where a policy allows it; then at once, flagged, and reviewed afterwards.
    let glass = prod_traces(None);
    let mut broken = glass.clone();
    broken["breakGlass"] = json!(true);
    let (status, answer) = w.dev.post("/access-requests", &broken).await;
    assert!(status == 403 && message(&answer).contains("breaking the glass"), "{answer}");
    let policy = json!({ "name": "prod", "scope": "payments", "environment": "production", "breakGlass": true,
        "stages": [ { "name": "lead", "approvals": 1, "roles": ["workspace_admin"] } ] });
    assert_eq!(w.owner.post("/request-policies", &policy).await.0, 201);
    let (status, made) = w.dev.post("/access-requests", &broken).await;
    assert_eq!(
        (status, made["request"]["state"].as_str(), made["request"]["breakGlass"].as_bool()),
        (201, Some("active"), Some(true)),
        "{made}"
    );
    assert!(w.reads_prod().await);
    let id = made["request"]["id"].as_str().unwrap();
    let (_, events) = w.owner.get("/audit?event_type=access_request.break_glass").await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");
    let (status, answer) = decide(&w.dev, id, "review", None).await;
    assert!(status == 403 && message(&answer).contains("own request"), "{answer}");
    let (_, waiting) = w.lead.get("/access-requests").await;
    assert!(waiting["requests"].as_array().unwrap().iter().any(|r| r["id"].as_str() == Some(id)), "the lead sees what awaits review");
    let (status, reviewed) = decide(&w.lead, id, "review", Some("justified: outage")).await;
    assert_eq!((status, reviewed["request"]["reviewed"]["by"].as_str()), (200, Some("lead@acme.test")), "{reviewed}");
    let (status, answer) = decide(&w.lead, id, "review", None).await;
    assert_eq!(status, 409, "{answer}");
}

#[tokio::test]
async fn a_pending_request_lapses_and_overlapping_grants_stand_alone() {
    let w = world().await;
    let quick = json!({ "name": "quick", "scope": "payments/api/prod", "pendingTimeout": "PT2S", "stages": [ { "approvals": 1, "roles": ["workspace_admin"] } ] });
    assert_eq!(w.owner.post("/request-policies", &quick).await.0, 201);
    let id = request(&w.dev, &prod_traces(None)).await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let (status, answer) = decide(&w.lead, &id, "approve", None).await;
    assert!(status == 409 && message(&answer).contains("lapsed"), "{answer}");
    assert_eq!(w.dev.get(&format!("/access-requests/{id}")).await.1["state"], json!("expired"));

    // Two approved requests give the same access; ending one leaves the other working.
    let mut first = prod_traces(None);
    first["duration"] = json!("PT3S");
    let a = request(&w.dev, &first).await;
    assert_eq!(decide(&w.lead, &a, "approve", None).await.0, 200);
    let b = request(&w.dev, &prod_traces(None)).await;
    assert_eq!(decide(&w.lead, &b, "approve", None).await.0, 200);
    let c = request(&w.dev, &json!({ "permissions": ["traces:read:prod", "traces:read"], "targets": ["payments/api/prod"], "justification": "a third overlapping one" })).await;
    assert_eq!(decide(&w.lead, &c, "approve", None).await.0, 200);
    assert!(w.reads_prod().await);
    assert_eq!(decide(&w.dev, &c, "revoke", None).await.0, 200);
    assert!(w.reads_prod().await, "revoking one overlapping grant leaves the others");
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    assert_eq!(w.dev.get(&format!("/access-requests/{a}")).await.1["state"], json!("expired"));
    assert!(w.reads_prod().await, "the expiry of one leaves the other");
    assert_eq!(decide(&w.dev, &b, "revoke", None).await.0, 200);
    assert!(!w.reads_prod().await);
}

#[tokio::test]
async fn bad_requests_and_policies_are_refused_whole() {
    let w = world().await;
    let ok = json!({ "role": "project_developer", "targets": ["payments/api"], "justification": "debug the flaky job" });
    let with = |key: &str, value: Value| {
        let mut b = ok.clone();
        b[key] = value;
        b
    };
    let many: Vec<String> = (0..21).map(|_| "payments/api".to_owned()).collect();
    for (body, wanted) in [
        (with("role", Value::Null), "role"),
        (with("permissions", json!(["traces:read"])), "role"),
        (with("role", json!("no_such_role")), "role"),
        (json!({ "permissions": ["Role:Assign"], "targets": ["org"], "justification": "make me an admin now" }), "permissions"),
        (with("targets", json!(["nowhere/at-all"])), "targets"),
        (with("targets", json!(["agent:65a1f0c2d3e4b5a6978897aa"])), "targets"),
        (with("targets", json!([])), "targets"),
        (with("targets", json!(many)), "targets"),
        (with("targets", json!(["org"])), "targets"),
        (with("duration", json!("P30D")), "duration"),
        (with("duration", json!("2 hours")), "duration"),
        (with("justification", json!("short")), "justification"),
        (with("justification", json!("bell\u{7} in the justification text")), "justification"),
        (with("ticket", json!("x".repeat(101))), "ticket"),
    ] {
        let (status, answer) = w.dev.post("/access-requests", &body).await;
        assert_eq!((status, field(&answer)), (422, wanted), "{body} → {answer}");
    }
    let (status, answer) = w.dev.post("/access-requests", &with("surprise", json!(1))).await;
    assert_eq!(status, 400, "{answer}");
    assert!(w.owner.get("/access-requests").await.1["requests"].as_array().unwrap().is_empty(), "nothing was kept");

    let stage = json!({ "approvals": 1, "groups": ["sre"] });
    for (body, wanted, code) in [
        (json!({ "name": "p", "autoApprove": true, "stages": [stage] }), "stages", 422),
        (json!({ "name": "p" }), "stages", 422),
        (json!({ "name": "p", "stages": [ { "approvals": 0, "groups": ["sre"] } ] }), "stages", 422),
        (json!({ "name": "p", "stages": [ { "approvals": 1, "groups": ["nobody"] } ] }), "stages", 422),
        (json!({ "name": "p", "stages": [ { "approvals": 1, "roles": ["no_role"] } ] }), "stages", 422),
        (json!({ "name": "p", "stages": [ { "approvals": 1, "groups": ["sre"], "escalateAfter": "PT1H" } ] }), "stages", 422),
        (json!({ "name": "p", "stages": [stage], "ticketPattern": "(" }), "ticketPattern", 422),
        (json!({ "name": "p", "stages": [stage], "scope": "nowhere" }), "scope", 422),
        (json!({ "name": "p", "stages": [stage], "environment": "moon" }), "environment", 422),
        (json!({ "name": "p", "stages": [stage], "pendingTimeout": "P30D" }), "pendingTimeout", 422),
    ] {
        let (status, answer) = w.owner.post("/request-policies", &body).await;
        assert_eq!((status, field(&answer)), (code, wanted), "{body} → {answer}");
    }
    let (status, answer) = w.dev.post("/request-policies", &json!({ "name": "mine", "autoApprove": true })).await;
    assert!(status == 403 && message(&answer).contains("AccessPolicy:Manage"), "{answer}");
    // The lead manages nothing of the organization's policies.
    let (status, _) = w.lead.post("/request-policies", &json!({ "name": "ws", "scope": "payments", "autoApprove": true })).await;
    assert_eq!(status, 403);
    assert!(w.owner.get("/request-policies").await.1["policies"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn approval_never_hands_out_more_than_the_policy_author_holds() {
    let w = world().await;
    // An organization admin (no Organization:Manage) makes a policy that auto-approves anything in
    // the organization — but approval stays within what they hold for good.
    let (_, admin) = w.owner.create_user("admin@acme.test", "org_admin").await;
    assert_eq!(admin.post("/request-policies", &json!({ "name": "everything", "autoApprove": true })).await.0, 201);
    let (status, answer) = w
        .dev
        .post("/access-requests", &json!({ "role": "org_owner", "targets": ["org"], "justification": "let me own it all please" }))
        .await;
    assert!(status == 403 && message(&answer).contains("policy's author"), "{answer}");
    assert!(w.owner.get("/access-requests").await.1["requests"].as_array().unwrap().is_empty(), "nothing was kept");
    let (status, made) = w
        .dev
        .post("/access-requests", &json!({ "role": "org_admin", "targets": ["org"], "justification": "within the admin's own" }))
        .await;
    assert_eq!((status, made["request"]["state"].as_str()), (201, Some("active")), "{made}");
    // Another organization sees nothing, and decides nothing here.
    let stranger = w.server.bootstrap("globex", "owner@globex.test").await;
    let id = made["request"]["id"].as_str().unwrap();
    assert_eq!(stranger.get(&format!("/access-requests/{id}")).await.0, 404);
    let across = Api::new(&stranger.url, "acme", &stranger.token);
    assert_eq!(across.get(&format!("/access-requests/{id}")).await.0, 403);
    assert_eq!(decide(&across, id, "revoke", Some("mine now")).await.0, 403);
    assert_eq!(w.dev.get(&format!("/access-requests/{id}")).await.1["state"], json!("active"));
}

async fn extend(api: &Api, id: &str, duration: &str) -> (u16, Value) {
    api.post(&format!("/access-requests/{id}/extension"), &json!({ "duration": duration })).await
}

#[tokio::test]
async fn extension_in_place_keeps_the_same_grants_without_a_gap() {
    let w = world().await;
    // Approved at once: extended at once. The grant ending in two seconds is still the one
    // working five seconds later.
    let staging = json!({ "name": "staging", "scope": "payments/api/staging", "autoApprove": true, "maxDuration": "PT1H" });
    assert_eq!(w.owner.post("/request-policies", &staging).await.0, 201);
    let staging_trace = w.owner.capture_trace("payments/api", "staging").await;
    let (_, made) = w
        .dev
        .post(
            "/access-requests",
            &json!({ "permissions": ["traces:read"], "targets": ["payments/api/staging"], "duration": "PT2S",
                                          "justification": "watch the staging deploy" }),
        )
        .await;
    let id = made["request"]["id"].as_str().unwrap().to_owned();
    let grants = made["request"]["grants"].clone();
    let (status, longer) = extend(&w.dev, &id, "PT3S").await;
    assert_eq!((status, longer["request"]["state"].as_str()), (200, Some("active")), "{longer}");
    assert_eq!(longer["request"]["grants"], grants, "the same grants, not new ones");
    assert_eq!(longer["request"]["extended"].as_array().unwrap().len(), 1);
    let reads = || async { w.owner.check(&w.dev_id, "traces:read", "trace", &staging_trace).await["allowed"].as_bool().unwrap() };
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(reads().await, "past the first end: still allowed, no gap");
    let (status, answer) = extend(&w.dev, &id, "PT2H").await;
    assert!(status == 422 && message(&answer).contains("PT1H"), "{answer}");
    tokio::time::sleep(Duration::from_millis(2_800)).await;
    assert!(!reads().await, "ends at the extended end");
    let (status, answer) = extend(&w.dev, &id, "PT1M").await;
    assert!(status == 409 && message(&answer).contains("expired"), "{answer}");

    // Approved by the lead: the extension waits for the lead again.
    let body =
        json!({ "role": "project_developer", "targets": ["payments/api"], "duration": "PT1H", "justification": "debug the flaky job" });
    let id = request(&w.dev, &body).await;
    let (_, approved) = decide(&w.lead, &id, "approve", None).await;
    let first_end = approved["request"]["expiresAt"].as_str().unwrap().to_owned();
    let (status, answer) = extend(&w.lead, &id, "PT1H").await;
    assert!(status == 403 && message(&answer).contains("only the requester"), "{answer}");
    let (status, asked) = extend(&w.dev, &id, "PT30M").await;
    assert_eq!(status, 200, "{asked}");
    assert_eq!(
        (asked["request"]["extension"]["duration"].as_str(), asked["request"]["expiresAt"].as_str()),
        (Some("PT30M"), Some(first_end.as_str()))
    );
    assert_eq!(extend(&w.dev, &id, "PT10M").await.0, 409, "one extension at a time");
    assert_eq!(decide(&w.dev, &id, "approve", None).await.0, 403, "nobody approves their own extension");
    let (_, waiting) = w.lead.get("/access-requests?toDecide=true").await;
    assert_eq!(waiting["requests"][0]["id"].as_str(), Some(id.as_str()), "{waiting}");
    let (status, denied) = decide(&w.lead, &id, "deny", Some("wrap it up")).await;
    assert_eq!(
        (status, denied["request"]["state"].as_str(), denied["request"]["extension"].is_null()),
        (200, Some("active"), true),
        "{denied}"
    );
    assert_eq!(extend(&w.dev, &id, "PT30M").await.0, 200);
    let (status, extended) = decide(&w.lead, &id, "approve", Some("fine")).await;
    assert_eq!(status, 200, "{extended}");
    let end: jiff::Timestamp = extended["request"]["expiresAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(end.duration_since(first_end.parse().unwrap()), jiff::SignedDuration::from_mins(30));
    assert_eq!(extended["request"]["grants"], approved["request"]["grants"]);
    let (_, events) = w.owner.get("/audit?event_type=grant.extended").await;
    assert_eq!(events["events"].as_array().unwrap().len(), 2, "{events}");
    // The tables hold the new end too: the grant's record, read from the database, and a second
    // server that loads its state from there.
    let (_, listed) = w.owner.get(&format!("/role/temporary_permission_grants/?tag=access_request:{id}")).await;
    let stored: jiff::Timestamp = listed["temporary_permission_grants"][0]["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(stored, end, "{listed}");
    let second = w.server.second().await;
    let other = Api::new(&second.url, "acme", &w.owner.token);
    let (_, r) = other.get(&format!("/access-requests/{id}")).await;
    assert_eq!(
        (r["expiresAt"].as_str(), r["grants"].as_array().map(Vec::len)),
        (extended["request"]["expiresAt"].as_str(), Some(1)),
        "{r}"
    );
}

#[tokio::test]
async fn several_targets_are_approved_item_by_item() {
    let w = world().await;
    w.owner.create_scopes(&["payments/billing", "payments/billing/dev"]).await;
    let api_trace = w.owner.capture_trace("payments/api", "staging").await;
    let billing_trace = w.owner.capture_trace("payments/billing", "dev").await;
    let body = json!({ "role": "project_developer", "targets": ["payments/api", "payments/billing", "payments/api"],
                       "justification": "debug both services" });
    let id = request(&w.dev, &body).await;
    let (_, r) = w.dev.get(&format!("/access-requests/{id}")).await;
    assert_eq!(r["targets"].as_array().unwrap().len(), 2, "a target named twice is asked for once: {r}");
    let approve = |targets: Value| {
        let (lead, id) = (w.lead.clone(), id.clone());
        async move { lead.post(&format!("/access-requests/{id}/approve"), &json!({ "targets": targets })).await }
    };
    for bad in [json!(["payments/nowhere"]), json!([]), json!(["ml"])] {
        let (status, answer) = approve(bad.clone()).await;
        assert_eq!((status, field(&answer)), (422, "targets"), "{bad} → {answer}");
    }
    let (status, answer) =
        w.lead.post(&format!("/access-requests/{id}/deny"), &json!({ "reason": "no", "targets": ["payments/api"] })).await;
    assert_eq!((status, field(&answer)), (422, "targets"), "{answer}");
    let (status, approved) = approve(json!(["payments/api"])).await;
    assert_eq!((status, approved["request"]["state"].as_str()), (200, Some("active")), "{approved}");
    let r = &approved["request"];
    assert_eq!(
        (r["targets"][0]["target"].as_str(), r["declined"][0]["target"].as_str()),
        (Some("payments/api"), Some("payments/billing")),
        "{r}"
    );
    assert_eq!(r["grants"].as_array().unwrap().len(), 1);
    assert!(w.owner.check(&w.dev_id, "traces:read", "trace", &api_trace).await["allowed"].as_bool().unwrap(), "the approved target");
    assert!(!w.owner.check(&w.dev_id, "traces:read", "trace", &billing_trace).await["allowed"].as_bool().unwrap(), "the declined target");
}

/// What an attack on the running server found, each now refused.
#[tokio::test]
async fn attacks_on_requests_are_refused() {
    let w = world().await;
    // A production trace named as the target is still production-trace access: only org_admin or
    // higher hands it out, whoever else may approve there.
    let id = request(
        &w.dev,
        &json!({ "permissions": ["traces:read:prod"], "targets": [format!("trace:{}", w.trace)], "justification": "read that one trace" }),
    )
    .await;
    let (status, answer) = decide(&w.lead, &id, "approve", None).await;
    assert!(status == 403 && message(&answer).contains("org_admin or higher"), "{answer}");
    assert!(!w.reads_prod().await);

    // A target that reaches into a stricter policy's reach is refused, not decided by a laxer one.
    let strict = json!({ "name": "prod two-step", "scope": "payments", "environment": "production", "maxDuration": "PT2H",
        "stages": [ { "approvals": 1, "groups": ["sre"] }, { "approvals": 1, "roles": ["org_admin"] } ] });
    let lax = json!({ "name": "nonprod self-service", "scope": "payments", "environment": "non_production", "autoApprove": true,
        "requestable": ["traces:read", "project_developer"] });
    assert_eq!(w.owner.post("/request-policies", &strict).await.0, 201);
    assert_eq!(w.owner.post("/request-policies", &lax).await.0, 201);
    for body in [
        json!({ "permissions": ["traces:read:prod"], "targets": ["payments/api"], "justification": "the whole project please" }),
        json!({ "role": "workspace_admin", "targets": ["payments"], "justification": "the whole workspace please" }),
    ] {
        let (status, answer) = w.dev.post("/access-requests", &body).await;
        assert!(status == 422 && message(&answer).contains("prod two-step"), "{body} → {answer}");
    }
    assert!(!w.reads_prod().await);
    // Inside the lax policy's reach: at once, but only for what it names.
    let (status, made) = w
        .dev
        .post(
            "/access-requests",
            &json!({ "permissions": ["traces:read"], "targets": ["payments/api/staging"], "justification": "staging is fine" }),
        )
        .await;
    assert_eq!((status, made["request"]["state"].as_str()), (201, Some("active")), "{made}");
    let (status, answer) = w
        .dev
        .post("/access-requests", &json!({ "role": "project_admin", "targets": ["payments/api"], "justification": "a bigger role" }))
        .await;
    assert_eq!(status, 422, "payments/api reaches into production: {answer}");
    let (status, answer) = w
        .dev
        .post(
            "/access-requests",
            &json!({ "permissions": ["Agent:Use"], "targets": ["payments/api/staging"], "justification": "not what it covers" }),
        )
        .await;
    assert!(status == 403 && message(&answer).contains("only for traces:read, project_developer"), "{answer}");

    // Restricted agents: asking at the organization reaches into them.
    let (status, agent) =
        w.owner.post("/agents", &json!({ "name": "Vault", "access_type": "group", "classification": "restricted" })).await;
    assert_eq!(status, 201, "{agent}");
    let agent_id = agent["agent"]["id"].as_str().unwrap();
    let restricted =
        json!({ "name": "restricted agents", "classification": "restricted", "stages": [ { "approvals": 2, "groups": ["sre"] } ] });
    assert_eq!(w.owner.post("/request-policies", &restricted).await.0, 201);
    let (status, answer) = w
        .dev
        .post(
            "/access-requests",
            &json!({ "permissions": ["Agent:Use", "Agent:View"], "targets": ["org"], "justification": "every agent at once" }),
        )
        .await;
    assert!(status == 422 && message(&answer).contains("reaches into"), "{answer}");
    let (status, made) = w
        .dev
        .post(
            "/access-requests",
            &json!({ "permissions": ["Agent:Use"], "targets": [format!("agent:{agent_id}")], "justification": "the vault agent" }),
        )
        .await;
    assert_eq!((status, made["request"]["policy"].as_str()), (201, Some("restricted agents")), "{made}");
    // A data source of a restricted agent is as restricted as its agent.
    let (status, body) = w.owner.post(&format!("/agents/{agent_id}/sources"), &json!({ "name": "Payroll", "groups": [] })).await;
    assert_eq!(status, 201, "{body}");
    let source = body["source"]["id"].as_str().unwrap();
    let payroll = request(
        &w.dev,
        &json!({ "permissions": ["DataSource:Retrieve"], "targets": [format!("data_source:{source}")],
                                            "justification": "the payroll data" }),
    )
    .await;
    let (status, made) = w.dev.get(&format!("/access-requests/{payroll}")).await;
    assert_eq!((status, made["policy"].as_str(), made["state"].as_str()), (200, Some("restricted agents"), Some("pending")), "{made}");

    // Grantry's own records are not targets.
    let (_, policies) = w.owner.get("/request-policies").await;
    let policy_id = policies["policies"][0]["id"].as_str().unwrap();
    for target in [format!("access_request:{id}"), format!("request_policy:{policy_id}")] {
        let (status, answer) = w
            .dev
            .post(
                "/access-requests",
                &json!({ "permissions": ["traces:read"], "targets": [target], "justification": "a record of grantry" }),
            )
            .await;
        assert_eq!((status, field(&answer)), (422, "targets"), "{answer}");
    }

    // An extension stays within the longest its policy allows.
    let capped = json!({ "name": "capped", "scope": "ml", "autoApprove": true, "maxDuration": "PT2H" });
    w.owner.create_scopes(&["ml"]).await;
    assert_eq!(w.owner.post("/request-policies", &capped).await.0, 201);
    let (_, made) = w
        .dev
        .post(
            "/access-requests",
            &json!({ "permissions": ["traces:read"], "targets": ["ml"], "duration": "PT1H", "justification": "an hour in ml" }),
        )
        .await;
    let capped_id = made["request"]["id"].as_str().unwrap().to_owned();
    let (status, answer) = w.dev.post(&format!("/access-requests/{capped_id}/extension"), &json!({ "duration": "P2D" })).await;
    assert!(status == 422 && message(&answer).contains("PT2H"), "{answer}");
    // Once the policy is gone, nothing extends what it decided.
    assert_eq!(w.owner.delete("/request-policies/capped").await.0, 200);
    let (status, answer) = w.dev.post(&format!("/access-requests/{capped_id}/extension"), &json!({ "duration": "PT30M" })).await;
    assert!(status == 409 && message(&answer).contains("ask again with a new request"), "{answer}");
}

#[tokio::test]
async fn single_use_access_is_used_up_by_its_first_allowed_check() {
    let w = world().await;
    let staging = json!({ "name": "staging", "scope": "payments/api/staging", "autoApprove": true });
    assert_eq!(w.owner.post("/request-policies", &staging).await.0, 201);
    let trace = w.owner.capture_trace("payments/api", "staging").await;
    let ask = |single: &str| {
        json!({ "permissions": ["traces:read"], "targets": ["payments/api/staging"], "singleUse": single,
                "justification": "one look at the staging trace" })
    };
    let (status, answer) = w.dev.post("/access-requests", &ask("traces:read:prod")).await;
    assert_eq!((status, field(&answer)), (422, "singleUse"), "{answer}");
    let (status, made) = w.dev.post("/access-requests", &ask("traces:read")).await;
    assert_eq!((status, made["request"]["singleUse"].as_str()), (201, Some("traces:read")), "{made}");
    let id = made["request"]["id"].as_str().unwrap().to_owned();
    let check = |at: Option<String>| json!({ "principal": { "type": "user", "id": w.dev_id }, "permission": "traces:read", "resource": { "type": "trace", "id": trace }, "at": at });
    // A question about another moment uses nothing up.
    let later = (grantry_server::clock::now() + Duration::from_secs(60)).to_string();
    assert_eq!(w.owner.post("/check", &check(Some(later))).await.1["allowed"], json!(true));
    assert_eq!(w.dev.get(&format!("/access-requests/{id}")).await.1["state"], json!("active"));
    // The first check now is allowed, and ends it; the next is denied.
    assert_eq!(w.owner.post("/check", &check(None)).await.1["allowed"], json!(true));
    let (_, r) = w.dev.get(&format!("/access-requests/{id}")).await;
    assert!(r["state"] == json!("revoked") && r["reason"].as_str().unwrap().contains("single use"), "{r}");
    assert_eq!(w.owner.post("/check", &check(None)).await.1["allowed"], json!(false));
    // Racing checks: exactly one is allowed, from a batch or from single checks.
    assert_eq!(w.dev.post("/access-requests", &ask("traces:read")).await.0, 201);
    let (_, batch) = w.owner.post("/check:batch", &json!({ "checks": [check(None), check(None), check(None)] })).await;
    let allowed: Vec<bool> = batch["results"].as_array().unwrap().iter().map(|r| r["allowed"].as_bool().unwrap()).collect();
    assert_eq!(allowed, [true, false, false], "{batch}");
    // Sixteen racing checks, on one server and then split across two: one is allowed each time
    // (the losers are decided again where the winner's write is already applied).
    let second = w.server.second().await;
    let elsewhere = Api::new(&second.url, "acme", &w.owner.token);
    for round in 0..4 {
        let (status, made) = w.dev.post("/access-requests", &ask("traces:read")).await;
        assert_eq!(status, 201, "{made}");
        let this = made["request"]["id"].as_str().unwrap().to_owned();
        let racing: Vec<_> = (0..16)
            .map(|i| {
                let owner = if round >= 2 && i % 2 == 1 { elsewhere.clone() } else { w.owner.clone() };
                let body = check(None);
                tokio::spawn(async move { owner.post("/check", &body).await.1["allowed"].as_bool().unwrap() })
            })
            .collect();
        let mut yes = 0;
        for r in racing {
            yes += usize::from(r.await.unwrap());
        }
        assert_eq!(yes, 1, "round {round}: one of sixteen racing checks uses it");
        let (_, r) = w.dev.get(&format!("/access-requests/{this}")).await;
        assert_eq!(r["state"], "revoked", "round {round}: {r}");
    }
    let (_, events) = w.owner.get("/audit?event_type=access_request.consumed").await;
    assert_eq!(events["events"].as_array().unwrap().len(), 6, "{events}");

    // A trace read is a use too: the first is allowed, the next finds nothing.
    assert_eq!(w.dev.post("/access-requests", &ask("traces:read")).await.0, 201);
    assert_eq!(w.dev.get(&format!("/traces/{trace}")).await.0, 200);
    assert_eq!(w.dev.get(&format!("/traces/{trace}")).await.0, 404);
    // So is a check of a key the holder delegated to: its access is theirs, used once.
    let project = json!({ "name": "api self-service", "scope": "payments/api", "autoApprove": true });
    let (status, body) = w.owner.post("/request-policies", &project).await;
    assert_eq!(status, 201, "{body}");
    let on_project = json!({ "permissions": ["traces:read"], "targets": ["payments/api"], "singleUse": "traces:read",
                             "justification": "one look through my agent" });
    let (status, made) = w.dev.post("/access-requests", &on_project).await;
    assert_eq!((status, made["request"]["state"].as_str()), (201, Some("active")), "{made}");
    let (status, key) = w
        .dev
        .post("/api-keys", &json!({ "project": "payments/api", "scopes": ["traces:read"], "delegate": true, "duration": "PT1H" }))
        .await;
    assert_eq!(status, 201, "{key}");
    let key_id = key["key"]["id"].as_str().unwrap();
    let by_key = json!({ "principal": { "type": "api_key", "id": key_id }, "permission": "traces:read", "resource": { "type": "trace", "id": trace } });
    assert_eq!(w.owner.post("/check", &by_key).await.1["allowed"], json!(true));
    assert_eq!(w.owner.post("/check", &by_key).await.1["allowed"], json!(false), "used up by the key's first check");
    let (_, r) = w.dev.get(&format!("/access-requests/{}", made["request"]["id"].as_str().unwrap())).await;
    assert_eq!(r["state"], "revoked", "{r}");
}

#[tokio::test]
async fn a_token_minted_for_a_peer_decides_nothing_until_exchanged() {
    let w = world().await;
    let (status, body) = w
        .owner
        .post(
            "/request-policies",
            &json!({ "name": "peer review", "scope": "payments",
        "stages": [{ "name": "peer", "approvals": 1, "groups": ["sre"] }] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let sre = w.owner.get("/groups").await.1["groups"][0]["id"].as_str().unwrap().to_owned();
    // peer1 holds a token of their own: nobody mints another for them.
    let (_, me) = w.peer1.get("/me").await;
    assert_eq!(me["token_made_by"], Value::Null, "{me}");
    let (status, body) = w.owner.post(&format!("/users/{}/tokens", me["user"]["id"].as_str().unwrap()), &json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains("holds a token of their own"), "{body}");
    // peer3, new in sre, holds only what the owner minted for them, and the owner mints a second.
    let (peer3_id, peer3) = w.owner.create_user("peer3@acme.test", "org_member").await;
    assert!(w.owner.post(&format!("/groups/{sre}/members"), &json!({ "userIds": ["peer3@acme.test"] })).await.0 < 300);
    let (status, minted) = w.owner.post(&format!("/users/{peer3_id}/tokens"), &json!({})).await;
    assert_eq!(status, 201, "{minted}");
    let as_peer3 = w.owner.with_token(minted["token"].as_str().unwrap());
    let (_, me) = as_peer3.get("/me").await;
    assert_eq!(me["token_made_by"], "owner@acme.test", "{me}");
    // A token made with a minted one stays marked, and ends when the minted one does.
    let (status, laundered) = as_peer3.post(&format!("/users/{peer3_id}/tokens"), &json!({ "expires_in": "P365D" })).await;
    assert_eq!(status, 201, "{laundered}");
    assert_eq!(laundered["expires_at"], minted["expires_at"], "no longer than the token that made it: {laundered}");
    let laundered = w.owner.with_token(laundered["token"].as_str().unwrap());
    let id = request(&w.dev, &prod_traces(None)).await;
    for holder in [&as_peer3, &laundered] {
        let (status, body) = decide(holder, &id, "approve", Some("looks fine")).await;
        assert_eq!(status, 403, "{body}");
        assert!(message(&body).contains("made for you by owner@acme.test") && message(&body).contains("grantry token exchange"), "{body}");
        assert_eq!(decide(holder, &id, "deny", Some("no")).await.0, 403);
        // The request still waits for peer3 as a person, so it is listed for them.
        let (status, listed) = holder.get("/access-requests?toDecide=true").await;
        assert_eq!(status, 200, "{listed}");
        assert_eq!(listed["requests"].as_array().map(Vec::len), Some(1), "{listed}");
    }
    let (_, got) = w.owner.get(&format!("/access-requests/{id}")).await;
    assert_eq!(got["state"], "pending", "{got}");
    let (_, tokens) = peer3.get("/tokens").await;
    let made_by: Vec<&Value> = tokens["tokens"].as_array().unwrap().iter().map(|t| &t["issued_by"]).collect();
    assert!(made_by.len() == 3 && made_by.iter().all(|m| m.as_str().is_some_and(|m| m.starts_with("user:"))), "{tokens}");
    // Racing exchanges of one token: one wins.
    let racing: Vec<_> = (0..6)
        .map(|_| {
            let api = as_peer3.clone();
            tokio::spawn(async move { api.post("/tokens/exchange", &json!({})).await })
        })
        .collect();
    let mut won = Vec::new();
    for r in racing {
        let (status, body) = r.await.unwrap();
        assert!(matches!(status, 201 | 401 | 409), "{status} {body}");
        if status == 201 {
            won.push(body["token"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(won.len(), 1, "one exchange of a token: {won:?}");
    let own = w.owner.with_token(&won[0]);
    // The exchange shut out every token minted for peer3, the one peer3 holds included: were it
    // not peer3 exchanging, peer3 would notice at once.
    for shut in [&peer3, &as_peer3, &laundered] {
        assert_eq!(shut.get("/me").await.0, 401);
    }
    let (_, me) = own.get("/me").await;
    assert_eq!(me["token_made_by"], Value::Null, "{me}");
    let (status, body) = decide(&own, &id, "approve", Some("looks fine")).await;
    assert_eq!(status, 200, "{body}");
    assert!(w.reads_prod().await);
    // Nobody mints for peer3 now, and the exchange is in the audit log with who had minted what.
    assert_eq!(w.owner.post(&format!("/users/{peer3_id}/tokens"), &json!({})).await.0, 409);
    let (_, audit) = w.owner.get("/audit?event_type=token.exchanged").await;
    let exchanged: Vec<&Value> =
        audit["events"].as_array().unwrap().iter().filter(|e| e["principal"] == format!("user:{peer3_id}")).collect();
    assert_eq!(exchanged.len(), 1, "{audit}");
    assert_eq!(exchanged[0]["before"]["issued_by"], format!("user:{}", w.owner_id().await), "{audit}");
    // An admin who exchanged a colleague's first token themself cannot approve their own request
    // with it: an approval counts for whoever could have given it.
    let (_, peer4) = w.owner.create_user("peer4@acme.test", "org_member").await;
    assert!(w.owner.post(&format!("/groups/{sre}/members"), &json!({ "userIds": ["peer4@acme.test"] })).await.0 < 300);
    let puppet = peer4.own_token().await;
    let mine = request(&w.owner, &prod_traces(None)).await;
    let (status, body) = decide(&puppet, &mine, "approve", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("one owner@acme.test minted, and it is their request"), "{body}");
    let (_, tokens) = puppet.get("/tokens").await;
    let live = tokens["tokens"].as_array().unwrap().iter().find(|t| t["status"] == "active").cloned().unwrap_or_default();
    assert_eq!(live["custody"], json!([format!("user:{}", w.owner_id().await)]), "{tokens}");
    // A bad lifetime is refused before anything changes; an unknown field too.
    let (status, body) = w.peer1.post("/tokens/exchange", &json!({ "expires_in": "forever" })).await;
    assert_eq!((status, field(&body)), (422, "expires_in"), "{body}");
    assert_eq!(w.peer1.get("/me").await.0, 200);
    let (status, body) = w.peer1.post("/tokens/exchange", &json!({ "lifetime": "P1D" })).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn policies_are_not_passed_by_a_laxer_one_or_after_they_go() {
    let w = world().await;
    let strict = json!({ "name": "ws prod", "scope": "payments", "environment": "production",
                         "stages": [{ "name": "peer", "approvals": 1, "groups": ["sre"] }] });
    assert_eq!(w.owner.post("/request-policies", &strict).await.0, 201);
    // A laxer policy deeper down does not decide the production environment the strict one names.
    let lax = json!({ "name": "api self-service", "scope": "payments/api", "autoApprove": true, "maxDuration": "PT8H" });
    let (status, made) = w.owner.post("/request-policies", &lax).await;
    assert_eq!(status, 201, "{made}");
    let (_, r) = w.dev.post("/access-requests", &prod_traces(None)).await;
    assert_eq!((r["request"]["state"].as_str(), r["request"]["policy"].as_str()), (Some("pending"), Some("ws prod")), "{r}");
    assert!(!w.reads_prod().await);
    // An extension is decided only while the policy that decided the request still does.
    let staging = json!({ "permissions": ["traces:read"], "targets": ["payments/api/staging"], "duration": "PT1H",
                          "justification": "watch the staging traces" });
    let (_, r) = w.dev.post("/access-requests", &staging).await;
    assert_eq!(r["request"]["state"], "active", "{r}");
    let id = r["request"]["id"].as_str().unwrap().to_owned();
    assert_eq!(extend(&w.dev, &id, "PT1H").await.0, 200);
    assert_eq!(w.owner.delete(&format!("/request-policies/{}", made["policy"]["id"].as_str().unwrap())).await.0, 200);
    let (status, body) = extend(&w.dev, &id, "PT1H").await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains("since deleted, but no policy decides its targets now"), "{body}");
}

#[tokio::test]
async fn ended_requests_are_forgotten_after_the_retention_and_no_sooner() {
    let w = world().await;
    let (status, body) = w.owner.patch("/settings", &json!({ "request_retention_days": 6 })).await;
    assert_eq!((status, field(&body)), (422, "request_retention_days"), "{body}");
    let (status, body) = w.owner.patch("/settings", &json!({ "request_retention_days": 7 })).await;
    assert_eq!((status, &body["request_retention_days"]), (200, &json!(7)), "{body}");
    let denied = request(&w.dev, &prod_traces(None)).await;
    assert_eq!(decide(&w.owner, &denied, "deny", Some("not this week")).await.0, 200);
    let pending = request(&w.dev, &prod_traces(None)).await;
    let day = Duration::from_secs(24 * 3600);
    let now = grantry_server::clock::now();
    let state = &w.server.state;
    // Six days on, the denied request is still listed; eight days on, it is forgotten.
    assert_eq!(grantry_server::service::purge_ended_requests(state, now + day * 6).await.unwrap(), 0);
    assert_eq!(w.owner.get(&format!("/access-requests/{denied}")).await.0, 200);
    assert_eq!(grantry_server::service::purge_ended_requests(state, now + day * 8).await.unwrap(), 1);
    assert_eq!(w.owner.get(&format!("/access-requests/{denied}")).await.0, 404);
    assert_eq!(grantry_server::service::purge_ended_requests(state, now + day * 8).await.unwrap(), 0, "purged once");
    // The pending one has not ended as far as the sweeper has recorded: it stays until it has.
    assert_eq!(w.owner.get(&format!("/access-requests/{pending}")).await.0, 200);
    let (_, audit) = w.owner.get("/audit?event_type=access_request.purged").await;
    let events = audit["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{audit}");
    assert_eq!(
        (events[0]["target_id"].as_str(), events[0]["before"]["state"].as_str()),
        (Some(denied.as_str()), Some("denied")),
        "{audit}"
    );
}

#[tokio::test]
async fn a_request_is_decided_only_while_its_policy_decides_it() {
    let w = world().await;
    // A non-production filter only narrows: it does not outrank a stricter policy nearer the target.
    let lax = json!({ "name": "nonprod self-service", "scope": "org", "environment": "non_production", "autoApprove": true });
    assert_eq!(w.owner.post("/request-policies", &lax).await.0, 201);
    let review = json!({ "name": "staging review", "scope": "payments/api/staging", "stages": [{ "name": "peer", "approvals": 1, "groups": ["sre"] }] });
    let (status, made) = w.owner.post("/request-policies", &review).await;
    assert_eq!(status, 201, "{made}");
    let staging = json!({ "permissions": ["traces:read"], "targets": ["payments/api/staging"], "duration": "PT1H",
                          "justification": "watch the staging traces" });
    let id = request(&w.dev, &staging).await;
    let (_, r) = w.dev.get(&format!("/access-requests/{id}")).await;
    assert_eq!((r["state"].as_str(), r["policy"].as_str()), (Some("pending"), Some("staging review")), "{r}");
    assert_eq!(decide(&w.peer1, &id, "approve", None).await.0, 200);
    let (status, body) = extend(&w.dev, &id, "PT1H").await;
    assert_eq!(status, 200, "{body}");
    // Its policy goes while the extension waits: approving the extension is refused, not waved through.
    assert_eq!(w.owner.delete(&format!("/request-policies/{}", made["policy"]["id"].as_str().unwrap())).await.0, 200);
    let (status, body) = decide(&w.peer2, &id, "approve", None).await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains("but policy `nonprod self-service` decides its targets now"), "{body}");
    // So is a stage of a pending request whose policy was outranked meanwhile.
    let (status, made) = w.owner.post("/request-policies", &review).await;
    assert_eq!(status, 201, "{made}");
    let pending = request(
        &w.dev,
        &json!({ "permissions": ["traces:read"], "targets": ["payments/api/staging"], "duration": "PT2H",
                                          "justification": "watch the staging traces again" }),
    )
    .await;
    let stricter = json!({ "name": "staging two", "scope": "payments/api/staging", "classification": "restricted",
                           "stages": [{ "name": "two", "approvals": 2, "groups": ["sre"] }] });
    assert_eq!(w.owner.post("/request-policies", &stricter).await.0, 201);
    assert_eq!(w.owner.delete(&format!("/request-policies/{}", made["policy"]["id"].as_str().unwrap())).await.0, 200);
    let (status, body) = decide(&w.peer1, &pending, "approve", None).await;
    assert_eq!(status, 409, "{body}");
    let (_, r) = w.dev.get(&format!("/access-requests/{pending}")).await;
    assert_eq!(r["state"], "pending", "{r}");
}

#[tokio::test]
async fn a_puppet_made_with_a_minted_token_stays_in_its_makers_custody() {
    let w = world().await;
    let sre = w.owner.get("/groups").await.1["groups"][0]["id"].as_str().unwrap().to_owned();
    // adam, an admin onboarded with a minted token, sets up zed before exchanging his own.
    let (_, adam_minted) = w.owner.create_user("adam@acme.test", "org_admin").await;
    let (_, zed_minted) = adam_minted.create_user("zed@acme.test", "org_admin").await;
    assert!(w.owner.post(&format!("/groups/{sre}/members"), &json!({ "userIds": ["zed@acme.test"] })).await.0 < 300);
    let zed = zed_minted.own_token().await;
    let adam = adam_minted.own_token().await;
    let (_, tokens) = zed.get("/tokens").await;
    let live = tokens["tokens"].as_array().unwrap().iter().find(|t| t["status"] == "active").cloned().unwrap_or_default();
    assert!(live["custody"].as_array().unwrap().len() == 2, "the owner and adam: {tokens}");
    // Not adam's own request through zed…
    let mine = request(&adam, &prod_traces(None)).await;
    let (status, body) = decide(&zed, &mine, "approve", None).await;
    assert!(status == 403 && message(&body).contains("one adam@acme.test minted, and it is their request"), "{body}");
    // …nor two approvals of someone else's, one as adam and one as zed.
    let (status, body) = w
        .owner
        .post(
            "/request-policies",
            &json!({ "name": "two of sre", "scope": "payments",
        "stages": [{ "name": "peers", "approvals": 2, "groups": ["sre"], "roles": ["org_admin"] }] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let theirs = request(&w.dev, &prod_traces(None)).await;
    assert_eq!(decide(&adam, &theirs, "approve", None).await.0, 200);
    let (status, body) = decide(&zed, &theirs, "approve", None).await;
    assert!(status == 403 && message(&body).contains("would count twice"), "{body}");
    assert_eq!(decide(&w.peer1, &theirs, "approve", None).await.0, 200, "someone adam did not set up");
}
