//! HTTPS end to end: `grantry serve --tls-cert/--tls-key` with a certificate the test makes,
//! signed by a certificate authority the test makes, and the CLI trusting that authority only when
//! told to (`login --ca-cert`).

use super::support::{Person, Server};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use std::path::Path;

/// A certificate authority, and a certificate it signs for `127.0.0.1` and `localhost`: the
/// authority's PEM, the server's chain PEM and the server's key PEM, written under `dir`.
fn make_certificates(dir: &Path) -> (String, String, String) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Grantry test authority");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "grantry test server");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    (write("ca.pem", ca.pem()), write("server.pem", cert.pem()), write("server.key", key.serialize_pem()))
}

#[test]
fn the_cli_talks_to_an_https_server_it_is_told_to_trust() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certificates(dir.path());
    let db = format!("sqlite://{}", dir.path().join("grantry.db").display());
    let owner = Person { config: dir.path().join("owner.toml") };
    let boot = owner.ok(&["admin", "bootstrap", "--db", &db, "--org", "acme", "--email", "owner@acme.test", "--json"]).json();
    let token = boot["token"].as_str().unwrap();
    let server = Server::start_with(&db, &["--tls-cert", &cert, "--tls-key", &key]);
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);

    // Without the authority, the server's certificate is not trusted, and nothing is saved.
    let r = owner.grantry(&["login", "--env", "admin", "--url", &server.url, "--org", "acme", "--token", token]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("cannot reach the Grantry server") && r.stderr.contains("--ca-cert"), "{}", r.stderr);
    assert!(!owner.config.exists(), "a failed login saves no profile");

    // A client that connects and never says anything holds up nobody else.
    let silent = std::net::TcpStream::connect(server.url.trim_start_matches("https://")).unwrap();

    // With it, every command works over HTTPS, and the profile remembers the authority.
    owner.ok(&["login", "--env", "admin", "--url", &server.url, "--org", "acme", "--token", token, "--ca-cert", &ca]);
    owner.ok(&["user", "create", "-e", "admin", "--email", "dev@acme.test"]);
    let users = owner.ok(&["user", "list", "-e", "admin", "--json"]).json();
    assert_eq!(users.as_array().unwrap().len(), 2, "{users}");
    let saved = std::fs::read_to_string(&owner.config).unwrap();
    assert!(saved.contains("ca_cert = ") && saved.contains("ca.pem"), "{saved}");

    drop(silent);

    // Plain HTTP to the HTTPS port is not served.
    let plain = server.url.replace("https://", "http://");
    let r = owner.grantry(&["login", "--env", "plain", "--url", &plain, "--org", "acme", "--token", token]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);

    // A bad authority file is bad input (exit 2), named.
    let r = owner.grantry(&["login", "--env", "x", "--url", &server.url, "--org", "acme", "--token", token, "--ca-cert", &key]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--ca-cert") && r.stderr.contains("server.key"), "{}", r.stderr);
}

#[test]
fn serve_refuses_a_key_that_does_not_fit_or_half_a_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, _key) = make_certificates(dir.path());
    let other = KeyPair::generate().unwrap();
    let other_key = dir.path().join("other.key");
    std::fs::write(&other_key, other.serialize_pem()).unwrap();
    let db = format!("sqlite://{}", dir.path().join("grantry.db").display());
    let person = Person { config: dir.path().join("p.toml") };
    let serve = |extra: &[&str]| person.grantry(&[&["serve", "--db", &db, "--listen", "127.0.0.1:0"], extra].concat());

    let r = serve(&["--tls-cert", &cert, "--tls-key", &other_key.display().to_string()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("does not fit"), "{}", r.stderr);
    let r = serve(&["--tls-cert", &ca, "--tls-key", &cert]);
    assert_eq!(r.code, 2, "a certificate given as the key: {}", r.stderr);
    assert!(r.stderr.contains("private key"), "{}", r.stderr);
    let r = serve(&["--tls-cert", &cert]);
    assert_eq!(r.code, 2, "half a pair: {}", r.stderr);
    assert!(r.stderr.contains("--tls-key"), "{}", r.stderr);
}
