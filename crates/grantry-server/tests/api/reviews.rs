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
