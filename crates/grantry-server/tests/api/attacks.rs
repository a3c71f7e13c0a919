//! Issue 9's attacks, each tried the way an attacker would through the HTTP API, each refused:
//! self-escalation through the raw grant API, an admin demoting an owner, hostile and oversized
//! input, and an API key looking beyond its project. Nothing a refused call tried is written.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};

const MSG: &str = "Conversation:GetMessage";

/// An owner, a second owner, an org_admin, a member `dev`, bob with a registered conversation,
/// and a production trace.
struct Org {
    server: TestServer,
    owner: Api,
    admin: Api,
    dev: Api,
    dev_id: String,
    bob_id: String,
    conv: String,
    org_id: String,
    prod_trace: String,
}

async fn org() -> Org {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_user("owner2@acme.test", "org_owner").await;
    let (_, admin) = owner.create_user("admin@acme.test", "org_admin").await;
    let (dev_id, dev) = owner.create_user("dev@acme.test", "org_member").await;
    let (bob_id, _) = owner.create_user("bob@acme.test", "org_member").await;
    let conv = owner.register_conversation(&bob_id).await;
    let org_id = owner.get("/me").await.1["org_id"].as_str().unwrap().to_owned();
    owner.create_scopes(&["ml", "ml/agents", "ml/agents/prod!"]).await;
    let prod_trace = owner.capture_trace("ml/agents", "prod").await;
    Org { server, owner, admin, dev, dev_id, bob_id, conv, org_id, prod_trace }
}

fn raw_grant(user_id: &str, permission: &str, conditions: Value) -> Value {
    json!({ "user_id": user_id, "duration": "PT1H", "justification": "incident 4711: need to look",
            "permission_grant": { "permission_name": permission, "conditions": conditions } })
}

async fn allowed(api: &Api, user_id: &str, permission: &str, kind: &str, id: &str) -> bool {
    api.check(user_id, permission, kind, id).await["allowed"].as_bool().unwrap()
}

async fn audit_len(api: &Api) -> usize {
    api.get("/audit?limit=1000").await.1["events"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_member_cannot_widen_its_own_access_through_the_raw_grant_api() {
    let o = org().await;
    let path = "/role/temporary_permission_grant/";
    let (grants, events) = (o.server.grant_count("acme"), audit_len(&o.owner).await);
    let unregistered_owner = "0123456789abcdef01234567";
    let attempts = [
        ("prod traces, unconditioned", raw_grant(&o.dev_id, "traces:read:prod", json!({}))),
        ("prod traces, bound to prod", raw_grant(&o.dev_id, "traces:read:prod", json!({ "is_prod": { "type": "Equals", "value": true } }))),
        ("traces widened to prod", raw_grant(&o.dev_id, "traces:read", json!({ "is_prod": { "type": "Equals", "value": true } }))),
        ("every conversation", raw_grant(&o.dev_id, MSG, json!({}))),
        ("every conversation of the org", raw_grant(&o.dev_id, MSG, json!({ "org_id": { "type": "Equals", "value": o.org_id } }))),
        (
            "every owner but one",
            raw_grant(
                &o.dev_id,
                MSG,
                json!({ "conversation_user_id": { "type": "NotEquals", "value": "x" }, "org_id": { "type": "Equals", "value": o.org_id } }),
            ),
        ),
        ("an owner without the org", raw_grant(&o.dev_id, MSG, json!({ "conversation_user_id": { "type": "Equals", "value": o.bob_id } }))),
        (
            "an owner of nothing registered",
            raw_grant(
                &o.dev_id,
                MSG,
                json!({ "conversation_user_id": { "type": "Equals", "value": unregistered_owner }, "org_id": { "type": "Equals", "value": o.org_id } }),
            ),
        ),
    ];
    for (what, body) in &attempts {
        let (status, err) = o.dev.post(path, body).await;
        assert!(matches!(status, 403 | 404), "{what}: {status} {err}");
        assert!(!err["error"]["message"].as_str().unwrap().contains("--"), "no CLI flag in a service message: {err}");
    }
    assert_eq!((o.server.grant_count("acme"), audit_len(&o.owner).await), (grants, events), "nothing was written");
    assert!(!allowed(&o.dev, &o.dev_id, "traces:read:prod", "trace", &o.prod_trace).await);
    assert!(!allowed(&o.dev, &o.dev_id, MSG, "conversation", &o.conv).await);

    // The seed's shape works, and writes the rbac_grant row and a matrix entry with its end.
    let seed = raw_grant(
        &o.dev_id,
        MSG,
        json!({ "conversation_user_id": { "type": "Equals", "value": o.bob_id }, "org_id": { "type": "Equals", "value": o.org_id } }),
    );
    let (status, made) = o.dev.post(path, &seed).await;
    assert_eq!(status, 201, "{made}");
    assert!(allowed(&o.dev, &o.dev_id, MSG, "conversation", &o.conv).await);
    let (_, rows) = o.owner.get(&format!("/audit?event_type=rbac_grant&principal=user:{}", o.dev_id)).await;
    let row = &rows["events"].as_array().unwrap()[0];
    assert_eq!(row["after"]["added"], json!([MSG]), "{row}");
    let (_, matrix) = o.owner.get("/roles/matrix").await;
    let dev_row = matrix["rows"].as_array().unwrap().iter().find(|r| r["email"] == "dev@acme.test").unwrap();
    assert_eq!(dev_row["temporary"][0]["permission"], MSG, "{dev_row}");
    assert_eq!(dev_row["temporary"][0]["until"], made["expires_at"]);
    let (status, _) =
        o.dev.delete(&format!("/role/temporary_permission_grant/{}/", made["temporary_permission_grant_id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    let (_, rows) = o.owner.get(&format!("/audit?event_type=rbac_grant&principal=user:{}", o.dev_id)).await;
    let revoked = rows["events"].as_array().unwrap().iter().find(|r| r["after"]["cause"]["event"] == "grant.revoked").cloned();
    assert_eq!(revoked.map(|r| r["after"]["removed"].clone()), Some(json!([MSG])), "the revocation's effective-set row");

    // An org_admin may give prod traces bound to their class, for a while; a member may not ask an
    // admin's power for someone else.
    let prod = raw_grant(&o.dev_id, "traces:read:prod", json!({ "is_prod": { "type": "Equals", "value": true } }));
    let (status, body) = o.admin.post(path, &prod).await;
    assert_eq!(status, 201, "{body}");
    assert!(allowed(&o.dev, &o.dev_id, "traces:read:prod", "trace", &o.prod_trace).await);
    let (status, _) = o.dev.post(path, &raw_grant(&o.bob_id, MSG, seed["permission_grant"]["conditions"].clone())).await;
    assert_eq!(status, 403, "a member grants only to itself");
}

#[tokio::test]
async fn an_admin_cannot_demote_an_owner_and_revoking_leaves_a_member() {
    let o = org().await;
    let events = audit_len(&o.owner).await;
    let (status, body) = o.admin.grant_role("owner2@acme.test", "org_member", "org", json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = o.admin.revoke_role("owner2@acme.test", "org_owner", "org").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(audit_len(&o.owner).await, events);

    // An owner may; revoking an organization role leaves the user org_member, so they can still ask.
    let (status, body) = o.owner.revoke_role("admin@acme.test", "org_admin", "org").await;
    assert_eq!(status, 200, "{body}");
    let (_, matrix) = o.owner.get("/roles/matrix").await;
    let row = matrix["rows"].as_array().unwrap().iter().find(|r| r["email"] == "admin@acme.test").unwrap();
    assert_eq!(row["roles"][0]["role"], "org_member", "{row}");
    let (status, body) = o
        .admin
        .post(&format!("/conversation/{}/request_access", o.conv), &json!({ "justification": "Debugging reported issue #42" }))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = o.owner.revoke_role("dev@acme.test", "org_member", "org").await;
    assert_eq!(status, 409, "the least role is not taken away: {body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("suspend"), "{body}");
}

#[tokio::test]
async fn hostile_and_oversized_input_is_refused_and_writes_nothing() {
    let o = org().await;
    let (grants, events) = (o.server.grant_count("acme"), audit_len(&o.owner).await);
    let path = format!("/conversation/{}/request_access", o.conv);
    let huge = "x".repeat(1_000_001);
    for (what, body) in [
        ("a 1 MB justification", json!({ "justification": huge })),
        ("1,001 characters", json!({ "justification": "y".repeat(1001) })),
        ("terminal escapes", json!({ "justification": "Debugging \u{1b}[2J\u{1b}[H issue #42" })),
        ("a right-to-left override", json!({ "justification": "Debugging \u{202E}24# eussi" })),
        ("a tenth of a microsecond", json!({ "justification": "Debugging issue #42", "duration": "PT0.0000001S" })),
        ("half a second", json!({ "justification": "Debugging issue #42", "duration": "PT0.5S" })),
    ] {
        let (status, body) = o.dev.post(&path, &body).await;
        assert!(matches!(status, 413 | 422), "{what}: {status} {body}");
        assert!(body["error"]["code"].is_string(), "{what}: the JSON error shape: {body}");
    }
    for email in ["nul\u{0}@acme.test", "esc\u{1b}[31m@acme.test", "rtl\u{202E}@acme.test", &format!("{}@acme.test", "a".repeat(65))] {
        let (status, body) = o.owner.post("/users", &json!({ "email": email, "role": "org_member" })).await;
        assert_eq!(status, 422, "{email:?}: {body}");
    }
    assert_eq!((o.server.grant_count("acme"), audit_len(&o.owner).await), (grants, events), "nothing was written");
}

#[tokio::test]
async fn an_api_key_sees_only_its_own_project() {
    let o = org().await;
    o.owner.create_scopes(&["other", "other/secret"]).await;
    let (status, made) = o.owner.post("/api-keys", &json!({ "project": "ml/agents", "scopes": ["traces:read"] })).await;
    assert_eq!(status, 201, "{made}");
    let key = o.owner.with_token(made["secret"].as_str().unwrap());
    let paths = |v: Value| v["scopes"].as_array().unwrap().iter().map(|s| s["path"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(paths(key.get("/workspaces").await.1), ["ml"]);
    assert_eq!(paths(key.get("/projects").await.1), ["ml/agents"]);
    assert_eq!(paths(key.get("/environments?under=ml/agents").await.1), ["ml/agents/prod"]);
    assert_eq!(paths(o.owner.get("/projects").await.1), ["ml/agents", "other/secret"], "people see the whole tree");
    // Nor can it tell what exists beyond its project by probing: the same 403 either way.
    for (project, env) in [("other/secret", "prod"), ("other/none", "prod"), ("nowhere/none", "x")] {
        let (status, body) = key.post("/traces", &json!({ "project": project, "environment": env })).await;
        assert_eq!(status, 403, "{project}: {body}");
        let (status, _) = key.patch(&format!("/projects/{project}/environments/{env}"), &json!({ "is_production": true })).await;
        assert_eq!(status, 403, "{project}");
    }
    let (status, _) = key.post("/traces", &json!({ "project": "ml/agents", "environment": "nope" })).await;
    assert_eq!(status, 404, "its own project's tree it may know");
}

#[tokio::test]
async fn the_edges_of_http_answer_in_the_error_shape_and_at_once() {
    let o = org().await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/v1/acme{path}", o.server.url);
    let shape = |what: &str, status: u16, want: u16, body: &Value| {
        assert_eq!(status, want, "{what}: {body}");
        assert!(body["error"]["code"].is_string() && body["error"]["message"].is_string(), "{what}: {body}");
    };
    // A revision wait is for authenticated callers only: an unknown token is refused at once.
    let started = std::time::Instant::now();
    let resp = http
        .get(url("/me"))
        .bearer_auth(format!("gty_{}", "0".repeat(64)))
        .header("grantry-at-least-revision", "999999")
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    shape("unknown token naming a revision", status, 401, &resp.json().await.unwrap());
    assert!(started.elapsed() < std::time::Duration::from_millis(500), "no wait: {:?}", started.elapsed());
    // The scheme is `Bearer` and one space.
    let resp = http.get(url("/me")).header("authorization", format!("Bearer  {}", o.owner.token)).send().await.unwrap();
    let status = resp.status().as_u16();
    shape("two spaces", status, 401, &resp.json().await.unwrap());
    let resp = http.put(url("/users")).bearer_auth(&o.owner.token).send().await.unwrap();
    let status = resp.status().as_u16();
    shape("a method the route lacks", status, 405, &resp.json().await.unwrap());
    let resp = http.get(url(&format!("/users?email={}", "a".repeat(9_000)))).bearer_auth(&o.owner.token).send().await.unwrap();
    let status = resp.status().as_u16();
    shape("a long request target", status, 414, &resp.json().await.unwrap());
    let body = json!({ "justification": "z".repeat(300 * 1024) });
    let resp =
        http.post(url(&format!("/conversation/{}/request_access", o.conv))).bearer_auth(&o.dev.token).json(&body).send().await.unwrap();
    let status = resp.status().as_u16();
    shape("a large body", status, 413, &resp.json().await.unwrap());
}

#[tokio::test]
async fn a_project_admin_reads_its_projects_feed_with_what_cascades_into_it() {
    let o = org().await;
    o.owner.create_scopes(&["other", "other/p"]).await;
    let (_, lead) = o.owner.create_user("lead@acme.test", "org_member").await;
    let (_, developer) = o.owner.create_user("devel@acme.test", "org_member").await;
    for (email, role) in [("lead@acme.test", "project_admin"), ("devel@acme.test", "project_developer")] {
        let (status, body) = o.owner.grant_role(email, role, "ml/agents", json!({})).await;
        assert_eq!(status, 201, "{body}");
    }
    // A change at the organization that cascades into every project, and one in another project.
    let (status, _) = o.owner.grant_role("dev@acme.test", "org_admin", "org", json!({})).await;
    assert_eq!(status, 201);
    let (status, _) = o.owner.grant_role("dev@acme.test", "project_developer", "other/p", json!({})).await;
    assert_eq!(status, 201);

    let (status, feed) = lead.get("/audit?scope=ml/agents&event_type=rbac_grant").await;
    assert_eq!(status, 200, "{feed}");
    let targets: Vec<&str> = feed["events"].as_array().unwrap().iter().map(|e| e["target_id"].as_str().unwrap()).collect();
    assert!(targets.contains(&"ml/agents") && targets.contains(&"org"), "its own and the organization's: {targets:?}");
    assert!(!targets.contains(&"other/p"), "not another project's: {targets:?}");
    for (who, path) in
        [(&lead, "/audit"), (&lead, "/audit?scope=other/p"), (&lead, "/audit/verify"), (&developer, "/audit?scope=ml/agents")]
    {
        let (status, body) = who.get(path).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
}

/// The grant id of `email`'s role `role`, from the role matrix.
async fn role_grant_id(api: &Api, email: &str, role: &str) -> String {
    let (_, matrix) = api.get("/roles/matrix").await;
    let row = matrix["rows"].as_array().unwrap().iter().find(|r| r["email"] == email).unwrap().clone();
    row["roles"].as_array().unwrap().iter().find(|h| h["role"] == role).unwrap()["grant_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_temporary_grant_endpoint_revokes_nothing_but_temporary_grants() {
    let o = org().await;
    let events = audit_len(&o.owner).await;
    let owner_role = role_grant_id(&o.owner, "owner@acme.test", "org_owner").await;
    let admin_role = role_grant_id(&o.owner, "admin@acme.test", "org_admin").await;
    for (who, id) in [(&o.owner, &owner_role), (&o.admin, &owner_role), (&o.owner, &admin_role)] {
        let (status, body) = who.delete(&format!("/role/temporary_permission_grant/{id}/")).await;
        assert_eq!(status, 404, "{body}");
    }
    assert_eq!(audit_len(&o.owner).await, events, "nothing was written");
}

#[tokio::test]
async fn nobody_mints_a_token_that_carries_more_than_they_hold() {
    let o = org().await;
    // bob holds org_owner for an hour; the developer holds conversation access.
    let (status, body) = o.owner.grant_role("bob@acme.test", "org_owner", "org", json!({ "duration": "PT1H" })).await;
    assert_eq!(status, 201, "{body}");
    let (status, _) =
        o.dev.post(&format!("/conversation/{}/request_access", o.conv), &json!({ "justification": "Debugging issue #42" })).await;
    assert_eq!(status, 201);
    for target in [&o.bob_id, &o.dev_id] {
        let (status, body) = o.admin.post(&format!("/users/{target}/tokens"), &json!({})).await;
        assert_eq!(status, 403, "{body}");
    }
    let (status, body) = o.owner.post(&format!("/users/{}/tokens", o.dev_id), &json!({})).await;
    assert_eq!(status, 403, "not even an owner, who holds no conversation access: {body}");
    let (status, body) = o.dev.post(&format!("/users/{}/tokens", o.dev_id), &json!({})).await;
    assert_eq!(status, 201, "one's own: {body}");
}

#[tokio::test]
async fn only_org_admins_turn_production_off_and_conditions_hold_printable_values() {
    let o = org().await;
    let (_, lead) = o.owner.create_user("lead@acme.test", "org_member").await;
    let (status, _) = o.owner.grant_role("lead@acme.test", "workspace_admin", "ml", json!({})).await;
    assert_eq!(status, 201);
    let path = "/projects/ml/agents/environments/prod";
    let (status, body) = lead.patch(path, &json!({ "is_production": false })).await;
    assert_eq!(status, 403, "declassifying production: {body}");
    let (status, body) = o.admin.patch(path, &json!({ "is_production": false })).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = lead.patch(path, &json!({ "is_production": true })).await;
    assert_eq!(status, 200, "turning it on is a tier admin's to do: {body}");

    let escape = raw_grant(
        &o.dev_id,
        "traces:read",
        json!({ "is_prod": { "type": "Equals", "value": false }, "org_id": { "type": "Equals", "value": "\u{1b}]0;pwned\u{7}" } }),
    );
    let (status, body) = o.admin.post("/role/temporary_permission_grant/", &escape).await;
    assert_eq!(status, 422, "{body}");
    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let wide = raw_grant(&o.dev_id, MSG, json!({ "conversation_user_id": { "type": "In", "values": many } }));
    let (status, body) = o.owner.post("/role/temporary_permission_grant/", &wide).await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn a_revision_nobody_wrote_is_answered_at_once() {
    let o = org().await;
    let started = std::time::Instant::now();
    let resp = reqwest::Client::new()
        .get(format!("{}/v1/acme/me", o.server.url))
        .bearer_auth(&o.dev.token)
        .header("grantry-at-least-revision", u64::MAX.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    assert!(started.elapsed() < std::time::Duration::from_millis(500), "no wait: {:?}", started.elapsed());
}

#[tokio::test]
async fn what_a_member_may_learn_and_what_a_token_for_another_may_carry() {
    let o = org().await;
    let (status, _) =
        o.dev.post(&format!("/conversation/{}/request_access", o.conv), &json!({ "justification": "Debugging issue #42" })).await;
    assert_eq!(status, 201);
    let (_, bob) = o.owner.create_user("bob2@acme.test", "org_member").await;
    let temporary = |matrix: &Value, email: &str| {
        matrix["rows"].as_array().unwrap().iter().find(|r| r["email"] == email).unwrap()["temporary"].as_array().unwrap().len()
    };
    let (_, seen_by_member) = bob.get("/roles/matrix").await;
    assert_eq!(temporary(&seen_by_member, "dev@acme.test"), 0, "a member does not see others' temporary grants");
    let (_, seen_by_dev) = o.dev.get("/roles/matrix").await;
    assert_eq!(temporary(&seen_by_dev, "dev@acme.test"), 3, "one's own");
    let (_, seen_by_admin) = o.admin.get("/roles/matrix").await;
    assert_eq!(temporary(&seen_by_admin, "dev@acme.test"), 3);

    // Whether an address exists is told only to those who may check others.
    let body = json!({ "principal": { "type": "user", "email": "ghost@acme.test" }, "permission": MSG, "resource": { "type": "conversation", "id": o.conv } });
    assert_eq!(bob.post("/check", &body).await.0, 403);
    assert_eq!(o.admin.post("/check", &body).await.0, 404);

    // A token for someone else expires within a day, eight hours unless asked.
    let (_, carol) = o.owner.create_user("carol@acme.test", "org_member").await;
    let carol_id = carol.get("/me").await.1["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = o.owner.post(&format!("/users/{carol_id}/tokens"), &json!({ "expires_in": "P2D" })).await;
    assert_eq!(status, 422, "{body}");
    let (status, made) = o.owner.post(&format!("/users/{carol_id}/tokens"), &json!({})).await;
    assert_eq!(status, 201, "{made}");
    assert!(made["expires_at"].is_string(), "{made}");
    // What carol makes with the token minted for her ends with it; with one of her own, it may last.
    let (status, own) = carol.post(&format!("/users/{carol_id}/tokens"), &json!({})).await;
    assert_eq!((status, own["expires_at"].is_string()), (201, true), "bounded by the minted token: {own}");
    let carol = carol.own_token().await;
    let (status, own) = carol.post(&format!("/users/{carol_id}/tokens"), &json!({})).await;
    assert_eq!((status, own["expires_at"].is_null()), (201, true), "one's own may last: {own}");

    let (status, body) = o.owner.post("/workspaces", &json!({ "slug": "org" })).await;
    assert_eq!(status, 422, "`org` is the organization's own name in scope paths: {body}");
}

/// The URL `conversation create` prints resolves to a page that says what it is and how to ask
/// for access, reads nothing, and reflects nothing it has not validated.
#[tokio::test]
async fn the_printed_conversation_url_resolves_and_reflects_nothing_unvalidated() {
    let o = org().await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{}{path}", o.server.url);
        async move { http.get(url).send().await.unwrap() }
    };
    let page = get(format!("/acme/admin/conversation/{}", o.conv)).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/plain; charset=utf-8");
    let text = page.text().await.unwrap();
    assert!(text.contains(&o.conv) && text.contains("forge conversation request-access"), "{text}");
    assert!(!text.contains(&o.bob_id), "the owner is not told to a browser without a token: {text}");
    // Any organization and id of the right shape get the same page: it tells nothing about what exists.
    let other = get("/globex/admin/conversation/0123456789abcdef01234567".to_owned()).await;
    assert_eq!(other.status(), 200);
    for path in [
        "/acme/admin/conversation/%3Cscript%3E",
        "/ACME%3Cb%3E/admin/conversation/0123456789abcdef01234567",
        "/acme/admin/conversation/%ff",
    ] {
        let r = get(path.to_owned()).await;
        assert!(matches!(r.status().as_u16(), 400 | 422), "{path}: {}", r.status());
        // The error is JSON, never a page a browser would render.
        assert_eq!(r.headers()["content-type"], "application/json", "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["code"] == "invalid" || body["error"]["code"] == "bad_request", "{body}");
    }
}

/// Invisible characters make look-alike names; malformed ids are bad input, their echo bounded.
#[tokio::test]
async fn invisible_characters_and_malformed_ids_are_refused() {
    let o = org().await;
    let (status, made) = o.owner.post("/api-keys", &json!({ "project": "ml/agents", "scopes": ["traces:read"], "name": "reader" })).await;
    assert_eq!(status, 201, "{made}");
    let id = made["key"]["id"].as_str().unwrap();
    for name in ["reader\u{200B}", "reader\u{2028}two", "reader\u{FEFF}", "reader\u{E0041}"] {
        let (status, body) = o.owner.patch(&format!("/api-keys/{id}"), &json!({ "name": name })).await;
        assert_eq!(status, 422, "{name:?}: {body}");
    }
    let (status, body) =
        o.owner.post(&format!("/users/{}/suspend", o.dev_id), &json!({ "justification": "on leave\u{200B} until December" })).await;
    assert_eq!(status, 422, "{body}");
    for bad in ["0123456789abcdef012345678", "0123456789ABCDEF01234567", &"a".repeat(5000)] {
        let (status, body) = o.owner.post(&format!("/users/{bad}/suspend"), &json!({})).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().len() < 400, "the echo is bounded: {} bytes", body.to_string().len());
    }
    let (status, body) = o.owner.post(&format!("/api-keys/{id}/rotate"), &json!({ "grace": "P".repeat(100_000) })).await;
    assert!(status == 422 && body.to_string().len() < 400, "{status}: {} bytes", body.to_string().len());
    let (status, body) = o.owner.get("/users/%ff/suspend").await;
    assert!(status == 400 || status == 405, "{status} {body}");
    assert!(body["error"]["code"].is_string(), "the API's error shape: {body}");
}
