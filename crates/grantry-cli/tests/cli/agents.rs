//! Groups and agents through the real binary against a real server (seed 003): scenario 1 (a
//! department's agent reaches that department only), the data-source example, a manager's
//! limits, and `grantry check` answering for agents — exit 0 allowed, 3 denied.

use super::support::*;

#[test]
fn seed_three_through_the_cli() {
    let w = world();
    let a = |args: &[&str]| w.owner.grantry(&[args, &["-e", "admin"]].concat());
    let ok = |args: &[&str]| {
        let r = a(args);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
        r
    };
    for name in ["sales", "support", "lead"] {
        ok(&["user", "create", "--email", &format!("{name}@acme.test")]);
    }
    // Scenario 1, two departments.
    ok(&["group", "create", "Sales Team", "--description", "Customer-facing sales"]);
    ok(&["group", "create", "Support Team"]);
    ok(&["group", "add-members", "Sales Team", "--user-email", "sales@acme.test"]);
    ok(&["group", "add-members", "support team", "--user-email", "support@acme.test", "--user-email", "lead@acme.test"]);
    let sales_agent =
        ok(&["agent", "create", "Sales Agent", "--access-type", "group", "--json"]).json()["agent"]["id"].as_str().unwrap().to_owned();
    let support_agent =
        ok(&["agent", "create", "Support Agent", "--access-type", "group", "--json"]).json()["agent"]["id"].as_str().unwrap().to_owned();
    ok(&["agent", "assign", "--agent", "Sales Agent", "--group", "Sales Team", "--permission", "VIEW_AND_USE"]);
    ok(&["agent", "assign", "--agent", &support_agent, "--group", "Support Team", "--permission", "VIEW_AND_USE"]);
    let check =
        |who: &str, agent: &str| a(&["check", "--user-email", who, "--permission", "Agent:Use", "--resource", &format!("agent:{agent}")]);
    assert_eq!(check("sales@acme.test", &sales_agent).code, 0);
    let r = check("sales@acme.test", &support_agent);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert_eq!(check("support@acme.test", &support_agent).code, 0);
    // The data-source example: public docs for all, the customer data for the managers only.
    ok(&["group", "create", "Support Managers"]);
    ok(&["group", "add-members", "Support Managers", "--user-email", "lead@acme.test", "--role", "MANAGER"]);
    ok(&["agent", "add-source", "--agent", "Support Agent", "--name", "Public Docs"]);
    ok(&["agent", "add-source", "--agent", "Support Agent", "--name", "Internal Wiki", "--group", "Support Team"]);
    ok(&["agent", "add-source", "--agent", "Support Agent", "--name", "Customer Data", "--group", "Support Managers"]);
    let names = |who: &str| {
        let list = ok(&["agent", "sources", "--agent", "Support Agent", "--user-email", who, "--json"]).json();
        list.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(names("support@acme.test"), ["Internal Wiki", "Public Docs"]);
    assert_eq!(names("lead@acme.test"), ["Customer Data", "Internal Wiki", "Public Docs"]);
    assert!(names("sales@acme.test").is_empty(), "sales may not use the support agent at all");
    let table = ok(&["agent", "show", "Support Agent"]).stdout;
    assert!(table.contains("Support Team") && table.contains("Customer Data"), "{table}");
    // Bad input: a clear error, exit 2 (1 for a conflict), nothing written.
    let r = a(&["agent", "assign", "--agent", "Sales Agent", "--group", "Support Managers", "--permission", "OWN"]);
    assert!(r.code == 2 && r.stderr.contains("VIEW_AND_USE"), "{}", r.stderr);
    let r = a(&["group", "create", "Sales Team"]);
    assert!(r.code == 1 && r.stderr.contains("already exists"), "{}", r.stderr);
    let r = a(&[
        "agent",
        "assign",
        "--agent",
        "Sales Agent",
        "--group",
        "Support Managers",
        "--permission",
        "EDIT",
        "--end",
        "2099-01-15",
        "--timezone",
        "Mars/Base",
    ]);
    assert!(r.code == 2 && r.stderr.contains("timezone"), "{}", r.stderr);
    // Removing the member ends it on the next check.
    ok(&["group", "remove-members", "Sales Team", "--user-email", "sales@acme.test"]);
    assert_eq!(check("sales@acme.test", &sales_agent).code, 3);
    // A CSV file: validated whole, one bad row rejects it with its line; a dry run writes nothing.
    let file = w.owner.config.with_file_name("assignments.csv");
    let csv = "AgentId,GroupId,Permission,StartDate,EndDate\nSales Agent,Support Managers,VIEW_AND_USE,2024-01-01,\nSupport Agent,Support Team,OWN,,\n";
    std::fs::write(&file, csv).unwrap();
    let path = file.to_str().unwrap();
    let r = a(&["import", "assignments", path]);
    assert!(r.code == 2 && r.stderr.contains("line 3"), "{}", r.stderr);
    std::fs::write(&file, csv.replace("OWN", "EDIT")).unwrap();
    let r = ok(&["import", "assignments", path, "--dry-run"]);
    assert!(r.stdout.contains("Dry run: 1 to create, 1 to change"), "{}", r.stdout);
    assert_eq!(check("lead@acme.test", &sales_agent).code, 3, "the dry run wrote nothing");
    let r = ok(&["import", "assignments", path]);
    assert!(r.stdout.contains("Written in one transaction"), "{}", r.stdout);
    assert_eq!(check("lead@acme.test", &sales_agent).code, 0, "lead is in Support Managers, now assigned the sales agent");
    // Across several groups in one transaction: sales joins both teams and both get the sales agent.
    let bulk = [
        "group",
        "bulk",
        "--group",
        "Sales Team",
        "--group",
        "Support Team",
        "--add-user",
        "sales@acme.test",
        "--add-agent",
        "Sales Agent",
    ];
    let r = ok(&[&bulk[..], &["--dry-run"]].concat());
    assert!(r.stdout.contains("Dry run: 3 to create, 0 to change, 0 to remove, 1 unchanged"), "{}", r.stdout);
    assert_eq!(check("sales@acme.test", &sales_agent).code, 3, "the dry run wrote nothing");
    let r = ok(&bulk);
    assert!(r.stdout.contains("Written in one transaction") && r.stdout.contains("`Support Team` → `Sales Agent`"), "{}", r.stdout);
    assert_eq!(check("sales@acme.test", &sales_agent).code, 0);
    assert_eq!(check("support@acme.test", &sales_agent).code, 0, "Support Team now has the sales agent");
    let r = a(&["group", "bulk", "--group", "Sales Team", "--add-user", "nobody@acme.test"]);
    assert!(r.code == 2 && r.stderr.contains("nobody@acme.test"), "{}", r.stderr);
    // The reports: a table, the server's CSV, an XLSX workbook to a file or down a pipe.
    let table = ok(&["report", "access-matrix"]).stdout;
    assert!(table.contains("USER") && table.contains("support@acme.test") && table.contains("Sales Agent"), "{table}");
    let csv = ok(&["report", "access-matrix", "--format", "csv"]).stdout;
    assert!(
        csv.starts_with("USER,AGENT,USE,EDIT,HOW,GROUPS\n") && csv.contains("support@acme.test,Sales Agent,yes,no,group,Support Team"),
        "{csv}"
    );
    let book = w.owner.config.with_file_name("matrix.xlsx");
    let r = ok(&["report", "access-matrix", "--format", "xlsx", "--output", book.to_str().unwrap()]);
    assert!(r.stdout.contains("Wrote") && std::fs::read(&book).unwrap().starts_with(b"PK"), "{}", r.stdout);
    assert!(ok(&["report", "compliance", "--format", "xlsx"]).stdout.starts_with("PK"), "a pipe takes the workbook");
    let r = a(&["report", "coverage", "--output", book.to_str().unwrap()]);
    assert!(r.code == 2 && r.stderr.contains("--format"), "{}", r.stderr);
    for help in [
        &["group", "bulk", "--help"][..],
        &["report", "access-matrix", "--help"][..],
        &["agent", "assign", "--help"][..],
        &["group", "add-members", "--help"],
        &["agent", "sources", "--help"],
        &["import", "users", "--help"],
    ] {
        assert!(w.owner.ok(help).stdout.contains("Examples"), "{help:?}");
    }
}

/// A large import shows its progress on a terminal (run under `script`, which gives it one), and
/// nothing of it when standard error is a pipe.
#[test]
fn a_large_import_shows_its_progress_on_a_terminal_only() {
    let w = world();
    w.owner.ok(&["group", "create", "Big", "-e", "admin"]);
    let file = w.owner.config.with_file_name("people.csv");
    let mut csv = String::from("Name,Email,Group\n");
    for i in 0..8_000 {
        csv.push_str(&format!("Person Number {i},person.number.{i}@acme.test,Big\n"));
    }
    assert!(csv.len() > 256 * 1024, "large enough to show progress");
    std::fs::write(&file, &csv).unwrap();
    let args = ["import", "users", file.to_str().unwrap(), "--dry-run", "-e", "admin"];
    let piped = w.owner.ok(&args);
    assert!(piped.stdout.contains("Dry run: 8000 to create") && piped.stderr.is_empty(), "{}{}", piped.stdout, piped.stderr);
    let command = format!("{GRANTRY} {}", args.map(|a| format!("'{a}'")).join(" "));
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("GRANTRY_CONFIG", &w.owner.config)
        .env("TERM", "xterm")
        .output()
        .expect("script(1) from util-linux runs the CLI on a terminal");
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{seen}");
    assert!(seen.contains("Sending the file") || seen.contains("The server is checking 8000 rows"), "{seen}");
    assert!(seen.contains("Dry run: 8000 to create"), "{seen}");
}

/// Seed 004 through the binary: a pool, an instance refused without an expiry or past a limit
/// (exit 2, the limit named), then made, listed by name and deleted.
#[test]
fn temporary_access_through_the_cli() {
    let w = world();
    let a = |args: &[&str]| w.owner.grantry(&[args, &["-e", "admin"]].concat());
    assert_eq!(a(&["pool", "create", "Prod"]).code, 0);
    let base = ["temp-access", "create", "--name", "oncall", "--role", "standard", "--pool", "Prod", "--user-email", "dev@acme.test"];
    let r = a(&base);
    assert!(r.code == 2 && r.stderr.contains("--days"), "{}", r.stderr);
    let r = a(&[&base[..], &["--days", "32"]].concat());
    assert!(r.code == 2 && r.stderr.contains("temp_access_max_duration"), "{}", r.stderr);
    let r = a(&[&base[..], &["--days", "1", "--hours", "2"]].concat());
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = a(&[&base[..], &["--days", "1"]].concat());
    assert!(r.code == 0 && r.stdout.contains("standard on Prod for dev@acme.test"), "{}{}", r.stdout, r.stderr);
    let r = a(&["temp-access", "show", "oncall"]);
    assert!(r.code == 0 && r.stdout.contains("active"), "{}{}", r.stdout, r.stderr);
    let r = a(&["temp-access", "delete", "oncall"]);
    assert!(r.code == 0 && r.stdout.contains("1 grant revoked"), "{}{}", r.stdout, r.stderr);
    let r = w.dev.grantry(&["temp-access", "list", "-e", "production"]);
    assert_eq!(r.code, 5, "a member may not read them: {}", r.stderr);
    for help in [&["temp-access", "create", "--help"][..], &["pool", "create", "--help"]] {
        assert!(w.owner.ok(help).stdout.contains("Examples"), "{help:?}");
    }
}

#[test]
fn access_requests_through_the_cli() {
    let w = world();
    let a = |args: &[&str]| w.owner.grantry(&[args, &["-e", "admin"]].concat());
    let d = |args: &[&str]| w.dev.grantry(&[args, &["-e", "production"]].concat());
    assert_eq!(a(&["workspace", "create", "ml"]).code, 0);
    assert_eq!(a(&["project", "create", "ml/agents"]).code, 0);
    let ask = ["access", "request", "--role", "project_developer", "--target", "ml/agents", "--duration", "PT1H", "--justification"];
    let r = d(&[&ask[..], &["short"]].concat());
    assert!(r.code == 2 && r.stderr.contains("justification"), "{}", r.stderr);
    let r = d(&[&ask[..], &["debug the flaky job today", "--json"]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let made = r.json();
    let id = made["request"]["id"].as_str().unwrap().to_owned();
    assert_eq!(made["request"]["state"], "pending");
    let r = d(&["access", "approve", &id]);
    assert!(r.code == 5 && r.stderr.contains("own request"), "{}", r.stderr);
    let r = a(&["access", "list", "--to-decide"]);
    assert!(r.code == 0 && r.stdout.contains(&id) && r.stdout.contains("pending (approval)"), "{}{}", r.stdout, r.stderr);
    let r = a(&["access", "approve", &id, "--reason", "go ahead"]);
    assert!(r.code == 0 && r.stdout.contains("State: active.") && r.stdout.contains("1/1 approvals"), "{}{}", r.stdout, r.stderr);
    let r = d(&["access", "show", &id]);
    assert!(r.code == 0 && r.stdout.contains("Access: from"), "{}{}", r.stdout, r.stderr);
    let r = d(&["access", "extend", &id, "--duration", "PT30M", "--justification", "the job is still flaky"]);
    assert!(r.code == 0 && r.stdout.contains("active, extension pending (approval)"), "{}{}", r.stdout, r.stderr);
    let r = a(&["access", "approve", &id]);
    assert!(r.code == 0 && r.stdout.contains("Extended by PT30M"), "{}{}", r.stdout, r.stderr);
    let r = d(&["access", "extend", &id, "--duration", "P30D"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = d(&["access", "revoke", &id]);
    assert!(r.code == 0 && r.stdout.contains("State: revoked."), "{}{}", r.stdout, r.stderr);
    let r = a(&["access", "deny", &id, "--reason", "late"]);
    assert!(r.code == 1 && r.stderr.contains("revoked"), "a conflict: {}", r.stderr);
    assert_eq!(d(&["access", "show", "../users"]).code, 2);

    let r = a(&["access", "policy", "create", "--name", "self-service", "--scope", "ml", "--auto-approve", "--max-duration", "PT8H"]);
    assert!(r.code == 0 && r.stdout.contains("auto-approved, up to PT8H"), "{}{}", r.stdout, r.stderr);
    let r = d(&[
        "access",
        "request",
        "--permission",
        "traces:read",
        "--target",
        "ml/agents",
        "--duration",
        "PT9H",
        "--justification",
        "read the dev traces",
    ]);
    assert!(r.code == 2 && r.stderr.contains("PT8H"), "{}", r.stderr);
    let r = d(&[
        "access",
        "request",
        "--permission",
        "traces:read",
        "--target",
        "ml/agents",
        "--duration",
        "PT2H",
        "--justification",
        "read the dev traces",
    ]);
    assert!(r.code == 0 && r.stdout.contains("State: active."), "{}{}", r.stdout, r.stderr);
    let r = d(&["access", "policy", "list"]);
    assert!(r.code == 0 && r.stdout.contains("self-service"), "{}{}", r.stdout, r.stderr);
    let r = a(&["access", "policy", "create", "--name", "x", "--stage", "approvals=two"]);
    assert!(r.code == 2 && r.stderr.contains("not a number"), "{}", r.stderr);
    let r = a(&["access", "policy", "create", "--name", "two-step", "--stage", "name=peer,groups=nobody"]);
    assert!(r.code == 2 && r.stderr.contains("nobody"), "{}", r.stderr);
    assert_eq!(a(&["access", "policy", "delete", "self-service"]).code, 0);
    for help in [&["access", "request", "--help"][..], &["access", "policy", "create", "--help"], &["access", "extend", "--help"]] {
        assert!(w.owner.ok(help).stdout.contains("Examples"), "{help:?}");
    }
}
