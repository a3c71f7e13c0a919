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

    // The same reports as CSV and XLSX files: the matrix's rows are the JSON's cells, and the
    // workbook, read back by an independent reader, holds exactly the CSV's cells. A name a
    // spreadsheet would run as a formula is quoted in the CSV and plain text in the workbook.
    owner.post("/groups", &json!({ "name": "=SUM(A1:A9)" })).await;
    owner.post("/groups/=SUM(A1:A9)/members", &json!({ "userIds": [users[2].0] })).await;
    let (status, body) = owner
        .post(&format!("/ai-agent-managers/{}/groups", agents[0]), &json!({ "groupId": "=SUM(A1:A9)", "permission": "VIEW_AND_USE" }))
        .await;
    assert_eq!(status, 201, "{body}");
    let matrix = owner.get("/reports/access-matrix").await.1;
    for report in ["access-matrix", "memberships", "coverage", "compliance"] {
        let (csv_type, csv) = file(&owner, report, "csv").await;
        assert_eq!(csv_type, "text/csv; charset=utf-8");
        let (xlsx_type, xlsx) = file(&owner, report, "xlsx").await;
        assert_eq!(xlsx_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        let rows = csv_rows(&csv);
        assert!(rows.len() > 1, "{report}: {rows:?}");
        let plain: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| c.replace("'=", "=")).collect()).collect();
        assert_eq!(xlsx_rows(xlsx, report), plain, "{report}: the workbook holds the CSV's cells");
        if report == "access-matrix" {
            let cells = matrix["cells"].as_array().expect("cells");
            assert_eq!(rows.len(), cells.len() + 1, "a row per cell, and the header");
            for (row, cell) in rows[1..].iter().zip(cells) {
                assert_eq!(
                    (&row[0], &row[1]),
                    (&cell["user"].as_str().expect("user").to_owned(), &cell["agent"].as_str().expect("agent").to_owned())
                );
                assert_eq!(row[2] == "yes", cell["can_use"].as_bool().expect("use"));
                assert_eq!(row[3] == "yes", cell["can_edit"].as_bool().expect("edit"));
            }
            assert!(rows.iter().any(|r| r[5] == "'=SUM(A1:A9)"), "the formula is quoted in the CSV: {rows:?}");
            let (table_type, table) = file(&owner, report, "table").await;
            assert_eq!(table_type, "application/vnd.grantry.table+json");
            let table: Value = serde_json::from_slice(&table).expect("a table");
            assert_eq!(table["rows"].as_array().map(Vec::len), Some(rows.len() - 1), "the table has the CSV's rows: {table}");
        }
    }
    let (status, body) = owner.get("/reports/coverage?format=pdf").await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("format")), "{body}");
}

/// The report `name` as a `format` file: its content type and bytes.
async fn file(api: &grantry_testkit::Api, name: &str, format: &str) -> (String, Vec<u8>) {
    let url = format!("{}/v1/{}/reports/{name}?format={format}", api.url, api.org);
    let resp = reqwest::Client::new().get(url).bearer_auth(&api.token).send().await.expect("sent");
    assert_eq!(resp.status(), 200, "{name} as {format}");
    if format != "table" {
        let disposition = resp.headers()["content-disposition"].to_str().expect("ascii").to_owned();
        assert_eq!(disposition, format!("attachment; filename=\"{name}.{format}\""));
    }
    let kind = resp.headers()["content-type"].to_str().expect("ascii").to_owned();
    (kind, resp.bytes().await.expect("body").to_vec())
}

fn csv_rows(data: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8(data.to_vec()).expect("utf-8");
    let mut rows = vec![];
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    for r in reader.records() {
        rows.push(r.expect("a CSV record").iter().map(str::to_owned).collect());
    }
    rows
}

fn xlsx_rows(data: Vec<u8>, sheet: &str) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(data)).expect("an XLSX workbook");
    let range = book.worksheet_range(sheet).expect("the report's sheet");
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}
