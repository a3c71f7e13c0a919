//! Webhooks through the real binary: made, listed, pinged and read from the CLI; and a crash —
//! the server killed with SIGKILL after the commit, before any delivery — loses nothing: the
//! next server on the same database delivers it once the receiver is up.

use super::support::{world, Server};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

/// A receiver on `port` that answers every POST with 200 and sends each one's `X-Grantry-Event`
/// and body down the channel.
fn receiver(port: u16) -> mpsc::Receiver<(String, String)> {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the receiver");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let (mut event, mut length) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or_default();
                match name.to_ascii_lowercase().as_str() {
                    "x-grantry-event" => event = value.trim().to_owned(),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = tx.send((event, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    rx
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[test]
fn a_crash_between_commit_and_delivery_loses_nothing() {
    let w = world();
    let a = |args: &[&str]| w.owner.grantry(&[args, &["-e", "admin"]].concat());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let r = a(&["webhook", "create", "--name", "crash-test", "--url", &url, "--event", "webhook.ping"]);
    assert!(r.code == 0 && r.stdout.contains("Signing secret (shown once; keep it secret): whsec_"), "{}{}", r.stdout, r.stderr);
    let r = a(&["webhook", "ping", "crash-test"]);
    assert!(r.code == 0 && r.stdout.contains("Pinged webhook `crash-test`"), "{}{}", r.stdout, r.stderr);
    // Committed; the receiver is down, so nothing can have been delivered. Kill -9.
    let super::support::World { server, db, owner, _dir, .. } = w;
    drop(server);
    let got = receiver(port);
    let server = Server::start(&db);
    let (event, body) = got.recv_timeout(Duration::from_secs(20)).expect("the notification arrives after the crash");
    assert_eq!(event, "webhook.ping");
    assert!(body.contains("\"organization\":\"acme\""), "{body}");
    // The new server's profile: the deliveries say it was delivered.
    owner.ok(&["login", "--env", "again", "--url", &server.url, "--org", "acme", "--token", &token_of(&owner)]);
    let list = owner.ok(&["webhook", "deliveries", "crash-test", "--json", "-e", "again"]).json();
    let statuses: Vec<&str> = list.as_array().unwrap().iter().filter_map(|d| d["status"].as_str()).collect();
    assert_eq!(statuses, ["delivered"], "{list}");
    assert!(got.recv_timeout(Duration::from_millis(1_500)).is_err(), "delivered once");
    let r = owner.grantry(&["webhook", "create", "--name", "bad", "--url", "ftp://x.example/y", "-e", "again"]);
    assert!(r.code == 2 && r.stderr.contains("http or https"), "{}", r.stderr);
    for help in [&["webhook", "create", "--help"][..], &["webhook", "deliveries", "--help"]] {
        assert!(owner.ok(help).stdout.contains("Examples"), "{help:?}");
    }
}

/// The token of `person`'s `admin` profile.
fn token_of(person: &super::support::Person) -> String {
    let text = std::fs::read_to_string(&person.config).expect("config");
    let line = text.lines().find(|l| l.trim_start().starts_with("token")).expect("a token line");
    line.split('"').nth(1).expect("quoted token").to_owned()
}
