//! Restarting `grantry serve`: the index it saved when it stopped is read at the next start and
//! the change log after it replayed; after a crash the older saved index and a longer replay do
//! the same; a damaged file is refused, and the state is read from the tables.

use super::support::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_restart_reads_the_saved_index_and_replays_what_came_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("grantry.db").display());
    let saved = dir.path().join("grantry.db.index");
    let listen = format!("127.0.0.1:{}", free_port());
    let log = |name: &str| dir.path().join(format!("{name}.log"));
    let read = |name: &str| std::fs::read_to_string(log(name)).unwrap();
    let owner = Person { config: dir.path().join("owner.toml") };
    let dev = Person { config: dir.path().join("dev.toml") };
    let boot = owner.ok(&["admin", "bootstrap", "--db", &db, "--org", "acme", "--email", "owner@acme.test", "--json"]).json();

    let first = Server::start_logging(&db, &listen, &log("first"));
    owner.ok(&["login", "--env", "admin", "--url", &first.url, "--org", "acme", "--token", boot["token"].as_str().unwrap()]);
    let made = owner.ok(&["user", "create", "-e", "admin", "--email", "dev@acme.test", "--token", "--json"]).json();
    owner.ok(&["user", "create", "-e", "admin", "--email", "bob@acme.test"]);
    let conv = owner.ok(&["conversation", "create", "-e", "admin", "--owner-email", "bob@acme.test", "--json"]).json();
    let conv = conv["id"].as_str().unwrap().to_owned();
    dev.ok(&["login", "--env", "dev", "--url", &first.url, "--org", "acme", "--token", made["token"]["token"].as_str().unwrap()]);
    dev.ok(&["conversation", "request-access", &conv, "-e", "dev", "-j", "Debugging reported issue #42"]);
    let allowed = || {
        dev.grantry(&["check", "-e", "dev", "--permission", "Conversation:GetMessage", "--resource", &format!("conversation:{conv}")]).code
    };
    let emails = || owner.ok(&["user", "list", "-e", "admin", "--json"]).stdout;
    assert_eq!(allowed(), 0);
    assert!(first.stop().success());
    assert!(read("first").contains("saved the index for the next start"), "{}", read("first"));
    assert!(saved.exists());

    // A clean restart: the saved index, nothing to replay.
    let second = Server::start_logging(&db, &listen, &log("second"));
    assert!(read("second").contains("loaded the state from the saved index"), "{}", read("second"));
    assert_eq!(allowed(), 0, "the grant survives the restart");
    owner.ok(&["user", "create", "-e", "admin", "--email", "late@acme.test"]);
    drop(second); // killed: nothing saved at the end

    // After a crash: the older saved index, and the change log after it.
    let third = Server::start_logging(&db, &listen, &log("third"));
    let third_log = read("third");
    assert!(third_log.contains("loaded the state from the saved index") && !third_log.contains("replayed=0"), "{third_log}");
    assert!(emails().contains("late@acme.test"), "the change after the saved index was replayed");
    drop(third);

    // A damaged file is refused and said so; the tables have everything.
    let mut bytes = std::fs::read(&saved).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&saved, bytes).unwrap();
    let fourth = Server::start_logging(&db, &listen, &log("fourth"));
    let fourth_log = read("fourth");
    assert!(fourth_log.contains("ignoring the saved index") && fourth_log.contains("loaded the state from the tables"), "{fourth_log}");
    assert!(emails().contains("late@acme.test"));
    assert_eq!(allowed(), 0);
    assert!(fourth.stop().success());
}
