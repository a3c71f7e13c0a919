//! `grantry migrate`: brings a database's schema up to date (the server also does this on start).

use crate::cli::{AuditKeyArg, OutputArg};
use crate::output;
use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;

/// Migrate a database.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Database URL (sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB).
    #[arg(long, env = "GRANTRY_DB", hide_env_values = true)]
    pub db: String,
    #[command(flatten)]
    pub key: AuditKeyArg,
    /// Also key the audit chains an older version wrote that are still unkeyed (left so when the
    /// audit key existed before the upgrade); only if nobody could have rewritten them since.
    #[arg(long)]
    pub key_unkeyed_chains: bool,
    #[command(flatten)]
    pub out: OutputArg,
}

pub async fn run(args: MigrateArgs) -> Result<()> {
    let shown = grantry_store::redact_url(&args.db);
    // Opening migrates (and, on an upgrade, makes the audit key and keys the old chains with it).
    drop(args.key.open(&args.db).await?);
    let path = match &args.key.file {
        Some(p) => p.clone(),
        None => grantry_store::audit_key::default_key_path(&args.db)?,
    };
    let key = grantry_store::audit_key::read(&path)?.with_context(|| format!("no audit key at {}", path.display()))?;
    let store = grantry_store::SqlStore::open(&args.db, key, grantry_store::Keying::ExistingKey)
        .await
        .with_context(|| format!("cannot open the database {shown}"))?;
    if args.key_unkeyed_chains {
        store.key_unkeyed_chains().await.context("cannot key the unkeyed audit chains")?;
    }
    let version = store.schema_version().await?;
    if args.out.json {
        return output::json(
            &json!({ "database": shown, "backend": format!("{:?}", store.backend()).to_lowercase(), "schema_version": version }),
        );
    }
    crate::say!("{shown} is at schema version {version}.");
    Ok(())
}
