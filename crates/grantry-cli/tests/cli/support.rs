//! What the CLI tests share: running the real binaries as a person with their own config file,
//! a real `grantry serve` on a free port, and an organization with an owner and a developer.

#![allow(dead_code, reason = "each test module uses its own part of the support")]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const GRANTRY: &str = env!("CARGO_BIN_EXE_grantry");
pub const FORGE: &str = env!("CARGO_BIN_EXE_forge");

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

/// One person at a terminal: their own config file.
pub struct Person {
    pub config: PathBuf,
}

impl Person {
    pub fn run(&self, bin: &str, args: &[&str]) -> Run {
        let out = Command::new(bin).args(args).env("GRANTRY_CONFIG", &self.config).env_remove("GRANTRY_DB").output().expect("run binary");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn grantry(&self, args: &[&str]) -> Run {
        self.run(GRANTRY, args)
    }

    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.grantry(args);
        assert_eq!(r.code, 0, "grantry {args:?} failed: {}{}", r.stdout, r.stderr);
        r
    }
}

/// `grantry serve` as a child process on a free port.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub banner: String,
}

impl Server {
    pub fn start(db: &str) -> Self {
        Self::start_with(db, &[])
    }

    /// The server with more flags (`--tls-cert …`); its URL is the one it prints, http or https.
    pub fn start_with(db: &str, args: &[&str]) -> Self {
        Self::launch(db, "127.0.0.1:0", args, None)
    }

    /// The server on `listen`, logging at `info` into the file `log`.
    pub fn start_logging(db: &str, listen: &str, log: &std::path::Path) -> Self {
        Self::launch(db, listen, &[], Some(log))
    }

    /// Stops the server as a supervisor does (SIGTERM) and waits for it to finish.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let term = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("run kill");
        assert!(term.success());
        self.child.wait().expect("wait for the server")
    }

    fn launch(db: &str, listen: &str, args: &[&str], log: Option<&std::path::Path>) -> Self {
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
            None => Stdio::inherit(),
        };
        let mut child = Command::new(GRANTRY)
            .args(["serve", "--db", db, "--listen", listen])
            .args(args)
            .env("GRANTRY_LOG", if log.is_some() { "info" } else { "warn" })
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn server");
        // What it prints before it listens (`--demo`'s banner), then the line with its URL. The
        // server is ours from here on: dropping it (a failed assertion too) stops it.
        let stdout = child.stdout.take().expect("stdout");
        let mut server = Self { child, url: String::new(), banner: String::new() };
        let mut stdout = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            assert!(stdout.read_line(&mut line).expect("read") > 0, "the server ended before listening:\n{}", server.banner);
            if line.starts_with("grantry listening on ") {
                let url = line.split_whitespace().find(|w| w.starts_with("http://") || w.starts_with("https://"));
                server.url = url.unwrap_or_else(|| panic!("no URL in `{line}`")).to_owned();
                return server;
            }
            server.banner.push_str(&line);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An organization `acme` with its owner logged in as `admin`, a developer logged in as
/// `production`, and bob's conversation.
pub struct World {
    pub _dir: tempfile::TempDir,
    pub db: String,
    pub server: Server,
    pub owner: Person,
    pub dev: Person,
    pub conv: String,
    pub conv_url: String,
}

pub fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("grantry.db").display());
    let person = |name: &str| Person { config: dir.path().join(format!("{name}.toml")) };
    let (owner, dev) = (person("owner"), person("dev"));
    let boot = owner.ok(&["admin", "bootstrap", "--db", &db, "--org", "acme", "--email", "owner@acme.test", "--json"]).json();
    for key in ["org_id", "user_id", "token"] {
        assert!(boot[key].is_string(), "{boot}");
    }
    let server = Server::start(&db);
    owner.ok(&["login", "--env", "admin", "--url", &server.url, "--org", "acme", "--token", boot["token"].as_str().unwrap()]);
    let made = owner.ok(&["user", "create", "-e", "admin", "--email", "dev@acme.test", "--token", "--json"]).json();
    owner.ok(&["user", "create", "-e", "admin", "--email", "bob@acme.test"]);
    let conv = owner.ok(&["conversation", "create", "-e", "admin", "--owner-email", "bob@acme.test", "--json"]).json();
    dev.ok(&["login", "--env", "production", "--url", &server.url, "--org", "acme", "--token", made["token"]["token"].as_str().unwrap()]);
    let (id, url) = (conv["id"].as_str().unwrap().to_owned(), conv["url"].as_str().unwrap().to_owned());
    assert_eq!(id.len(), 24);
    assert!(url.ends_with(&format!("/acme/admin/conversation/{id}")), "{url}");
    World { _dir: dir, db, server, owner, dev, conv: id, conv_url: url }
}

impl World {
    pub fn grant_count(&self) -> usize {
        self.owner.ok(&["grant", "list", "-e", "admin", "--all", "--show-expired", "--json"]).json().as_array().unwrap().len()
    }

    pub fn check(&self, who: &Person, env: &str, permission: &str) -> Run {
        who.grantry(&["check", "-e", env, "--permission", permission, "--resource", &format!("conversation:{}", self.conv)])
    }
}
