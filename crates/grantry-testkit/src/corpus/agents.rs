//! Seed 003 in the decision corpus: groups (with parents, members and archiving), agents with
//! their access types, assignments of groups to agents at a level within a window, and data
//! sources restricted to groups — made as changes for the core, and through the API for HTTP.
//! In checks, `$agent:NAME` and `$source:NAME` stand for their ids. Windows are offsets (ISO 8601)
//! from the moment the setup began, like a check's `after`.

use super::{offset, Corpus, Names};
use crate::Api;
use grantry_core::catalogue::role;
use grantry_core::change::Change;
use grantry_core::ids::{GrantId, GroupId, OrgId, UserId};
use grantry_core::model::*;
use grantry_core::Timestamp;
use serde::Deserialize;
use serde_json::json;

/// A group: its parent (by name), its members (by email), and whether it is archived.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusGroup {
    pub name: String,
    pub parent: Option<String>,
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub archived: bool,
}

/// An agent, registered by the owner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusAgent {
    pub name: String,
    pub access_type: String,
}

/// A group's assignment to an agent, opening `start` and closing `end` after the setup began.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusAssignment {
    pub agent: String,
    pub group: String,
    pub permission: String,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// A data source of an agent, restricted to `groups` (none: every user of the agent).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusSource {
    pub agent: String,
    pub name: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

fn at(t0: Timestamp, text: &Option<String>) -> Option<Timestamp> {
    text.as_ref().map(|d| t0.checked_add(offset(d)).expect("window"))
}

/// The changes that make `s` in organization `org` for the core, naming what they make.
pub fn core_changes(s: &Corpus, org: &OrgId, t0: Timestamp, names: &mut Names, next_grant: &mut dyn FnMut() -> GrantId) -> Vec<Change> {
    let mut changes = Vec::new();
    let group_id = |name: &str| GroupId(format!("grp-{name}"));
    for g in &s.groups {
        let status = if g.archived { GroupStatus::Archived } else { GroupStatus::Active };
        let group = Group {
            id: group_id(&g.name),
            org: org.clone(),
            name: g.name.clone(),
            description: String::new(),
            parent: g.parent.as_deref().map(group_id),
            status,
            external_id: None,
            created_by: Actor::System,
            created_at: t0,
        };
        changes.push(Change::GroupCreated { group });
        for email in &g.members {
            let member = GroupMember {
                org: org.clone(),
                group: group_id(&g.name),
                user: UserId(names.user(email)),
                role: GroupRole::Member,
                added_at: t0,
                expires_at: None,
            };
            changes.push(Change::GroupMemberSet { member });
        }
    }
    let mut grant = |to: &str, role_name: &str, on: ResourceRef, starts_at: Timestamp, expires_at: Option<Timestamp>| Grant {
        id: next_grant(),
        org: org.clone(),
        principal: Principal::Group(group_id(to)),
        target: GrantTarget::Role { role: role_name.to_owned() },
        anchor: Anchor::Resource(on),
        starts_at,
        expires_at,
        justification: None,
        tags: vec![],
        creator: Actor::System,
        source: GrantSource::Assignment,
        created_at: t0,
        revoked: None,
    };
    for a in &s.agents {
        let agent = Agent {
            id: format!("agent-{}", a.name),
            name: a.name.clone(),
            description: String::new(),
            access_type: a.access_type.parse().expect("access type"),
            classification: Classification::Internal,
            created_by: String::new(),
        };
        names.agents.insert(a.name.clone(), agent.id.clone());
        let resource = Resource {
            org: org.clone(),
            reference: agent.reference(),
            parent: None,
            scope: ScopeRef::Org,
            attributes: agent.attributes(),
            created_at: t0,
        };
        changes.push(Change::ResourceRegistered { resource });
    }
    for a in &s.assignments {
        let level: Level = a.permission.parse().expect("permission level");
        let on = ResourceRef::new(AGENT, &names.agents[&a.agent]);
        let starts = at(t0, &a.start).unwrap_or(t0);
        changes.push(Change::GrantCreated { grant: grant(&a.group, level.role(), on, starts, at(t0, &a.end)) });
    }
    for src in &s.sources {
        let source = DataSource {
            id: format!("source-{}", src.name),
            name: src.name.clone(),
            agent_id: names.agents[&src.agent].clone(),
            restricted: !src.groups.is_empty(),
        };
        names.sources.insert(src.name.clone(), source.id.clone());
        let parent = Some(ResourceRef::new(AGENT, &source.agent_id));
        let resource = Resource {
            org: org.clone(),
            reference: source.reference(),
            parent,
            scope: ScopeRef::Org,
            attributes: source.attributes(),
            created_at: t0,
        };
        changes.push(Change::ResourceRegistered { resource });
        for g in &src.groups {
            changes.push(Change::GrantCreated { grant: grant(g, role::DATA_SOURCE_READER, source.reference(), t0, None) });
        }
    }
    changes
}

fn made(what: &str, (status, body): (u16, serde_json::Value), want: u16) -> serde_json::Value {
    assert_eq!(status, want, "corpus {what}: {body}");
    body
}

/// Makes `s` through the API as the organization's owner, naming what it makes.
pub async fn http_setup(s: &Corpus, owner: &Api, t0: Timestamp, names: &mut Names) {
    let mut groups = std::collections::HashMap::new();
    for g in &s.groups {
        let parent = g.parent.as_ref().map(|p| &groups[p]);
        let body = made("group", owner.post("/groups", &json!({ "name": g.name, "parent": parent })).await, 201);
        let id = body["group"]["id"].as_str().expect("group id").to_owned();
        if !g.members.is_empty() {
            let ids: Vec<String> = g.members.iter().map(|e| names.user(e)).collect();
            made("members", owner.post(&format!("/groups/{id}/members"), &json!({ "userIds": ids })).await, 200);
        }
        groups.insert(g.name.clone(), id);
    }
    for a in &s.agents {
        let body = made("agent", owner.post("/agents", &json!({ "name": a.name, "access_type": a.access_type })).await, 201);
        names.agents.insert(a.name.clone(), body["agent"]["id"].as_str().expect("agent id").to_owned());
    }
    for a in &s.assignments {
        let body = json!({ "groupId": groups[&a.group], "permission": a.permission,
                           "startDate": at(t0, &a.start).map(|t| t.to_string()), "endDate": at(t0, &a.end).map(|t| t.to_string()) });
        made("assignment", owner.post(&format!("/ai-agent-managers/{}/groups", names.agents[&a.agent]), &body).await, 201);
    }
    for src in &s.sources {
        let ids: Vec<&String> = src.groups.iter().map(|g| &groups[g]).collect();
        let path = format!("/agents/{}/sources", names.agents[&src.agent]);
        let body = made("source", owner.post(&path, &json!({ "name": src.name, "groups": ids })).await, 201);
        names.sources.insert(src.name.clone(), body["source"]["id"].as_str().expect("source id").to_owned());
    }
    // Archived last: an archived group takes no members and no assignments.
    for g in s.groups.iter().filter(|g| g.archived) {
        made("archive", owner.patch(&format!("/groups/{}", groups[&g.name]), &json!({ "status": "archived" })).await, 200);
    }
}
