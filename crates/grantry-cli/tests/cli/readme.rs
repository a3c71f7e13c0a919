//! The README runs as written. Every ```bash block of the README (but those of the sections in
//! `NOT_HERE`, which need what a test cannot have) is run, in order, by `bash` in an empty home
//! directory with the real `grantry` and `forge` on the `PATH`, against the server the README
//! itself starts.
//!
//! What the README quotes is checked:
//! - `# …` lines right under a command are its output: each must match a line of what the
//!   command printed (stdout and stderr), in order. `…` stands for anything; times and dates
//!   match any time and date; runs of spaces match any run of spaces. A line that ends in
//!   `(exit N)` or `(exit code N)` says how the command ends; otherwise it must succeed.
//! - A ```text block is the output of the last command run before it (prose may come between).
//! - Ids, tokens and abbreviated ids the README shows in quoted output (`65a1f0c2…` or
//!   `65a1f0c2d3e4b5a6978897aa`, `gty_…`) are bound to what the program really printed there, and
//!   every later command and quoted line that uses them gets the real value — the placeholders a
//!   reader fills in by hand. The README's `127.0.0.1:8080` becomes a free port.
//!
//! A comment that is not output starts after a blank line, or at the top of a block.
//! `GRANTRY_README_ECHO=1` prints every command and what it printed, for writing the README.

use super::support::GRANTRY;
use regex_lite::Regex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Sections whose commands a test cannot run, and why.
const NOT_HERE: &[(&str, &str)] = &[
    ("Two commands", "builds the release binary and runs this very test suite"),
    ("Several servers on PostgreSQL", "needs PostgreSQL hosts the README names (the storage suite covers it)"),
    ("Tenant isolation", "needs the PostgreSQL database of the section before"),
];

/// One command, what the README quotes it prints, and how it must end.
#[derive(Debug)]
struct Step {
    section: String,
    command: String,
    expected: Vec<String>,
    exit: i32,
}

/// The steps of the README, in order.
fn steps(readme: &str) -> Vec<Step> {
    let exit_marker = Regex::new(r"\s*\(exit(?: code)? (\d)\)\s*$").unwrap();
    let mut steps: Vec<Step> = Vec::new();
    let (mut section, mut skip) = (String::new(), false);
    let mut lines = readme.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(title) = line.strip_prefix("## ") {
            section = title.trim().to_owned();
            skip = NOT_HERE.iter().any(|(s, _)| section.starts_with(s));
            continue;
        }
        let Some(lang) = line.strip_prefix("```") else { continue };
        let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        if skip {
            continue;
        }
        match lang.trim() {
            "bash" => {
                let mut joined: Vec<String> = Vec::new();
                for l in body {
                    match joined.last_mut() {
                        Some(prev) if prev.ends_with('\\') => {
                            prev.pop();
                            prev.push_str(l.trim_start());
                        }
                        _ => joined.push(l.to_owned()),
                    }
                }
                let mut after_command = false;
                for l in joined {
                    let t = l.trim();
                    if t.is_empty() {
                        after_command = false;
                    } else if let Some(quoted) = t.strip_prefix('#') {
                        if after_command {
                            let step = steps.last_mut().unwrap();
                            let quoted = quoted.strip_prefix(' ').unwrap_or(quoted);
                            if let Some(m) = exit_marker.captures(quoted) {
                                step.exit = m[1].parse().unwrap();
                            }
                            step.expected.push(exit_marker.replace(quoted, "").into_owned());
                        }
                    } else {
                        steps.push(Step { section: section.clone(), command: t.to_owned(), expected: Vec::new(), exit: 0 });
                        after_command = true;
                    }
                }
            }
            "text" => {
                let step = steps.last_mut().unwrap_or_else(|| panic!("a ```text block in `{section}` before any command"));
                step.expected.extend(body.iter().map(|l| (*l).to_owned()));
            }
            _ => {}
        }
    }
    steps
}

/// What the README's example values stand for in this run.
#[derive(Default)]
struct Bindings(BTreeMap<String, String>);

impl Bindings {
    /// `text` with every bound example value replaced by the real one (longest first).
    fn apply(&self, text: &str) -> String {
        let mut keys: Vec<&String> = self.0.keys().collect();
        keys.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        keys.iter().fold(text.to_owned(), |t, k| t.replace(k.as_str(), &self.0[*k]))
    }
}

/// A quoted line as a pattern that must match a whole printed line (but for surrounding spaces),
/// and the example values it binds (in capture-group order). A full example id already bound must
/// be printed as the real value it stands for; one not yet bound, a placeholder (`gty_…`) and an
/// abbreviation (`5f3c…`) are bound to what is printed there.
fn pattern(quoted: &str, bound: &Bindings) -> (Regex, Vec<String>) {
    let token = Regex::new(concat!(
        r"(?P<ell>…)|(?P<ws>\s+)",
        r"|(?P<datetime>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?: UTC|Z)?)",
        r"|(?P<date>\d{4}-\d{2}-\d{2})|(?P<time>\d{2}:\d{2}:\d{2})",
        r"|(?P<secret>gty_(?:…|[0-9a-f]{64}))",
        r"|(?P<id>\b[0-9a-f]{24}\b)|(?P<abbrev>\b[0-9a-f]{4,23}…)",
    ))
    .unwrap();
    let literal = |text: &str| regex_lite::escape(&bound.apply(text));
    let (mut re, mut binds, mut at) = (String::from(r"^\s*"), Vec::new(), 0);
    for m in token.captures_iter(quoted.trim()) {
        let whole = m.get(0).unwrap();
        re.push_str(&literal(&quoted.trim()[at..whole.start()]));
        at = whole.end();
        let text = whole.as_str();
        let part = if m.name("ell").is_some() {
            ".*?".to_owned()
        } else if m.name("ws").is_some() {
            r"\s+".to_owned()
        } else if m.name("datetime").is_some() {
            r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?: UTC|Z)?".to_owned()
        } else if m.name("date").is_some() {
            r"\d{4}-\d{2}-\d{2}".to_owned()
        } else if m.name("time").is_some() {
            r"\d{2}:\d{2}:\d{2}".to_owned()
        } else if m.name("secret").is_some() {
            binds.push(text.to_owned());
            r"(gty_[0-9a-f]{64})".to_owned()
        } else if let (Some(real), Some(_)) = (bound.0.get(text), m.name("id")) {
            regex_lite::escape(real)
        } else {
            binds.push(text.to_owned());
            r"([0-9a-f]{4,})…?".to_owned()
        };
        re.push_str(&part);
    }
    re.push_str(&literal(&quoted.trim()[at..]));
    re.push_str(r"\s*$");
    (Regex::new(&re).unwrap_or_else(|e| panic!("quoted line `{quoted}` makes no pattern: {e}")), binds)
}

/// Checks `printed` against the quoted lines, in order, binding what they show.
fn check_output(step: &Step, printed: &str, bound: &mut Bindings) -> Result<(), String> {
    let mut lines = printed.lines();
    for quoted in &step.expected {
        if quoted.trim().is_empty() || quoted.trim() == "…" {
            continue;
        }
        let (re, binds) = pattern(quoted, bound);
        let caps = lines.by_ref().find_map(|l| re.captures(l)).ok_or_else(|| {
            format!("the README quotes `{}`, which the command did not print (in this order, as a whole line)", bound.apply(quoted))
        })?;
        for (i, example) in binds.into_iter().enumerate() {
            bound.0.insert(example, caps[i + 1].to_owned());
        }
    }
    Ok(())
}

/// The README's server, and everything it runs in.
struct Run {
    home: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    prelude: String,
    background: Vec<Child>,
}

impl Drop for Run {
    fn drop(&mut self) {
        for child in &mut self.background {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Run {
    fn bash(&self, script: &str) -> Command {
        let path = format!("{}:{}", self.bin.display(), std::env::var("PATH").unwrap_or_default());
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(script)
            .current_dir(self.home.path())
            .env("HOME", self.home.path())
            .env("PATH", path)
            .env("GRANTRY_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("GRANTRY_LOG", "warn");
        for var in ["GRANTRY_CONFIG", "GRANTRY_DB", "GRANTRY_AUDIT_KEY_FILE", "GRANTRY_SERVER_CONFIG", "GRANTRY_TOKEN"] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Waits until the command just put in the background listens, and is still running.
    fn wait_for_server(&mut self) {
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(20), "the README's server did not start on port {}", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
        let child = self.background.last_mut().unwrap();
        assert!(child.try_wait().unwrap().is_none(), "the README's background command ended; see background-*.log");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn the_readme_runs_as_written() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let steps = steps(&readme);
    assert!(steps.len() > 30, "the walk-through has its commands: {steps:#?}");
    let port = free_port();
    let mut run = Run {
        home: tempfile::tempdir().unwrap(),
        port,
        bin: Path::new(GRANTRY).parent().unwrap().to_owned(),
        prelude: "set -o pipefail\n".to_owned(),
        background: Vec::new(),
    };
    let background = Regex::new(r"\s&\s*(?:#.*)?$").unwrap();
    let mut bound = Bindings::default();
    bound.0.insert("127.0.0.1:8080".to_owned(), format!("127.0.0.1:{port}"));
    for step in &steps {
        let command = bound.apply(&step.command);
        let context = format!("README, section `{}`: `{}`", step.section, step.command);
        if let Some(m) = background.find(&command) {
            let log = std::fs::File::create(run.home.path().join(format!("background-{}.log", run.background.len()))).unwrap();
            let child = run
                .bash(&format!("{}exec {}", run.prelude, &command[..m.start()]))
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .stdin(Stdio::null())
                .spawn()
                .unwrap();
            run.background.push(child);
            run.wait_for_server();
            assert!(step.expected.is_empty(), "{context}: what a background command prints is not checked; quote it elsewhere");
            continue;
        }
        if command.starts_with("export ") || command.starts_with("unset ") {
            run.prelude.push_str(&command);
            run.prelude.push('\n');
            continue;
        }
        let out = run.bash(&format!("{}{{\n{command}\n}} 2>&1", run.prelude)).stdin(Stdio::null()).output().unwrap();
        let printed = String::from_utf8_lossy(&out.stdout);
        let code = out.status.code().unwrap_or(-1);
        if std::env::var_os("GRANTRY_README_ECHO").is_some() {
            eprintln!("$ {command}\n{printed}(exit {code})");
        }
        assert_eq!(code, step.exit, "{context}\nexited {code}, the README says {}; it printed:\n{printed}", step.exit);
        if let Err(why) = check_output(step, &printed, &mut bound) {
            panic!("{context}\n{why}; it printed:\n{printed}");
        }
    }
}

#[test]
fn quoted_lines_match_and_bind() {
    let mut bound = Bindings::default();
    let step = Step {
        section: String::new(),
        command: String::new(),
        expected: vec![
            "Registered conversation 65a1f0c2d3e4b5a6978897aa (owner bob@acme.example).".to_owned(),
            "ID    EXPIRES AT".to_owned(),
            "5f3c…  …  2026-11-23 08:12:17 UTC".to_owned(),
            "Token: gty_…".to_owned(),
            "Token: gty_…".to_owned(),
        ],
        exit: 0,
    };
    let printed = format!(
        "Registered conversation {} (owner bob@acme.example).\nID  EXPIRES AT\n{}  x  2027-01-02 03:04:05 UTC\nToken: gty_{}\nToken: gty_{}\n",
        "0123456789abcdef01234567",
        "89abcdef0123456789abcdef",
        "a".repeat(64),
        "b".repeat(64)
    );
    check_output(&step, &printed, &mut bound).unwrap();
    assert_eq!(
        bound.apply("grant revoke 65a1f0c2d3e4b5a6978897aa 5f3c… gty_…"),
        format!("grant revoke 0123456789abcdef01234567 89abcdef0123456789abcdef gty_{}", "b".repeat(64))
    );
    let wrong = Step { expected: vec!["Registered conversation 65a1f0c2d3e4b5a6978897aa (owner bob@acme.example).".to_owned()], ..step };
    let other = "Registered conversation ffffffffffffffffffffffff (owner bob@acme.example).";
    assert!(check_output(&wrong, other, &mut bound).is_err(), "a bound id must be printed as the value it stands for");
    assert!(check_output(&wrong, &printed, &mut bound).is_ok());
    let whole = Step { expected: vec!["allowed".to_owned()], ..wrong };
    assert!(check_output(&whole, "not allowed", &mut bound).is_err(), "a quoted line matches a whole printed line");
    let parsed = steps("## Walk\n```bash\nfoo --x \\\n  --y\n# out (exit 3)\n\n# a comment\nbar &  # bg\n```\nprose\n```text\nline\n```\n");
    assert_eq!(parsed.len(), 2);
    assert_eq!((parsed[0].command.as_str(), parsed[0].exit, parsed[0].expected.as_slice()), ("foo --x --y", 3, &["out".to_owned()][..]));
    assert_eq!((parsed[1].command.as_str(), parsed[1].expected.as_slice()), ("bar &  # bg", &["line".to_owned()][..]));
}
