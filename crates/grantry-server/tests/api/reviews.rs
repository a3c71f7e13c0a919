//! Access reviews over HTTP (seed 003): an admin or the group's own manager certifies or revokes a
//! membership or an assignment; a revocation takes the access away at once; the compliance report
//! reads the reviews back, with when each next falls due by the organization's review period.

#![expect(clippy::expect_used, clippy::panic, reason = "test helpers fail loudly at the point of failure")]

use grantry_testkit::TestServer;
use serde_json::{json, Value};

fn row<'a>(report: &'a Value, kind: &str, subject: &str) -> &'a Value {
    let items = report["items"].as_array().expect("items");
    items.iter().find(|i| i["kind"] == kind && i["subject"] == subject).unwrap_or_else(|| panic!("no {kind} of {subject}: {report}"))
}

#[tokio::test]
async fn reviews_are_recorded_and_the_compliance_report_reads_them() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let (lead, lead_api) = owner.create_user("lead@acme.test", "org_member").await;
    let (ann, _) = owner.create_user("ann@acme.test", "org_member").await;
    owner.post("/groups", &json!({ "name": "Sales" })).await;
    owner.post("/groups/Sales/members", &json!({ "userIds": [lead], "role": "MANAGER" })).await;
    owner.post("/groups/Sales/members", &json!({ "userIds": [ann] })).await;
    let (_, agent) = owner.post("/agents", &json!({ "name": "Bot", "access_type": "group" })).await;
    let bot = agent["agent"]["id"].as_str().expect("id").to_owned();
    owner.post(&format!("/ai-agent-managers/{bot}/groups"), &json!({ "groupId": "Sales", "permission": "VIEW_AND_USE" })).await;
    owner.patch("/settings", &json!({ "review_period_days": 30 })).await;
    // The group's manager certifies a plain membership; the admin certifies the assignment.
    let (status, body) = lead_api
        .post("/reviews", &json!({ "kind": "membership", "group": "Sales", "user": "ann@acme.test", "verdict": "certify", "note": "Q4" }))
        .await;
    assert_eq!((status, body["verdict"].as_str()), (201, Some("certified")), "{body}");
    let (status, body) =
        lead_api.post("/reviews", &json!({ "kind": "assignment", "agent": bot, "group": "Sales", "verdict": "certify" })).await;
    assert_eq!(status, 201, "the group's manager reviews its assignments too: {body}");
    let (status, body) =
        lead_api.post("/reviews", &json!({ "kind": "membership", "group": "Sales", "user": "lead@acme.test", "verdict": "revoke" })).await;
    assert_eq!(status, 403, "a manager does not revoke a manager: {body}");
    for (bad, field) in [
        (json!({ "kind": "assignment", "group": "Sales", "verdict": "certify" }), "agent"),
        (json!({ "kind": "membership", "group": "Sales", "user": "ann@acme.test", "verdict": "approve" }), "verdict"),
        (json!({ "kind": "role", "group": "Sales", "verdict": "certify" }), "kind"),
    ] {
        let (status, body) = owner.post("/reviews", &bad).await;
        assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some(field)), "{bad}: {body}");
    }
    let report = owner.get("/reports/compliance").await.1;
    assert_eq!(report["review_period_days"], 30);
    let reviewed = row(&report, "membership", "ann@acme.test");
    assert_eq!(
        (reviewed["last_review"]["verdict"].as_str(), reviewed["overdue"].as_bool()),
        (Some("certified"), Some(false)),
        "{reviewed}"
    );
    let at: jiff::Timestamp = reviewed["last_review"]["at"].as_str().expect("at").parse().expect("time");
    let due: jiff::Timestamp = reviewed["due_at"].as_str().expect("due").parse().expect("time");
    assert_eq!(due.duration_since(at), jiff::SignedDuration::from_hours(30 * 24), "due a period after the review");
    assert!(row(&report, "membership", "lead@acme.test")["last_review"].is_null(), "never reviewed");
    assert_eq!(row(&report, "assignment", "Bot")["last_review"]["by"], format!("user:{lead}"));
    // A revocation takes the membership away at once, and is recorded as the review.
    let check =
        json!({ "principal": { "type": "user", "id": ann }, "permission": "Agent:Use", "resource": { "type": "agent", "id": bot } });
    assert_eq!(owner.post("/check", &check).await.1["allowed"], true);
    let (status, _) = owner
        .post("/reviews", &json!({ "kind": "membership", "group": "Sales", "user": ann, "verdict": "revoke", "note": "left sales" }))
        .await;
    assert_eq!(status, 201);
    assert_eq!(owner.post("/check", &check).await.1["allowed"], false);
    let events = owner.get("/audit?event_type=review.revoked").await.1;
    assert_eq!(events["events"][0]["justification"], "left sales", "{events}");
    assert_eq!(lead_api.get("/reports/compliance").await.0, 403, "reports are for admins");
}

#[tokio::test]
async fn every_cell_of_the_access_matrix_is_the_engines_decision() {
    let server = TestServer::start().await;
    let owner = server.bootstrap("acme", "owner@acme.test").await;
    let mut users = vec![];
    for (name, role) in [("ann", "org_member"), ("bo", "org_member"), ("cy", "org_member"), ("ed", "org_admin"), ("gone", "org_member")] {
        let email = format!("{name}@acme.test");
        users.push((owner.create_user(&email, role).await.0, email));
    }
    owner.post("/groups", &json!({ "name": "Parent" })).await;
    owner.post("/groups", &json!({ "name": "Child", "parent": "Parent" })).await;
    owner.post("/groups/Child/members", &json!({ "userIds": [users[0].0, users[4].0] })).await;
    owner.post("/groups", &json!({ "name": "Editors" })).await;
    owner.post("/groups/Editors/members", &json!({ "userIds": [users[1].0] })).await;
    let mut agents = vec![];
    for (name, access) in
        [("Open", "organization"), ("Inherited", "group"), ("Edited", "group"), ("Secret", "private"), ("Orphan", "group")]
    {
        agents.push(
            owner.post("/agents", &json!({ "name": name, "access_type": access })).await.1["agent"]["id"].as_str().expect("id").to_owned(),
        );
    }
    owner.post(&format!("/ai-agent-managers/{}/groups", agents[1]), &json!({ "groupId": "Parent", "permission": "VIEW_AND_USE" })).await;
    owner.post(&format!("/ai-agent-managers/{}/groups", agents[2]), &json!({ "groupId": "Editors", "permission": "EDIT" })).await;
    owner.post(&format!("/ai-agent-managers/{}/groups", agents[3]), &json!({ "groupId": "Editors", "permission": "EDIT" })).await;
    owner.post(&format!("/users/{}/suspend", users[4].0), &json!({})).await;
    let matrix = owner.get("/reports/access-matrix").await.1;
    let cells = matrix["cells"].as_array().expect("cells");
    let mut checked = 0;
    for (user, email) in &users {
        for agent in &agents {
            let decide = |permission: &str| {
                let body = json!({ "principal": { "type": "user", "id": user }, "permission": permission, "resource": { "type": "agent", "id": agent } });
                let api = owner.clone();
                async move { api.post("/check", &body).await.1["allowed"].as_bool().expect("allowed") }
            };
            let cell = cells.iter().find(|c| c["user"] == *email && c["agent_id"] == *agent);
            assert_eq!(cell.is_some(), decide("Agent:Use").await, "{user} on {agent}: {matrix}");
            if let Some(cell) = cell {
                assert_eq!(cell["can_edit"].as_bool(), Some(decide("Agent:Edit").await), "{cell}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 25);
    let ann = cells.iter().find(|c| c["user"] == "ann@acme.test" && c["agent"] == "Inherited").expect("ann reaches Inherited");
    assert_eq!((ann["how"].as_str(), ann["groups"].clone()), (Some("group"), json!(["Parent"])), "{ann}");
    let coverage = owner.get("/reports/coverage").await.1;
    assert_eq!(coverage["agents_without_groups"], json!(["Orphan"]), "{coverage}");
    assert_eq!(coverage["inactive_users_in_groups"], json!([{ "name": "gone@acme.test", "items": ["Child"] }]), "{coverage}");
    let memberships = owner.get("/reports/memberships").await.1;
    let child = memberships["groups"].as_array().expect("groups").iter().find(|g| g["name"] == "Child").expect("child").clone();
    assert_eq!(child["items"].as_array().map(Vec::len), Some(2), "{child}");
}
