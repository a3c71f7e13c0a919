//! The HTTP API against a real server on port 0 over a temporary SQLite database.

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};
use std::time::Duration;

#[path = "api/agent_attacks.rs"]
mod agent_attacks;
#[path = "api/agents.rs"]
mod agents;
#[path = "api/attacks.rs"]
mod attacks;
#[path = "api/batch.rs"]
mod batch;
#[path = "api/bulk.rs"]
mod bulk;
#[path = "api/delegation.rs"]
mod delegation;
#[path = "api/groups.rs"]
mod groups;
#[path = "api/imports.rs"]
mod imports;
#[path = "api/pools.rs"]
mod pools;
#[path = "api/requests.rs"]
mod requests;
#[path = "api/reviews.rs"]
mod reviews;
#[path = "api/route_matrix.rs"]
mod route_matrix;
#[path = "api/standing.rs"]
mod standing;
#[path = "api/temp_access.rs"]
mod temp_access;
#[path = "api/tiers.rs"]
mod tiers;
#[path = "api/webhooks.rs"]
mod webhooks;

const MSG: &str = "Conversation:GetMessage";

/// An organization with an owner, a developer (org_member), and bob's conversation.
struct World {
    server: TestServer,
    owner: Api,
    dev: Api,
    dev_id: String,
    bob_id: String,
    conv: String,
}

async fn world(server: TestServer) -> World {
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (dev_id, dev) = owner.create_user("dev@acme.test", "org_member").await;
    let (bob_id, _) = owner.create_user("bob@acme.test", "org_member").await;
    let conv = owner.register_conversation(&bob_id).await;
    World { server, owner, dev, dev_id, bob_id, conv }
}

fn request(justification: &str, duration: Option<&str>) -> Value {
    json!({ "justification": justification, "duration": duration })
}

#[tokio::test]
async fn seed_flow_grants_three_scoped_permissions() {
    let w = world(TestServer::start().await).await;
    let (status, found) = w.dev.get(&format!("/conversation/?id={}", w.conv)).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["conversations"][0]["user_id"], w.bob_id.as_str(), "the owner is fetched first");

    let (status, made) =
        w.dev.post(&format!("/conversation/{}/request_access", w.conv), &request("Debugging reported issue #42", None)).await;
    assert_eq!(status, 201, "{made}");
    let grants = made["grants"].as_array().unwrap();
    let names: Vec<&str> = grants.iter().map(|g| g["permission_grant"]["permission_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Conversation:GetConversation", "Conversation:GetMessage", "Conversation:GetInteractionInsights"]);
    for g in grants {
        let c = &g["permission_grant"]["conditions"];
        assert_eq!(c["conversation_user_id"], json!({ "type": "Equals", "value": w.bob_id }));
        assert!(c["org_id"]["value"].is_string());
        assert_eq!(g["status"], "active");
    }
    let created: jiff::Timestamp = grants[0]["created_at"].as_str().unwrap().parse().unwrap();
    let expires: jiff::Timestamp = grants[0]["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires.duration_since(created), jiff::SignedDuration::from_hours(2), "the default is PT2H");

    for p in names {
        assert_eq!(w.dev.check(&w.dev_id, p, "conversation", &w.conv).await["allowed"], true, "{p}");
    }
    let (_, listed) = w.dev.get("/role/temporary_permission_grants/?is_expired=false").await;
    assert_eq!(listed["temporary_permission_grants"].as_array().unwrap().len(), 3);
    let (_, first) = w.dev.get("/role/temporary_permission_grants/?limit=2&sort_by=expires_at").await;
    assert_eq!(
        (first["temporary_permission_grants"].as_array().unwrap().len(), &first["has_more"], &first["continuation_token"]),
        (2, &json!(true), &json!(2))
    );
    let (_, rest) = w.dev.get("/role/temporary_permission_grants/?limit=2&sort_by=expires_at&continuation_token=2").await;
    assert_eq!((rest["temporary_permission_grants"].as_array().unwrap().len(), &rest["has_more"]), (1, &json!(false)));
    let (status, bad) = w.dev.get("/conversation/?limit=0").await;
    assert_eq!((status, bad["error"]["code"].as_str()), (422, Some("invalid")), "{bad}");
    let org_id = grants[0]["permission_grant"]["conditions"]["org_id"]["value"].clone();
    let (status, created) = w
        .owner
        .post(
            "/role/temporary_permission_grant/",
            &json!({ "user_id": w.dev_id, "duration": "PT30M", "justification": "Amigo-shaped single grant",
                     "permission_grant": { "permission_name": MSG, "conditions": {
                         "conversation_user_id": { "type": "Equals", "value": w.bob_id }, "org_id": { "type": "Equals", "value": org_id } } } }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(created["temporary_permission_grant_id"].as_str().unwrap().len() == 24);
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let w = world(TestServer::start().await).await;
    let path = format!("/conversation/{}/request_access", w.conv);
    let (_, expired_token) = w.owner.post(&format!("/users/{}/tokens", w.dev_id), &json!({ "expires_in": "PT1S" })).await;
    let (_, revoked_token) = w.owner.post(&format!("/users/{}/tokens", w.dev_id), &json!({})).await;
    let (status, _) = w.owner.delete(&format!("/tokens/{}", revoked_token["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (carol_id, carol) = w.owner.create_user("carol@acme.test", "org_member").await;
    let audit_before = w.owner.get("/audit?limit=1000").await.1["events"].as_array().unwrap().len();
    let grants_before = w.server.grant_count("acme");

    let cases: Vec<(Api, String, Value, u16, &str, &str)> = vec![
        (w.dev.clone(), path.clone(), request("too short", None), 422, "invalid", "justification"),
        (w.dev.clone(), path.clone(), request("          padded   ", None), 422, "invalid", "at least 10"),
        (w.dev.clone(), path.clone(), request("Debugging issue #42", Some("PT0S")), 422, "invalid", "not positive"),
        (w.dev.clone(), path.clone(), request("Debugging issue #42", Some("2h")), 422, "invalid", "ISO 8601"),
        (w.dev.clone(), path.clone(), request("Debugging issue #42", Some("P3DT1S")), 422, "invalid", "maximum of P3D"),
        (w.dev.clone(), "/conversation/abc123/request_access".into(), request("Debugging issue #42", None), 422, "invalid", "24-character"),
        (
            w.dev.clone(),
            "/conversation/aaaaaaaaaaaaaaaaaaaaaaaa/request_access".into(),
            request("Debugging issue #42", None),
            404,
            "not_found",
            "not found",
        ),
        (
            w.dev.clone(),
            path.clone(),
            json!({ "justification": "Debugging issue #42", "user_email": "nobody@acme.test" }),
            404,
            "not_found",
            "nobody@acme.test",
        ),
        (
            w.dev.clone(),
            path.clone(),
            json!({ "justification": "Debugging issue #42", "user_id": carol_id }),
            403,
            "forbidden",
            "User:Manage",
        ),
        (w.dev.clone(), path.clone(), json!({ "justification": 42 }), 400, "bad_request", "justification"),
        (w.dev.clone(), path.clone(), json!({ "justification": "Debugging issue #42", "extra": 1 }), 400, "bad_request", "extra"),
        (
            w.dev.with_token(expired_token["token"].as_str().unwrap()),
            path.clone(),
            request("Debugging issue #42", None),
            401,
            "unauthenticated",
            "expired",
        ),
        (
            w.dev.with_token(revoked_token["token"].as_str().unwrap()),
            path.clone(),
            request("Debugging issue #42", None),
            401,
            "unauthenticated",
            "revoked",
        ),
        (w.dev.with_token("gty_nonsense"), path.clone(), request("Debugging issue #42", None), 401, "unauthenticated", "malformed"),
        (
            w.dev.with_token(&format!("gty_{}", "0".repeat(64))),
            path.clone(),
            request("Debugging issue #42", None),
            401,
            "unauthenticated",
            "unknown token",
        ),
        (
            carol.clone(),
            "/role/temporary_permission_grant/".into(),
            json!({ "user_id": carol_id, "justification": "I want admin rights", "permission_grant": { "permission_name": "User:Manage" } }),
            422,
            "invalid",
            "cannot be granted temporarily",
        ),
        (
            carol.clone(),
            "/role/temporary_permission_grant/".into(),
            json!({ "user_id": carol_id, "justification": "Debugging issue #42", "permission_grant": { "permission_name": MSG, "conditions": { "colour": { "type": "Equals", "value": "red" } } } }),
            422,
            "invalid",
            "no attribute `colour`",
        ),
        (carol.clone(), "/users".into(), json!({ "email": "eve@acme.test" }), 403, "forbidden", "User:Create"),
    ];
    for (api, path, body, status, code, needle) in cases {
        let (got, resp) = api.post(&path, &body).await;
        assert_eq!((got, resp["error"]["code"].as_str().unwrap_or_default()), (status, code), "{path} {body}: {resp}");
        let message = resp["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: `{message}` should mention `{needle}`");
        assert!(!message.contains('\n'), "one line: {message}");
    }
    assert_eq!(w.server.grant_count("acme"), grants_before, "no grant was written");
    let audit_after = w.owner.get("/audit?limit=1000").await.1["events"].as_array().unwrap().len();
    assert_eq!(audit_after, audit_before, "no audit event was written");
}

#[tokio::test]
async fn the_three_grants_are_all_or_nothing() {
    let w = world(TestServer::start().await).await;
    // Make the database itself refuse the third grant, after the first two are written.
    let pool = sqlx::SqlitePool::connect(&w.server.db_url()).await.unwrap();
    sqlx::raw_sql("CREATE TRIGGER refuse_insights BEFORE INSERT ON grants WHEN NEW.target LIKE '%GetInteractionInsights%' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;")
        .execute(&pool)
        .await
        .unwrap();
    let count = || async { sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM grants").fetch_one(&pool).await.unwrap() };
    let (rows_before, index_before) = (count().await, w.server.grant_count("acme"));
    let (status, resp) =
        w.dev.post(&format!("/conversation/{}/request_access", w.conv), &request("Debugging reported issue #42", None)).await;
    assert!(status >= 500, "{status} {resp}");
    assert!(!resp.to_string().contains("injected"), "driver detail does not leak: {resp}");
    assert_eq!(count().await, rows_before, "no row of the three survives");
    assert_eq!(w.server.grant_count("acme"), index_before, "the index is untouched");
    assert_eq!(w.dev.check(&w.dev_id, MSG, "conversation", &w.conv).await["allowed"], false);
    assert_eq!(w.owner.get("/audit/verify").await.1["ok"], true);
}

#[tokio::test]
async fn expiry_is_exact_with_no_sweeper_running() {
    let w = world(TestServer::start_without_sweeper().await).await;
    let (status, made) =
        w.dev.post(&format!("/conversation/{}/request_access", w.conv), &request("Short debugging session", Some("PT2S"))).await;
    assert_eq!(status, 201, "{made}");
    let end: jiff::Timestamp = made["grants"][1]["expires_at"].as_str().unwrap().parse().unwrap();
    let at = |t: jiff::Timestamp| json!({ "principal": { "type": "user", "id": w.dev_id }, "permission": MSG, "resource": { "type": "conversation", "id": w.conv }, "at": t });
    let just_before = end.checked_sub(jiff::SignedDuration::from_micros(1)).unwrap();
    assert_eq!(w.dev.post("/check", &at(just_before)).await.1["allowed"], true);
    assert_eq!(w.dev.post("/check", &at(end)).await.1["allowed"], false);

    assert_eq!(w.dev.check(&w.dev_id, MSG, "conversation", &w.conv).await["allowed"], true, "allowed before");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let d = w.dev.check(&w.dev_id, MSG, "conversation", &w.conv).await;
    assert_eq!(d["allowed"], false, "denied after: {d}");
    assert_eq!(d["reasons"][0]["code"], "expired");
    assert!(d["reasons"][0]["message"].as_str().unwrap().contains("expired"), "{d}");
    let (_, expired_events) = w.owner.get("/audit?event_type=grant.expired").await;
    assert_eq!(expired_events["events"].as_array().unwrap().len(), 0, "no sweeper ran, and the decision did not need one");
}

#[tokio::test]
async fn the_sweeper_records_expiries_by_the_system_at_the_instant() {
    let w = world(TestServer::start().await).await;
    let (_, made) =
        w.dev.post(&format!("/conversation/{}/request_access", w.conv), &request("Short debugging session", Some("PT1S"))).await;
    let end = made["grants"][0]["expires_at"].as_str().unwrap().to_owned();
    let mut events = Vec::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        events = w.owner.get("/audit?event_type=grant.expired").await.1["events"].as_array().unwrap().clone();
        if events.len() == 3 {
            break;
        }
    }
    assert_eq!(events.len(), 3, "one expired event per grant");
    for e in &events {
        assert_eq!(e["actor"], json!({ "type": "system" }));
        assert_eq!(e["at"].as_str().unwrap(), end, "written for the instant of expiry");
    }
    let (_, rows) = w.owner.get(&format!("/audit?event_type=rbac_grant&principal=user:{}", w.dev_id)).await;
    let rows = rows["events"].as_array().unwrap();
    let ended: Vec<&Value> = rows.iter().filter(|r| r["after"]["cause"]["event"] == "grant.expired").collect();
    assert_eq!(ended.len(), 1, "one effective-set row for the three grants that ended together: {rows:?}");
    assert_eq!(ended[0]["after"]["removed"].as_array().unwrap().len(), 3, "{}", ended[0]);
    assert_eq!((ended[0]["actor"].clone(), ended[0]["at"].as_str().unwrap()), (json!({ "type": "system" }), end.as_str()));
    assert_eq!(w.owner.get("/audit/verify").await.1["ok"], true);
}

#[tokio::test]
async fn revoke_takes_effect_on_the_next_check() {
    let w = world(TestServer::start().await).await;
    let (_, made) = w.dev.post(&format!("/conversation/{}/request_access", w.conv), &request("Debugging reported issue #42", None)).await;
    assert_eq!(w.dev.check(&w.dev_id, MSG, "conversation", &w.conv).await["allowed"], true);
    let id = made["grants"][1]["id"].as_str().unwrap();
    let (status, revoked) = w.owner.delete(&format!("/role/temporary_permission_grant/{id}/")).await;
    assert_eq!(status, 200, "{revoked}");
    let d = w.dev.check(&w.dev_id, MSG, "conversation", &w.conv).await;
    assert_eq!((d["allowed"].clone(), d["reasons"][0]["code"].clone()), (json!(false), json!("revoked")));
    let (status, again) = w.owner.delete(&format!("/role/temporary_permission_grant/{id}/")).await;
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("conflict")));
    // The other two grants still work.
    assert_eq!(w.dev.check(&w.dev_id, "Conversation:GetConversation", "conversation", &w.conv).await["allowed"], true);
}

#[tokio::test]
async fn editing_an_audit_row_breaks_the_chain() {
    let w = world(TestServer::start().await).await;
    w.dev.post(&format!("/conversation/{}/request_access", w.conv), &request("Debugging reported issue #42", None)).await;
    let (_, ok) = w.owner.get("/audit/verify").await;
    assert_eq!(ok["ok"], true, "{ok}");
    let pool = sqlx::SqlitePool::connect(&w.server.db_url()).await.unwrap();
    sqlx::query(
        "UPDATE audit_events SET justification = 'nothing to see here' WHERE event_type = 'grant.created' AND justification IS NOT NULL",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (_, broken) = w.owner.get("/audit/verify").await;
    assert_eq!(broken["ok"], false, "{broken}");
    assert!(broken["broken_at"]["reason"].as_str().unwrap().contains("edited"), "{broken}");
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let server = TestServer::start().await;
    let a = world(server).await;
    let b_owner = a.server.bootstrap("globex", "owner@globex.test").await;
    let (b_user, _) = b_owner.create_user("spy@globex.test", "org_member").await;
    // A token of one organization is refused in the other.
    let crossed = Api::new(&a.server.url, "globex", &a.owner.token);
    let (status, resp) = crossed.get("/users").await;
    assert_eq!((status, resp["error"]["code"].as_str()), (403, Some("forbidden")), "{resp}");
    // Names from the other organization resolve to nothing here.
    let body =
        json!({ "principal": { "type": "user", "id": b_user }, "permission": MSG, "resource": { "type": "conversation", "id": a.conv } });
    let (_, d) = a.owner.post("/check?explain=true", &body).await;
    assert_eq!(d["reasons"][0]["code"], "unknown_principal");
    assert_eq!(a.owner.post("/check", &body).await.1["allowed"], false, "the fast path too");
    let (status, _) = a.owner.post(&format!("/users/{b_user}/tokens"), &json!({})).await;
    assert_eq!(status, 404);
    let (_, users) = a.owner.get("/users").await;
    assert!(!users.to_string().contains("globex"), "{users}");
    let (_, audit) = b_owner.get("/audit?limit=1000").await;
    assert!(!audit.to_string().contains(&a.dev_id), "globex's audit log holds nothing of acme's");
}

#[tokio::test]
async fn the_isolation_report_is_for_admins() {
    let w = world(TestServer::start().await).await;
    let (_, admin) = w.owner.create_user("admin@acme.test", "org_admin").await;
    assert_eq!(admin.get("/admin/isolation").await.0, 200);
    let (status, report) = w.owner.get("/admin/isolation").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["backend"], "sqlite");
    assert!(report["tables"].as_array().unwrap().iter().any(|t| t["table"] == "grants"));
    let (status, _) = w.dev.get("/admin/isolation").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn openapi_and_health_are_served() {
    let server = TestServer::start().await;
    let doc: Value = reqwest::get(format!("{}/openapi.json", server.url)).await.unwrap().json().await.unwrap();
    for path in [
        "/v1/{org}/role/temporary_permission_grant/",
        "/v1/{org}/role/temporary_permission_grants/",
        "/v1/{org}/conversation/",
        "/v1/{org}/check",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    let health: Value = reqwest::get(format!("{}/healthz", server.url)).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let missing = reqwest::get(format!("{}/v2/nothing", server.url)).await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_scope_tree_is_managed_by_admins_and_seen_by_all() {
    let w = world(TestServer::start().await).await;
    let (status, ws) = w.owner.post("/workspaces", &json!({ "slug": "ml" })).await;
    assert_eq!(status, 201, "{ws}");
    assert_eq!(w.owner.post("/projects", &json!({ "project": "ml/agents" })).await.0, 201);
    let (status, env) = w.owner.post("/environments", &json!({ "project": "ml/agents", "name": "prod", "is_production": true })).await;
    assert_eq!(
        (status, env["scope"]["path"].as_str(), env["scope"]["is_production"].as_bool()),
        (201, Some("ml/agents/prod"), Some(true)),
        "{env}"
    );
    assert_eq!(w.owner.post("/environments", &json!({ "project": "ml/agents", "name": "dev" })).await.0, 201);
    let audit_before = w.owner.get("/audit?limit=1000").await.1["events"].as_array().unwrap().len();

    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("/workspaces", json!({ "slug": "ml" }), 409, "already exists"),
        ("/workspaces", json!({ "slug": "Bad Slug" }), 422, "not a slug"),
        ("/projects", json!({ "project": "nope/agents" }), 404, "no workspace `nope`"),
        ("/projects", json!({ "project": "agents" }), 422, "WORKSPACE/PROJECT"),
        ("/environments", json!({ "project": "ml/none", "name": "x" }), 404, "no project `ml/none`"),
        ("/environments", json!({ "project": "ml/agents", "name": "a/b" }), 422, "single name"),
    ];
    for (path, body, status, needle) in cases {
        let (got, resp) = w.owner.post(path, &body).await;
        assert_eq!(got, status, "{path} {body}: {resp}");
        assert!(resp["error"]["message"].as_str().unwrap().contains(needle), "{resp}");
    }
    let (status, resp) = w.dev.post("/workspaces", &json!({ "slug": "mine" })).await;
    assert_eq!((status, resp["error"]["code"].as_str()), (403, Some("forbidden")), "members do not manage scopes");
    assert_eq!(w.owner.get("/audit?limit=1000").await.1["events"].as_array().unwrap().len(), audit_before, "failures write nothing");

    let (_, envs) = w.dev.get("/environments?under=ml/agents").await;
    let paths: Vec<&str> = envs["scopes"].as_array().unwrap().iter().map(|s| s["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["ml/agents/dev", "ml/agents/prod"], "members see the tree");
    let (status, flipped) = w.owner.patch("/projects/ml/agents/environments/dev", &json!({ "is_production": true })).await;
    assert_eq!((status, flipped["scope"]["is_production"].as_bool()), (200, Some(true)), "{flipped}");
    let (_, events) = w.owner.get("/audit?event_type=environment.updated").await;
    assert_eq!(events["events"][0]["before"]["is_production"], false);
    let (_, same) = w.owner.patch("/projects/ml/agents/environments/dev", &json!({ "is_production": true })).await;
    assert_eq!(same["revision"], flipped["revision"], "setting the same value writes nothing");
}

#[tokio::test]
async fn a_trace_keeps_the_class_it_was_captured_with() {
    let w = world(TestServer::start().await).await;
    for (path, body) in [
        ("/workspaces", json!({ "slug": "ml" })),
        ("/projects", json!({ "project": "ml/agents" })),
        ("/environments", json!({ "project": "ml/agents", "name": "live", "is_production": true })),
    ] {
        assert_eq!(w.owner.post(path, &body).await.0, 201);
    }
    let live = json!({ "project": "ml/agents", "environment": "live" });
    let (status, old) = w.owner.post("/traces", &live).await;
    assert_eq!((status, old["is_prod"].as_bool()), (201, Some(true)), "{old}");
    w.owner.patch("/projects/ml/agents/environments/live", &json!({ "is_production": false })).await;
    let (_, new) = w.owner.post("/traces", &live).await;
    assert_eq!(new["is_prod"], false, "a new trace takes the new class");

    let (_, me) = w.owner.get("/me").await;
    let owner_id = me["user"]["id"].as_str().unwrap();
    let (old_id, new_id) = (old["id"].as_str().unwrap(), new["id"].as_str().unwrap());
    assert_eq!(
        w.owner.check(owner_id, "traces:read:prod", "trace", old_id).await["allowed"],
        true,
        "the old trace is still a production trace"
    );
    let d = w.owner.check(owner_id, "traces:read", "trace", old_id).await;
    assert_eq!((d["allowed"].clone(), d["reasons"][0]["code"].clone()), (json!(false), json!("condition_failed")), "{d}");
    assert_eq!(w.owner.check(owner_id, "traces:read", "trace", new_id).await["allowed"], true);
    assert_eq!(w.owner.check(owner_id, "traces:read:prod", "trace", new_id).await["allowed"], false);

    let (status, err) = w.owner.post("/traces", &json!({ "project": "ml/agents", "environment": "nope" })).await;
    assert_eq!((status, err["error"]["message"].as_str().unwrap().contains("no environment `ml/agents/nope`")), (404, true), "{err}");
    assert_eq!(w.dev.post("/traces", &json!({ "project": "ml/agents", "environment": "live" })).await.0, 403);
}
