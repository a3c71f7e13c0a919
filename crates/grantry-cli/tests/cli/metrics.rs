//! `grantry serve --metrics-token-file`: Prometheus metrics for the bearer of that token only; off
//! without it; a token too short to be a secret is refused at start (exit 2).

use super::support::*;
use std::io::{Read, Write};

/// `GET /metrics` over plain HTTP with `token`: the status line and the body.
fn scrape(url: &str, token: &str) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: grantry\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.lines().next().unwrap_or("").to_owned(), body.to_owned())
}

#[test]
fn metrics_are_served_to_the_token_holder_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("grantry.db").display());
    let person = Person { config: dir.path().join("p.toml") };
    person.ok(&["admin", "bootstrap", "--db", &db, "--org", "acme", "--email", "owner@acme.test"]);

    let short = dir.path().join("short.token");
    std::fs::write(&short, "tiny\n").unwrap();
    let r = person.grantry(&["serve", "--db", &db, "--listen", "127.0.0.1:0", "--metrics-token-file", &short.display().to_string()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("at least 16 characters"), "{}", r.stderr);

    let off = Server::start_with(&db, &[]);
    assert!(scrape(&off.url, "anything").0.contains(" 404 "), "off without a token file");
    drop(off);

    let file = dir.path().join("metrics.token");
    std::fs::write(&file, "3f9c2a7d41e8b05c6d1f2a3b4c5d6e7f\n").unwrap();
    let on = Server::start_with(&db, &["--metrics-token-file", &file.display().to_string()]);
    assert!(scrape(&on.url, "wrong-token-0123456789").0.contains(" 401 "));
    let (status, body) = scrape(&on.url, "3f9c2a7d41e8b05c6d1f2a3b4c5d6e7f");
    assert!(status.contains(" 200 "), "{status}\n{body}");
    assert!(body.contains("grantry_index_entries{org=\"acme\",kind=\"grants\"} 1"), "the owner's role: {body}");
    assert!(body.contains("grantry_follower_lag_revisions 0"), "{body}");
}
