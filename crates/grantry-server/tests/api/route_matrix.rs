//! The route × caller matrix: every operation the OpenAPI document lists, called as each kind of
//! caller, must answer exactly as `route_matrix.txt` says. Each call acts on something made for
//! it by the owner (a key to revoke, a user to give a role), so cells do not depend on each other.

#![expect(clippy::unwrap_used, clippy::panic, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

const CALLERS: [&str; 9] = ["owner", "admin", "member", "wsadmin", "pdev", "key_in", "key_out", "revoked", "other_org"];

/// The organization the matrix runs in, and its callers in the order of [`CALLERS`].
struct World {
    owner: Api,
    callers: Vec<Api>,
    member_id: String,
    /// The project developer, whose own tokens the table revokes.
    pdev_id: String,
    conv: String,
    trace: String,
    /// A webhook the read-only rows act on (an organization has at most 20).
    hook: String,
    next: AtomicUsize,
}

/// A request: method, path below `/v1/{org}`, body.
type Call = (&'static str, String, Option<Value>);

impl World {
    fn n(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    async fn key(&self, project: &str) -> (String, String) {
        let (status, made) = self.owner.post("/api-keys", &json!({ "project": project, "scopes": ["traces:read", "Trace:Capture"] })).await;
        assert_eq!(status, 201, "{made}");
        (made["key"]["id"].as_str().unwrap().to_owned(), made["secret"].as_str().unwrap().to_owned())
    }

    async fn user(&self) -> String {
        let email = format!("u{}@acme.test", self.n());
        let (status, body) = self.owner.post("/users", &json!({ "email": email, "role": "org_member" })).await;
        assert_eq!(status, 201, "{body}");
        email
    }

    /// A new member's id.
    async fn user_id(&self) -> String {
        let email = format!("s{}@acme.test", self.n());
        self.owner.create_user(&email, "org_member").await.0
    }

    /// A new group, with a new member; its id and the member's id.
    async fn group(&self) -> (String, String) {
        let (status, made) = self.owner.post("/groups", &json!({ "name": format!("Group {}", self.n()) })).await;
        assert_eq!(status, 201, "{made}");
        let id = made["group"]["id"].as_str().unwrap().to_owned();
        let user = self.user_id().await;
        let (status, body) = self.owner.post(&format!("/groups/{id}/members"), &json!({ "userIds": [user] })).await;
        assert_eq!(status, 200, "{body}");
        (id, user)
    }

    /// A new organization-wide agent's id.
    async fn agent(&self) -> String {
        let (status, made) =
            self.owner.post("/agents", &json!({ "name": format!("Agent {}", self.n()), "access_type": "organization" })).await;
        assert_eq!(status, 201, "{made}");
        made["agent"]["id"].as_str().unwrap().to_owned()
    }

    /// A new agent pool: its id.
    async fn pool(&self) -> String {
        let (status, made) = self.owner.post("/agent-pools", &json!({ "name": format!("Pool {}", self.n()) })).await;
        assert_eq!(status, 201, "{made}");
        made["pool"]["id"].as_str().unwrap().to_owned()
    }

    /// The body of a new temporary access instance: a new pool, a new user, an hour.
    async fn instance_body(&self) -> Value {
        let (pool, user) = (self.pool().await, self.user_id().await);
        json!({ "name": format!("Instance {}", self.n()), "role": "standard", "poolIds": [pool], "userIds": [user], "hours": 1 })
    }

    /// A new temporary access instance: its id.
    async fn instance(&self) -> String {
        let (status, made) = self.owner.post("/temp-access", &self.instance_body().await).await;
        assert_eq!(status, 201, "{made}");
        made["instance"]["id"].as_str().unwrap().to_owned()
    }

    /// A new access request by a new member (traces:read on `ml/agents`, no policy): its id.
    async fn access_request(&self) -> String {
        let body = json!({ "permissions": ["traces:read"], "targets": ["ml/agents"], "justification": "route matrix: a member asks" });
        let (_, requester) = self.owner.create_user(&format!("r{}@acme.test", self.n()), "org_member").await;
        let (status, made) = requester.post("/access-requests", &body).await;
        assert_eq!(status, 201, "{made}");
        made["request"]["id"].as_str().unwrap().to_owned()
    }

    /// A new access request by the member, approved by the owner: its id.
    async fn approved_request(&self) -> String {
        let body = json!({ "permissions": ["traces:read"], "targets": ["ml"], "justification": "route matrix: the member asks" });
        let (status, made) = self.callers[2].post("/access-requests", &body).await;
        assert_eq!(status, 201, "{made}");
        let id = made["request"]["id"].as_str().unwrap().to_owned();
        let (status, approved) = self.owner.post(&format!("/access-requests/{id}/approve"), &json!({})).await;
        assert_eq!(status, 200, "{approved}");
        id
    }

    /// The body of a new webhook (to a port nobody answers on: its deliveries wait).
    fn webhook_body(&self) -> Value {
        json!({ "name": format!("Webhook {}", self.n()), "url": "http://127.0.0.1:9/hook" })
    }

    /// A new webhook: its id.
    async fn webhook(&self) -> String {
        let (status, made) = self.owner.post("/webhooks", &self.webhook_body()).await;
        assert_eq!(status, 201, "{made}");
        made["webhook"]["id"].as_str().unwrap().to_owned()
    }

    /// The body of a new request policy covering one new classification.
    fn policy_body(&self) -> Value {
        json!({ "name": format!("Policy {}", self.n()), "classification": format!("class-{}", self.n()), "autoApprove": true })
    }

    /// A new request policy: its id.
    async fn policy(&self) -> String {
        let (status, made) = self.owner.post("/request-policies", &self.policy_body()).await;
        assert_eq!(status, 201, "{made}");
        made["policy"]["id"].as_str().unwrap().to_owned()
    }

    /// A new agent with a new group assigned to it: their ids.
    async fn assigned(&self) -> (String, String) {
        let (agent, (group, _)) = (self.agent().await, self.group().await);
        let (status, body) = self
            .owner
            .post(&format!("/ai-agent-managers/{agent}/groups"), &json!({ "groupId": group, "permission": "VIEW_AND_USE" }))
            .await;
        assert_eq!(status, 201, "{body}");
        (agent, group)
    }

    /// A new agent with a data source restricted to a new group: their ids.
    async fn source(&self) -> (String, String) {
        let (agent, (group, _)) = (self.agent().await, self.group().await);
        let (status, body) = self.owner.post(&format!("/agents/{agent}/sources"), &json!({ "name": "Wiki", "groups": [group] })).await;
        assert_eq!(status, 201, "{body}");
        (agent, body["source"]["id"].as_str().unwrap().to_owned())
    }

    fn seed_grant(&self, user_id: &str, org_id: &str) -> Value {
        json!({ "user_id": user_id, "justification": "route matrix: a seed-shaped grant",
                "permission_grant": { "permission_name": "Conversation:GetMessage", "conditions": {
                    "conversation_user_id": { "type": "Equals", "value": self.member_id },
                    "org_id": { "type": "Equals", "value": org_id } } } })
    }

    /// The request for `op`, with whatever it acts on made first.
    async fn recipe(&self, op: &str) -> Call {
        let org_id = self.owner.get("/me").await.1["org_id"].as_str().unwrap().to_owned();
        let n = self.n();
        match op {
            "GET /v1/{org}/admin/isolation" => ("GET", "/admin/isolation".into(), None),
            "GET /v1/{org}/api-keys" => ("GET", "/api-keys".into(), None),
            "POST /v1/{org}/api-keys" => ("POST", "/api-keys".into(), Some(json!({ "project": "ml/agents", "scopes": ["traces:read"] }))),
            "DELETE /v1/{org}/api-keys/{id}" => ("DELETE", format!("/api-keys/{}", self.key("ml/agents").await.0), None),
            "PATCH /v1/{org}/api-keys/{id}" => {
                let (status, made) = self.owner.post("/api-keys", &json!({ "project": "ml/agents", "scopes": ["traces:read"] })).await;
                assert_eq!(status, 201, "{made}");
                let id = made["key"]["id"].as_str().unwrap();
                ("PATCH", format!("/api-keys/{id}"), Some(json!({ "add_scopes": ["Trace:Capture"] })))
            }
            "GET /v1/{org}/audit" => ("GET", "/audit".into(), None),
            "GET /v1/{org}/audit/verify" => ("GET", "/audit/verify".into(), None),
            "POST /v1/{org}/audit/verify" => {
                let digest = self.owner.get("/audit/verify").await.1["digest"].clone();
                ("POST", "/audit/verify".into(), Some(json!({ "digest": digest })))
            }
            "GET /v1/{org}/catalogue" => ("GET", "/catalogue".into(), None),
            "POST /v1/{org}/check" => {
                let body = json!({ "principal": { "type": "user", "id": self.member_id }, "permission": "traces:read",
                                   "resource": { "type": "trace", "id": self.trace } });
                ("POST", "/check".into(), Some(body))
            }
            "GET /v1/{org}/conversation/" => ("GET", "/conversation/".into(), None),
            "POST /v1/{org}/conversation/" => ("POST", "/conversation/".into(), Some(json!({ "user_id": self.member_id }))),
            "POST /v1/{org}/conversation/{id}/request_access" => {
                ("POST", format!("/conversation/{}/request_access", self.conv), Some(json!({ "justification": "route matrix request" })))
            }
            "GET /v1/{org}/environments" => ("GET", "/environments?under=ml/agents".into(), None),
            "POST /v1/{org}/environments" => {
                ("POST", "/environments".into(), Some(json!({ "project": "ml/agents", "name": format!("e{n}") })))
            }
            "GET /v1/{org}/me" => ("GET", "/me".into(), None),
            "GET /v1/{org}/projects" => ("GET", "/projects".into(), None),
            "POST /v1/{org}/projects" => ("POST", "/projects".into(), Some(json!({ "project": format!("ml/p{n}") }))),
            "PATCH /v1/{org}/projects/{ws}/{prj}/environments/{name}" => {
                ("PATCH", "/projects/ml/agents/environments/prod".into(), Some(json!({ "is_production": true })))
            }
            "POST /v1/{org}/role/temporary_permission_grant/" => {
                ("POST", "/role/temporary_permission_grant/".into(), Some(self.seed_grant(&self.member_id, &org_id)))
            }
            "DELETE /v1/{org}/role/temporary_permission_grant/{id}/" => {
                let (status, made) = self.owner.post("/role/temporary_permission_grant/", &self.seed_grant(&self.member_id, &org_id)).await;
                assert_eq!(status, 201, "{made}");
                ("DELETE", format!("/role/temporary_permission_grant/{}/", made["temporary_permission_grant_id"].as_str().unwrap()), None)
            }
            "GET /v1/{org}/role/temporary_permission_grants/" => ("GET", "/role/temporary_permission_grants/".into(), None),
            "POST /v1/{org}/roles/grants" => {
                let email = self.user().await;
                let body = json!({ "user_email": email, "role": "project_developer", "tier": "project", "path": "ml/agents" });
                ("POST", "/roles/grants".into(), Some(body))
            }
            "GET /v1/{org}/roles/matrix" => ("GET", "/roles/matrix".into(), None),
            "POST /v1/{org}/roles/revocations" => {
                let email = self.user().await;
                let (status, body) = self.owner.grant_role(&email, "project_developer", "ml/agents", json!({})).await;
                assert_eq!(status, 201, "{body}");
                let body = json!({ "user_email": email, "role": "project_developer", "tier": "project", "path": "ml/agents" });
                ("POST", "/roles/revocations".into(), Some(body))
            }
            "GET /v1/{org}/settings" => ("GET", "/settings".into(), None),
            "PATCH /v1/{org}/settings" => ("PATCH", "/settings".into(), Some(json!({ "audit_retention_days": 1826 }))),
            "DELETE /v1/{org}/tokens/{id}" => {
                // Minted by the developer itself (anyone may mint their own).
                let (status, made) = self.callers[4].post(&format!("/users/{}/tokens", self.pdev_id), &json!({})).await;
                assert_eq!(status, 201, "{made}");
                ("DELETE", format!("/tokens/{}", made["id"].as_str().unwrap()), None)
            }
            "POST /v1/{org}/traces" => ("POST", "/traces".into(), Some(json!({ "project": "ml/agents", "environment": "prod" }))),
            "GET /v1/{org}/users" => ("GET", "/users".into(), None),
            "POST /v1/{org}/users" => ("POST", "/users".into(), Some(json!({ "email": format!("new{n}@acme.test") }))),
            "POST /v1/{org}/users/{id}/tokens" => {
                // For a user who holds only a role (a token acting as someone carries all they hold).
                let email = self.user().await;
                let id = self.owner.get(&format!("/users?email={email}")).await.1["users"][0]["id"].as_str().unwrap().to_owned();
                ("POST", format!("/users/{id}/tokens"), Some(json!({})))
            }
            "GET /v1/{org}/workspaces" => ("GET", "/workspaces".into(), None),
            "POST /v1/{org}/workspaces" => ("POST", "/workspaces".into(), Some(json!({ "slug": format!("w{n}") }))),
            "POST /v1/{org}/check:batch" => {
                let one = json!({ "principal": { "type": "user", "id": self.member_id }, "permission": "traces:read",
                                  "resource": { "type": "trace", "id": self.trace } });
                ("POST", "/check:batch".into(), Some(json!({ "checks": [one.clone(), one] })))
            }
            "POST /v1/{org}/lookup" => {
                let body = json!({ "principal": { "type": "user", "id": self.member_id }, "permission": "traces:read",
                                   "resource_type": "trace" });
                ("POST", "/lookup".into(), Some(body))
            }
            "GET /v1/{org}/tokens" => ("GET", "/tokens".into(), None),
            "POST /v1/{org}/tokens/exchange" => ("POST", "/tokens/exchange".into(), Some(json!({ "expires_in": "P1D" }))),
            "GET /v1/{org}/traces" => ("GET", "/traces?under=ml/agents".into(), None),
            "GET /v1/{org}/traces/{id}" => ("GET", format!("/traces/{}", self.trace), None),
            "POST /v1/{org}/users/{id}/suspend" => ("POST", format!("/users/{}/suspend", self.user_id().await), Some(json!({}))),
            "POST /v1/{org}/users/{id}/resume" => {
                let id = self.user_id().await;
                let (status, body) = self.owner.post(&format!("/users/{id}/suspend"), &json!({})).await;
                assert_eq!(status, 200, "{body}");
                ("POST", format!("/users/{id}/resume"), Some(json!({ "justification": "route matrix: back from leave" })))
            }
            "DELETE /v1/{org}/users/{id}" => ("DELETE", format!("/users/{}", self.user_id().await), None),
            "POST /v1/{org}/api-keys/{id}/rotate" => {
                ("POST", format!("/api-keys/{}/rotate", self.key("ml/agents").await.0), Some(json!({ "grace": "PT1H" })))
            }
            "GET /v1/{org}/groups" => ("GET", "/groups".into(), None),
            "POST /v1/{org}/groups" => ("POST", "/groups".into(), Some(json!({ "name": format!("New group {n}") }))),
            "GET /v1/{org}/groups/{id}" => ("GET", format!("/groups/{}", self.group().await.0), None),
            "PATCH /v1/{org}/groups/{id}" => {
                ("PATCH", format!("/groups/{}", self.group().await.0), Some(json!({ "description": format!("changed {n}") })))
            }
            "DELETE /v1/{org}/groups/{id}" => ("DELETE", format!("/groups/{}", self.group().await.0), None),
            "GET /v1/{org}/groups/{id}/members" => ("GET", format!("/groups/{}/members", self.group().await.0), None),
            "POST /v1/{org}/groups/{id}/members" => {
                let user = self.user_id().await;
                ("POST", format!("/groups/{}/members", self.group().await.0), Some(json!({ "userIds": [user], "role": "MEMBER" })))
            }
            "POST /v1/{org}/groups/{id}/members:remove" => {
                let (id, user) = self.group().await;
                ("POST", format!("/groups/{id}/members:remove"), Some(json!({ "userIds": [user] })))
            }
            "POST /v1/{org}/groups:bulk" => {
                let (id, user) = self.group().await;
                ("POST", "/groups:bulk".into(), Some(json!({ "groupIds": [id], "removeUserIds": [user] })))
            }
            "DELETE /v1/{org}/groups/{id}/members/{user}" => {
                let (id, user) = self.group().await;
                ("DELETE", format!("/groups/{id}/members/{user}"), None)
            }
            "POST /v1/{org}/imports/assignments" => {
                let (agent, (group, _)) = (self.agent().await, self.group().await);
                let csv = format!("AgentId,GroupId,Permission,StartDate,EndDate\n{agent},{group},VIEW_AND_USE,,\n");
                ("POST", "/imports/assignments".into(), Some(json!({ "csv": csv })))
            }
            "POST /v1/{org}/imports/users" => {
                let (group, _) = self.group().await;
                ("POST", "/imports/users".into(), Some(json!({ "csv": format!("Name,Email,Group\nNew,imp{n}@acme.test,{group}\n") })))
            }
            "POST /v1/{org}/reviews" => {
                let (group, user) = self.group().await;
                ("POST", "/reviews".into(), Some(json!({ "kind": "membership", "group": group, "user": user, "verdict": "certify" })))
            }
            "GET /v1/{org}/reports/compliance" => ("GET", "/reports/compliance".into(), None),
            "GET /v1/{org}/reports/access-matrix" => ("GET", "/reports/access-matrix".into(), None),
            "GET /v1/{org}/reports/memberships" => ("GET", "/reports/memberships".into(), None),
            "GET /v1/{org}/reports/coverage" => ("GET", "/reports/coverage".into(), None),
            "GET /v1/{org}/agents" => ("GET", "/agents".into(), None),
            "GET /v1/{org}/agent-pools" => ("GET", "/agent-pools".into(), None),
            "GET /v1/{org}/agent-pool" => ("GET", "/agent-pool".into(), None),
            "POST /v1/{org}/agent-pools" => ("POST", "/agent-pools".into(), Some(json!({ "name": format!("New pool {n}") }))),
            "GET /v1/{org}/agent-pools/{id}" => ("GET", format!("/agent-pools/{}", self.pool().await), None),
            "DELETE /v1/{org}/agent-pools/{id}" => ("DELETE", format!("/agent-pools/{}", self.pool().await), None),
            "GET /v1/{org}/temp-access" => ("GET", "/temp-access".into(), None),
            "POST /v1/{org}/temp-access" => ("POST", "/temp-access".into(), Some(self.instance_body().await)),
            "GET /v1/{org}/temp-access/{id}" => ("GET", format!("/temp-access/{}", self.instance().await), None),
            "PATCH /v1/{org}/temp-access/{id}" => {
                ("PATCH", format!("/temp-access/{}", self.instance().await), Some(json!({ "name": "changed" })))
            }
            "DELETE /v1/{org}/temp-access/{id}" => ("DELETE", format!("/temp-access/{}", self.instance().await), None),
            "POST /v1/{org}/agents" => {
                ("POST", "/agents".into(), Some(json!({ "name": format!("New agent {n}"), "access_type": "group" })))
            }
            "GET /v1/{org}/agents/{id}" => ("GET", format!("/agents/{}", self.agent().await), None),
            "PATCH /v1/{org}/agents/{id}" => {
                ("PATCH", format!("/agents/{}", self.agent().await), Some(json!({ "description": "changed" })))
            }
            "DELETE /v1/{org}/agents/{id}" => ("DELETE", format!("/agents/{}", self.agent().await), None),
            "GET /v1/{org}/agents/{id}/access" => {
                ("GET", format!("/agents/{}/access?user_email=member@acme.test", self.agent().await), None)
            }
            "GET /v1/{org}/agents/{id}/sources" => ("GET", format!("/agents/{}/sources", self.source().await.0), None),
            "POST /v1/{org}/agents/{id}/sources" => {
                ("POST", format!("/agents/{}/sources", self.agent().await), Some(json!({ "name": "Public Docs" })))
            }
            "PATCH /v1/{org}/agents/{id}/sources/{source}" => {
                let (agent, source) = self.source().await;
                ("PATCH", format!("/agents/{agent}/sources/{source}"), Some(json!({ "groups": [] })))
            }
            "DELETE /v1/{org}/agents/{id}/sources/{source}" => {
                let (agent, source) = self.source().await;
                ("DELETE", format!("/agents/{agent}/sources/{source}"), None)
            }
            "GET /v1/{org}/ai-agent-managers/{agent}/groups" => {
                ("GET", format!("/ai-agent-managers/{}/groups", self.assigned().await.0), None)
            }
            "POST /v1/{org}/ai-agent-managers/{agent}/groups" => {
                let (agent, (group, _)) = (self.agent().await, self.group().await);
                ("POST", format!("/ai-agent-managers/{agent}/groups"), Some(json!({ "groupId": group, "permission": "VIEW_AND_USE" })))
            }
            "PATCH /v1/{org}/ai-agent-managers/{agent}/groups/{group}" => {
                let (agent, group) = self.assigned().await;
                ("PATCH", format!("/ai-agent-managers/{agent}/groups/{group}"), Some(json!({ "permission": "EDIT" })))
            }
            "DELETE /v1/{org}/ai-agent-managers/{agent}/groups/{group}" => {
                let (agent, group) = self.assigned().await;
                ("DELETE", format!("/ai-agent-managers/{agent}/groups/{group}"), None)
            }
            "GET /v1/{org}/groups/{id}/agents" => ("GET", format!("/groups/{}/agents", self.assigned().await.1), None),
            "POST /v1/{org}/groups/{id}/agents" => {
                let (agent, (group, _)) = (self.agent().await, self.group().await);
                ("POST", format!("/groups/{group}/agents"), Some(json!({ "agentId": agent, "permission": "VIEW_AND_USE" })))
            }
            "POST /v1/{org}/access-requests" => (
                "POST",
                "/access-requests".into(),
                Some(json!({ "permissions": ["traces:read"], "targets": ["ml/agents"], "duration": format!("PT{}M", 10 + n),
                             "justification": "route matrix: asking for myself" })),
            ),
            "GET /v1/{org}/access-requests" => ("GET", "/access-requests".into(), None),
            "GET /v1/{org}/access-requests/{id}" => ("GET", format!("/access-requests/{}", self.access_request().await), None),
            "POST /v1/{org}/access-requests/{id}/{decision}" => {
                ("POST", format!("/access-requests/{}/approve", self.access_request().await), Some(json!({ "reason": "route matrix" })))
            }
            "POST /v1/{org}/access-requests/{id}/extension" => {
                ("POST", format!("/access-requests/{}/extension", self.approved_request().await), Some(json!({ "duration": "PT10M" })))
            }
            "POST /v1/{org}/webhooks" => ("POST", "/webhooks".into(), Some(self.webhook_body())),
            "GET /v1/{org}/webhooks" => ("GET", "/webhooks".into(), None),
            "GET /v1/{org}/webhooks/{id}" => ("GET", format!("/webhooks/{}", self.hook), None),
            "DELETE /v1/{org}/webhooks/{id}" => ("DELETE", format!("/webhooks/{}", self.webhook().await), None),
            "POST /v1/{org}/webhooks/{id}/rotate" => ("POST", format!("/webhooks/{}/rotate", self.hook), None),
            "POST /v1/{org}/webhooks/{id}/ping" => ("POST", format!("/webhooks/{}/ping", self.hook), None),
            "GET /v1/{org}/webhooks/{id}/deliveries" => ("GET", format!("/webhooks/{}/deliveries", self.hook), None),
            "POST /v1/{org}/request-policies" => ("POST", "/request-policies".into(), Some(self.policy_body())),
            "GET /v1/{org}/request-policies" => ("GET", "/request-policies".into(), None),
            "GET /v1/{org}/request-policies/{id}" => ("GET", format!("/request-policies/{}", self.policy().await), None),
            "DELETE /v1/{org}/request-policies/{id}" => ("DELETE", format!("/request-policies/{}", self.policy().await), None),
            other => panic!("no recipe for `{other}`: add one here and its row to route_matrix.txt"),
        }
    }
}

async fn world(server: &TestServer) -> World {
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_scopes(&["ml", "ml/agents", "ml/agents/prod!", "other", "other/p", "other/p/prod!"]).await;
    let (_, admin) = owner.create_user("admin@acme.test", "org_admin").await;
    let (member_id, member) = owner.create_user("member@acme.test", "org_member").await;
    let (_, wsadmin) = owner.create_user("wsadmin@acme.test", "org_member").await;
    let (pdev_id, pdev) = owner.create_user("pdev@acme.test", "org_member").await;
    // Each acts with a token of their own, as a user does once they exchange the one minted for them.
    let (admin, member, wsadmin, pdev) =
        (admin.own_token().await, member.own_token().await, wsadmin.own_token().await, pdev.own_token().await);
    for (email, role, at) in [("wsadmin@acme.test", "workspace_admin", "ml"), ("pdev@acme.test", "project_developer", "ml/agents")] {
        let (status, body) = owner.grant_role(email, role, at, json!({})).await;
        assert_eq!(status, 201, "{body}");
    }
    let conv = owner.register_conversation(&member_id).await;
    let trace = owner.capture_trace("ml/agents", "prod").await;
    let (status, made) = owner.post("/webhooks", &json!({ "name": "Shared", "url": "http://127.0.0.1:9/hook" })).await;
    assert_eq!(status, 201, "{made}");
    let hook = made["webhook"]["id"].as_str().unwrap().to_owned();
    let w = World { owner: owner.clone(), callers: vec![], member_id, pdev_id, conv, trace, hook, next: AtomicUsize::new(0) };
    let key_in = owner.with_token(&w.key("ml/agents").await.1);
    let key_out = owner.with_token(&w.key("other/p").await.1);
    let (_, minted) = owner.post(&format!("/users/{}/tokens", w.user_id().await), &json!({})).await;
    let (status, _) = owner.delete(&format!("/tokens/{}", minted["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    let revoked = owner.with_token(minted["token"].as_str().unwrap());
    let other_org = Api::new(&server.url, "acme", &server.bootstrap("beta", "owner@beta.test").await.token);
    World { callers: vec![owner, admin, member, wsadmin, pdev, key_in, key_out, revoked, other_org], ..w }
}

/// The caller with a second token of their own when they are a user (as they are otherwise).
async fn spare_token(api: &Api) -> Api {
    let (_, me) = api.get("/me").await;
    if let Some(id) = me["user"]["id"].as_str() {
        let (status, made) = api.post(&format!("/users/{id}/tokens"), &json!({})).await;
        assert_eq!(status, 201, "{made}");
        return api.with_token(made["token"].as_str().unwrap());
    }
    api.clone()
}

/// The table: each operation and its expected status for each caller.
fn table() -> Vec<(String, Vec<u16>)> {
    include_str!("route_matrix.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(cells.len(), 2 + CALLERS.len(), "malformed row: {l}");
            let statuses = cells[2..].iter().map(|c| c.parse().unwrap_or_else(|_| panic!("bad status `{c}` in: {l}"))).collect();
            (format!("{} {}", cells[0], cells[1]), statuses)
        })
        .collect()
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_table_says() {
    let server = TestServer::start().await;
    let w = world(&server).await;
    let spec: Value = reqwest::get(format!("{}/openapi.json", server.url)).await.unwrap().json().await.unwrap();
    let listed: BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| format!("{} {path}", m.to_uppercase())))
        .collect();
    let rows = table();
    let tabled: BTreeSet<String> = rows.iter().map(|(op, _)| op.clone()).collect();
    assert_eq!(listed.difference(&tabled).collect::<Vec<_>>(), Vec::<&String>::new(), "operations missing from route_matrix.txt");
    assert_eq!(tabled.difference(&listed).collect::<Vec<_>>(), Vec::<&String>::new(), "rows for operations the API does not list");

    let mut wrong = Vec::new();
    for (op, expected) in &rows {
        for ((who, api), want) in CALLERS.iter().zip(&w.callers).zip(expected) {
            let (method, path, body) = w.recipe(op).await;
            let body = body.unwrap_or(Value::Null);
            // An exchange revokes the token it presents: a user exchanges a spare of their own.
            let api = if op == "POST /v1/{org}/tokens/exchange" { &spare_token(api).await } else { api };
            let (status, answer) = match method {
                "GET" => api.get(&path).await,
                "POST" => api.post(&path, &body).await,
                "PATCH" => api.patch(&path, &body).await,
                "DELETE" => api.delete(&path).await,
                other => panic!("method {other}"),
            };
            if status != *want {
                wrong.push(format!("{op} as {who}: {status} (expected {want}) {answer}"));
            }
            if status >= 400 {
                assert!(answer["error"]["code"].is_string(), "{op} as {who}: not the error shape: {answer}");
            }
        }
    }
    assert!(wrong.is_empty(), "{} cells differ from route_matrix.txt:\n{}", wrong.len(), wrong.join("\n"));
}
