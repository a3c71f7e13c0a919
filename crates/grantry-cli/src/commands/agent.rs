//! `grantry agent …`: agents (seed 003) — register, list, show, update, delete; assign groups to
//! them at a level within a window; their data sources, and which of them a user may retrieve
//! from. Agents and groups are named by id or name.

use super::group::group_id;
use super::{client, fmt_opt_time};
use crate::cli::{EnvArg, OutputArg};
use crate::client::Client;
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};

/// An assignment's window: when it opens and closes, and the zone the dates are read in.
#[derive(Debug, clap::Args)]
pub struct Window {
    /// When access begins: a date (from the start of that day), a time, or an instant; now if absent.
    #[arg(long)]
    pub start: Option<String>,
    /// The last day of access (through the end of that day), a time, or an instant.
    #[arg(long)]
    pub end: Option<String>,
    /// The IANA timezone the dates are read in (UTC unless given).
    #[arg(long)]
    pub timezone: Option<String>,
}

impl Window {
    /// Sets the window's fields of an API body.
    pub fn fill(&self, body: &mut Value) {
        body["startDate"] = json!(self.start);
        body["endDate"] = json!(self.end);
        body["timezone"] = json!(self.timezone);
    }
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Register an agent: organization-wide (everyone), group-restricted (assigned groups) or
    /// private (you and the admins).
    #[command(after_help = crate::examples!(
        "grantry agent create \"Sales Agent\" --access-type group -e admin",
        "grantry agent create \"Client-Facing Assistant\" --access-type group --classification confidential -e admin"
    ))]
    Create {
        /// The agent's name, unique in the organization (without regard to case).
        name: String,
        /// organization, group or private.
        #[arg(long)]
        access_type: String,
        /// public, internal (the default), confidential or restricted.
        #[arg(long)]
        classification: Option<String>,
        /// What the agent does.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List the agents you may see.
    #[command(after_help = crate::examples!("grantry agent list -e admin", "grantry agent list -e me --json"))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Show an agent with its group assignments and data sources.
    #[command(after_help = crate::examples!("grantry agent show \"Sales Agent\" -e admin"))]
    Show {
        /// The agent's name or id.
        agent: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Change an agent's name, description, classification or access type.
    #[command(after_help = crate::examples!(
        "grantry agent update \"Sales Agent\" --access-type organization -e admin",
        "grantry agent update \"Sales Agent\" --classification restricted -e admin"
    ))]
    Update {
        /// The agent's name or id.
        agent: String,
        #[arg(long)]
        name: Option<String>,
        /// organization, group or private (needs Agent:ManagePermissions).
        #[arg(long)]
        access_type: Option<String>,
        #[arg(long)]
        classification: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Delete an agent and its data sources; every grant on them is revoked.
    #[command(after_help = crate::examples!("grantry agent delete \"Old Agent\" -e admin"))]
    Delete {
        /// The agent's name or id.
        agent: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Assign a group to an agent at a level, optionally within a window read in a timezone; or,
    /// with --change, change an existing assignment's level or window.
    #[command(after_help = crate::examples!(
        "grantry agent assign --agent \"Sales Agent\" --group \"Sales Team\" --permission VIEW_AND_USE -e admin",
        "grantry agent assign --agent \"Customer Support Agent\" --group \"Holiday Support Staff\" --permission VIEW_AND_USE --start 2024-12-01 --end 2025-01-15 --timezone America/New_York -e admin",
        "grantry agent assign --agent \"Sales Agent\" --group \"Sales Team\" --permission EDIT --change -e admin"
    ))]
    Assign {
        /// The agent's name or id.
        #[arg(long)]
        agent: String,
        /// The group's name or id.
        #[arg(long)]
        group: String,
        /// VIEW_AND_USE or EDIT.
        #[arg(long)]
        permission: String,
        #[command(flatten)]
        window: Window,
        /// Change the group's existing assignment instead of making one.
        #[arg(long)]
        change: bool,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Take a group's assignment away: its members lose the agent on the next check.
    #[command(after_help = crate::examples!("grantry agent unassign --agent \"Sales Agent\" --group \"Sales Team\" -e admin"))]
    Unassign {
        /// The agent's name or id.
        #[arg(long)]
        agent: String,
        /// The group's name or id.
        #[arg(long)]
        group: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List an agent's data sources; with --user-email, only those that user may retrieve from.
    #[command(after_help = crate::examples!(
        "grantry agent sources --agent \"Product Documentation Assistant\" -e admin",
        "grantry agent sources --agent \"Product Documentation Assistant\" --user-email ann@acme.test -e admin"
    ))]
    Sources {
        /// The agent's name or id.
        #[arg(long)]
        agent: String,
        /// The user whose sources to list.
        #[arg(long)]
        user_email: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Add a data source to an agent: open to every user of it, or restricted to --group.
    #[command(after_help = crate::examples!(
        "grantry agent add-source --agent \"Product Documentation Assistant\" --name \"Public Docs\" -e admin",
        "grantry agent add-source --agent \"Product Documentation Assistant\" --name \"Customer Data\" --group \"Support Managers\" -e admin"
    ))]
    AddSource {
        /// The agent's name or id.
        #[arg(long)]
        agent: String,
        /// The source's name.
        #[arg(long)]
        name: String,
        /// A group it is restricted to (repeatable); none: every user of the agent.
        #[arg(long = "group")]
        groups: Vec<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Restrict a data source to exactly these groups, or open it to every user of the agent.
    #[command(after_help = crate::examples!(
        "grantry agent restrict-source --agent \"Product Documentation Assistant\" --source \"Internal Wiki\" --group \"Support Team\" -e admin",
        "grantry agent restrict-source --agent \"Product Documentation Assistant\" --source \"Internal Wiki\" --all-users -e admin"
    ))]
    RestrictSource {
        /// The agent's name or id.
        #[arg(long)]
        agent: String,
        /// The source's name or id.
        #[arg(long)]
        source: String,
        /// A group it is restricted to (repeatable).
        #[arg(long = "group", required_unless_present = "all_users")]
        groups: Vec<String>,
        /// Open it to every user of the agent.
        #[arg(long, conflicts_with = "groups")]
        all_users: bool,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Remove a data source from an agent.
    #[command(after_help = crate::examples!(
        "grantry agent remove-source --agent \"Product Documentation Assistant\" --source \"Customer Data\" -e admin"
    ))]
    RemoveSource {
        /// The agent's name or id.
        #[arg(long)]
        agent: String,
        /// The source's name or id.
        #[arg(long)]
        source: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

/// The id of the agent `text` names: an id as it is, or the name of one you may see.
pub async fn agent_id(client: &Client, text: &str) -> Result<String> {
    super::named_id(client, ("/agents", "agents"), "agent", "grantry agent list", text).await
}

/// The id of the data source `text` names on agent `agent` (an id).
async fn source_id(client: &Client, agent: &str, text: &str) -> Result<String> {
    let path = format!("/agents/{agent}/sources");
    super::named_id(client, (&path, "sources"), "data source", "grantry agent sources", text).await
}

fn text(v: &Value, field: &str) -> String {
    output::clean_cell(v[field].as_str().unwrap_or_default())
}

fn time(v: &Value) -> String {
    fmt_opt_time(v.as_str().and_then(|t| t.parse().ok()))
}

fn source_rows(sources: &Value) -> Vec<Vec<String>> {
    output::rows_of(sources, |s| {
        let groups: Vec<&str> = s["groups"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        vec![text(s, "name"), text(s, "access"), output::clean_cell(&groups.join(", "))]
    })
}

fn assignment_rows(list: &Value) -> Vec<Vec<String>> {
    output::rows_of(list, |a| {
        let state = if a["active"].as_bool() == Some(true) { "active" } else { "not now" };
        let zone = a["timezone"].as_str().unwrap_or("UTC");
        vec![
            text(a, "groupName"),
            text(a, "permission"),
            time(&a["startDate"]),
            time(&a["endDate"]),
            output::clean_cell(zone),
            state.to_owned(),
        ]
    })
}

pub async fn run(command: AgentCommand) -> Result<()> {
    match command {
        AgentCommand::Create { name, access_type, classification, description, env, out } => {
            let body = json!({ "name": name, "access_type": access_type, "classification": classification, "description": description });
            let written: Value = client(&env.env)?.post("/agents", &body).await?;
            if out.json {
                return output::json(&written);
            }
            let a = &written["agent"];
            crate::say!(
                "Created agent `{}` ({}), {} access, {}.",
                text(a, "name"),
                text(a, "id"),
                text(a, "access_type"),
                text(a, "classification")
            );
            Ok(())
        }
        AgentCommand::List { env, out } => {
            let list: Value = client(&env.env)?.get("/agents", &[]).await?;
            if out.json {
                return output::json(&list["agents"]);
            }
            let rows = output::rows_of(&list["agents"], |a| {
                vec![text(a, "id"), text(a, "name"), text(a, "access_type"), text(a, "classification")]
            });
            output::print_table(&["ID", "NAME", "ACCESS", "CLASSIFICATION"], &rows, "No agents you may see.");
            Ok(())
        }
        AgentCommand::Show { agent, env, out } => {
            let c = client(&env.env)?;
            let id = agent_id(&c, &agent).await?;
            let detail: Value = c.get(&format!("/agents/{id}"), &[]).await?;
            if out.json {
                return output::json(&detail);
            }
            let a = &detail["agent"];
            crate::say!(
                "Agent `{}` ({}): {} access, {}",
                text(a, "name"),
                text(a, "id"),
                text(a, "access_type"),
                text(a, "classification")
            );
            output::print_table(
                &["GROUP", "PERMISSION", "FROM", "UNTIL", "TIMEZONE", "STATE"],
                &assignment_rows(&detail["assignments"]),
                "No groups assigned.",
            );
            output::print_table(&["SOURCE", "ACCESS", "GROUPS"], &source_rows(&detail["sources"]), "No data sources.");
            Ok(())
        }
        AgentCommand::Update { agent, name, access_type, classification, description, env, out } => {
            let c = client(&env.env)?;
            let id = agent_id(&c, &agent).await?;
            let body = json!({ "name": name, "access_type": access_type, "classification": classification, "description": description });
            let written: Value = c.patch(&format!("/agents/{id}"), &body).await?;
            if out.json {
                return output::json(&written);
            }
            let a = &written["agent"];
            crate::say!("Agent `{}`: {} access, {}.", text(a, "name"), text(a, "access_type"), text(a, "classification"));
            Ok(())
        }
        AgentCommand::Delete { agent, env, out } => {
            let c = client(&env.env)?;
            let id = agent_id(&c, &agent).await?;
            let written: Value = c.delete(&format!("/agents/{id}")).await?;
            if out.json {
                return output::json(&written);
            }
            crate::say!("Deleted agent `{}`; every grant on it is revoked.", text(&written["agent"], "name"));
            Ok(())
        }
        AgentCommand::Assign { agent, group, permission, window, change, env, out } => {
            let c = client(&env.env)?;
            let (agent, group) = (agent_id(&c, &agent).await?, group_id(&c, &group).await?);
            let mut terms = json!({ "permission": permission });
            window.fill(&mut terms);
            let written: Value = if change {
                c.patch(&format!("/ai-agent-managers/{agent}/groups/{group}"), &terms).await?
            } else {
                let mut body = terms;
                body["groupId"] = json!(group);
                c.post(&format!("/ai-agent-managers/{agent}/groups"), &body).await?
            };
            if out.json {
                return output::json(&written);
            }
            let a = &written["assignment"];
            let until = a["endDate"].as_str().map(|_| format!(" until {}", time(&a["endDate"]))).unwrap_or_default();
            crate::say!(
                "Group `{}` has {} on agent `{}` from {}{until}.",
                text(a, "groupName"),
                text(a, "permission"),
                text(a, "agentName"),
                time(&a["startDate"])
            );
            Ok(())
        }
        AgentCommand::Unassign { agent, group, env, out } => {
            let c = client(&env.env)?;
            let (agent, group) = (agent_id(&c, &agent).await?, group_id(&c, &group).await?);
            let written: Value = c.delete(&format!("/ai-agent-managers/{agent}/groups/{group}")).await?;
            if out.json {
                return output::json(&written);
            }
            let a = &written["assignment"];
            crate::say!("Group `{}` no longer has agent `{}`.", text(a, "groupName"), text(a, "agentName"));
            Ok(())
        }
        AgentCommand::Sources { agent, user_email, env, out } => {
            let c = client(&env.env)?;
            let id = agent_id(&c, &agent).await?;
            let query: Vec<(&str, String)> = user_email.iter().map(|e| ("user_email", e.clone())).collect();
            let list: Value = c.get(&format!("/agents/{id}/sources"), &query).await?;
            if out.json {
                return output::json(&list["sources"]);
            }
            let empty = if user_email.is_some() { "No data sources this user may retrieve from." } else { "No data sources." };
            output::print_table(&["SOURCE", "ACCESS", "GROUPS"], &source_rows(&list["sources"]), empty);
            Ok(())
        }
        AgentCommand::AddSource { agent, name, groups, env, out } => {
            let c = client(&env.env)?;
            let id = agent_id(&c, &agent).await?;
            let written: Value = c.post(&format!("/agents/{id}/sources"), &json!({ "name": name, "groups": groups })).await?;
            if out.json {
                return output::json(&written);
            }
            output::print_table(&["SOURCE", "ACCESS", "GROUPS"], &source_rows(&json!([written["source"]])), "");
            Ok(())
        }
        AgentCommand::RestrictSource { agent, source, groups, all_users, env, out } => {
            let c = client(&env.env)?;
            let id = agent_id(&c, &agent).await?;
            let source = source_id(&c, &id, &source).await?;
            let groups = if all_users { Vec::new() } else { groups };
            let written: Value = c.patch(&format!("/agents/{id}/sources/{source}"), &json!({ "groups": groups })).await?;
            if out.json {
                return output::json(&written);
            }
            output::print_table(&["SOURCE", "ACCESS", "GROUPS"], &source_rows(&json!([written["source"]])), "");
            Ok(())
        }
        AgentCommand::RemoveSource { agent, source, env, out } => {
            let c = client(&env.env)?;
            let id = agent_id(&c, &agent).await?;
            let source = source_id(&c, &id, &source).await?;
            let written: Value = c.delete(&format!("/agents/{id}/sources/{source}")).await?;
            if out.json {
                return output::json(&written);
            }
            crate::say!("Removed data source `{}`.", text(&written["source"], "name"));
            Ok(())
        }
    }
}
