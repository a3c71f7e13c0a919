//! A test client of one organization: every call returns the status and the JSON body, so tests
//! can assert on errors as well as successes.

use serde_json::{json, Value};

/// A client acting with one token in one organization.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub url: String,
    pub org: String,
    pub token: String,
}

impl Api {
    /// A client of `org` on the server at `url`.
    pub fn new(url: &str, org: &str, token: &str) -> Self {
        Self { http: reqwest::Client::new(), url: url.to_owned(), org: org.to_owned(), token: token.to_owned() }
    }

    /// The same client with another token.
    pub fn with_token(&self, token: &str) -> Self {
        Self { token: token.to_owned(), ..self.clone() }
    }

    /// The same caller with a token of their own: the presented one exchanged (and so revoked).
    pub async fn own_token(&self) -> Self {
        let (status, body) = self.post("/tokens/exchange", &json!({})).await;
        assert_eq!(status, 201, "exchange a token: {body}");
        self.with_token(body["token"].as_str().expect("token"))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.bearer_auth(&self.token).send().await.expect("request");
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    fn path(&self, path: &str) -> String {
        format!("{}/v1/{}{path}", self.url, self.org)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.path(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.post(self.path(path)).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.patch(self.path(path)).json(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(self.path(path))).await
    }

    /// Creates a user with `role` and returns its id and a client acting as it.
    pub async fn create_user(&self, email: &str, role: &str) -> (String, Api) {
        let (status, body) = self.post("/users", &json!({ "email": email, "role": role, "token": true })).await;
        assert_eq!(status, 201, "create user {email}: {body}");
        let id = body["user"]["id"].as_str().expect("id").to_owned();
        (id, self.with_token(body["token"]["token"].as_str().expect("token")))
    }

    /// Registers a conversation owned by `owner_id` and returns its id.
    pub async fn register_conversation(&self, owner_id: &str) -> String {
        let (status, body) = self.post("/conversation/", &json!({ "user_id": owner_id })).await;
        assert_eq!(status, 201, "register conversation: {body}");
        body["conversation"]["id"].as_str().expect("id").to_owned()
    }

    /// Checks `permission` on `kind:id` for the user `user_id`; returns the decision body.
    pub async fn check(&self, user_id: &str, permission: &str, kind: &str, id: &str) -> Value {
        let body =
            json!({ "principal": { "type": "user", "id": user_id }, "permission": permission, "resource": { "type": kind, "id": id } });
        let (status, decision) = self.post("/check?explain=true", &body).await;
        assert_eq!(status, 200, "check: {decision}");
        decision
    }

    /// Checks `permission` on `trace:ID` for `principal` (`{"type": …, "id"|"email": …}`); returns
    /// whether it is allowed.
    pub async fn allowed(&self, principal: Value, permission: &str, trace: &str) -> bool {
        let body = json!({ "principal": principal, "permission": permission, "resource": { "type": "trace", "id": trace } });
        let (status, decision) = self.post("/check?explain=true", &body).await;
        assert_eq!(status, 200, "check: {decision}");
        decision["allowed"].as_bool().expect("allowed")
    }

    /// Captures a trace in `project`'s environment `env` and returns its id.
    pub async fn capture_trace(&self, project: &str, env: &str) -> String {
        let (status, body) = self.post("/traces", &json!({ "project": project, "environment": env })).await;
        assert_eq!(status, 201, "capture trace: {body}");
        body["id"].as_str().expect("id").to_owned()
    }

    /// Creates workspaces, projects and environments by path (`WS`, `WS/PRJ`, `WS/PRJ/ENV`, with
    /// `!` after an environment's name for production), in order.
    pub async fn create_scopes(&self, paths: &[&str]) {
        for path in paths {
            let (prod, path) = path.strip_suffix('!').map_or((false, *path), |p| (true, p));
            let (endpoint, body) = match path.split('/').collect::<Vec<_>>()[..] {
                [ws] => ("/workspaces", json!({ "slug": ws })),
                [_, _] => ("/projects", json!({ "project": path })),
                [ws, prj, env] => ("/environments", json!({ "project": format!("{ws}/{prj}"), "name": env, "is_production": prod })),
                _ => panic!("`{path}` is not a scope path"),
            };
            let (status, body) = self.post(endpoint, &body).await;
            assert_eq!(status, 201, "create {path}: {body}");
        }
    }

    /// Grants `role` to `email` at `at` (`org`, `WS` or `WS/PRJ`, by the role's tier) with the
    /// extra fields of `extra`; returns the status and body.
    pub async fn grant_role(&self, email: &str, role: &str, at: &str, extra: Value) -> (u16, Value) {
        let mut body = role_target(email, role, at);
        if let (Some(b), Value::Object(more)) = (body.as_object_mut(), extra) {
            b.extend(more);
        }
        self.post("/roles/grants", &body).await
    }

    /// Revokes `role` from `email` at `at`; returns the status and body.
    pub async fn revoke_role(&self, email: &str, role: &str, at: &str) -> (u16, Value) {
        self.post("/roles/revocations", &role_target(email, role, at)).await
    }
}

/// The body naming a role, a user and a node: `org`, `WS` (workspace) or `WS/PRJ` (project).
pub fn role_target(email: &str, role: &str, at: &str) -> Value {
    match at.split('/').count() {
        _ if at == "org" => json!({ "user_email": email, "role": role, "tier": "organization" }),
        1 => json!({ "user_email": email, "role": role, "tier": "workspace", "path": at }),
        _ => json!({ "user_email": email, "role": role, "tier": "project", "path": at }),
    }
}
