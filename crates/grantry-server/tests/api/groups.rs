//! Groups over HTTP: the tree's rules (unique names, no cycles, bounded depth, active parents),
//! members in the seed's shape, what a group's own manager may and may not do, all-or-nothing
//! bulk changes, hostile input, and the audit events — each answer checked, and the state after
//! a refusal checked unchanged.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};

async fn create(api: &Api, name: &str, parent: Option<&str>) -> (u16, Value) {
    api.post("/groups", &json!({ "name": name, "parent": parent })).await
}

async fn id_of(api: &Api, name: &str, parent: Option<&str>) -> String {
    let (status, body) = create(api, name, parent).await;
    assert_eq!(status, 201, "{body}");
    body["group"]["id"].as_str().unwrap().to_owned()
}

fn emails(members: &Value) -> Vec<String> {
    let mut out: Vec<String> = members.as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap().to_owned()).collect();
    out.sort();
    out
}

#[tokio::test]
async fn the_tree_keeps_its_rules() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let support = id_of(&owner, "Support Department", None).await;
    let tier1 = id_of(&owner, "Tier 1 Support", Some("support department")).await;
    let (status, body) = create(&owner, "tier 1 SUPPORT", None).await;
    assert_eq!(status, 409, "names are unique without case: {body}");
    let (status, body) = owner.patch(&format!("/groups/{support}"), &json!({ "parent": tier1 })).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("parent")), "a cycle: {body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("cycle"), "{body}");
    let (status, body) = create(&owner, "Orphan", Some("no such group")).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("parent")), "a body naming nothing is bad input: {body}");
    // Depth: with a limit of 3, a third level fits and a fourth does not.
    let (status, body) = owner.patch("/settings", &json!({ "max_group_depth": 3 })).await;
    assert_eq!((status, body["max_group_depth"].as_u64()), (200, Some(3)), "{body}");
    let night = id_of(&owner, "Night shift", Some(&tier1)).await;
    let (status, body) = create(&owner, "Too deep", Some(&night)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("nest 3 deep"), "{body}");
    // Moving a subtree under a group counts the subtree's height too.
    let other = id_of(&owner, "Other", None).await;
    let (status, body) = owner.patch(&format!("/groups/{tier1}"), &json!({ "parent": other })).await;
    assert_eq!(status, 200, "Other → Tier 1 → Night is 3 deep: {body}");
    let (status, body) = owner.patch("/settings", &json!({ "max_group_depth": 2 })).await;
    assert_eq!(status, 422, "the tree is already 3 deep: {body}");
    // An archived group is no parent; a group with children is not deleted.
    let (status, _) = owner.patch(&format!("/groups/{support}"), &json!({ "status": "archived" })).await;
    assert_eq!(status, 200);
    let (status, body) = create(&owner, "Under archived", Some(&support)).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = owner.delete(&format!("/groups/{tier1}")).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("Night shift"), "{body}");
    let (status, body) = owner.patch(&format!("/groups/{night}"), &json!({ "parent": null })).await;
    assert_eq!((status, body["group"]["parent"].is_null()), (200, true), "{body}");
    let (status, _) = owner.delete(&format!("/groups/{tier1}")).await;
    assert_eq!(status, 200);
    let list = owner.get("/groups").await.1;
    let names: Vec<&str> = list["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Night shift", "Other", "Support Department"]);
}

#[tokio::test]
async fn hostile_and_malformed_input_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (ann, _) = owner.create_user("ann@acme.test", "org_member").await;
    let sales = id_of(&owner, "Sales Team", None).await;
    let long = "x".repeat(101);
    for (body, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": long }), "name"),
        (json!({ "name": "Sales\u{202e}Team" }), "name"),
        (json!({ "name": "ok", "description": "line\nbreak" }), "description"),
    ] {
        let (status, answer) = owner.post("/groups", &body).await;
        assert_eq!((status, answer["error"]["details"]["field"].as_str()), (422, Some(field)), "{body}: {answer}");
    }
    let add = |body: Value| {
        let owner = owner.clone();
        let path = format!("/groups/{sales}/members");
        async move { owner.post(&path, &body).await }
    };
    for (body, status, field) in [
        (json!({ "userIds": [ann, "nobody@acme.test"] }), 422, Some("userIds")),
        (json!({ "userIds": [] }), 422, Some("userIds")),
        (json!({ "userIds": [ann], "role": "OWNER" }), 422, Some("role")),
        (json!({ "userIds": [ann], "endDate": "2001-01-01" }), 422, Some("endDate")),
        (json!({ "userIds": [ann], "endDate": "2099-01-01", "timezone": "Mars/Olympus" }), 422, Some("timezone")),
        (json!({ "userIds": [ann], "endDate": "soon" }), 422, Some("endDate")),
        (json!({ "userIds": [ann], "extra": 1 }), 400, None),
    ] {
        let (got, answer) = add(body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["details"]["field"].as_str(), Some(field), "{body}: {answer}");
        }
    }
    let too_many: Vec<String> = (0..1001).map(|i| format!("u{i}@acme.test")).collect();
    let (status, _) = add(json!({ "userIds": too_many })).await;
    assert_eq!(status, 422);
    // Nothing of any refused call was written.
    assert_eq!(owner.get(&format!("/groups/{sales}/members")).await.1["members"], json!([]));
    let audit = owner.get("/audit?event_type=group.member_added").await.1;
    assert_eq!(audit["events"], json!([]), "{audit}");
}

#[tokio::test]
async fn members_in_the_seeds_shape_and_what_a_groups_manager_may_do() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (_, lead) = owner.create_user("lead@acme.test", "org_member").await;
    let (ann, ann_api) = owner.create_user("ann@acme.test", "org_member").await;
    let (bo, _) = owner.create_user("bo@acme.test", "org_member").await;
    owner.create_user("cy@acme.test", "org_member").await;
    let sales = id_of(&owner, "Sales Team", None).await;
    let other = id_of(&owner, "Other Team", None).await;
    let (status, body) =
        owner.post(&format!("/groups/{sales}/members"), &json!({ "userIds": ["lead@acme.test"], "role": "MANAGER" })).await;
    assert_eq!(status, 200, "{body}");
    // The seed's shape: ids, the role in capitals; a repeat is one membership.
    let (status, body) = lead.post(&format!("/groups/{sales}/members"), &json!({ "userIds": [ann, bo, ann], "role": "MEMBER" })).await;
    assert_eq!(status, 200, "a manager adds members: {body}");
    assert_eq!(emails(&body["members"]), ["ann@acme.test", "bo@acme.test"]);
    let (status, body) = lead.post(&format!("/groups/{sales}/members"), &json!({ "userIds": ["cy@acme.test"], "role": "MANAGER" })).await;
    assert_eq!(status, 403, "but not managers: {body}");
    let (status, body) = lead.post(&format!("/groups/{other}/members"), &json!({ "userIds": ["cy@acme.test"] })).await;
    assert_eq!(status, 403, "nor another group's members: {body}");
    let (status, body) = ann_api.post(&format!("/groups/{sales}/members"), &json!({ "userIds": ["cy@acme.test"] })).await;
    assert_eq!(status, 403, "a plain member adds nobody: {body}");
    let (status, body) = lead.delete(&format!("/groups/{sales}/members/lead@acme.test")).await;
    assert_eq!(status, 403, "a manager does not unmake managers, themselves included: {body}");
    let (status, body) = lead.delete(&format!("/groups/{sales}/members/{bo}")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = lead.post(&format!("/groups/{sales}/members:remove"), &json!({ "userIds": [ann, bo] })).await;
    assert_eq!(status, 422, "bo is no longer a member, so nothing is removed: {body}");
    let members = owner.get(&format!("/groups/{sales}/members")).await.1;
    assert_eq!(emails(&members["members"]), ["ann@acme.test", "lead@acme.test"]);
    // An end date in a zone: the last day of membership, closing at that zone's midnight.
    let (status, body) = owner
        .post(&format!("/groups/{sales}/members"), &json!({ "userIds": [ann], "endDate": "2099-01-15", "timezone": "America/New_York" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["members"][0]["expires_at"], "2099-01-16T05:00:00Z");
    // Archived: no members join; the audit log has the seed's fields.
    owner.patch(&format!("/groups/{sales}"), &json!({ "status": "archived" })).await;
    let (status, body) = owner.post(&format!("/groups/{sales}/members"), &json!({ "userIds": ["cy@acme.test"] })).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = lead.post(&format!("/groups/{sales}/members"), &json!({ "userIds": ["cy@acme.test"] })).await;
    assert_eq!(status, 403, "a manager of an archived group manages nothing: {body}");
    let audit = owner.get("/audit?event_type=group.member_added").await.1;
    let added = &audit["events"].as_array().unwrap()[0];
    assert_eq!(added["after"]["group_name"], "Sales Team", "{added}");
    assert!(added["after"]["user_email"].is_string(), "{added}");
    let archived = owner.get("/audit?event_type=group.archived").await.1;
    assert_eq!(archived["events"][0]["before"]["status"], "active", "{archived}");
    // Another server on the same database loads the groups and memberships from the tables.
    let second = server.second().await;
    let again = Api::new(&second.url, "acme", &owner.token);
    let members = again.get(&format!("/groups/{sales}/members")).await.1;
    assert_eq!(emails(&members["members"]), ["ann@acme.test", "lead@acme.test"]);
    assert_eq!(again.get(&format!("/groups/{sales}")).await.1["group"]["status"], "archived");
}
