//! Issue 9's attacks on the CLI, through the real binary: stored text that would break or hijack
//! an admin's terminal, secrets in files and in help.

use super::support::*;

/// Writes `text` as the justification of the newest audit event, as a row written before the
/// length limit existed (or by someone with the database) would hold it.
fn store_justification(db: &str, text: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(db).await.unwrap();
        sqlx::query("UPDATE audit_events SET justification = $1 WHERE seq = (SELECT MAX(seq) FROM audit_events)")
            .bind(text)
            .execute(&mut conn)
            .await
            .unwrap();
    });
}

#[test]
fn stored_text_never_breaks_or_hijacks_the_admins_terminal() {
    let w = world();
    let r = w.dev.grantry(&["conversation", "request-access", &w.conv, "-e", "production", "-j", "Debugging \u{1b}[2J\u{1b}[H #42"]);
    assert_ne!(r.code, 0, "a justification with terminal escapes is refused: {}", r.stdout);
    assert!(r.stderr.contains("U+001B") && !r.stderr.contains('\u{1b}'), "{}", r.stderr);
    let r = w.dev.grantry(&["conversation", "request-access", &w.conv, "-e", "production", "-j", &"x".repeat(1001)]);
    assert_ne!(r.code, 0, "1,001 characters are refused");

    w.dev.ok(&["conversation", "request-access", &w.conv, "-e", "production", "-j", "Debugging issue #42"]);
    let hostile = format!("{}\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202E}", "y".repeat(70_000));
    store_justification(&w.db, &hostile);
    for args in [&["audit", "list", "-e", "admin"][..], &["audit", "list", "-e", "admin", "--type", "grant.created"][..]] {
        let r = w.owner.grantry(args);
        assert_eq!(r.code, 0, "{args:?} must not panic: {}", r.stderr);
        assert!(!r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{202E}'), "escaped: {args:?}");
        assert!(r.stdout.lines().all(|l| l.chars().count() < 2_000), "cells are bounded");
    }
    let json = w.owner.ok(&["audit", "list", "-e", "admin", "--json"]).json();
    let whole = json.as_array().unwrap().iter().any(|e| e["justification"].as_str() == Some(hostile.as_str()));
    assert!(whole, "--json has the stored text whole");
}

#[test]
fn secrets_stay_in_files_only_their_owner_reads_and_out_of_help() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    let path = w.db.trim_start_matches("sqlite://");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(std::path::Path::new(path)), 0o600, "the database file");
    assert_eq!(mode(&w.owner.config), 0o600, "the profile file");
    let made = w.owner.ok(&["user", "create", "-e", "admin", "--email", "carol@acme.test", "--token", "--json"]).json();
    w.owner.ok(&["login", "--env", "carol", "--url", &w.server.url, "--org", "acme", "--token", made["token"]["token"].as_str().unwrap()]);
    assert_eq!(mode(&w.owner.config), 0o600, "the profile file, rewritten");

    for args in [&["serve", "--help"][..], &["admin", "bootstrap", "--help"][..], &["migrate", "--help"][..]] {
        let out = std::process::Command::new(GRANTRY)
            .args(args)
            .env("GRANTRY_DB", "postgres://app:hunter2-secret@db:5432/grantry")
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("--db") && !help.contains("hunter2"), "{args:?}:\n{help}");
    }
}

/// Runs `sql` on the database directly, as someone who holds the database but not the audit key.
fn tamper(db: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(db).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    });
}

#[test]
fn a_cut_tail_is_caught_by_the_checkpoint_and_by_a_digest_kept_elsewhere() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    let key_file = format!("{}.audit-key", w.db.trim_start_matches("sqlite://"));
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600, "the audit key file");
    // GRANTRY_DB in the environment does not stand in the way of verifying through the server.
    let through_server = std::process::Command::new(GRANTRY)
        .args(["audit", "verify", "-e", "admin"])
        .env("GRANTRY_CONFIG", &w.owner.config)
        .env("GRANTRY_DB", &w.db)
        .output()
        .unwrap();
    assert!(through_server.status.success(), "{}", String::from_utf8_lossy(&through_server.stderr));
    let digest = w.owner.ok(&["audit", "digest", "-e", "admin"]).stdout;
    let digest_file = w._dir.path().join("digest.json");
    std::fs::write(&digest_file, &digest).unwrap();
    let seq: i64 = serde_json::from_str::<serde_json::Value>(&digest).unwrap()["seq"].as_i64().unwrap();
    let verify = |extra: &[&str]| {
        let mut args = vec!["audit", "verify", "--db", &w.db, "--org", "acme"];
        args.extend_from_slice(extra);
        w.owner.grantry(&args)
    };
    let r = verify(&["--digest", digest_file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(&format!("holds the digest's head (event {seq})")), "{}", r.stdout);

    // Cut the last two events and roll the stored checkpoint back as far as the database allows.
    tamper(&w.db, &format!("DELETE FROM audit_events WHERE seq > {}; UPDATE audit_checkpoints SET seq = {};", seq - 2, seq - 2));
    let r = verify(&[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains(&format!("broken at event {}", seq - 2)) && r.stderr.contains("signature"), "{}", r.stderr);
    let r = w.owner.grantry(&["audit", "verify", "-e", "admin"]);
    assert_eq!(r.code, 1, "through the server too: {}", r.stdout);
    // Even with the checkpoint removed outright, the digest kept elsewhere names the cut.
    tamper(&w.db, "DELETE FROM audit_checkpoints;");
    let r = verify(&["--digest", digest_file.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("broken at event"), "{}", r.stderr);
}

/// An id from somewhere untrusted never reaches another endpoint: `../users/ID` as a token or key
/// id is refused before any request (it would otherwise resolve to `DELETE /users/ID`).
#[test]
fn ids_are_checked_before_they_go_into_a_path() {
    let w = world();
    let users = w.owner.ok(&["user", "list", "-e", "admin", "--json"]).json();
    let bob = users.as_array().unwrap().iter().find(|u| u["email"] == "bob@acme.test").unwrap()["id"].as_str().unwrap().to_owned();
    let sneaky = format!("../users/{bob}");
    for args in [
        vec!["token", "revoke", "-e", "admin", &sneaky],
        vec!["apikey", "revoke", &sneaky, "-e", "admin"],
        vec!["apikey", "rename", &sneaky, "--name", "x", "-e", "admin"],
        vec!["apikey", "rotate", &sneaky, "--grace", "PT0S", "-e", "admin"],
        vec!["grant", "revoke", "-e", "admin", &sneaky],
        vec!["trace", "show", &sneaky, "-e", "admin"],
        vec!["environment", "update", "--project", "ml/../..", "x", "--production", "true", "-e", "admin"],
    ] {
        let r = w.owner.grantry(&args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
    }
    let after = w.owner.ok(&["user", "list", "-e", "admin", "--json"]).json();
    assert_eq!(after, users, "nobody was touched");
}
