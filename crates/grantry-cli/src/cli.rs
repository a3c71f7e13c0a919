//! The command line, as clap derive types. Doc comments are the help text.

use clap::{Args, Parser, Subcommand};

/// An `Examples:` section for a command's help: one command per argument, as typed.
#[macro_export]
macro_rules! examples {
    ($($line:literal),+ $(,)?) => {
        concat!("Examples:", $("\n  ", $line),+)
    };
}

/// What every command shares, after the top-level help.
const TOP_HELP: &str = concat!(
    "Profiles: -e/--env NAME picks a profile saved by `grantry login` (server URL, organization, token). It is\n",
    "never a project's environment: those are named with --environment and `grantry environment`.\n\n",
    "Exit codes: 0 success (check: allowed), 1 failure, 2 bad usage or input (before calling the server, or\n",
    "the server's 400/413/414/422), 3 denied (check), 4 not found, 5 not authorised (401/403).\n\n",
    crate::examples!(
        "grantry serve --demo",
        "grantry admin bootstrap --org acme --email ana@acme.example",
        "grantry login --env admin --url http://127.0.0.1:8080 --org acme --token gty_0123…",
        "forge conversation request-access 65a1f0c2d3e4b5a6978897aa -e admin -j \"Debugging reported issue #42\"",
        "grantry check -e admin --permission Conversation:GetMessage --resource conversation:65a1f0c2d3e4b5a6978897aa",
    )
);

/// Grantry: access control for platforms that run AI agents.
#[derive(Debug, Parser)]
#[command(name = "grantry", version, about, long_about = None, propagate_version = true, after_help = TOP_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (JSON API) on the embedded SQLite database by default, or on PostgreSQL.
    ///
    /// Settings come from, lowest first: defaults, the --config file, GRANTRY_… environment
    /// variables, flags. Logging goes to stderr; GRANTRY_LOG (or `log` in the config file) sets its
    /// filter, e.g. `warn` or `info,grantry_server=debug` (default `info`).
    #[command(after_help = crate::examples!(
        "grantry serve                                   # sqlite://grantry.db on 127.0.0.1:8080",
        "grantry serve --demo                            # and a demo organization, with tokens to try",
        "grantry serve --db postgres://app:secret@db:5432/grantry --audit-key /etc/grantry/audit.key --listen 0.0.0.0:8080",
        "grantry serve --tls-cert server.pem --tls-key server.key --listen 0.0.0.0:8443",
        "grantry serve --config /etc/grantry/grantry.toml",
        "grantry serve --metrics-token-file /etc/grantry/metrics.token   # Prometheus at /metrics",
        "GRANTRY_LOG=warn,grantry_server=debug grantry serve"
    ))]
    Serve(crate::commands::serve::ServeArgs),
    /// Administrative commands that work on the database directly.
    #[command(after_help = crate::examples!(
        "grantry admin bootstrap --org acme --email ana@acme.example",
        "grantry admin isolation --db postgres://app:secret@db:5432/grantry --audit-key /etc/grantry/audit.key"
    ))]
    #[command(subcommand)]
    Admin(crate::commands::admin::AdminCommand),
    /// Bring a database's schema up to date (`serve` also does this on start).
    #[command(after_help = crate::examples!(
        "grantry migrate --db sqlite://grantry.db",
        "grantry migrate --db postgres://app:secret@db:5432/grantry --audit-key /etc/grantry/audit.key",
        "grantry migrate --db sqlite://grantry.db --key-unkeyed-chains     # only if you vouch for the old log"
    ))]
    Migrate(crate::commands::migrate::MigrateArgs),
    /// Save a named profile (server URL, organization, token) for `-e/--env`.
    #[command(after_help = crate::examples!(
        "grantry login --env admin --url http://127.0.0.1:8080 --org acme --token gty_0123…",
        "grantry login --env prod --url https://grantry.acme.example --org acme --token gty_0123… --ca-cert acme-ca.pem"
    ))]
    Login(crate::commands::login::LoginArgs),
    /// Manage users.
    #[command(after_help = crate::examples!(
        "grantry user create -e admin --email dev@acme.example --token",
        "grantry user list -e admin"
    ))]
    #[command(subcommand)]
    User(crate::commands::user::UserCommand),
    /// Issue, exchange and revoke login tokens.
    #[command(after_help = crate::examples!(
        "grantry token create -e admin --expires-in P30D",
        "grantry token exchange -e lea                    # a token an admin made for you → your own",
        "grantry token revoke -e admin 5f3c0d7e9a1b2c3d4e5f6a7b"
    ))]
    #[command(subcommand)]
    Token(crate::commands::token::TokenCommand),
    /// Conversations: register them, request temporary access, list grants.
    #[command(after_help = crate::examples!(
        "grantry conversation create -e admin --owner-email bob@acme.example",
        "forge conversation request-access 65a1f0c2d3e4b5a6978897aa -e dev -j \"Debugging reported issue #42\"",
        "forge conversation list-access -e dev"
    ))]
    #[command(subcommand)]
    Conversation(crate::commands::conversation::ConversationCommand),
    /// Temporary permission grants.
    #[command(after_help = crate::examples!(
        "grantry grant list -e admin --all",
        "grantry grant revoke -e admin b81d59163c54a77b96e5ae28"
    ))]
    #[command(subcommand)]
    Grant(crate::commands::grant::GrantCommand),
    /// May this principal do this action on this resource, now? Exit 0 allowed, 3 denied.
    #[command(after_help = crate::examples!(
        "grantry check -e dev --permission Conversation:GetMessage --resource conversation:65a1f0c2d3e4b5a6978897aa",
        "grantry check -e admin --user-email dev@acme.example --permission traces:read:prod --resource trace:0f1e2d3c4b5a69788796a5b4",
        "grantry check -e admin --api-key 5f3c0d7e9a1b2c3d4e5f6a7b --permission traces:read --resource trace:0f1e2d3c4b5a69788796a5b4",
        "grantry check -e admin --user-email dev@acme.example --permission Conversation:GetMessage --resource conversation:65a1f0c2d3e4b5a6978897aa --at 2026-11-24T18:00:00Z",
        "grantry check -e admin --permission Conversation:GetMessage --resource ticket:T-1234 --attr conversation_user_id=8aeeefa9dd20d5912158d50e"
    ))]
    Check(crate::commands::check::CheckArgs),
    /// Why can (or can't) this user reach this agent? Walks seed 003's troubleshooting list and
    /// names the smallest change that would grant it. Exit 0 allowed, 3 denied.
    #[command(after_help = crate::examples!(
        "grantry explain -e admin --user-email sam@acme.example --resource agent:9c1d0e2f3a4b5c6d7e8f9a0b",
        "grantry explain -e admin --user-email sam@acme.example --resource \"agent:Support Agent\" --permission Agent:Edit"
    ))]
    Explain(crate::commands::explain::ExplainArgs),
    /// Which resources of a type may this principal act on with a permission, now? A page of ids.
    #[command(after_help = crate::examples!(
        "grantry lookup -e dev --permission Conversation:GetMessage --type conversation",
        "grantry lookup -e admin --user-email dev@acme.example --permission traces:read --type trace --limit 50 --json",
        "grantry lookup -e admin --user-email dev@acme.example --permission traces:read --type trace --after 0f1e2d3c4b5a69788796a5b4"
    ))]
    Lookup(crate::commands::lookup::LookupArgs),
    /// Read and verify the audit log.
    #[command(after_help = crate::examples!(
        "grantry audit list -e admin --type grant.created",
        "grantry audit verify -e admin",
        "grantry audit digest -e admin > digest.json"
    ))]
    #[command(subcommand)]
    Audit(crate::commands::audit::AuditCommand),
    /// Workspaces: the first tier below the organization.
    #[command(after_help = crate::examples!(
        "grantry workspace create ml -e admin",
        "grantry workspace list -e admin"
    ))]
    #[command(subcommand)]
    Workspace(crate::commands::scope::WorkspaceCommand),
    /// Projects, named WORKSPACE/PROJECT.
    #[command(after_help = crate::examples!(
        "grantry project create ml/agents -e admin",
        "grantry project list -e admin --workspace ml"
    ))]
    #[command(subcommand)]
    Project(crate::commands::scope::ProjectCommand),
    /// Environments of a project, each production or not.
    #[command(after_help = crate::examples!(
        "grantry environment create --project ml/agents prod --production -e admin",
        "grantry environment list --project ml/agents -e admin"
    ))]
    #[command(subcommand)]
    Environment(crate::commands::scope::EnvironmentCommand),
    /// Traces, classified production or not when captured.
    #[command(after_help = crate::examples!(
        "grantry trace capture --project ml/agents --environment prod -e admin"
    ))]
    #[command(subcommand)]
    Trace(crate::commands::trace::TraceCommand),
    /// The permission catalogue.
    #[command(after_help = crate::examples!(
        "grantry permission list -e admin"
    ))]
    #[command(subcommand)]
    Permission(crate::commands::catalogue::PermissionCommand),
    /// Roles: the catalogue's, granting them at a tier, and the role matrix.
    #[command(after_help = crate::examples!(
        "grantry role list -e admin",
        "grantry role grant -e admin --user-email dev@acme.example --role project_developer --project ml/agents",
        "grantry role matrix -e admin"
    ))]
    #[command(subcommand)]
    Role(crate::commands::role::RoleCommand),
    /// API keys of projects: narrow scopes, the secret shown once.
    #[command(after_help = crate::examples!(
        "grantry apikey create -e admin --project ml/agents --scope traces:read:prod --name prod-reader",
        "grantry apikey list -e admin"
    ))]
    #[command(subcommand)]
    Apikey(crate::commands::apikey::ApiKeyCommand),
    /// Groups of users: members and managers, parent groups whose access children inherit.
    #[command(after_help = crate::examples!(
        "grantry group create \"Support Team\" -e admin",
        "grantry group add-members \"Support Team\" --user-email ann@acme.test -e admin"
    ))]
    #[command(subcommand)]
    Group(crate::commands::group::GroupCommand),
    /// Agents: access types, groups assigned at a level and a window, data sources.
    #[command(after_help = crate::examples!(
        "grantry agent create \"Sales Agent\" --access-type group -e admin",
        "grantry agent assign --agent \"Sales Agent\" --group \"Sales Team\" --permission VIEW_AND_USE -e admin"
    ))]
    #[command(subcommand)]
    Agent(crate::commands::agent::AgentCommand),
    /// CSV imports: assignments of groups to agents, and users into groups; all rows or none.
    #[command(after_help = crate::examples!(
        "grantry import assignments assignments.csv --dry-run -e admin",
        "grantry import users people.csv -e admin"
    ))]
    #[command(subcommand)]
    Import(crate::commands::import::ImportCommand),
    /// Access reviews: certify or revoke an assignment or a membership.
    #[command(after_help = crate::examples!(
        "grantry review certify --group \"Sales Team\" --user-email sam@acme.example -e admin",
        "grantry review revoke --agent \"Sales Agent\" --group \"Contractors\" -e admin"
    ))]
    #[command(subcommand)]
    Review(crate::commands::review::ReviewCommand),
    /// Reports: the agent access matrix, group membership, coverage and compliance (table, JSON, CSV or XLSX).
    #[command(after_help = crate::examples!("grantry report access-matrix -e admin", "grantry report compliance --format csv -e admin"))]
    #[command(subcommand)]
    Report(crate::commands::report::ReportCommand),
    /// Agent pools (seed 004): the resources temporary access instances grant.
    #[command(after_help = crate::examples!("grantry pool create \"Production EU\" -e admin", "grantry pool list -e admin"))]
    #[command(subcommand)]
    Pool(crate::commands::pool::PoolCommand),
    /// Temporary access instances (seed 004): a role on agent pools for users, until it expires.
    #[command(after_help = crate::examples!(
        "grantry temp-access create --name incident-4711 --role privileged --pool \"Production EU\" --user-email sam@acme.test --hours 8 -e admin",
        "grantry temp-access list -e admin"
    ))]
    #[command(subcommand)]
    TempAccess(crate::commands::temp_access::TempAccessCommand),
    /// Access requests: ask for a role or permissions for a while; approvers approve or deny, in stages.
    #[command(after_help = crate::examples!(
        "grantry access request --role project_admin --target payments/api --duration PT4H --justification \"incident INC-4711\" -e dev",
        "grantry access list --to-decide -e lead",
        "grantry access approve 65a1f0c2d3e4b5a6978897aa --reason \"on call\" -e lead"
    ))]
    #[command(subcommand)]
    Access(crate::commands::access::AccessCommand),
    /// Webhooks: signed notifications of access requests and grants, delivered at least once.
    #[command(after_help = crate::examples!(
        "grantry webhook create --name audit-feed --url https://hooks.acme.example/grantry -e admin",
        "grantry webhook deliveries audit-feed -e admin"
    ))]
    #[command(subcommand)]
    Webhook(crate::commands::webhook::WebhookCommand),
    /// The organization's policy settings (grant and role windows, audit retention).
    #[command(after_help = crate::examples!(
        "grantry org settings -e admin",
        "grantry org settings -e admin --max-grant-duration P1D --default-grant-duration PT1H"
    ))]
    #[command(subcommand)]
    Org(crate::commands::org::OrgCommand),
}

/// The profile to talk to.
#[derive(Debug, Clone, Args)]
pub struct EnvArg {
    /// The profile saved by `grantry login --env NAME` (server, organization, token); not a
    /// project's environment, which is --environment.
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: String,
}

/// The audit key, for commands that open the database directly.
#[derive(Debug, Clone, Args)]
pub struct AuditKeyArg {
    /// The audit key file, kept outside the database (created 0600 if missing) [default: beside a
    /// SQLite database, `PATH.audit-key`; PostgreSQL needs one named — give every server of an
    /// installation the same file].
    #[arg(long = "audit-key", value_name = "FILE", env = "GRANTRY_AUDIT_KEY_FILE", hide_env_values = true)]
    pub file: Option<std::path::PathBuf>,
}

impl AuditKeyArg {
    /// Opens the database at `db` with this audit key.
    pub async fn open(&self, db: &str) -> anyhow::Result<std::sync::Arc<dyn grantry_store::Store>> {
        use anyhow::Context;
        grantry_store::open_with_key_file(db, self.file.as_deref())
            .await
            .with_context(|| format!("cannot open the database {}", grantry_store::redact_url(db)))
    }
}

/// How to print.
#[derive(Debug, Clone, Copy, Args)]
pub struct OutputArg {
    /// Output results as JSON.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::{CommandFactory, Parser};

    /// Splits an example as a shell would (quotes, and a `#` comment or a redirection ending it),
    /// dropping leading `NAME=value` environment settings.
    fn words(line: &str) -> Vec<String> {
        let (mut words, mut word, mut quote, mut started) = (Vec::new(), String::new(), None, false);
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => word.push(c),
                (None, '"' | '\'') => {
                    quote = Some(c);
                    started = true;
                }
                (None, '#' | '>' | '|') if !started => break,
                (None, c) if c.is_whitespace() => {
                    if started {
                        words.push(std::mem::take(&mut word));
                        started = false;
                    }
                }
                (None, c) => {
                    word.push(c);
                    started = true;
                }
            }
        }
        if started {
            words.push(word);
        }
        let skip = words.iter().take_while(|w| w.contains('=') && !w.starts_with('-')).count();
        words.split_off(skip)
    }

    /// Every command's help, by its path (`grantry role grant`).
    fn helps(cmd: &mut clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        out.push((path.to_owned(), cmd.render_long_help().to_string()));
        for sub in cmd.get_subcommands_mut().filter(|s| s.get_name() != "help") {
            let name = format!("{path} {}", sub.get_name());
            helps(sub, &name, out);
        }
    }

    #[test]
    fn every_help_has_examples_that_parse() {
        let mut all = Vec::new();
        helps(&mut Cli::command(), "grantry", &mut all);
        assert!(all.len() > 40, "{}", all.len());
        for (path, help) in &all {
            let (_, examples) = help.split_once("Examples:").unwrap_or_else(|| panic!("`{path} --help` has no Examples: section"));
            let lines: Vec<&str> = examples.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            assert!(!lines.is_empty(), "`{path} --help`: empty Examples:");
            for line in lines {
                let argv = words(line);
                assert!(matches!(argv.first().map(String::as_str), Some("grantry" | "forge")), "`{path}`: `{line}` is not a command");
                if let Err(e) = Cli::try_parse_from(&argv) {
                    panic!("`{path} --help` example `{line}` does not parse:\n{e}");
                }
            }
            assert!(!help.contains("=]"), "`{path} --help` shows an empty environment value: {help}");
        }
    }

    #[test]
    fn examples_split_as_a_shell_would() {
        assert_eq!(words(r#"GRANTRY_LOG=warn grantry x -j "a b #1" > f.json # note"#), ["grantry", "x", "-j", "a b #1"]);
    }
}
