//! The command line, as clap derive types. Doc comments are the help text.

use clap::{Args, Parser, Subcommand};

/// Grantry: access control for platforms that run AI agents.
#[derive(Debug, Parser)]
#[command(name = "grantry", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (JSON API) on the embedded SQLite database by default, or on PostgreSQL.
    Serve(crate::commands::serve::ServeArgs),
    /// Administrative commands that work on the database directly.
    #[command(subcommand)]
    Admin(crate::commands::admin::AdminCommand),
    /// Bring a database's schema up to date (`serve` also does this on start).
    Migrate(crate::commands::migrate::MigrateArgs),
    /// Save a named profile (server URL, organization, token) for `-e/--env`.
    Login(crate::commands::login::LoginArgs),
    /// Manage users.
    #[command(subcommand)]
    User(crate::commands::user::UserCommand),
    /// Issue and revoke login tokens.
    #[command(subcommand)]
    Token(crate::commands::token::TokenCommand),
    /// Conversations: register them, request temporary access, list grants.
    #[command(subcommand)]
    Conversation(crate::commands::conversation::ConversationCommand),
    /// Temporary permission grants.
    #[command(subcommand)]
    Grant(crate::commands::grant::GrantCommand),
    /// May this principal do this action on this resource, now? Exit 0 allowed, 3 denied.
    Check(crate::commands::check::CheckArgs),
    /// Read and verify the audit log.
    #[command(subcommand)]
    Audit(crate::commands::audit::AuditCommand),
    /// Workspaces: the first tier below the organization.
    #[command(subcommand)]
    Workspace(crate::commands::scope::WorkspaceCommand),
    /// Projects, named WORKSPACE/PROJECT.
    #[command(subcommand)]
    Project(crate::commands::scope::ProjectCommand),
    /// Environments of a project, each production or not.
    #[command(subcommand)]
    Environment(crate::commands::scope::EnvironmentCommand),
    /// Traces, classified production or not when captured.
    #[command(subcommand)]
    Trace(crate::commands::trace::TraceCommand),
    /// The permission catalogue.
    #[command(subcommand)]
    Permission(crate::commands::catalogue::PermissionCommand),
    /// Roles: the catalogue's, granting them at a tier, and the role matrix.
    #[command(subcommand)]
    Role(crate::commands::role::RoleCommand),
    /// API keys of projects: narrow scopes, the secret shown once.
    #[command(subcommand)]
    Apikey(crate::commands::apikey::ApiKeyCommand),
    /// The organization's policy settings (grant and role windows, audit retention).
    #[command(subcommand)]
    Org(crate::commands::org::OrgCommand),
}

/// The profile to talk to.
#[derive(Debug, Clone, Args)]
pub struct EnvArg {
    /// Environment name: the profile saved by `grantry login`.
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: String,
}

/// The audit key, for commands that open the database directly.
#[derive(Debug, Clone, Args)]
pub struct AuditKeyArg {
    /// The audit key file (created 0600 if missing) [default: beside a SQLite database,
    /// `PATH.audit-key`; `grantry-audit.key` in this directory for PostgreSQL — give every server
    /// of an installation the same file].
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
