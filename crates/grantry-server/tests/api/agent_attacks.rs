//! What a review attacking groups and agents found, each now a test: a manager's authority to
//! hand access on rests on what they hold for good (not a temporary grant, not an assignment or a
//! membership with an end); a rename does not reveal a private agent; names are unique across
//! Unicode case and odd spaces and never look like ids; a source whose groups were all deleted
//! can be opened again.

use grantry_testkit::{Api, TestServer};
use serde_json::{json, Value};

async fn made(api: &Api, path: &str, body: Value) -> Value {
    let (status, answer) = api.post(path, &body).await;
    assert!(status == 201 || status == 200, "{path} {body}: {status} {answer}");
    answer
}

#[tokio::test]
async fn a_managers_authority_rests_on_what_they_hold_for_good() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (mgr, mgr_api) = owner.create_user("mgr@acme.test", "org_manager").await;
    let (mem, _) = owner.create_user("mem@acme.test", "org_member").await;
    made(&owner, "/groups", json!({ "name": "Sales" })).await;
    made(&owner, "/groups", json!({ "name": "Sales2" })).await;
    made(&owner, "/groups/Sales/members", json!({ "userIds": [mgr], "role": "MANAGER" })).await;
    made(&owner, "/groups/Sales2/members", json!({ "userIds": [mgr, mem], "role": "MANAGER" })).await;
    made(&owner, "/groups/Sales/members", json!({ "userIds": [mem] })).await;
    let bot =
        made(&owner, "/agents", json!({ "name": "GroupBot", "access_type": "group" })).await["agent"]["id"].as_str().unwrap().to_owned();
    // EDIT through an assignment that ends: not enough to hand EDIT on, nor to lift the end.
    made(&owner, &format!("/ai-agent-managers/{bot}/groups"), json!({ "groupId": "Sales", "permission": "EDIT", "endDate": "2099-01-01" }))
        .await;
    let (status, body) = mgr_api.patch(&format!("/ai-agent-managers/{bot}/groups/Sales"), &json!({ "permission": "EDIT" })).await;
    assert_eq!(status, 403, "lifting the end of one's own temporary EDIT: {body}");
    let (status, body) =
        mgr_api.post(&format!("/ai-agent-managers/{bot}/groups"), &json!({ "groupId": "Sales2", "permission": "EDIT" })).await;
    assert_eq!(status, 403, "handing on temporary EDIT: {body}");
    // A temporary grant of Agent:Edit is not enough either.
    let grant = json!({ "user_id": mgr, "duration": "PT1H", "justification": "fix a prompt for an hour, ticket 123",
                        "permission_grant": { "permission_name": "Agent:Edit", "conditions": {} } });
    made(&owner, "/role/temporary_permission_grant/", grant).await;
    let (status, _) =
        mgr_api.post(&format!("/ai-agent-managers/{bot}/groups"), &json!({ "groupId": "Sales2", "permission": "VIEW_AND_USE" })).await;
    assert_eq!(status, 403);
    // With EDIT for good, the manager assigns the groups they manage.
    made(&owner, "/groups", json!({ "name": "Editors" })).await;
    made(&owner, "/groups/Editors/members", json!({ "userIds": [mgr] })).await;
    made(&owner, &format!("/ai-agent-managers/{bot}/groups"), json!({ "groupId": "Editors", "permission": "EDIT" })).await;
    let (status, body) =
        mgr_api.post(&format!("/ai-agent-managers/{bot}/groups"), &json!({ "groupId": "Sales2", "permission": "EDIT" })).await;
    assert_eq!(status, 201, "{body}");
    // A manager whose own membership ends adds nobody who would outlast it.
    made(&owner, "/groups", json!({ "name": "Tmp" })).await;
    made(&owner, "/groups/Tmp/members", json!({ "userIds": [mgr], "role": "MANAGER", "endDate": "2099-01-01" })).await;
    let (status, body) = mgr_api.post("/groups/Tmp/members", &json!({ "userIds": [mem] })).await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn names_are_unique_and_reveal_nothing_private() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (mem, mem_api) = owner.create_user("mem@acme.test", "org_member").await;
    made(&owner, "/agents", json!({ "name": "PrivBot", "access_type": "private" })).await;
    let bot =
        made(&owner, "/agents", json!({ "name": "GroupBot", "access_type": "group" })).await["agent"]["id"].as_str().unwrap().to_owned();
    made(&owner, "/groups", json!({ "name": "Editors" })).await;
    made(&owner, "/groups/Editors/members", json!({ "userIds": [mem] })).await;
    made(&owner, &format!("/ai-agent-managers/{bot}/groups"), json!({ "groupId": "Editors", "permission": "EDIT" })).await;
    let (status, body) = mem_api.patch(&format!("/agents/{bot}"), &json!({ "name": "privbot" })).await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(!message.contains("PrivBot") && !message.contains("id `"), "a private agent's name and id stay private: {message}");
    // Unicode case and odd spaces make no second name; a name never looks like an id.
    made(&owner, "/agents", json!({ "name": "ÄGENT", "access_type": "organization" })).await;
    assert_eq!(owner.post("/agents", &json!({ "name": "äGENT", "access_type": "organization" })).await.0, 409);
    made(&owner, "/groups", json!({ "name": "Sales Team" })).await;
    for clash in ["Sales\u{a0}Team", "SALES  TEAM", "sales team "] {
        assert_eq!(owner.post("/groups", &json!({ "name": clash })).await.0, 409, "{clash:?}");
    }
    for (path, body) in [
        ("/groups", json!({ "name": "558da095154453bff94579ea" })),
        ("/agents", json!({ "name": "558DA095154453BFF94579EA", "access_type": "group" })),
    ] {
        let (status, answer) = owner.post(path, &body).await;
        assert_eq!((status, answer["error"]["details"]["field"].as_str()), (422, Some("name")), "{answer}");
    }
    // Only the first of each name was made.
    let listed = owner.get("/groups").await.1;
    assert_eq!(listed["groups"].as_array().unwrap().len(), 2, "{listed}");
}

#[tokio::test]
async fn a_source_whose_groups_were_deleted_can_be_opened() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    made(&owner, "/groups", json!({ "name": "X" })).await;
    let bot =
        made(&owner, "/agents", json!({ "name": "Bot2", "access_type": "organization" })).await["agent"]["id"].as_str().unwrap().to_owned();
    made(&owner, &format!("/agents/{bot}/sources"), json!({ "name": "src", "groups": ["X"] })).await;
    assert_eq!(owner.delete("/groups/X").await.0, 200);
    let (status, body) = owner.patch(&format!("/agents/{bot}/sources/src"), &json!({ "groups": [] })).await;
    assert_eq!((status, body["source"]["access"].as_str()), (200, Some("ALL_AGENT_USERS")), "{body}");
    let (member, _) = owner.create_user("m@acme.test", "org_member").await;
    let sources = owner.get(&format!("/agents/{bot}/sources?user_email={member}")).await.1;
    assert_eq!(sources["sources"].as_array().unwrap().len(), 1, "{sources}");
}
