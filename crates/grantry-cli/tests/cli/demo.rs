//! `grantry serve --demo`, twice on one database: the demo is reused, and what it prints is true.

use super::support::*;

#[test]
fn serve_demo_runs_twice_and_tells_the_truth_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let alice = Person { config: dir.path().join("alice.toml") };
    let token_of = |banner: &str, who: &str| {
        let line = banner.lines().find(|l| l.contains(who) && l.contains("token")).unwrap_or_else(|| panic!("{banner}"));
        line.split_whitespace().last().unwrap().to_owned()
    };
    let conversations = |banner: &str| banner.lines().filter(|l| l.trim_start().starts_with("conversation ")).count();

    let first = Server::start_with(&db, &["--demo"]);
    assert!(first.banner.contains("# denied (exit 3)"), "{}", first.banner);
    assert_eq!(conversations(&first.banner), 2, "{}", first.banner);
    let url_arg = first.banner.split_whitespace().find(|w| w.contains("/admin/conversation/")).unwrap().to_owned();
    alice.ok(&["login", "--env", "demo", "--url", &first.url, "--org", "demo", "--token", &token_of(&first.banner, "alice@")]);
    alice.ok(&["conversation", "request-access", &url_arg, "-j", "Debugging reported issue #42"]);
    drop(first);

    let second = Server::start_with(&db, &["--demo"]);
    assert!(!second.banner.contains("denied"), "alice holds access now: {}", second.banner);
    assert!(second.banner.contains("# allowed: alice still holds access"), "{}", second.banner);
    assert_eq!(conversations(&second.banner), 2, "the demo is reused, not made again: {}", second.banner);
    // The fresh tokens work, and the old profile's token still does.
    let owner = Person { config: dir.path().join("owner.toml") };
    owner.ok(&["login", "--env", "demo", "--url", &second.url, "--org", "demo", "--token", &token_of(&second.banner, "owner@")]);
    let users = owner.ok(&["user", "list", "-e", "demo", "--json"]).json();
    assert_eq!(users.as_array().unwrap().len(), 3, "{users}");
}
