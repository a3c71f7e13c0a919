//! `grantry serve`: the server, on the embedded SQLite database by default.

mod demo;

use crate::cli::AuditKeyArg;
use crate::exit::UsageError;
use anyhow::{Context, Result};
use clap::Args;
use grantry_server::tls::TlsListener;
use grantry_server::AppState;
use serde::Deserialize;
use std::io::Write;
use std::path::PathBuf;

/// Run the server. Settings come from, lowest first: defaults, the `--config` file, `GRANTRY_…`
/// environment variables, flags.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Database URL [default: sqlite://grantry.db].
    #[arg(long, env = "GRANTRY_DB", hide_env_values = true)]
    pub db: Option<String>,
    /// Address to listen on; port 0 picks a free one [default: 127.0.0.1:8080].
    #[arg(long, env = "GRANTRY_LISTEN", hide_env_values = true)]
    pub listen: Option<String>,
    #[command(flatten)]
    pub key: AuditKeyArg,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first); needs --tls-key.
    #[arg(long, value_name = "FILE", env = "GRANTRY_TLS_CERT", hide_env_values = true)]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", env = "GRANTRY_TLS_KEY", hide_env_values = true)]
    pub tls_key: Option<PathBuf>,
    /// Serve Prometheus metrics at /metrics to the bearer of the token in this file (16 characters
    /// or more); without it /metrics is off.
    #[arg(long, value_name = "FILE", env = "GRANTRY_METRICS_TOKEN_FILE", hide_env_values = true)]
    pub metrics_token_file: Option<PathBuf>,
    /// A TOML file with `db`, `listen`, `log`, `audit_key_file`, `tls_cert`, `tls_key` and
    /// `metrics_token_file` (unknown keys are errors).
    #[arg(long, value_name = "FILE", env = "GRANTRY_SERVER_CONFIG", hide_env_values = true)]
    pub config: Option<PathBuf>,
    /// Seed a demo organization with users and conversations, and print a token and commands to try.
    #[arg(long)]
    pub demo: bool,
}

/// The server's settings file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    db: Option<String>,
    listen: Option<String>,
    log: Option<String>,
    audit_key_file: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    metrics_token_file: Option<PathBuf>,
}

/// The settings in force.
struct Settings {
    db: String,
    listen: String,
    log: String,
    audit_key_file: Option<PathBuf>,
    /// Certificate chain and key, when serving HTTPS.
    tls: Option<(PathBuf, PathBuf)>,
    /// The token that reads /metrics.
    metrics_token: Option<String>,
}

/// The shortest metrics token taken.
const MIN_METRICS_TOKEN: usize = 16;

fn metrics_token(path: &std::path::Path) -> Result<String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read the metrics token file {}: {e}", path.display())))?;
    let token = text.trim();
    if token.chars().count() < MIN_METRICS_TOKEN || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UsageError(format!(
            "the metrics token in {} must be one word of at least {MIN_METRICS_TOKEN} characters (for example `openssl rand -hex 32`)",
            path.display()
        ))
        .into());
    }
    Ok(token.to_owned())
}

impl Settings {
    fn resolve(args: &ServeArgs) -> Result<Self> {
        let file: FileConfig = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                toml::from_str(&text).map_err(|e| {
                    UsageError(format!(
                        "{} is not a valid server config (keys: db, listen, log, audit_key_file, tls_cert, tls_key, metrics_token_file): {e}",
                        path.display()
                    ))
                })?
            }
            None => FileConfig::default(),
        };
        let log = std::env::var("GRANTRY_LOG").ok().or(file.log).unwrap_or_else(|| "info".to_owned());
        Ok(Self {
            db: args.db.clone().or(file.db).unwrap_or_else(|| "sqlite://grantry.db".to_owned()),
            listen: args.listen.clone().or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            log,
            audit_key_file: args.key.file.clone().or(file.audit_key_file),
            tls: match (args.tls_cert.clone().or(file.tls_cert), args.tls_key.clone().or(file.tls_key)) {
                (Some(cert), Some(key)) => Some((cert, key)),
                (None, None) => None,
                _ => {
                    return Err(
                        UsageError("give both a TLS certificate and its key (--tls-cert and --tls-key), or neither".to_owned()).into()
                    )
                }
            },
            metrics_token: args.metrics_token_file.clone().or(file.metrics_token_file).as_deref().map(metrics_token).transpose()?,
        })
    }
}

pub async fn run(args: ServeArgs) -> Result<()> {
    let settings = Settings::resolve(&args)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&settings.log).map_err(|e| {
                UsageError(format!("`{}` is not a log filter ({e}); try `info` or `warn,grantry_server=debug`", settings.log))
            })?,
        )
        .with_writer(std::io::stderr)
        .init();
    let tls = match &settings.tls {
        Some((cert, key)) => Some(grantry_server::tls::server_config(cert, key).map_err(|e| UsageError(e.to_string()))?),
        None => None,
    };
    let db = grantry_store::redact_url(&settings.db);
    let store = grantry_store::open_with_key_file(&settings.db, settings.audit_key_file.as_deref())
        .await
        .with_context(|| format!("cannot open the database {db}"))?;
    let mut state = AppState::load(store).await.context("cannot load the state")?;
    if !state.loaded_from_saved() {
        save_index(&state).await;
    }
    if let Some(token) = &settings.metrics_token {
        state = state.with_metrics_token(token);
    }
    let listener =
        tokio::net::TcpListener::bind(&settings.listen).await.with_context(|| format!("cannot listen on {}", settings.listen))?;
    let url = format!("{}://{}", if tls.is_some() { "https" } else { "http" }, listener.local_addr()?);
    if args.demo {
        demo::seed(&state, &url).await.context("cannot seed the demo organization")?;
    }
    crate::say!("grantry listening on {url} (database {db})");
    std::io::stdout().flush()?;
    match tls {
        Some(config) => grantry_server::serve(state.clone(), TlsListener::new(listener, config)?, shutdown()).await,
        None => grantry_server::serve(state.clone(), listener, shutdown()).await,
    }
    .context("the server failed")?;
    save_index(&state).await;
    Ok(())
}

/// Saves the index for the next start (beside a SQLite database), so that start reads one file
/// and the change log after it; a failure only makes that start slower.
async fn save_index(state: &AppState) {
    let started = std::time::Instant::now();
    match state.save_index().await {
        Ok(true) => {
            tracing::info!(revision = state.revision(), seconds = started.elapsed().as_secs_f64(), "saved the index for the next start")
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not save the index; the next start reads the tables"),
    }
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
