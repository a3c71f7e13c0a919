//! The decision corpus (`tests/corpus/*.json`) against the core and through the HTTP API.

use grantry_testkit::corpus::{load_all, run_core, run_http, Outcome};
use grantry_testkit::TestServer;

fn assert_all_match(file: &str, driver: &str, outcomes: &[Outcome]) {
    let wrong: Vec<&Outcome> = outcomes.iter().filter(|o| !o.matches()).collect();
    assert!(wrong.is_empty(), "{file} via {driver}: {wrong:#?}");
    assert!(!outcomes.is_empty(), "{file} has no checks");
}

#[test]
fn corpus_on_the_core() {
    let files = load_all();
    assert!(files.len() >= 2, "the corpus is missing");
    for (name, corpus) in files.iter().filter(|(_, c)| c.is_for("core")) {
        assert_all_match(name, "core", &run_core(corpus));
    }
}

#[tokio::test]
async fn corpus_through_the_http_api() {
    let server = TestServer::start().await;
    for (i, (name, corpus)) in load_all().iter().enumerate() {
        if !corpus.is_for("http") {
            let note = corpus.drivers_note.as_deref().unwrap_or_else(|| panic!("{name} leaves out the HTTP driver without a drivers_note"));
            eprintln!("NOTE: {name} does not run over HTTP yet: {note}");
            continue;
        }
        assert_all_match(name, "http", &run_http(&server, corpus, &format!("corpus{i}")).await);
    }
}
