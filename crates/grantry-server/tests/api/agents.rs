//! Agents over HTTP (seed 003): the department scenario, inheritance from a parent group, the
//! data-source example, a window that opens and closes in a non-UTC zone, the access types, what
//! a manager may do, and the refusals — every answer checked through `/check`, as applications
//! ask it.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};

const USE: &str = "Agent:Use";

/// An organization with an owner; `user` makes members and `group` groups with members.
struct Org {
    owner: Api,
}

impl Org {
    async fn new(server: &TestServer) -> Self {
        Self { owner: server.bootstrap("acme", "owner@acme.test").await }
    }

    async fn user(&self, name: &str, role: &str) -> (String, Api) {
        self.owner.create_user(&format!("{name}@acme.test"), role).await
    }

    async fn group(&self, name: &str, parent: Option<&str>, members: &[&str]) -> String {
        let (status, body) = self.owner.post("/groups", &json!({ "name": name, "parent": parent })).await;
        assert_eq!(status, 201, "{body}");
        let id = body["group"]["id"].as_str().unwrap().to_owned();
        if !members.is_empty() {
            let (status, body) = self.owner.post(&format!("/groups/{id}/members"), &json!({ "userIds": members })).await;
            assert_eq!(status, 200, "{body}");
        }
        id
    }

    async fn agent(&self, name: &str, access_type: &str) -> String {
        let (status, body) = self.owner.post("/agents", &json!({ "name": name, "access_type": access_type })).await;
        assert_eq!(status, 201, "{body}");
        body["agent"]["id"].as_str().unwrap().to_owned()
    }

    async fn assign(&self, agent: &str, group: &str, body: Value) -> (u16, Value) {
        let mut body = body;
        body["groupId"] = json!(group);
        self.owner.post(&format!("/ai-agent-managers/{agent}/groups"), &body).await
    }

    async fn may(&self, user: &str, permission: &str, kind: &str, id: &str) -> bool {
        self.owner.check(user, permission, kind, id).await["allowed"].as_bool().unwrap()
    }
}

#[tokio::test]
async fn scenario_one_each_department_reaches_its_own_agent_only() {
    let server = TestServer::start().await;
    let org = Org::new(&server).await;
    let mut people = Vec::new();
    for dept in ["sales", "support", "engineering"] {
        let (id, _) = org.user(dept, "org_member").await;
        let group = org.group(&format!("{dept} team"), None, &[&id]).await;
        let agent = org.agent(&format!("{dept} agent"), "group").await;
        let (status, body) = org.assign(&agent, &group, json!({ "permission": "VIEW_AND_USE" })).await;
        assert_eq!(status, 201, "{body}");
        people.push((id, agent));
    }
    for (i, (user, _)) in people.iter().enumerate() {
        for (j, (_, agent)) in people.iter().enumerate() {
            assert_eq!(org.may(user, USE, "agent", agent).await, i == j, "user {i} on agent {j}");
        }
    }
    let decision = org.owner.check(&people[0].0, USE, "agent", &people[0].1).await;
    assert!(decision["reasons"][0]["message"].as_str().unwrap().contains("of group `sales team`"), "{decision}");
}

#[tokio::test]
async fn children_inherit_their_parents_agents_and_the_data_sources_filter_by_group() {
    let server = TestServer::start().await;
    let org = Org::new(&server).await;
    let (junior, _) = org.user("junior", "org_member").await;
    let (senior, _) = org.user("senior", "org_member").await;
    let (lead, _) = org.user("lead", "org_member").await;
    let dept = org.group("Support Department", None, &[]).await;
    org.group("Tier 1 Support", Some(&dept), &[&junior]).await;
    let tier2 = org.group("Tier 2 Support", Some(&dept), &[&senior, &lead]).await;
    let managers = org.group("Support Managers", None, &[&lead]).await;
    // The parent needs a member of its own to be assigned.
    org.owner.post(&format!("/groups/{dept}/members"), &json!({ "userIds": [lead] })).await;
    let basic = org.agent("Basic Support Agent", "group").await;
    let advanced = org.agent("Advanced Support Agent", "group").await;
    assert_eq!(org.assign(&basic, &dept, json!({ "permission": "VIEW_AND_USE" })).await.0, 201);
    assert_eq!(org.assign(&advanced, &tier2, json!({ "permission": "VIEW_AND_USE" })).await.0, 201);
    assert!(org.may(&junior, USE, "agent", &basic).await && !org.may(&junior, USE, "agent", &advanced).await);
    assert!(org.may(&senior, USE, "agent", &basic).await && org.may(&senior, USE, "agent", &advanced).await);
    // The seed's data-source example, on the basic agent.
    for (name, groups) in [("Public Docs", json!([])), ("Internal Wiki", json!([tier2, dept])), ("Customer Data", json!([managers]))] {
        let (status, body) = org.owner.post(&format!("/agents/{basic}/sources"), &json!({ "name": name, "groups": groups })).await;
        assert_eq!(status, 201, "{body}");
    }
    let names = |v: Value| v["sources"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let seen = |who: &str| {
        let (api, path) = (org.owner.clone(), format!("/agents/{basic}/sources?user_email={who}@acme.test"));
        async move { api.get(&path).await }
    };
    assert_eq!(names(seen("junior").await.1), ["Internal Wiki", "Public Docs"], "support sees public and internal");
    assert_eq!(names(seen("lead").await.1), ["Customer Data", "Internal Wiki", "Public Docs"], "managers see all three");
    // A source restricted further never reaches past the agent: restricting to a group that may
    // not use the agent gives that group nothing.
    let (outsider, _) = org.user("outsider", "org_member").await;
    let outside = org.group("Outsiders", None, &[&outsider]).await;
    let (status, body) =
        org.owner.patch(&format!("/agents/{basic}/sources/Customer Data"), &json!({ "groups": [managers, outside] })).await;
    assert_eq!(status, 200, "{body}");
    assert!(names(seen("outsider").await.1).is_empty());
    let source = body["source"]["id"].as_str().unwrap();
    let decision = org.owner.check(&outsider, "DataSource:Retrieve", "data_source", source).await;
    assert_eq!(decision["reasons"][0]["code"], "needs_parent", "{decision}");
}

#[tokio::test]
async fn a_holiday_window_opens_and_closes_on_its_own_in_its_zone() {
    let server = TestServer::start().await;
    let org = Org::new(&server).await;
    let (temp, _) = org.user("temp", "org_member").await;
    let holiday = org.group("Holiday Support Staff", None, &[&temp]).await;
    let agent = org.agent("Customer Support Agent", "group").await;
    let zone = "Asia/Tokyo";
    let local = |secs: i64| {
        let at = grantry_server::clock::now().checked_add(jiff::SignedDuration::from_secs(secs)).unwrap();
        at.to_zoned(jiff::tz::TimeZone::get(zone).unwrap()).datetime().strftime("%Y-%m-%dT%H:%M:%S").to_string()
    };
    let body = json!({ "permission": "VIEW_AND_USE", "startDate": local(2), "endDate": local(4), "timezone": zone });
    let (status, made) = org.assign(&agent, &holiday, body).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["assignment"]["timezone"], zone);
    assert!(!org.may(&temp, USE, "agent", &agent).await, "not yet open");
    let listed = org.owner.get(&format!("/ai-agent-managers/{agent}/groups")).await.1;
    assert_eq!((listed["assignments"][0]["active"].as_bool(), listed["assignments"][0]["timezone"].as_str()), (Some(false), Some(zone)));
    tokio::time::sleep(std::time::Duration::from_millis(2600)).await;
    assert!(org.may(&temp, USE, "agent", &agent).await, "open");
    tokio::time::sleep(std::time::Duration::from_millis(2400)).await;
    assert!(!org.may(&temp, USE, "agent", &agent).await, "closed on its own");
}

#[tokio::test]
async fn access_types_archiving_and_removal_take_effect_on_the_next_check() {
    let server = TestServer::start().await;
    let org = Org::new(&server).await;
    let (ann, ann_api) = org.user("ann", "org_member").await;
    let (admin, _) = org.user("admin", "org_admin").await;
    let everyone = org.agent("Org Agent", "organization").await;
    let private = org.agent("Private Agent", "private").await;
    assert!(org.may(&ann, USE, "agent", &everyone).await, "organization-wide: everyone");
    assert!(!org.may(&ann, USE, "agent", &private).await && org.may(&admin, USE, "agent", &private).await, "private: creator and admins");
    assert_eq!(ann_api.get(&format!("/agents/{private}")).await.0, 404, "a private agent is not there for others");
    let listed = ann_api.get("/agents").await.1;
    assert_eq!(listed["agents"].as_array().unwrap().len(), 1, "{listed}");
    // Assignments do not reach a private agent; switching the access type is the seed's event.
    let team = org.group("Team", None, &[&ann]).await;
    assert_eq!(org.assign(&private, &team, json!({ "permission": "EDIT" })).await.0, 201);
    assert!(!org.may(&ann, USE, "agent", &private).await);
    let (status, _) = org.owner.patch(&format!("/agents/{private}"), &json!({ "access_type": "group" })).await;
    assert_eq!(status, 200);
    assert!(org.may(&ann, "Agent:Edit", "agent", &private).await);
    let audit = org.owner.get("/audit?event_type=agent.access_type_changed").await.1;
    assert_eq!(audit["events"][0]["before"]["accessType"], "private", "{audit}");
    // Archiving the group, then removing the member, each ends the access at once.
    org.owner.patch(&format!("/groups/{team}"), &json!({ "status": "archived" })).await;
    assert!(!org.may(&ann, USE, "agent", &private).await);
    org.owner.patch(&format!("/groups/{team}"), &json!({ "status": "active" })).await;
    assert!(org.may(&ann, USE, "agent", &private).await);
    org.owner.delete(&format!("/groups/{team}/members/{ann}")).await;
    assert!(!org.may(&ann, USE, "agent", &private).await);
    // Deleting an agent revokes what was granted on it.
    let (status, _) = org.owner.delete(&format!("/agents/{everyone}")).await;
    assert_eq!(status, 200);
    assert!(!org.may(&ann, USE, "agent", &everyone).await);
}

#[tokio::test]
async fn a_manager_assigns_only_the_groups_they_manage_and_bad_assignments_are_refused() {
    let server = TestServer::start().await;
    let org = Org::new(&server).await;
    let (mgr, mgr_api) = org.user("mgr", "org_manager").await;
    let (ann, _) = org.user("ann", "org_member").await;
    let theirs = org.group("Their Team", None, &[&ann]).await;
    let other = org.group("Other Team", None, &[&ann]).await;
    let editors = org.group("Editors", None, &[&mgr]).await;
    org.owner.post(&format!("/groups/{theirs}/members"), &json!({ "userIds": [mgr], "role": "MANAGER" })).await;
    let agent = org.agent("Shared Agent", "group").await;
    assert_eq!(org.assign(&agent, &editors, json!({ "permission": "EDIT" })).await.0, 201);
    let assign = |group: &str, permission: &str| {
        let body = json!({ "groupId": group, "permission": permission });
        let path = format!("/ai-agent-managers/{agent}/groups");
        let api = mgr_api.clone();
        async move { api.post(&path, &body).await }
    };
    let (status, body) = assign(&theirs, "VIEW_AND_USE").await;
    assert_eq!(status, 201, "a manager assigns a group they manage to an agent they edit: {body}");
    let (status, body) = assign(&other, "VIEW_AND_USE").await;
    assert_eq!(status, 403, "not a group they do not manage: {body}");
    assert_eq!(mgr_api.delete(&format!("/agents/{agent}")).await.0, 403, "managers do not delete agents");
    assert!(org.may(&ann, USE, "agent", &agent).await);
    // The refusals, each saying what is wrong.
    let empty = org.group("Empty", None, &[]).await;
    let (status, body) = org.assign(&agent, &empty, json!({ "permission": "EDIT" })).await;
    assert!(status == 409 && body["error"]["message"].as_str().unwrap().contains("no members"), "{body}");
    org.owner.patch(&format!("/groups/{other}"), &json!({ "status": "archived" })).await;
    let (status, body) = org.assign(&agent, &other, json!({ "permission": "EDIT" })).await;
    assert!(status == 409 && body["error"]["message"].as_str().unwrap().contains("archived"), "{body}");
    let (status, body) = org.assign(&agent, &theirs, json!({ "permission": "EDIT" })).await;
    assert!(status == 409 && body["error"]["message"].as_str().unwrap().contains("already assigned"), "{body}");
    for (terms, field) in [
        (json!({ "permission": "OWN" }), "permission"),
        (json!({ "permission": "EDIT", "startDate": "2030-01-02", "endDate": "2030-01-01" }), "endDate"),
        (json!({ "permission": "EDIT", "endDate": "2030-01-01", "timezone": "Nowhere/City" }), "timezone"),
    ] {
        let (status, body) = org.assign(&agent, &editors, terms.clone()).await;
        assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some(field)), "{terms}: {body}");
    }
    let (status, _) = org.assign("no-such-agent", &theirs, json!({ "permission": "EDIT" })).await;
    assert_eq!(status, 404);
    // Changing the level is one batch: the old grant ends as the new one starts.
    let (status, body) = org.owner.patch(&format!("/ai-agent-managers/{agent}/groups/{theirs}"), &json!({ "permission": "EDIT" })).await;
    assert_eq!((status, body["assignment"]["permission"].as_str()), (200, Some("EDIT")), "{body}");
    assert!(org.may(&ann, "Agent:Edit", "agent", &agent).await);
    let listed = org.owner.get(&format!("/groups/{theirs}/agents")).await.1;
    assert_eq!(listed["assignments"].as_array().unwrap().len(), 1, "{listed}");
    let (status, _) = org.owner.delete(&format!("/ai-agent-managers/{agent}/groups/{theirs}")).await;
    assert_eq!(status, 200);
    assert!(!org.may(&ann, USE, "agent", &agent).await);
    // The audit log, by entity (seed 003): an agent's events, and a group's — its assignments too.
    let types =
        |page: Value| page["events"].as_array().unwrap().iter().map(|e| e["event_type"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let of_agent = types(org.owner.get(&format!("/audit?entity=agent:{agent}")).await.1);
    assert_eq!(&of_agent[..2], ["agent.created", "agent.group_added"], "{of_agent:?}");
    assert!(of_agent.ends_with(&["agent.permission_level_changed".to_owned(), "agent.group_removed".to_owned()]), "{of_agent:?}");
    let of_group = types(org.owner.get(&format!("/audit?entity=group:{theirs}")).await.1);
    assert_eq!(of_group[0], "group.created", "{of_group:?}");
    assert!(of_group.contains(&"agent.group_added".to_owned()) && of_group.contains(&"group.member_added".to_owned()), "{of_group:?}");
    let added = org.owner.get(&format!("/audit?entity=group:{theirs}&event_type=agent.group_added")).await.1;
    let after = &added["events"][0]["after"];
    assert_eq!(
        (after["agentName"].as_str(), after["groupName"].as_str(), after["permission"].as_str()),
        (Some("Shared Agent"), Some("Their Team"), Some("VIEW_AND_USE"))
    );
    assert_eq!(added["events"][0]["actor_email"], "mgr@acme.test", "the seed's actor email: {added}");
    assert_eq!(org.owner.get("/audit?entity=agent").await.0, 422);
}

#[tokio::test]
async fn the_troubleshooting_walk_names_the_smallest_change() {
    let server = TestServer::start().await;
    let org = Org::new(&server).await;
    let (ann, _) = org.user("ann", "org_member").await;
    let (bo, _) = org.user("bo", "org_member").await;
    let team = org.group("Team", None, &[&bo]).await;
    let agent = org.agent("Helper", "group").await;
    assert_eq!(org.assign(&agent, &team, json!({ "permission": "VIEW_AND_USE" })).await.0, 201);
    let fix = |who: &'static str, permission: &'static str| {
        let (api, path) = (org.owner.clone(), format!("/agents/{agent}/access?user_email={who}@acme.test&permission={permission}"));
        async move {
            let (status, walk) = api.get(&path).await;
            assert_eq!(status, 200, "{walk}");
            (walk["allowed"].as_bool().unwrap(), walk["fix"].as_str().unwrap_or_default().to_owned())
        }
    };
    let (allowed, said) = fix("ann", "Agent:Use").await;
    assert!(!allowed && said.contains("add ann@acme.test to group `Team`"), "{said}");
    let (allowed, said) = fix("bo", "Agent:Use").await;
    assert!(allowed && said.is_empty(), "{said}");
    let (allowed, said) = fix("bo", "Agent:Edit").await;
    assert!(!allowed && said.contains("raise group `Team`'s assignment") && said.contains("EDIT"), "{said}");
    org.owner.post(&format!("/users/{bo}/suspend"), &json!({})).await;
    assert!(fix("bo", "Agent:Use").await.1.starts_with("resume bo@acme.test"));
    org.owner.post(&format!("/users/{bo}/resume"), &json!({ "justification": "back from leave" })).await;
    org.owner
        .patch(&format!("/ai-agent-managers/{agent}/groups/{team}"), &json!({ "permission": "VIEW_AND_USE", "startDate": "2099-01-01" }))
        .await;
    let (allowed, said) = fix("bo", "Agent:Use").await;
    assert!(!allowed && said.contains("has not opened yet"), "{said}");
    org.owner.patch(&format!("/agents/{agent}"), &json!({ "access_type": "private" })).await;
    assert!(fix("bo", "Agent:Use").await.1.contains("access type"));
    // A private agent is not there for those who may not see it.
    let minted = org.owner.post(&format!("/users/{ann}/tokens"), &json!({})).await.1;
    let ann_api = org.owner.with_token(minted["token"].as_str().unwrap());
    assert_eq!(
        ann_api.get(&format!("/agents/{agent}/access?user_email=bo@acme.test")).await.0,
        404,
        "a private agent is not there for ann"
    );
}
