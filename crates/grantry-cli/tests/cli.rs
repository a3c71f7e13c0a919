//! The real `grantry` (and `forge`) binaries against a real `grantry serve` over a temporary
//! SQLite database: seed 001's flow as the page describes it, bad input, expiry, revoke, audit.

#![expect(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "integration tests fail loudly at the point of failure")]

#[path = "cli/agents.rs"]
mod agents;
#[path = "cli/demo.rs"]
mod demo;
#[path = "cli/everyday.rs"]
mod everyday;
#[path = "cli/hostile.rs"]
mod hostile;
#[path = "cli/metrics.rs"]
mod metrics;
#[path = "cli/readme.rs"]
mod readme;
#[path = "cli/restart.rs"]
mod restart;
#[path = "cli/support.rs"]
mod support;
#[path = "cli/tls.rs"]
mod tls;
#[path = "cli/webhooks.rs"]
mod webhooks;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

#[test]
fn the_seed_flow_as_written() {
    let w = world();
    assert_eq!(w.check(&w.dev, "production", "Conversation:GetMessage").code, 3, "denied before");

    // forge conversation request-access <URL> -j "…": the environment is inferred from the URL.
    let r = w.dev.run(FORGE, &["conversation", "request-access", &w.conv_url, "-j", "Debugging reported issue #42"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for p in ["Conversation:GetConversation", "Conversation:GetMessage", "Conversation:GetInteractionInsights", "dev@acme.test"] {
        assert!(r.stdout.contains(p), "the grants table shows {p}:\n{}", r.stdout);
    }
    for p in ["Conversation:GetConversation", "Conversation:GetMessage", "Conversation:GetInteractionInsights"] {
        let c = w.check(&w.dev, "production", p);
        assert_eq!(c.code, 0, "{p}: {}", c.stdout);
        assert!(c.stdout.contains("allowed by temporary grant"), "{}", c.stdout);
    }

    // A bare id with -e, a duration and JSON output.
    let j = w
        .dev
        .ok(&["conversation", "request-access", &w.conv, "-e", "production", "-j", "Reviewing customer feedback", "-d", "PT4H", "--json"])
        .json();
    assert_eq!(j["grants"].as_array().unwrap().len(), 3);
    let g = &j["grants"][0];
    let hours = g["expires_at"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        .duration_since(g["created_at"].as_str().unwrap().parse().unwrap());
    assert_eq!(hours, jiff::SignedDuration::from_hours(4));

    // For a colleague, by an owner.
    let j = w
        .owner
        .ok(&[
            "conversation",
            "request-access",
            &w.conv,
            "-e",
            "admin",
            "-j",
            "Pair debugging session",
            "--user-email",
            "bob@acme.test",
            "--json",
        ])
        .json();
    assert!(j["grants"].as_array().unwrap().iter().all(|g| g["user_email"] == "bob@acme.test"));

    let mine = w.dev.ok(&["conversation", "list-access", "-e", "production", "--json"]).json();
    assert_eq!(mine.as_array().unwrap().len(), 6, "the developer's own active grants");
    let all = w.owner.ok(&["conversation", "list-access", "-e", "admin", "--all", "--json"]).json();
    assert_eq!(all.as_array().unwrap().len(), 9, "everyone's");
    let table = w.dev.ok(&["conversation", "list-access", "-e", "production"]).stdout;
    assert!(table.contains("EXPIRES AT") && table.contains("active"), "{table}");
}

#[test]
fn bad_input_gets_a_clear_error_and_nothing_is_written() {
    let w = world();
    let before = w.grant_count();
    let short = ["conversation", "request-access", &w.conv, "-e", "production", "-j", "too short"];
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (short.to_vec(), 2, "at least 10"),
        (
            vec!["conversation", "request-access", &w.conv, "-e", "production", "-j", "Debugging issue #42", "-d", "P4D"],
            2,
            "maximum of P3D",
        ),
        (vec!["conversation", "request-access", &w.conv, "-e", "production", "-j", "Debugging issue #42", "-d", "PT0S"], 2, "not positive"),
        (vec!["conversation", "request-access", &w.conv, "-e", "production", "-j", "Debugging issue #42", "-d", "2h"], 2, "ISO 8601"),
        (vec!["conversation", "request-access", "abc123", "-e", "production", "-j", "Debugging issue #42"], 2, "24-character"),
        (
            vec!["conversation", "request-access", "aaaaaaaaaaaaaaaaaaaaaaaa", "-e", "production", "-j", "Debugging issue #42"],
            4,
            "not found",
        ),
        (vec!["conversation", "request-access", &w.conv, "-j", "Debugging issue #42"], 2, "needs -e/--env"),
        (
            vec![
                "conversation",
                "request-access",
                "http://127.0.0.1:1/acme/admin/conversation/aaaaaaaaaaaaaaaaaaaaaaaa",
                "-j",
                "Debugging issue #42",
            ],
            2,
            "no saved environment matches",
        ),
        (
            vec![
                "conversation",
                "request-access",
                &w.conv,
                "-e",
                "production",
                "-j",
                "Debugging issue #42",
                "--user-email",
                "nobody@acme.test",
            ],
            4,
            "nobody@acme.test",
        ),
        (
            vec![
                "conversation",
                "request-access",
                &w.conv,
                "-e",
                "production",
                "-j",
                "Debugging issue #42",
                "--user-email",
                "bob@acme.test",
            ],
            5,
            "User:Manage",
        ),
        (vec!["conversation", "request-access", &w.conv, "-e", "staging", "-j", "Debugging issue #42"], 2, "no environment `staging`"),
        (vec!["conversation", "list-access"], 2, "--env"),
    ];
    for (args, code, needle) in cases {
        let r = w.dev.grantry(&args);
        assert_eq!(r.code, code, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: `{}` should mention `{needle}`", r.stderr);
        if !r.stderr.contains("Usage:") {
            assert_eq!(r.stderr.trim().lines().count(), 1, "one line: {}", r.stderr);
        }
    }
    // A bad token saves nothing; a revoked one is refused on its next use.
    let r = w.dev.grantry(&["login", "--env", "bogus", "--url", &w.server.url, "--org", "acme", "--token", "gty_bad"]);
    assert_eq!(r.code, 5);
    assert!(r.stderr.contains("malformed token"), "{}", r.stderr);
    assert!(!std::fs::read_to_string(&w.dev.config).unwrap().contains("bogus"));
    let tok = w.owner.ok(&["token", "create", "-e", "admin", "--user-email", "dev@acme.test", "--json"]).json();
    let temp = Person { config: w.dev.config.with_extension("temp.toml") };
    temp.ok(&["login", "--env", "production", "--url", &w.server.url, "--org", "acme", "--token", tok["token"].as_str().unwrap()]);
    w.owner.ok(&["token", "revoke", "-e", "admin", tok["id"].as_str().unwrap()]);
    let r = temp.grantry(&["conversation", "request-access", &w.conv, "-e", "production", "-j", "Debugging issue #42"]);
    assert_eq!(r.code, 5);
    assert!(r.stderr.contains("revoked"), "{}", r.stderr);

    assert_eq!(w.grant_count(), before, "no grant was written by any failed call");
}

#[test]
fn a_two_second_grant_allows_before_and_denies_after() {
    let w = world();
    w.dev.ok(&["conversation", "request-access", &w.conv, "-e", "production", "-j", "Quick look at issue #7", "-d", "PT2S"]);
    assert_eq!(w.check(&w.dev, "production", "Conversation:GetMessage").code, 0, "allowed before");
    std::thread::sleep(Duration::from_millis(2300));
    let r = w.check(&w.dev, "production", "Conversation:GetMessage");
    assert_eq!(r.code, 3, "denied after: {}", r.stdout);
    assert!(r.stdout.contains("expired"), "{}", r.stdout);
    let ended = w.dev.ok(&["conversation", "list-access", "-e", "production", "--show-expired", "--json"]).json();
    assert!(ended.as_array().unwrap().iter().all(|g| g["status"] == "expired"), "{ended}");
    assert!(w.dev.ok(&["conversation", "list-access", "-e", "production", "--json"]).json().as_array().unwrap().is_empty());
}

#[test]
fn revoke_takes_effect_on_the_next_check() {
    let w = world();
    let j =
        w.dev.ok(&["conversation", "request-access", &w.conv, "-e", "production", "-j", "Debugging reported issue #42", "--json"]).json();
    let id = j["grants"][1]["id"].as_str().unwrap();
    assert_eq!(w.check(&w.dev, "production", "Conversation:GetMessage").code, 0);
    w.dev.ok(&["grant", "revoke", "-e", "production", id]);
    let r = w.check(&w.dev, "production", "Conversation:GetMessage");
    assert_eq!(r.code, 3);
    assert!(r.stdout.contains("revoked"), "{}", r.stdout);
}

#[tokio::test]
async fn audit_lists_verifies_and_detects_an_edited_row() {
    let w = world();
    w.dev.ok(&["conversation", "request-access", &w.conv, "-e", "production", "-j", "Debugging reported issue #42"]);
    let events = w.owner.ok(&["audit", "list", "-e", "admin", "--type", "grant.created", "--actor", "dev@acme.test", "--json"]).json();
    assert_eq!(events.as_array().unwrap().len(), 3);
    assert!(events.as_array().unwrap().iter().all(|e| e["justification"] == "Debugging reported issue #42"));
    assert!(w.owner.ok(&["audit", "verify", "-e", "admin"]).stdout.contains("verifies"));
    assert_eq!(w.dev.grantry(&["audit", "list", "-e", "production"]).code, 5, "members do not read the audit log");

    let pool = sqlx::SqlitePool::connect(&w.db).await.unwrap();
    sqlx::query("UPDATE audit_events SET event_type = 'grant.revoked' WHERE seq = 3").execute(&pool).await.unwrap();
    let r = w.owner.grantry(&["audit", "verify", "--db", &w.db, "--org", "acme"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("broken at event 3"), "{}", r.stderr);
}

#[test]
fn an_organization_bootstrapped_while_the_server_runs_is_served_without_a_restart() {
    let w = world();
    let boot = w.owner.ok(&["admin", "bootstrap", "--db", &w.db, "--org", "globex", "--email", "owner@globex.test", "--json"]).json();
    let token = boot["token"].as_str().unwrap();
    // The server follows the change log a few times a second.
    let mut last = None;
    for _ in 0..40 {
        let r = w.owner.grantry(&["login", "--env", "globex", "--url", &w.server.url, "--org", "globex", "--token", token]);
        if r.code == 0 {
            assert!(r.stdout.contains("owner@globex.test"), "{}", r.stdout);
            return;
        }
        last = Some(r.stderr);
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server never saw the new organization: {last:?}");
}

#[test]
fn the_server_reads_a_config_file_below_flags() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    let db = format!("sqlite://{}", dir.path().join("from-file.db").display());
    std::fs::write(&config, format!("db = \"{db}\"\nlisten = \"127.0.0.1:0\"\nlog = \"warn\"\n")).unwrap();
    let mut child = Command::new(GRANTRY)
        .args(["serve", "--config", config.to_str().unwrap()])
        .env_remove("GRANTRY_DB")
        .env_remove("GRANTRY_LISTEN")
        .env_remove("GRANTRY_LOG")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("from-file.db") && line.contains("http://127.0.0.1:"), "{line}");

    std::fs::write(&config, "db = \"sqlite://x.db\"\nport = 8080\n").unwrap();
    let out = Command::new(GRANTRY).args(["serve", "--config", config.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a bad config file is bad input");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field `port`"), "{err}");
}

#[test]
fn migrate_brings_a_new_database_to_the_latest_schema() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let person = Person { config: dir.path().join("c.toml") };
    let first = person.ok(&["migrate", "--db", &db, "--json"]).json();
    let latest = grantry_store::Backend::Sqlite.latest_version();
    assert_eq!((first["backend"].as_str(), first["schema_version"].as_i64()), (Some("sqlite"), Some(latest)));
    assert_eq!(person.ok(&["migrate", "--db", &db, "--json"]).json()["schema_version"], latest, "idempotent");
    let r = person.grantry(&["migrate", "--db", "mysql://root:hunter2@db/x"]);
    assert_eq!(r.code, 2, "an unsupported URL is bad input");
    assert!(!r.stderr.contains("hunter2"), "{}", r.stderr);
}

#[test]
fn workspaces_projects_and_environments_from_the_cli() {
    let w = world();
    w.owner.ok(&["workspace", "create", "ml", "-e", "admin"]);
    w.owner.ok(&["project", "create", "ml/agents", "-e", "admin"]);
    let env = w.owner.ok(&["environment", "create", "--project", "ml/agents", "prod", "--production", "-e", "admin", "--json"]).json();
    assert_eq!(env["scope"]["is_production"], true);
    w.owner.ok(&["environment", "create", "--project", "ml/agents", "staging", "-e", "admin"]);
    let r = w.owner.ok(&["environment", "update", "--project", "ml/agents", "staging", "--production", "true", "-e", "admin"]);
    assert!(r.stdout.contains("ml/agents/staging` (production)"), "{}", r.stdout);
    let table = w.dev.ok(&["environment", "list", "--project", "ml/agents", "-e", "production"]).stdout;
    assert!(table.contains("ml/agents/prod") && table.contains("ml/agents/staging"), "{table}");
    assert_eq!(w.dev.ok(&["project", "list", "-e", "production", "--json"]).json().as_array().unwrap().len(), 1);
    let trace = w.owner.ok(&["trace", "capture", "--project", "ml/agents", "--environment", "prod", "-e", "admin", "--json"]).json();
    assert_eq!(trace["is_prod"], true);
    let id = format!("trace:{}", trace["id"].as_str().unwrap());
    assert_eq!(w.owner.grantry(&["check", "-e", "admin", "--permission", "traces:read:prod", "--resource", &id]).code, 0);
    assert_eq!(w.owner.grantry(&["check", "-e", "admin", "--permission", "traces:read", "--resource", &id]).code, 3, "wrong class");
    assert_eq!(w.dev.grantry(&["check", "-e", "production", "--permission", "traces:read:prod", "--resource", &id]).code, 3);
    let perms = w.dev.ok(&["permission", "list", "-e", "production"]).stdout;
    assert!(perms.contains("Conversation:GetMessage") && perms.contains("conversation_user_id: string"), "{perms}");
    let roles = w.dev.ok(&["role", "list", "-e", "production", "--json"]).json();
    let dev_role = roles.as_array().unwrap().iter().find(|r| r["name"] == "project_developer").unwrap().clone();
    assert_eq!((dev_role["tier"].as_str(), dev_role["grants"].as_array().unwrap().len()), (Some("project"), 1), "{dev_role}");
    let r = w.owner.grantry(&["project", "create", "nope/agents", "-e", "admin"]);
    assert_eq!(r.code, 4);
    assert!(r.stderr.contains("no workspace `nope`"), "{}", r.stderr);
    let r = w.dev.grantry(&["workspace", "create", "mine", "-e", "production"]);
    assert_eq!(r.code, 5);
    assert!(r.stderr.contains("Scope:Manage"), "{}", r.stderr);
}

#[test]
fn roles_keys_and_the_audit_feed_from_the_cli() {
    let w = world();
    let a = |args: &[&str]| w.owner.ok(&[args, &["-e", "admin"]].concat());
    a(&["workspace", "create", "ml"]);
    a(&["project", "create", "ml/agents"]);
    a(&["environment", "create", "--project", "ml/agents", "prod", "--production"]);
    let trace = a(&["trace", "capture", "--project", "ml/agents", "--environment", "prod", "--json"]).json();
    let id = format!("trace:{}", trace["id"].as_str().unwrap());
    let check = |who: &[&str]| {
        w.owner.grantry(&[&["check", "-e", "admin", "--permission", "traces:read:prod", "--resource", &id], who].concat()).code
    };
    let dev = ["--user-email", "dev@acme.test"];

    // Bad input: one line naming the problem, a non-zero exit, nothing written.
    let events = || a(&["audit", "list", "--json"]).json().as_array().unwrap().len();
    let before = events();
    for (args, code, says) in [
        (vec!["--role", "project_admin", "--workspace", "ml"], 2, "is a project role and cannot be held at a workspace"),
        (
            vec!["--role", "org_admin", "--workspace", "ml"],
            2,
            "is an organization role and cannot be held at a workspace; give it at the organization",
        ),
        (vec!["--role", "project_boss", "--project", "ml/agents"], 2, "unknown role `project_boss`"),
        (vec!["--role", "project_admin", "--project", "ml/nope"], 4, "no project `ml/nope`"),
        (
            vec!["--role", "project_admin", "--project", "ml/agents", "--duration", "P4D"],
            2,
            "longer than this organization's maximum of P3D",
        ),
    ] {
        let r = w.owner.grantry(&[&["role", "grant", "-e", "admin", "--user-email", "dev@acme.test"], &args[..]].concat());
        assert_eq!(r.code, code, "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains(says) && r.stderr.lines().count() == 1, "{args:?}: {}", r.stderr);
    }
    let r = w.owner.grantry(&[
        "role",
        "revoke",
        "-e",
        "admin",
        "--user-email",
        "dev@acme.test",
        "--role",
        "project_admin",
        "--project",
        "ml/agents",
    ]);
    assert!(r.code == 4 && r.stderr.contains("does not hold `project_admin`"), "{}", r.stderr);
    let r = w.dev.grantry(&["role", "grant", "-e", "production", "--user-email", "dev@acme.test", "--role", "org_owner", "--org"]);
    assert!(r.code == 5 && r.stderr.contains("Role:Assign"), "{}", r.stderr);
    assert_eq!(
        w.owner.grantry(&["role", "grant", "-e", "admin", "--user-email", "dev@acme.test", "--role", "project_admin"]).code,
        2,
        "a tier is required"
    );
    assert_eq!(events(), before, "nothing was written");

    // Phase 2: a role for a fixed window, which ends on its own.
    let granted = a(&[
        "role",
        "grant",
        "--user-email",
        "dev@acme.test",
        "--role",
        "project_admin",
        "--project",
        "ml/agents",
        "--duration",
        "PT2S",
        "-j",
        "incident 4711 on call",
        "--json",
    ])
    .json();
    assert_eq!(granted["effective_changed"], true);
    assert_eq!(check(&dev), 0);
    let matrix = a(&["role", "matrix"]).stdout;
    let row = matrix.lines().find(|l| l.starts_with("dev@acme.test")).unwrap();
    assert!(row.contains("ml/agents: project_admin since") && row.contains(" until ") && row.contains("ml/agents       -"), "{matrix}");
    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(check(&dev), 3, "the window ended");
    let mut feed = String::new();
    for _ in 0..30 {
        feed = a(&["audit", "list", "--type", "rbac_grant", "--principal", "dev@acme.test", "--scope", "ml/agents"]).stdout;
        if feed.lines().count() == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let rows: Vec<&str> = feed.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "one row at each end:\n{feed}");
    assert!(rows[0].contains("owner@acme.test") && rows[0].contains("+Role:Assign"), "{feed}");
    assert!(rows[1].contains("system") && rows[1].contains("-Role:Assign"), "{feed}");

    // An API key with traces:read:prod alone, as a principal and as a Bearer token.
    let key = a(&["apikey", "create", "--project", "ml/agents", "--scope", "traces:read:prod", "--name", "prod reader", "--json"]).json();
    let key_id = key["key"]["id"].as_str().unwrap();
    assert_eq!(check(&["--api-key", key_id]), 0);
    let as_key = Person { config: w._dir.path().join("key.toml") };
    as_key.ok(&["login", "--env", "k", "--url", &w.server.url, "--org", "acme", "--token", key["secret"].as_str().unwrap()]);
    assert_eq!(as_key.grantry(&["check", "-e", "k", "--permission", "traces:read:prod", "--resource", &id]).code, 0);
    let r = a(&["apikey", "edit", key_id, "--add-scope", "traces:read"]);
    assert!(r.stdout.contains("traces:read, traces:read:prod"), "{}", r.stdout);
    assert!(a(&["apikey", "list"]).stdout.contains("prod reader"));
    a(&["apikey", "revoke", key_id]);
    assert_eq!(check(&["--api-key", key_id]), 3, "refused on the very next request");
    assert_eq!(
        as_key.grantry(&["check", "-e", "k", "--permission", "traces:read:prod", "--resource", &id]).code,
        5,
        "a revoked key is not authorised"
    );

    // Settings: retention five years by default, a per-organization setting.
    assert!(a(&["org", "settings"]).stdout.lines().any(|l| l.split_whitespace().eq(["audit_retention_days", "1826"])));
    let set = a(&["org", "settings", "--audit-retention-days", "3650", "--json"]).json();
    assert_eq!(set["audit_retention_days"], 3650);
    assert_eq!(w.dev.grantry(&["org", "settings", "-e", "production", "--audit-retention-days", "400"]).code, 5);
    assert!(a(&["audit", "verify"]).stdout.contains("audit chain verifies"));
}

#[test]
fn help_lists_the_seed_options() {
    let r = Person { config: Path::new("/nonexistent/grantry.toml").to_path_buf() }.grantry(&["conversation", "request-access", "--help"]);
    for opt in ["--justification", "--env", "--duration", "--user-email", "--json", "CONVERSATION"] {
        assert!(r.stdout.contains(opt), "{opt} in:\n{}", r.stdout);
    }
}
