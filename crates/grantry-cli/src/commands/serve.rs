//! `grantry serve`: the server, on the embedded SQLite database by default.

mod demo;

use anyhow::{Context, Result};
use clap::Args;
use grantry_server::AppState;
use std::io::Write;

/// Run the server.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Database URL (sqlite://PATH).
    #[arg(long, env = "GRANTRY_DB", default_value = "sqlite://grantry.db")]
    pub db: String,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "GRANTRY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Seed a demo organization with users and conversations, and print a token and commands to try.
    #[arg(long)]
    pub demo: bool,
}

pub async fn run(args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("GRANTRY_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let db = grantry_store::redact_url(&args.db);
    let store = grantry_store::open(&args.db).await.with_context(|| format!("cannot open the database {db}"))?;
    let state = AppState::load(store).await.context("cannot load the state")?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    if args.demo {
        demo::seed(&state, &url).await.context("cannot seed the demo organization")?;
    }
    println!("grantry listening on {url} (database {db})");
    std::io::stdout().flush()?;
    grantry_server::serve(state, listener, shutdown()).await.context("the server failed")?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
