//! One module per subcommand; `dispatch` routes to them.

pub mod access;
pub mod admin;
pub mod agent;
pub mod apikey;
pub mod audit;
pub mod catalogue;
pub mod check;
pub mod conversation;
pub mod explain;
pub mod grant;
pub mod group;
pub mod import;
pub mod login;
pub mod lookup;
pub mod migrate;
pub mod org;
pub mod pool;
pub mod report;
pub mod review;
pub mod role;
pub mod scope;
pub mod serve;
pub mod temp_access;
pub mod token;
pub mod trace;
pub mod user;
pub mod webhook;

use crate::cli::Command;
use crate::client::Client;
use crate::config::Config;
use crate::exit::NotFound;
use anyhow::Result;
use grantry_core::Timestamp;

/// Runs one command.
pub async fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Serve(a) => serve::run(a).await,
        Command::Admin(c) => admin::run(c).await,
        Command::Login(a) => login::run(a).await,
        Command::Migrate(a) => migrate::run(a).await,
        Command::User(c) => user::run(c).await,
        Command::Token(c) => token::run(c).await,
        Command::Conversation(c) => conversation::run(c).await,
        Command::Grant(c) => grant::run(c).await,
        Command::Check(a) => check::run(a).await,
        Command::Explain(a) => explain::run(a).await,
        Command::Lookup(a) => lookup::run(a).await,
        Command::Audit(c) => audit::run(c).await,
        Command::Workspace(c) => scope::workspace(c).await,
        Command::Project(c) => scope::project(c).await,
        Command::Environment(c) => scope::environment(c).await,
        Command::Trace(c) => trace::run(c).await,
        Command::Permission(c) => catalogue::permissions(c).await,
        Command::Role(c) => role::run(c).await,
        Command::Apikey(c) => apikey::run(c).await,
        Command::Group(c) => group::run(c).await,
        Command::Agent(c) => agent::run(c).await,
        Command::Import(c) => import::run(c).await,
        Command::Review(c) => review::review(c).await,
        Command::Report(c) => report::run(c).await,
        Command::Pool(c) => pool::run(c).await,
        Command::TempAccess(c) => temp_access::run(c).await,
        Command::Access(c) => access::run(c).await,
        Command::Webhook(c) => webhook::run(c).await,
        Command::Org(c) => org::run(c).await,
    }
}

/// A client for the profile named `env`.
pub fn client(env: &str) -> Result<Client> {
    Client::new(Config::load()?.profile(env)?)
}

/// A time as people read it: `2026-11-23 14:05:09 UTC`.
pub fn fmt_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An optional time, or `-`.
pub fn fmt_opt_time(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_owned(), fmt_time)
}

/// Looks a user's id up by email through the API.
pub async fn user_id_by_email(client: &Client, email: &str) -> Result<String> {
    let list: serde_json::Value = client.get("/users", &[("email", email.to_owned())]).await?;
    list.pointer("/users/0/id").and_then(serde_json::Value::as_str).map(str::to_owned).ok_or_else(|| {
        NotFound(format!("no user with email `{email}` in this organization; check the address or create the user first")).into()
    })
}

/// The id of what `text` names among the records `path` lists under `key` (the groups, the agents
/// one may see, an agent's sources): an id as it is, a name looked up as the server compares
/// names (without case or odd spaces). `what` and `listed_by` make the error's words.
pub async fn named_id(client: &Client, (path, key): (&str, &str), what: &str, listed_by: &str, text: &str) -> Result<String> {
    if grantry_core::validate::record_id("id", text).is_ok() {
        return Ok(text.to_owned());
    }
    let list: serde_json::Value = client.get(path, &[]).await?;
    let wanted = grantry_core::validate::name_key(text);
    let named = |r: &&serde_json::Value| r["name"].as_str().is_some_and(|n| grantry_core::validate::name_key(n) == wanted);
    let found = list[key].as_array().into_iter().flatten().find(named);
    found.and_then(|r| r["id"].as_str()).map(str::to_owned).ok_or_else(|| {
        NotFound(format!("no {what} named `{}` that you may see; `{listed_by}` lists them", crate::output::clean_line(text))).into()
    })
}

/// An attribute's value as typed: `true` and `false` are booleans, whole numbers are numbers,
/// anything else is text.
pub fn attr_value(text: &str) -> serde_json::Value {
    match text {
        "true" => serde_json::Value::Bool(true),
        "false" => serde_json::Value::Bool(false),
        t => t.parse::<i64>().map_or_else(|_| serde_json::Value::String(t.to_owned()), serde_json::Value::from),
    }
}

/// `--flag KEY=VALUE`: the key, and the value as [`attr_value`] reads it.
pub fn key_value<'a>(flag: &str, text: &'a str) -> Result<(&'a str, serde_json::Value)> {
    let (k, v) = text
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| crate::exit::UsageError(format!("--{flag} `{text}` must be KEY=VALUE")))?;
    Ok((k, attr_value(v)))
}

/// An id the command line names, checked before it goes into a request's path (so `../users/…`
/// can never reach another endpoint): 24 lowercase hexadecimal characters.
pub fn id_arg(field: &'static str, text: &str) -> Result<String> {
    grantry_core::validate::record_id(field, text).map_err(|e| crate::exit::UsageError(e.to_string()).into())
}

/// A slug the command line names, checked before it goes into a request's path.
pub fn slug_arg(field: &'static str, text: &str) -> Result<String> {
    grantry_core::validate::slug(field, text).map_err(|e| crate::exit::UsageError(e.to_string()).into())
}
