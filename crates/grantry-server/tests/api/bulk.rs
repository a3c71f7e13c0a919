//! Bulk changes across groups over HTTP (seed 003): users and agents added to and removed from
//! several groups in one transaction, answered through `/check`; every refusal — an unknown
//! user, agent or group, one both added and removed, an archived group, too many groups, a
//! manager reaching past their group, another organization — writes nothing.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};

async fn group(owner: &Api, name: &str) -> String {
    let (status, body) = owner.post("/groups", &json!({ "name": name })).await;
    assert_eq!(status, 201, "{body}");
    body["group"]["id"].as_str().unwrap().to_owned()
}

async fn agent(owner: &Api, name: &str) -> String {
    let (status, body) = owner.post("/agents", &json!({ "name": name, "access_type": "group" })).await;
    assert_eq!(status, 201, "{body}");
    body["agent"]["id"].as_str().unwrap().to_owned()
}

async fn may_use(owner: &Api, user: &str, agent: &str) -> bool {
    owner.check(user, "Agent:Use", "agent", agent).await["allowed"].as_bool().unwrap()
}

/// How many audit events the organization holds.
async fn events(owner: &Api) -> usize {
    owner.get("/audit?limit=1000").await.1["events"].as_array().unwrap().len()
}

fn field(body: &Value) -> &str {
    body["error"]["details"]["field"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn users_and_agents_move_across_groups_in_one_transaction() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (ann, _) = owner.create_user("ann@acme.test", "org_member").await;
    let (bo, _) = owner.create_user("bo@acme.test", "org_member").await;
    let (cy, _) = owner.create_user("cy@acme.test", "org_member").await;
    let (sales, support) = (group(&owner, "Sales").await, group(&owner, "Support").await);
    let (one, two) = (agent(&owner, "Agent One").await, agent(&owner, "Agent Two").await);
    let bulk = |body: Value| {
        let api = owner.clone();
        async move { api.post("/groups:bulk", &body).await }
    };
    let add = json!({ "groupIds": ["Sales", support], "addUserIds": ["ann@acme.test", bo], "addAgentIds": ["Agent One"] });

    // A dry run of groups with no members yet: the agents may be assigned since users join too.
    let before = events(&owner).await;
    let (status, plan) = bulk(with(&add, "dryRun", json!(true))).await;
    assert_eq!((status, plan["created"].as_u64(), plan["dry_run"].as_bool()), (200, Some(6), Some(true)), "{plan}");
    assert_eq!(events(&owner).await, before, "a dry run writes nothing");
    assert!(!may_use(&owner, &ann, &one).await);

    // Every refusal writes nothing and names the field.
    for (body, status, says) in [
        (with(&add, "addUserIds", json!(["nobody@acme.test"])), 422, "addUserIds"),
        (with(&add, "addAgentIds", json!(["No Such Agent"])), 422, "addAgentIds"),
        (with(&add, "groupIds", json!(["Sales", "Nowhere"])), 422, "groupIds"),
        (with(&add, "removeUserIds", json!(["ANN@acme.test"])), 422, "removeUserIds"),
        (json!({ "groupIds": ["Sales"] }), 422, "addUserIds"),
        (json!({ "groupIds": (0..101).map(|i| format!("g{i}")).collect::<Vec<_>>(), "addUserIds": [ann] }), 422, "groupIds"),
        (with(&add, "permission", json!("OWN")), 422, "permission"),
        (with(&add, "endDate", json!("2020-01-01")), 422, "endDate"),
        (with(&add, "memberEndDate", json!("2020-01-01")), 422, "endDate"),
        (with(&add, "timezone", json!("Mars/Olympus")), 422, "timezone"),
    ] {
        let (got, answer) = bulk(body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert_eq!(field(&answer), says, "{body} → {answer}");
    }
    let (status, answer) = owner.post("/groups:bulk", &json!({ "groupIds": ["Sales"], "surprise": 1 })).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(events(&owner).await, before, "no refused call wrote anything");

    // Made: both users in both groups and the agent assigned to both, one run of audit events.
    let (status, done) = bulk(add.clone()).await;
    assert_eq!((status, done["created"].as_u64()), (200, Some(6)), "{done}");
    assert_eq!(events(&owner).await, before + 6);
    assert!(may_use(&owner, &ann, &one).await && may_use(&owner, &bo, &one).await);
    assert!(!may_use(&owner, &cy, &one).await && !may_use(&owner, &ann, &two).await);
    let (_, again) = bulk(add.clone()).await;
    assert_eq!((again["unchanged"].as_u64(), again["created"].as_u64()), (Some(6), Some(0)), "{again}");

    // An archived group in the list refuses the whole change, the other group's part included.
    owner.patch(&format!("/groups/{sales}"), &json!({ "status": "archived" })).await;
    let (status, answer) = bulk(json!({ "groupIds": [support, "Sales"], "addUserIds": [cy] })).await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("archived"), "{answer}");
    assert_eq!(owner.get(&format!("/groups/{support}/members")).await.1["members"].as_array().unwrap().len(), 2);
    owner.patch(&format!("/groups/{sales}"), &json!({ "status": "active" })).await;

    // Removed: ann from both groups, the agent from Sales; cy was in neither and stays out.
    let (status, gone) =
        bulk(json!({ "groupIds": [sales, support], "removeUserIds": [ann, cy], "removeAgentIds": [one], "addAgentIds": [two] })).await;
    assert_eq!(
        (status, gone["removed"].as_u64(), gone["unchanged"].as_u64(), gone["created"].as_u64()),
        (200, Some(4), Some(2), Some(2)),
        "{gone}"
    );
    assert!(!may_use(&owner, &ann, &one).await && !may_use(&owner, &ann, &two).await);
    assert!(!may_use(&owner, &bo, &one).await, "the agent left both groups");
    assert!(may_use(&owner, &bo, &two).await);
}

/// `base` with `key` set to `value`.
fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut out = base.clone();
    out[key] = value;
    out
}

#[tokio::test]
async fn a_manager_changes_only_their_own_groups_and_other_organizations_nothing() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (lead, lead_api) = owner.create_user("lead@acme.test", "org_member").await;
    let (ann, _) = owner.create_user("ann@acme.test", "org_member").await;
    let (mine, theirs) = (group(&owner, "Mine").await, group(&owner, "Theirs").await);
    owner.post(&format!("/groups/{mine}/members"), &json!({ "userIds": [lead], "role": "MANAGER" })).await;
    owner.post(&format!("/groups/{theirs}/members"), &json!({ "userIds": [lead] })).await;
    // lead sees the agent through Theirs, but may not hand it to the group they manage.
    agent(&owner, "Agent One").await;
    let (status, body) =
        owner.post("/ai-agent-managers/Agent%20One/groups", &json!({ "groupId": theirs, "permission": "VIEW_AND_USE" })).await;
    assert_eq!(status, 201, "{body}");
    let before = events(&owner).await;
    for body in [
        json!({ "groupIds": [mine, theirs], "addUserIds": [ann] }),
        json!({ "groupIds": [mine], "addUserIds": [ann], "role": "MANAGER" }),
        json!({ "groupIds": [mine], "addAgentIds": ["Agent One"] }),
        json!({ "groupIds": [theirs], "removeUserIds": [lead] }),
    ] {
        let (status, answer) = lead_api.post("/groups:bulk", &body).await;
        assert_eq!(status, 403, "{body} → {answer}");
    }
    assert_eq!(events(&owner).await, before, "no refused call wrote anything");
    let (status, done) = lead_api.post("/groups:bulk", &json!({ "groupIds": [mine], "addUserIds": [ann] })).await;
    assert_eq!((status, done["created"].as_u64()), (200, Some(1)), "{done}");

    // Another organization's owner cannot reach these groups, nor learn they exist.
    let other = server.bootstrap("globex", "owner@globex.test").await;
    let (status, answer) =
        Api::new(&other.url, "acme", &other.token).post("/groups:bulk", &json!({ "groupIds": [mine], "removeUserIds": [ann] })).await;
    assert!(status == 403 || status == 401, "{answer}");
    let (status, answer) = other.post("/groups:bulk", &json!({ "groupIds": [mine], "removeUserIds": [ann] })).await;
    assert!(status == 422 && ["groupIds", "removeUserIds"].contains(&field(&answer)), "{answer}");
    assert_eq!(owner.get(&format!("/groups/{mine}/members")).await.1["members"].as_array().unwrap().len(), 2);
}

/// What a review found: the same agent or user named twice, or named one way to add and another
/// to remove; who may learn which users exist; a group left empty with an agent assigned.
#[tokio::test]
async fn names_are_resolved_before_they_are_compared_and_nothing_leaks() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (sam, _) = owner.create_user("sam@acme.test", "org_member").await;
    let (_, member) = owner.create_user("mo@acme.test", "org_member").await;
    let solo = group(&owner, "Solo").await;
    let fin = agent(&owner, "Fin Bot").await;
    let bulk = |api: &Api, body: Value| {
        let api = api.clone();
        async move { api.post("/groups:bulk", &body).await }
    };
    // One agent by name and by id is one assignment, and taking it away ends the access.
    let (status, done) = bulk(&owner, json!({ "groupIds": [solo], "addUserIds": [sam], "addAgentIds": ["Fin Bot", fin] })).await;
    assert_eq!((status, done["created"].as_u64()), (200, Some(2)), "{done}");
    let listed = owner.get(&format!("/ai-agent-managers/{fin}/groups")).await.1;
    assert_eq!(listed["assignments"].as_array().unwrap().len(), 1, "{listed}");
    let (status, gone) = bulk(&owner, json!({ "groupIds": [solo], "removeAgentIds": ["fin bot", fin] })).await;
    assert_eq!((status, gone["removed"].as_u64()), (200, Some(1)), "{gone}");
    assert!(!may_use(&owner, &sam, &fin).await);
    // Added by email and removed by id is the same user.
    let (status, answer) = bulk(&owner, json!({ "groupIds": [solo], "addUserIds": ["sam@acme.test"], "removeUserIds": [sam] })).await;
    assert_eq!((status, field(&answer)), (422, "removeUserIds"), "{answer}");
    let (status, answer) = bulk(&owner, json!({ "groupIds": [solo], "addAgentIds": ["Fin Bot"], "removeAgentIds": [fin] })).await;
    assert_eq!((status, field(&answer)), (422, "removeAgentIds"), "{answer}");
    // A member who may not manage the group learns nothing of who exists.
    for user in ["sam@acme.test", "nobody@acme.test"] {
        let (status, answer) = bulk(&member, json!({ "groupIds": [solo], "addUserIds": [user] })).await;
        assert_eq!(status, 403, "{user}: {answer}");
    }
    // Taking the last member out while assigning an agent leaves an empty group: refused whole.
    let before = events(&owner).await;
    let (status, answer) = bulk(&owner, json!({ "groupIds": [solo], "removeUserIds": [sam], "addAgentIds": [fin] })).await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("no members left"), "{answer}");
    assert_eq!(events(&owner).await, before);
}
