//! Seed 002 through the API: roles at a tier with their rules, time-bounded roles, the
//! `rbac_grant` rows, and API keys that act only within their project and scopes.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};
use std::time::Duration;

grantry_testkit::on_both_backends!(
    roles_follow_the_tier_rules_and_cascade_down,
    a_time_bounded_role_ends_on_time_and_the_system_records_both_ends,
    api_keys_act_only_within_their_project_and_scopes,
);

const READ: &str = "traces:read";
const PROD: &str = "traces:read:prod";
/// What `org_member` carries, which every member holds at every node.
/// What an org_member holds at the organization, sorted (seed 003 gives every user organization-wide agents).
const MEMBER: [&str; 5] = ["Agent:Use", "Agent:View", "DataSource:Retrieve", "Role:CreateTemporaryPermissionGrant", "User:List"];

fn user(email: &str) -> Value {
    json!({ "type": "user", "email": email })
}

fn system() -> Value {
    json!({ "type": "system" })
}

fn key(id: &str) -> Value {
    json!({ "type": "api_key", "id": id })
}

/// The audit rows of `event_type`, optionally about `principal`.
async fn events(api: &Api, event_type: &str, principal: Option<&str>) -> Vec<Value> {
    let q = principal.map(|p| format!("&principal={p}")).unwrap_or_default();
    let (status, page) = api.get(&format!("/audit?event_type={event_type}{q}")).await;
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().unwrap().clone()
}

async fn audit_len(api: &Api) -> usize {
    api.get("/audit").await.1["events"].as_array().unwrap().len()
}

/// An organization with a project tree, a production and a development trace in `ml/agents`, and
/// a production trace in `other/p`.
struct Tree {
    owner: Api,
    prod: String,
    dev: String,
    elsewhere: String,
}

async fn tree(server: &TestServer) -> Tree {
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_scopes(&["ml", "ml/agents", "ml/agents/prod!", "ml/agents/dev", "other", "other/p", "other/p/prod!"]).await;
    let prod = owner.capture_trace("ml/agents", "prod").await;
    let dev = owner.capture_trace("ml/agents", "dev").await;
    let elsewhere = owner.capture_trace("other/p", "prod").await;
    Tree { owner, prod, dev, elsewhere }
}

async fn roles_follow_the_tier_rules_and_cascade_down(server: TestServer) {
    let t = tree(&server).await;
    let (pa_id, pa) = t.owner.create_user("pa@acme.test", "org_member").await;
    let (_, wa) = t.owner.create_user("wa@acme.test", "org_member").await;
    let (_, pd) = t.owner.create_user("pd@acme.test", "org_member").await;
    let (_, oa) = t.owner.create_user("oa@acme.test", "org_admin").await;

    // Bad input: each a clear error, nothing written.
    let before = audit_len(&t.owner).await;
    let (s, b) = t.owner.grant_role("pa@acme.test", "project_admin", "ml", json!({})).await;
    assert_eq!(s, 422, "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("is a project role and cannot be held at a workspace"), "{b}");
    let (s, b) = t.owner.grant_role("pa@acme.test", "project_wizard", "ml/agents", json!({})).await;
    assert_eq!((s, b["error"]["message"].as_str().unwrap().contains("unknown role `project_wizard`")), (422, true), "{b}");
    let (s, b) = t.owner.grant_role("pa@acme.test", "project_admin", "ml/nope", json!({})).await;
    assert_eq!(s, 404, "{b}");
    let (s, b) = t.owner.grant_role("nobody@acme.test", "project_admin", "ml/agents", json!({})).await;
    assert_eq!(s, 404, "{b}");
    let (s, b) = t.owner.grant_role("pa@acme.test", "project_admin", "ml/agents", json!({ "duration": "P30D" })).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (422, Some("duration")), "{b}");
    let (s, b) = t.owner.grant_role("pa@acme.test", "project_admin", "ml/agents", json!({ "until": "2020-01-01T00:00:00Z" })).await;
    assert_eq!((s, b["error"]["details"]["field"].as_str()), (422, Some("until")), "{b}");
    let (s, b) = t
        .owner
        .grant_role("pa@acme.test", "project_admin", "ml/agents", json!({ "duration": "PT1H", "until": "2030-01-01T00:00:00Z" }))
        .await;
    assert_eq!(s, 422, "either duration or until: {b}");
    let (s, b) = t.owner.revoke_role("pa@acme.test", "project_admin", "ml/agents").await;
    assert_eq!(s, 404, "revoking what is not held: {b}");
    let (s, b) = t.owner.revoke_role("owner@acme.test", "org_owner", "org").await;
    assert!(s == 409 && b["error"]["message"].as_str().unwrap().contains("without an owner"), "the last owner stays: {b}");
    let (s, b) = t.owner.grant_role("owner@acme.test", "org_member", "org", json!({})).await;
    assert_eq!(s, 409, "nor is replaced: {b}");
    let (s, b) = pd.grant_role("pd@acme.test", "project_developer", "ml/agents", json!({})).await;
    assert_eq!(s, 403, "a member cannot assign roles: {b}");
    assert_eq!(audit_len(&t.owner).await, before, "nothing was written");

    // The owner makes wa a workspace admin; wa may then give non-prod roles below it, not prod ones.
    let (s, b) = t.owner.grant_role("wa@acme.test", "workspace_admin", "ml", json!({})).await;
    assert_eq!((s, &b["effective_changed"]), (201, &json!(true)), "{b}");
    let (s, b) = wa.grant_role("pd@acme.test", "project_developer", "ml/agents", json!({})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = wa.grant_role("pa@acme.test", "project_admin", "ml/agents", json!({})).await;
    assert_eq!(s, 403, "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("only org_admin or higher may grant"), "{b}");
    let (s, b) = wa.grant_role("pa@acme.test", "project_developer", "other/p", json!({})).await;
    assert_eq!(s, 403, "wa assigns roles only in its workspace: {b}");
    let (s, b) = oa.grant_role("pa@acme.test", "project_admin", "ml/agents", json!({ "justification": "leads the agents team" })).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = oa.grant_role("pa@acme.test", "project_admin", "ml/agents", json!({})).await;
    assert_eq!(s, 409, "already held: {b}");
    let until = grantry_server::clock::now().checked_add(jiff::SignedDuration::from_hours(4)).unwrap().to_string();
    let (s, b) = t.owner.grant_role("pd@acme.test", "project_admin", "ml/agents", json!({ "until": until })).await;
    assert_eq!(
        (s, b["grant"]["expires_at"].as_str().map(|e| e.parse::<jiff::Timestamp>().unwrap().to_string())),
        (201, Some(until)),
        "{b}"
    );
    t.owner.revoke_role("pd@acme.test", "project_admin", "ml/agents").await;

    // The seed's table, the cascade and the edge of each tier.
    for (who, prod, dev) in [("pa@acme.test", true, true), ("pd@acme.test", false, true), ("wa@acme.test", true, true)] {
        assert_eq!(t.owner.allowed(user(who), PROD, &t.prod).await, prod, "{who} prod");
        assert_eq!(t.owner.allowed(user(who), READ, &t.dev).await, dev, "{who} dev");
        assert!(!t.owner.allowed(user(who), PROD, &t.elsewhere).await, "{who} outside its tier");
    }
    assert!(!t.owner.allowed(user("pa@acme.test"), READ, &t.prod).await, "traces:read does not reach a prod trace");

    // Granting what is already held there changes nothing and writes no rbac_grant row.
    let rows = events(&t.owner, "rbac_grant", None).await.len();
    let (s, b) = t.owner.grant_role("wa@acme.test", "project_admin", "ml/agents", json!({})).await;
    assert_eq!((s, &b["effective_changed"]), (201, &json!(false)), "{b}");
    assert_eq!(events(&t.owner, "rbac_grant", None).await.len(), rows, "no-op writes no rbac_grant");

    // A permanent role replaces the one held at that node: pa goes from admin to developer.
    let (s, b) = oa.grant_role("pa@acme.test", "project_developer", "ml/agents", json!({})).await;
    assert_eq!((s, b["replaced"][0]["role"].as_str()), (201, Some("project_admin")), "{b}");
    assert!(!t.owner.allowed(user("pa@acme.test"), PROD, &t.prod).await, "refused on the very next request");
    let pa_rows = events(&t.owner, "rbac_grant", Some(&format!("user:{pa_id}"))).await;
    let last = pa_rows.last().unwrap();
    assert_eq!(last["target_id"], "ml/agents");
    assert!(last["before"]["effective"].as_array().unwrap().contains(&json!(PROD)), "{last}");
    assert_eq!(
        last["after"]["effective"],
        json!([MEMBER[0], MEMBER[1], MEMBER[2], MEMBER[3], MEMBER[4], READ]),
        "the org role cascades down: {last}"
    );
    assert_eq!(last["after"]["removed"].as_array().unwrap().first(), Some(&json!("AccessRequest:Approve")), "{last}");
    let (s, _) = t.owner.revoke_role("pa@acme.test", "project_developer", "ml/agents").await;
    assert_eq!(s, 200);
    assert!(!t.owner.allowed(user("pa@acme.test"), READ, &t.dev).await);

    // The matrix shows who reads prod traces, where and since when.
    let (s, m) = pa.get("/roles/matrix").await;
    assert_eq!(s, 200, "{m}");
    let row = m["rows"].as_array().unwrap().iter().find(|r| r["email"] == "wa@acme.test").unwrap().clone();
    assert_eq!(row["prod_traces"], json!(["ml", "ml/agents"]), "{row}");
    assert_eq!(row["roles"][1]["role"], "workspace_admin");
    assert!(row["roles"][1]["since"].is_string());
    assert_eq!(t.owner.get("/audit/verify").await.1["ok"], true);
}

async fn a_time_bounded_role_ends_on_time_and_the_system_records_both_ends(server: TestServer) {
    let t = tree(&server).await;
    let (dev_id, _) = t.owner.create_user("dev@acme.test", "org_member").await;
    let (s, b) = t
        .owner
        .grant_role("dev@acme.test", "project_admin", "ml/agents", json!({ "duration": "PT2S", "justification": "incident 4711" }))
        .await;
    assert_eq!(s, 201, "{b}");
    let end: jiff::Timestamp = b["grant"]["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(t.owner.allowed(user("dev@acme.test"), PROD, &t.prod).await);
    let just_before = end.checked_sub(jiff::SignedDuration::from_micros(1)).unwrap();
    let at = |when: jiff::Timestamp| json!({ "principal": user("dev@acme.test"), "permission": PROD, "resource": { "type": "trace", "id": t.prod }, "at": when.to_string() });
    assert_eq!(t.owner.post("/check", &at(just_before)).await.1["allowed"], true);
    assert_eq!(t.owner.post("/check", &at(end)).await.1["allowed"], false, "it stops at its end, exactly");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert!(!t.owner.allowed(user("dev@acme.test"), PROD, &t.prod).await);

    let principal = format!("user:{dev_id}");
    let mut expired = vec![];
    for _ in 0..50 {
        expired = events(&t.owner, "role.expired", Some(&principal)).await;
        if !expired.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(expired.len(), 1, "the sweeper records the expiry");
    assert_eq!((expired[0]["actor"].clone(), expired[0]["at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap()), (system(), end));
    let rows = events(&t.owner, "rbac_grant", Some(&principal)).await;
    assert_eq!(rows.len(), 2, "one row at each end: {rows:?}");
    assert!(rows[0]["after"]["added"].as_array().unwrap().contains(&json!(PROD)));
    assert_eq!((rows[1]["actor"].clone(), rows[1]["after"]["effective"].clone()), (system(), json!(MEMBER)));
    assert_eq!(rows[1]["at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap(), end);
    assert_eq!(t.owner.get("/audit/verify").await.1["ok"], true);
}

async fn api_keys_act_only_within_their_project_and_scopes(server: TestServer) {
    let t = tree(&server).await;
    let (s, made) = t.owner.post("/api-keys", &json!({ "project": "ml/agents", "scopes": [PROD], "name": "prod reader" })).await;
    assert_eq!(s, 201, "{made}");
    let id = made["key"]["id"].as_str().unwrap().to_owned();
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert_eq!(made["key"]["scopes"], json!([PROD]), "traces:read:prod alone is legal");

    assert!(t.owner.allowed(key(&id), PROD, &t.prod).await);
    assert!(!t.owner.allowed(key(&id), READ, &t.dev).await, "not a scope of the key");
    assert!(!t.owner.allowed(key(&id), PROD, &t.elsewhere).await, "outside its project");

    // The key authenticates as a Bearer token and acts only within its project and scopes.
    let as_key = t.owner.with_token(&secret);
    assert!(as_key.allowed(key(&id), PROD, &t.prod).await, "a key may check itself");
    let (s, b) = as_key.post("/traces", &json!({ "project": "ml/agents", "environment": "prod" })).await;
    assert_eq!(s, 403, "Trace:Capture is not a scope of this key: {b}");
    let (s, capture) = t.owner.post("/api-keys", &json!({ "project": "ml/agents", "scopes": ["Trace:Capture"] })).await;
    assert_eq!(s, 201, "{capture}");
    let ingest = t.owner.with_token(capture["secret"].as_str().unwrap());
    assert_eq!(ingest.post("/traces", &json!({ "project": "ml/agents", "environment": "dev" })).await.0, 201);
    let (s, b) = ingest.post("/traces", &json!({ "project": "other/p", "environment": "prod" })).await;
    assert_eq!(s, 403, "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("acts only within project `ml/agents`"), "{b}");

    // Bad input writes nothing.
    let (_, dev) = t.owner.create_user("dev@acme.test", "org_member").await;
    let before = audit_len(&t.owner).await;
    for (body, status) in [
        (json!({ "project": "ml/agents", "scopes": ["traces:write"] }), 422),
        (json!({ "project": "ml/agents", "scopes": ["User:Manage"] }), 422),
        (json!({ "project": "ml/agents", "scopes": [] }), 422),
        (json!({ "project": "ml/none", "scopes": [READ] }), 404),
    ] {
        let (s, b) = t.owner.post("/api-keys", &body).await;
        assert_eq!(s, status, "{body}: {b}");
    }
    assert_eq!(t.owner.patch(&format!("/api-keys/{id}"), &json!({ "remove_scopes": [READ] })).await.0, 404, "not carried");
    assert_eq!(t.owner.patch(&format!("/api-keys/{id}"), &json!({ "remove_scopes": [PROD] })).await.0, 422, "the last scope");
    assert_eq!(dev.post("/api-keys", &json!({ "project": "ml/agents", "scopes": [READ] })).await.0, 403);
    assert_eq!(audit_len(&t.owner).await, before, "nothing was written");

    // Edits take effect on the next request, and each writes an rbac_grant row.
    let (s, b) = t.owner.patch(&format!("/api-keys/{id}"), &json!({ "add_scopes": [READ], "remove_scopes": [PROD] })).await;
    assert_eq!((s, &b["key"]["scopes"]), (200, &json!([READ])), "{b}");
    assert!(!t.owner.allowed(key(&id), PROD, &t.prod).await);
    assert!(t.owner.allowed(key(&id), READ, &t.dev).await);
    let rows = events(&t.owner, "rbac_grant", Some(&format!("api_key:{id}"))).await;
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[1]["before"]["effective"].clone(), rows[1]["after"]["effective"].clone()), (json!([PROD]), json!([READ])));

    // Revoked: refused on the very next request, as a principal and as a Bearer token.
    assert_eq!(t.owner.delete(&format!("/api-keys/{id}")).await.0, 200);
    assert!(!t.owner.allowed(key(&id), READ, &t.dev).await);
    assert_eq!(as_key.get("/me").await.0, 401);
    assert_eq!(t.owner.delete(&format!("/api-keys/{id}")).await.0, 409, "already revoked");

    // The secret is never listed nor logged.
    let (_, list) = t.owner.get("/api-keys").await;
    assert_eq!(list["keys"].as_array().unwrap().len(), 2);
    let log = t.owner.get("/audit").await.1.to_string();
    assert!(!list.to_string().contains(&secret) && !log.contains(&secret));
    assert_eq!(t.owner.get("/audit/verify").await.1["ok"], true);
}
