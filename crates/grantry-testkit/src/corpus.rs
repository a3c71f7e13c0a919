//! The decision corpus: JSON files under `tests/corpus/` that give a setup (users, conversations,
//! grants, access requests) and checks with their expected decisions. The same files run against
//! the core (`run_core`) and through the HTTP API of a real server (`run_http`).
//!
//! In a file, `$user:EMAIL`, `$conversation:NAME`, `$trace:NAME`, `$agent:NAME`, `$source:NAME`
//! and `$org` stand for the ids made at setup. `drivers` names the drivers a file is for (both when absent); a file that leaves one
//! out says why in `drivers_note`, and the test prints it.
//! A check happens `after` (ISO 8601) the setup began; keep it a minute or more from any grant's
//! end, since over HTTP the grants are made a few milliseconds after that instant.

use crate::{Api, TestServer};
use grantry_core::attr::Attributes;
use grantry_core::catalogue::{role, PermissionGrant, CONVERSATION_ACCESS};
use grantry_core::change::Change;
use grantry_core::condition::{Condition, Conditions};
use grantry_core::decision::ResourceQuery;
use grantry_core::ids::{GrantId, OrgId, UserId};
use grantry_core::index::DecisionIndex;
use grantry_core::model::*;
use grantry_core::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;

mod agents;

/// One corpus file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corpus {
    pub description: String,
    #[serde(default)]
    pub drivers: Option<Vec<String>>,
    #[serde(default)]
    pub drivers_note: Option<String>,
    /// Workspaces (`WS`), projects (`WS/PRJ`) and environments (`WS/PRJ/ENV`), parents first.
    #[serde(default)]
    pub scopes: Vec<CorpusScope>,
    /// Traces captured in an environment, classified by its production flag at capture.
    #[serde(default)]
    pub traces: Vec<CorpusTrace>,
    /// Roles granted at a tier: `at` is `org` or a scope path.
    #[serde(default)]
    pub role_grants: Vec<CorpusRoleGrant>,
    #[serde(default)]
    pub users: Vec<CorpusUser>,
    #[serde(default)]
    pub conversations: Vec<CorpusConversation>,
    #[serde(default)]
    pub grants: Vec<CorpusGrant>,
    #[serde(default)]
    pub access_requests: Vec<CorpusRequest>,
    /// Seed 003: groups, agents, assignments and data sources (see `agents`).
    #[serde(default)]
    pub groups: Vec<agents::CorpusGroup>,
    #[serde(default)]
    pub agents: Vec<agents::CorpusAgent>,
    #[serde(default)]
    pub assignments: Vec<agents::CorpusAssignment>,
    #[serde(default)]
    pub sources: Vec<agents::CorpusSource>,
    pub checks: Vec<CorpusCheck>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusUser {
    pub email: String,
    pub role: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusScope {
    pub path: String,
    #[serde(default)]
    pub production: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusTrace {
    pub name: String,
    pub environment: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusRoleGrant {
    pub user: String,
    pub role: String,
    pub at: String,
    /// An ISO 8601 window for a time-bounded role; permanent when absent.
    pub duration: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusConversation {
    pub name: String,
    pub owner: String,
}

/// A temporary permission grant made by the organization's owner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusGrant {
    pub user: String,
    pub permission: String,
    #[serde(default)]
    pub conditions: Value,
    pub duration: String,
}

/// Seed 001's request-access, made by the owner for `user`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusRequest {
    pub user: String,
    pub conversation: String,
    pub duration: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusCheck {
    pub user: String,
    pub permission: String,
    pub resource: Value,
    pub after: String,
    pub allowed: bool,
    /// The code of the first reason, if the file pins it.
    pub reason: Option<String>,
}

/// What one check came out as.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub check: usize,
    pub allowed: bool,
    pub reason: Option<String>,
    pub expected_allowed: bool,
    pub expected_reason: Option<String>,
}

impl Outcome {
    /// Whether the outcome is as the file expects.
    pub fn matches(&self) -> bool {
        self.allowed == self.expected_allowed && self.expected_reason.as_ref().is_none_or(|r| Some(r) == self.reason.as_ref())
    }
}

impl Corpus {
    /// Whether this file is for the driver `name` (`core` or `http`).
    pub fn is_for(&self, name: &str) -> bool {
        self.drivers.as_ref().is_none_or(|d| d.iter().any(|x| x == name))
    }
}

/// Every corpus file, by file name.
pub fn load_all() -> Vec<(String, Corpus)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("tests/corpus").filter_map(Result::ok).map(|e| e.path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read corpus");
            let corpus = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap_or_default().to_string_lossy().into_owned(), corpus)
        })
        .collect()
}

/// The ids made at setup, for `$…` substitution.
#[derive(Debug, Default)]
struct Names {
    org: String,
    users: HashMap<String, String>,
    conversations: HashMap<String, String>,
    traces: HashMap<String, String>,
    agents: HashMap<String, String>,
    sources: HashMap<String, String>,
}

impl Names {
    fn subst(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.subst_str(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.subst(x)).collect()),
            Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), self.subst(x))).collect()),
            other => other.clone(),
        }
    }

    fn subst_str(&self, s: &str) -> String {
        if s == "$org" {
            return self.org.clone();
        }
        let lookup = |map: &HashMap<String, String>, key: &str| map.get(key).cloned().unwrap_or_else(|| panic!("unknown name `{key}`"));
        match s.split_once(':') {
            Some(("$user", email)) => lookup(&self.users, email),
            Some(("$conversation", name)) => lookup(&self.conversations, name),
            Some(("$trace", name)) => lookup(&self.traces, name),
            Some(("$agent", name)) => lookup(&self.agents, name),
            Some(("$source", name)) => lookup(&self.sources, name),
            _ => s.to_owned(),
        }
    }

    fn user(&self, email: &str) -> String {
        self.subst_str(&format!("$user:{email}"))
    }
}

fn offset(text: &str) -> SignedDuration {
    grantry_core::duration::parse_grant_duration(text, SignedDuration::from_hours(24 * 400)).expect("corpus duration")
}

fn first_code(decision: &Value) -> Option<String> {
    decision.pointer("/reasons/0/code").and_then(Value::as_str).map(str::to_owned)
}

const OWNER: &str = "owner@corpus.test";

/// Runs `c` against the core alone: the index is built from changes, checks are explained.
pub fn run_core(c: &Corpus) -> Vec<Outcome> {
    let t0 = Timestamp::from_second(1_900_000_000).expect("t0");
    let org_id = OrgId::from("corpus-org");
    let mut names = Names { org: org_id.0.clone(), ..Names::default() };
    let mut changes = vec![Change::OrgCreated {
        org: Org { id: org_id.clone(), slug: "corpus".into(), name: "corpus".into(), created_at: t0, policy: Policy::default() },
    }];
    let mut next = 0;
    let mut grant = |user: &str, target: GrantTarget, expires_at: Option<Timestamp>| {
        next += 1;
        Grant {
            id: GrantId(format!("g{next}")),
            org: org_id.clone(),
            principal: Principal::User(UserId(user.to_owned())),
            target,
            anchor: Anchor::Scope(ScopeRef::Org),
            starts_at: t0,
            expires_at,
            justification: Some("corpus setup grant".into()),
            tags: vec![],
            creator: Actor::System,
            source: GrantSource::Manual,
            created_at: t0,
            revoked: None,
        }
    };
    let users = std::iter::once((OWNER, role::ORG_OWNER)).chain(c.users.iter().map(|u| (u.email.as_str(), u.role.as_str())));
    for (email, role_name) in users {
        let id = format!("u-{email}");
        names.users.insert(email.to_owned(), id.clone());
        let user =
            User { id: UserId(id.clone()), org: org_id.clone(), email: email.to_owned(), status: UserStatus::Active, created_at: t0 };
        changes.push(Change::UserCreated { user });
        changes.push(Change::GrantCreated { grant: grant(&id, GrantTarget::Role { role: role_name.to_owned() }, None) });
    }
    let mut scopes: HashMap<String, ScopeNode> = HashMap::new();
    for sc in &c.scopes {
        let (parent_path, slug) = sc.path.rsplit_once('/').map_or(("", sc.path.as_str()), |(p, s)| (p, s));
        let (kind, parent) = match sc.path.matches('/').count() {
            0 => (ScopeKind::Workspace, ScopeRef::Org),
            1 => (ScopeKind::Project, scopes[parent_path].as_ref()),
            _ => (ScopeKind::Environment, scopes[parent_path].as_ref()),
        };
        let node = ScopeNode {
            id: grantry_core::ids::ScopeId(format!("s-{}", sc.path)),
            org: org_id.clone(),
            kind,
            slug: slug.to_owned(),
            parent,
            is_production: sc.production,
            created_at: t0,
        };
        changes.push(Change::ScopeNodeCreated { node: node.clone() });
        scopes.insert(sc.path.clone(), node);
    }
    for tr in &c.traces {
        let env = &scopes[&tr.environment];
        let id = format!("t-{}", tr.name);
        names.traces.insert(tr.name.clone(), id.clone());
        let attributes: Attributes = serde_json::from_value(json!({ "is_prod": env.is_production, "org_id": org_id.0 })).expect("attrs");
        let resource = Resource {
            org: org_id.clone(),
            reference: ResourceRef::new("trace", id),
            parent: None,
            scope: env.as_ref(),
            attributes,
            created_at: t0,
        };
        changes.push(Change::ResourceRegistered { resource });
    }
    for rg in &c.role_grants {
        let anchor = if rg.at == "org" { Anchor::Scope(ScopeRef::Org) } else { Anchor::Scope(scopes[&rg.at].as_ref()) };
        let end = rg.duration.as_ref().map(|d| t0.checked_add(offset(d)).expect("end"));
        let mut g = grant(&names.user(&rg.user), GrantTarget::Role { role: rg.role.clone() }, end);
        g.anchor = anchor;
        changes.push(Change::GrantCreated { grant: g });
    }
    for conv in &c.conversations {
        let id = format!("{:024x}", names.conversations.len() + 1);
        names.conversations.insert(conv.name.clone(), id.clone());
        let attributes: Attributes =
            serde_json::from_value(json!({ "conversation_user_id": names.user(&conv.owner), "org_id": org_id.0 })).expect("attrs");
        let resource = Resource {
            org: org_id.clone(),
            reference: ResourceRef::new("conversation", id),
            parent: None,
            scope: ScopeRef::Org,
            attributes,
            created_at: t0,
        };
        changes.push(Change::ResourceRegistered { resource });
    }
    for g in &c.grants {
        let conditions: Conditions = serde_json::from_value(names.subst(&g.conditions)).unwrap_or_default();
        let pg = PermissionGrant { permission: g.permission.clone(), conditions };
        let end = t0.checked_add(offset(&g.duration)).expect("end");
        changes.push(Change::GrantCreated { grant: grant(&names.user(&g.user), GrantTarget::Permission { grant: pg }, Some(end)) });
    }
    for r in &c.access_requests {
        let conv_owner = c.conversations.iter().find(|x| x.name == r.conversation).map(|x| names.user(&x.owner)).expect("conversation");
        let conditions: Conditions = [
            ("conversation_user_id".to_owned(), Condition::Equals { value: conv_owner.as_str().into() }),
            ("org_id".to_owned(), Condition::Equals { value: org_id.0.as_str().into() }),
        ]
        .into();
        let end = t0.checked_add(offset(&r.duration)).expect("end");
        for p in CONVERSATION_ACCESS {
            let pg = PermissionGrant { permission: p.to_owned(), conditions: conditions.clone() };
            changes.push(Change::GrantCreated { grant: grant(&names.user(&r.user), GrantTarget::Permission { grant: pg }, Some(end)) });
        }
    }
    let mut next_assignment = 0;
    let mut assignment_id = || {
        next_assignment += 1;
        GrantId(format!("a{next_assignment}"))
    };
    changes.extend(agents::core_changes(c, &org_id, t0, &mut names, &mut assignment_id));
    let mut ix = DecisionIndex::default();
    ix.apply_all(1, &changes).expect("apply");
    let o = ix.org(&org_id).expect("org");
    c.checks
        .iter()
        .enumerate()
        .map(|(i, chk)| {
            let resource: ResourceQuery = serde_json::from_value(names.subst(&chk.resource)).expect("resource");
            let at = t0.checked_add(offset(&chk.after)).expect("at");
            let principal = Principal::User(UserId(names.user(&chk.user)));
            let d = o.explain(ix.catalogue(), &principal, &chk.permission, &resource, at, &[]);
            assert_eq!(d.allowed, o.check(&principal, &chk.permission, &resource, at), "check and explain disagree");
            let reason = serde_json::to_value(&d).ok().as_ref().and_then(first_code);
            Outcome { check: i, allowed: d.allowed, reason, expected_allowed: chk.allowed, expected_reason: chk.reason.clone() }
        })
        .collect()
}

/// Writes `g` straight into the store, as the system imports grants (no caller's authority).
async fn import_grant(server: &TestServer, names: &Names, g: &CorpusGrant) {
    let now = grantry_server::clock::now();
    let conditions: Conditions = serde_json::from_value(names.subst(&g.conditions)).expect("conditions");
    let duration = grantry_core::duration::parse_grant_duration(&g.duration, SignedDuration::from_hours(24 * 366)).expect("duration");
    let grant = Grant {
        id: GrantId(format!("{:024x}", now.as_microsecond())),
        org: OrgId(names.org.clone()),
        principal: Principal::User(UserId(names.user(&g.user))),
        target: GrantTarget::Permission { grant: PermissionGrant { permission: g.permission.clone(), conditions } },
        anchor: Anchor::Scope(ScopeRef::Org),
        starts_at: now,
        expires_at: now.checked_add(duration).ok(),
        justification: Some("corpus import".into()),
        tags: vec![],
        creator: Actor::System,
        source: GrantSource::Import,
        created_at: now,
        revoked: None,
    };
    let event = grantry_core::audit::AuditDraft::new(&Actor::System, "grant.imported", "grant", grant.id.as_str());
    let org = grant.org.clone();
    server
        .state
        .write(|_| {
            let changes = vec![Change::GrantCreated { grant: grant.clone() }];
            Ok((
                grantry_store::WriteBatch {
                    org: org.clone(),
                    at: now,
                    changes,
                    audit: vec![event.clone()],
                    base_revision: None,
                    outbox: vec![],
                },
                (),
            ))
        })
        .await
        .expect("import grant");
}

/// Runs `c` through the HTTP API of `server`, in a new organization `org`.
pub async fn run_http(server: &TestServer, c: &Corpus, org: &str) -> Vec<Outcome> {
    let t0 = grantry_server::clock::now();
    let owner: Api = server.bootstrap(org, OWNER).await;
    let (_, me) = owner.get("/me").await;
    let mut names = Names { org: me["org_id"].as_str().expect("org id").to_owned(), ..Names::default() };
    names.users.insert(OWNER.to_owned(), me["user"]["id"].as_str().expect("owner id").to_owned());
    for u in &c.users {
        let (id, _) = owner.create_user(&u.email, &u.role).await;
        names.users.insert(u.email.clone(), id);
    }
    let paths: Vec<String> = c.scopes.iter().map(|s| format!("{}{}", s.path, if s.production { "!" } else { "" })).collect();
    owner.create_scopes(&paths.iter().map(String::as_str).collect::<Vec<_>>()).await;
    for tr in &c.traces {
        let (project, env) = tr.environment.rsplit_once('/').expect("WS/PRJ/ENV");
        names.traces.insert(tr.name.clone(), owner.capture_trace(project, env).await);
    }
    for rg in &c.role_grants {
        let (status, resp) = owner.grant_role(&rg.user, &rg.role, &rg.at, json!({ "duration": rg.duration })).await;
        assert_eq!(status, 201, "corpus role grant: {resp}");
    }
    for conv in &c.conversations {
        let id = owner.register_conversation(&names.user(&conv.owner)).await;
        names.conversations.insert(conv.name.clone(), id);
    }
    for g in &c.grants {
        let body = json!({
            "user_id": names.user(&g.user),
            "duration": g.duration,
            "permission_grant": { "permission_name": g.permission, "conditions": names.subst(&g.conditions) },
            "justification": "corpus setup grant",
        });
        let (status, resp) = owner.post("/role/temporary_permission_grant/", &body).await;
        match status {
            201 => {}
            // Shapes no caller may give (the temporary-grant policy refuses them) still have
            // decisions to test: they come in as an import by the system would bring them.
            403 => import_grant(server, &names, g).await,
            _ => panic!("corpus grant: {status} {resp}"),
        }
    }
    for r in &c.access_requests {
        let conv = names.subst_str(&format!("$conversation:{}", r.conversation));
        let body = json!({ "user_id": names.user(&r.user), "duration": r.duration, "justification": "corpus setup request" });
        let (status, resp) = owner.post(&format!("/conversation/{conv}/request_access"), &body).await;
        assert_eq!(status, 201, "corpus request: {resp}");
    }
    agents::http_setup(c, &owner, t0, &mut names).await;
    let mut out = Vec::new();
    for (i, chk) in c.checks.iter().enumerate() {
        let at = t0.checked_add(offset(&chk.after)).expect("at");
        let body = json!({
            "principal": { "type": "user", "id": names.user(&chk.user) },
            "permission": chk.permission,
            "resource": names.subst(&chk.resource),
            "at": at,
        });
        let (status, d) = owner.post("/check?explain=true", &body).await;
        assert_eq!(status, 200, "corpus check {i}: {d}");
        let allowed = d["allowed"].as_bool().expect("allowed");
        // The fast path, without explanations, decides the same.
        let (status, fast) = owner.post("/check", &body).await;
        assert_eq!(status, 200, "corpus check {i}: {fast}");
        assert_eq!(fast["allowed"].as_bool(), Some(allowed), "corpus check {i}: /check and ?explain=true disagree");
        assert_eq!(fast["reasons"], serde_json::json!([]), "corpus check {i}: reasons only when asked for");
        out.push(Outcome { check: i, allowed, reason: first_code(&d), expected_allowed: chk.allowed, expected_reason: chk.reason.clone() });
    }
    out
}
