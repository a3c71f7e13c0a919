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
    for (name, corpus) in &files {
        assert_all_match(name, "core", &run_core(corpus));
    }
}

#[tokio::test]
async fn corpus_through_the_http_api() {
    let server = TestServer::start().await;
    for (i, (name, corpus)) in load_all().iter().enumerate() {
        assert_all_match(name, "http", &run_http(&server, corpus, &format!("corpus{i}")).await);
    }
}
