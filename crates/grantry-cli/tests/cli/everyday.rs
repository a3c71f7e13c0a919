//! The everyday commands, through the real binary against a real server: suspending, resuming and
//! deleting users; listing tokens; listing and showing traces; renaming and rotating API keys;
//! `grant create`, seed 001's raw API; and the organization's settings. Each is tried by those who may and those who may not.

use super::support::*;
use std::time::Duration;

fn id_of(w: &World, email: &str) -> String {
    let users = w.owner.ok(&["user", "list", "-e", "admin", "--json"]).json();
    let user = users.as_array().unwrap().iter().find(|u| u["email"] == email).unwrap_or_else(|| panic!("{email}: {users}"));
    user["id"].as_str().unwrap().to_owned()
}

#[test]
fn users_are_suspended_resumed_and_deleted() {
    let w = world();
    let a = |args: &[&str]| w.owner.grantry(&[args, &["-e", "admin"]].concat());
    w.dev.ok(&["conversation", "request-access", &w.conv, "-e", "production", "-j", "Debugging issue #42"]);
    assert_eq!(w.check(&w.dev, "production", "Conversation:GetMessage").code, 0);

    // Suspended: the token is refused, and a check about them is denied.
    let r = a(&["user", "suspend", "--email", "dev@acme.test", "-j", "on leave until December"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = w.check(&w.dev, "production", "Conversation:GetMessage");
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("suspended"), "{}", r.stderr);
    let about = ["check", "--user-email", "dev@acme.test", "--permission", "Conversation:GetMessage", "--resource"];
    let r = a(&[&about[..], &[&format!("conversation:{}", w.conv)]].concat());
    assert!(r.code == 3 && r.stdout.contains("suspended"), "{}{}", r.stdout, r.stderr);
    assert_eq!(a(&["user", "suspend", "--email", "dev@acme.test"]).code, 1, "already suspended");
    let rows = a(&["audit", "list", "--type", "rbac_grant", "--principal", "dev@acme.test", "--json"]).json();
    let last = rows.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["justification"], "on leave until December", "the suspension's own row: {last}");
    assert!(last["after"]["removed"].as_array().unwrap().iter().any(|p| p == "Conversation:GetMessage"), "{last}");

    // Resumed: everything they held works again.
    a(&["user", "resume", "--email", "dev@acme.test", "-j", "back from leave"]);
    assert_eq!(w.check(&w.dev, "production", "Conversation:GetMessage").code, 0);

    // Nobody suspends themselves, a member suspends nobody, an admin does not suspend an owner.
    let r = a(&["user", "suspend", "--email", "owner@acme.test"]);
    assert!(r.code == 5 && r.stderr.contains("yourself"), "{}", r.stderr);
    let r = w.dev.grantry(&["user", "suspend", "-e", "production", "--email", "bob@acme.test"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    let made =
        w.owner.ok(&["user", "create", "-e", "admin", "--email", "ops@acme.test", "--role", "org_admin", "--token", "--json"]).json();
    let ops = Person { config: w.dev.config.with_file_name("ops.toml") };
    ops.ok(&["login", "--env", "ops", "--url", &w.server.url, "--org", "acme", "--token", made["token"]["token"].as_str().unwrap()]);
    let r = ops.grantry(&["user", "suspend", "-e", "ops", "--email", "owner@acme.test"]);
    assert_eq!(r.code, 5, "an admin does not suspend an owner: {}", r.stderr);
    assert_eq!(ops.grantry(&["user", "suspend", "-e", "ops", "--email", "bob@acme.test"]).code, 0, "an admin suspends a member");

    // Deleted: confirmed, then the user's grants and tokens are revoked and the user is gone; the
    // email may be used again, by a new user who holds nothing of the old one's.
    let old_id = id_of(&w, "dev@acme.test");
    let r = a(&["user", "delete", "--email", "dev@acme.test"]);
    assert!(r.code == 2 && r.stderr.contains("--yes"), "{}", r.stderr);
    assert_eq!(a(&["user", "delete", "--email", "dev@acme.test", "--yes", "-j", "left the company, ticket HR-311"]).code, 0);
    assert_eq!(w.check(&w.dev, "production", "Conversation:GetMessage").code, 5, "the token went with the user");
    let events = a(&["audit", "list", "--principal", &format!("user:{old_id}"), "--json"]).json();
    let kinds: Vec<&str> = events.as_array().unwrap().iter().filter_map(|e| e["event_type"].as_str()).collect();
    assert!(kinds.contains(&"user.deleted") && kinds.contains(&"rbac_grant"), "{kinds:?}");
    let deleted = events.as_array().unwrap().iter().find(|e| e["event_type"] == "user.deleted").unwrap();
    assert_eq!(deleted["justification"], "left the company, ticket HR-311");
    assert_eq!(deleted["principal_email"], "dev@acme.test", "a deleted user is still named by the email they had: {deleted}");
    a(&["user", "create", "--email", "dev@acme.test"]);
    assert_ne!(id_of(&w, "dev@acme.test"), old_id);
    let grants = a(&["grant", "list", "--all", "--json"]).json();
    assert!(grants.as_array().unwrap().iter().all(|g| g["status"] != "active"), "nothing carries over: {grants}");
}

#[test]
fn tokens_are_listed_never_their_secrets() {
    let w = world();
    let made = w.dev.ok(&["token", "create", "-e", "production", "--expires-in", "P1D", "--json"]).json();
    let listed = w.dev.ok(&["token", "list", "-e", "production", "--json"]);
    assert!(!listed.stdout.contains("gty_"), "no secret is listed: {}", listed.stdout);
    let mine = listed.json();
    let row = mine.as_array().unwrap().iter().find(|t| t["id"] == made["id"]).unwrap_or_else(|| panic!("{mine}"));
    assert_eq!(row["status"], "active");
    let theirs = w.owner.ok(&["token", "list", "-e", "admin", "--user-email", "dev@acme.test", "--json"]).json();
    assert_eq!(theirs.as_array().unwrap().len(), mine.as_array().unwrap().len(), "an admin sees the same: {theirs}");
    let r = w.dev.grantry(&["token", "list", "-e", "production", "--user-email", "owner@acme.test"]);
    assert_eq!(r.code, 5, "a member does not list an owner's tokens: {}", r.stderr);
    w.owner.ok(&["token", "revoke", "-e", "admin", made["id"].as_str().unwrap()]);
    let table = w.owner.ok(&["token", "list", "-e", "admin", "--user-email", "dev@acme.test"]).stdout;
    assert!(table.lines().any(|l| l.starts_with(made["id"].as_str().unwrap()) && l.contains("revoked")), "{table}");
}

#[test]
fn traces_are_listed_and_shown_to_those_who_may_read_them() {
    let w = world();
    let a = |args: &[&str]| w.owner.ok(&[args, &["-e", "admin"]].concat());
    a(&["workspace", "create", "ml"]);
    a(&["project", "create", "ml/agents"]);
    a(&["environment", "create", "--project", "ml/agents", "prod", "--production"]);
    a(&["environment", "create", "--project", "ml/agents", "staging"]);
    let capture = |env: &str| {
        a(&["trace", "capture", "--project", "ml/agents", "--environment", env, "--json"]).json()["id"].as_str().unwrap().to_owned()
    };
    let (prod, staging) = (capture("prod"), capture("staging"));
    a(&["role", "grant", "--user-email", "dev@acme.test", "--role", "project_developer", "--project", "ml/agents"]);

    let ids = |who: &Person, env: &str, extra: &[&str]| -> Vec<String> {
        let list = who.ok(&[&["trace", "list", "-e", env, "--json"], extra].concat()).json();
        list.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&w.owner, "admin", &[]).len(), 2);
    assert_eq!(ids(&w.owner, "admin", &["--project", "ml/agents", "--environment", "prod"]), vec![prod.clone()]);
    assert_eq!(ids(&w.dev, "production", &[]), vec![staging.clone()], "a developer sees non-production traces only");
    let r = w.dev.grantry(&["trace", "show", &prod, "-e", "production"]);
    assert!(r.code == 4 && r.stderr.contains("traces:read:prod"), "not told apart from a trace that does not exist: {}", r.stderr);
    let shown = w.dev.ok(&["trace", "show", &staging, "-e", "production"]).stdout;
    assert!(shown.contains("ml/agents/staging") && shown.contains("non-production"), "{shown}");
    assert_eq!(w.owner.grantry(&["trace", "show", "0123456789abcdef01234567", "-e", "admin"]).code, 4);
    assert_eq!(w.owner.grantry(&["trace", "list", "-e", "admin", "--environment", "prod"]).code, 2, "--environment needs --project");
}

#[test]
fn api_keys_are_renamed_and_rotated_with_a_grace_period() {
    let w = world();
    let a = |args: &[&str]| w.owner.ok(&[args, &["-e", "admin"]].concat());
    a(&["workspace", "create", "ml"]);
    a(&["project", "create", "ml/agents"]);
    let made = a(&["apikey", "create", "--project", "ml/agents", "--scope", "traces:read", "--name", "reader", "--json"]).json();
    let id = made["key"]["id"].as_str().unwrap().to_owned();
    let as_key = |name: &str, secret: &str| {
        let p = Person { config: w.dev.config.with_file_name(format!("{name}.toml")) };
        p.ok(&["login", "--env", "k", "--url", &w.server.url, "--org", "acme", "--token", secret]);
        p
    };
    let old = as_key("old", made["secret"].as_str().unwrap());

    a(&["apikey", "rename", &id, "--name", "reader-eu"]);
    assert!(a(&["apikey", "list"]).stdout.contains("reader-eu"));
    assert_eq!(w.owner.grantry(&["apikey", "rename", &id, "--name", " ", "-e", "admin"]).code, 2, "a blank name");

    // A new secret; the old one works for the grace period, then is refused.
    let rotated = a(&["apikey", "rotate", &id, "--grace", "PT2S", "--json"]).json();
    let new = as_key("new", rotated["secret"].as_str().unwrap());
    assert_eq!(old.grantry(&["trace", "list", "-e", "k"]).code, 0, "the old secret still works within the grace period");
    std::thread::sleep(Duration::from_millis(2300));
    let r = old.grantry(&["trace", "list", "-e", "k"]);
    assert!(r.code == 5 && r.stderr.contains("revoked"), "{}", r.stderr);
    assert_eq!(new.grantry(&["trace", "list", "-e", "k"]).code, 0, "the new one works");

    // No grace: the current secret stops at once. Too long a grace is bad input.
    assert_eq!(w.owner.grantry(&["apikey", "rotate", &id, "--grace", "P8D", "-e", "admin"]).code, 2);
    a(&["apikey", "rotate", &id, "--grace", "PT0S"]);
    assert_eq!(new.grantry(&["trace", "list", "-e", "k"]).code, 5);
    let events = a(&["audit", "list", "--type", "apikey.rotated", "--json"]).json();
    assert_eq!(events.as_array().unwrap().len(), 2, "{events}");
    assert_eq!(w.dev.grantry(&["apikey", "rotate", &id, "--grace", "PT0S", "-e", "production"]).code, 5, "a member may not");
}

#[test]
fn grant_create_makes_the_raw_seed_grant() {
    let w = world();
    let bob = id_of(&w, "bob@acme.test");
    let shape = ["--permission", "Conversation:GetMessage", "-j", "Debugging issue #42", "-d", "PT1H"];
    let owner_says = |extra: &[&str]| {
        w.owner.grantry(&[&["grant", "create", "-e", "admin", "--user-email", "dev@acme.test"], &shape[..], extra].concat())
    };
    let r = owner_says(&["--equals", "novalue"]);
    assert!(r.code == 2 && r.stderr.contains("KEY=VALUE"), "{}", r.stderr);
    let r = owner_says(&["--equals", "org_id=x", "--own-org"]);
    assert!(r.code == 2 && r.stderr.contains("two conditions"), "{}", r.stderr);
    let equals = format!("conversation_user_id={bob}");
    let r = owner_says(&["--equals", &equals, "--own-org", "--tag", "issue-42"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Granted `Conversation:GetMessage` to dev@acme.test until"), "{}", r.stdout);
    assert_eq!(w.check(&w.dev, "production", "Conversation:GetMessage").code, 0);
    // A member may give themselves only the self-service shape: without conditions it is refused.
    let r = w.dev.grantry(&[&["grant", "create", "-e", "production"], &shape[..]].concat());
    assert_eq!(r.code, 5, "{}", r.stderr);
}

#[test]
fn org_settings_set_the_policy_that_requests_follow() {
    let w = world();
    let a = |args: &[&str]| w.owner.ok(&[args, &["-e", "admin"]].concat());
    let set = a(&["org", "settings", "--min-justification-chars", "20", "--default-grant-duration", "PT1H", "--json"]).json();
    assert_eq!((set["min_justification_chars"].as_u64(), set["default_grant_duration"].as_str()), (Some(20), Some("PT1H")), "{set}");
    let shown = a(&["org", "settings"]).stdout;
    let row = |cells: [&str; 2]| shown.lines().any(|l| l.split_whitespace().eq(cells));
    assert!(row(["default_grant_duration", "PT1H"]) && row(["min_justification_chars", "20"]), "{shown}");

    // A justification of 19 characters is now too short; without -d the grant lasts an hour.
    let ask = |j: &str| w.dev.grantry(&["conversation", "request-access", &w.conv, "-e", "production", "-j", j, "--json"]);
    let r = ask("nineteen characters");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("at least 20"), "{}", r.stderr);
    let made = ask("twenty-one characters").json();
    let expires: jiff::Timestamp = made["grants"][0]["expires_at"].as_str().unwrap().parse().unwrap();
    let left = expires.duration_since(grantry_server::clock::now());
    assert!(left > jiff::SignedDuration::from_mins(55) && left <= jiff::SignedDuration::from_hours(1), "{left:?}");

    // Out-of-range values are bad input and change nothing; members may not change settings.
    for (args, says) in [
        (vec!["--default-grant-duration", "P4D"], "longer than the maximum"),
        (vec!["--min-justification-chars", "0"], "out of range"),
        (vec!["--min-justification-chars", "2000"], "out of range"),
    ] {
        let r = w.owner.grantry(&[&["org", "settings", "-e", "admin"], &args[..]].concat());
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
    let r = w.dev.grantry(&["org", "settings", "-e", "production", "--default-grant-duration", "PT3H"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    let after = a(&["org", "settings", "--json"]).json();
    assert_eq!((after["min_justification_chars"].as_u64(), after["default_grant_duration"].as_str()), (Some(20), Some("PT1H")));
    let audited = a(&["audit", "list", "--type", "org.settings_updated", "--json"]).json();
    assert_eq!(audited.as_array().unwrap().len(), 1, "one change, audited once: {audited}");
}

/// `grantry lookup` lists the resources a principal may act on, a page at a time.
#[test]
fn lookup_lists_what_a_principal_may_act_on() {
    let w = world();
    let lookup = |who: &Person, env: &str, extra: &[&str]| {
        let mut args = vec!["lookup", "-e", env, "--permission", "Conversation:GetMessage", "--type", "conversation"];
        args.extend_from_slice(extra);
        who.ok(&args)
    };
    let none = lookup(&w.dev, "production", &[]);
    assert!(none.stdout.contains("no conversation allows Conversation:GetMessage"), "{}", none.stdout);
    w.dev.ok(&["conversation", "request-access", &w.conv, "-e", "production", "-j", "Debugging reported issue #42"]);
    let mine = lookup(&w.dev, "production", &[]);
    assert_eq!(mine.stdout.trim(), format!("conversation:{}", w.conv), "{}", mine.stdout);
    // The owner, for the developer, as JSON.
    let page = lookup(&w.owner, "admin", &["--user-email", "dev@acme.test", "--limit", "1", "--json"]).json();
    assert_eq!(page["ids"], serde_json::json!([w.conv]), "{page}");
    assert_eq!(page["has_more"], false);
    let bad =
        w.owner.grantry(&["lookup", "-e", "admin", "--permission", "Conversation:GetMessage", "--type", "conversation", "--limit", "0"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("limit"), "{}", bad.stderr);
}
