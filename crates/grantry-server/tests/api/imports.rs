//! CSV imports over HTTP (seed 003): a file is validated whole and written in one transaction; one
//! bad row — unknown agent, bad level, end before start, a repeat, a hostile character — rejects
//! it with its line, and nothing of it is written; a dry run writes nothing; a repeated import
//! changes nothing; the users file creates users and memberships.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::TestServer;
use serde_json::{json, Value};

fn line_error(body: &Value) -> String {
    assert_eq!(body["error"]["details"]["field"], "csv", "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_file_is_written_whole_or_not_at_all() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (ann, _) = owner.create_user("ann@acme.test", "org_member").await;
    for name in ["Group One", "Group Two"] {
        let (_, g) = owner.post("/groups", &json!({ "name": name })).await;
        owner.post(&format!("/groups/{}/members", g["group"]["id"].as_str().unwrap()), &json!({ "userIds": [ann] })).await;
    }
    for name in ["Agent One", "Agent Two"] {
        assert_eq!(owner.post("/agents", &json!({ "name": name, "access_type": "group" })).await.0, 201);
    }
    let import = |csv: &str, dry_run: bool| {
        let (api, body) = (owner.clone(), json!({ "csv": csv, "dry_run": dry_run, "timezone": "Europe/Paris" }));
        async move { api.post("/imports/assignments", &body).await }
    };
    let good = "AgentId,GroupId,Permission,StartDate,EndDate\nAgent One,Group One,VIEW_AND_USE,2024-01-01,\nagent one,Group Two,EDIT,2024-01-01,2099-12-31\nAgent Two,Group One,VIEW_AND_USE,,\n";
    for (bad, line, says) in [
        (good.replace("Agent Two,", "Agent Nine,"), 4, "no agent"),
        (good.replace("EDIT", "OWN"), 3, "permission level"),
        (good.replace("2099-12-31", "2023-01-01"), 3, "before it starts"),
        (format!("{good}Agent One,Group One,EDIT,,\n"), 5, "again (line 2"),
        (good.replace("Group Two", "Group\u{202e}Two"), 3, "U+202E"),
        (good.replace("2024-01-01,2099", "someday,2099"), 3, "not a date"),
    ] {
        let (status, body) = import(&bad, false).await;
        assert_eq!(status, 422, "{body}");
        let message = line_error(&body);
        assert!(message.contains(&format!("line {line}:")) && message.contains(says), "{message}");
    }
    let (status, body) = import("Agent,Group\nx,y\n", false).await;
    assert!(status == 422 && line_error(&body).contains("the header must be"), "{body}");
    // Nothing of the refused files, nor of a dry run, was written.
    let (status, plan) = import(good, true).await;
    assert_eq!((status, plan["created"].as_u64(), plan["dry_run"].as_bool()), (200, Some(3), Some(true)), "{plan}");
    assert_eq!(owner.get("/audit?event_type=agent.group_added").await.1["events"], json!([]));
    let (status, done) = import(good, false).await;
    assert_eq!((status, done["created"].as_u64()), (200, Some(3)), "{done}");
    let events = owner.get("/audit?event_type=agent.group_added").await.1;
    assert_eq!(events["events"].as_array().unwrap().len(), 3);
    let revisions: Vec<u64> = events["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(revisions.windows(2).filter(|w| w[1] != w[0] + 1).count(), 0, "one batch, one run of events: {revisions:?}");
    // The window was read in Paris: the end date's last day closes at midnight there.
    let listed = owner.get("/ai-agent-managers/Agent%20One/groups").await.1;
    let two = listed["assignments"].as_array().unwrap().iter().find(|a| a["groupName"] == "Group Two").unwrap().clone();
    assert_eq!((two["endDate"].as_str(), two["timezone"].as_str()), (Some("2099-12-31T23:00:00Z"), Some("Europe/Paris")), "{two}");
    // The same file again changes nothing; a changed level is a change.
    let (_, again) = import(good, false).await;
    assert_eq!((again["unchanged"].as_u64(), again["created"].as_u64()), (Some(3), Some(0)), "{again}");
    let (_, changed) = import(&good.replace("Agent Two,Group One,VIEW_AND_USE", "Agent Two,Group One,EDIT"), false).await;
    assert_eq!(changed["changed"].as_u64(), Some(1), "{changed}");
}

#[tokio::test]
async fn the_users_file_creates_users_and_memberships() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    owner.create_user("old@acme.test", "org_member").await;
    for name in ["Sales", "Support"] {
        owner.post("/groups", &json!({ "name": name })).await;
    }
    let csv = "Name,Email,Group\nNew Person,new@acme.test,Sales\n\"Person, Old\",old@acme.test,Support\nNew Person,new@acme.test,Support\n";
    let (status, body) =
        owner.post("/imports/users", &json!({ "csv": csv.replace("old@acme.test,Support", "old@acme.test,Nowhere") })).await;
    assert!(status == 422 && line_error(&body).contains("line 3:"), "{body}");
    assert_eq!(owner.get("/users?email=new@acme.test").await.1["users"], json!([]), "nothing was written");
    let (status, body) = owner.post("/imports/users", &json!({ "csv": csv })).await;
    assert_eq!((status, body["created"].as_u64(), body["changed"].as_u64()), (200, Some(2), Some(1)), "{body}");
    let support = owner.get("/groups/Support/members").await.1;
    let emails: Vec<&str> = support["members"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(emails.len(), 2, "{support}");
    let (_, member) = owner.create_user("member@acme.test", "org_member").await;
    let (status, _) = member.post("/imports/users", &json!({ "csv": csv })).await;
    assert_eq!(status, 403, "a member imports nobody");
}
