//! `grantry group …`: groups of users (seed 003) — create, list, show, update, archive, restore,
//! delete, and add or remove members. A group is named by its id or its name; members by email.

use super::{client, fmt_opt_time};
use crate::cli::{EnvArg, OutputArg};
use crate::client::Client;
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use grantry_core::Timestamp;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group, optionally under a parent group whose access it inherits.
    #[command(after_help = crate::examples!(
        "grantry group create \"Support Department\" -e admin",
        "grantry group create \"Tier 1 Support\" --parent \"Support Department\" --description \"Junior agents\" -e admin"
    ))]
    Create {
        /// The group's name, unique in the organization (without regard to case).
        name: String,
        /// The parent group (its name or id).
        #[arg(long)]
        parent: Option<String>,
        /// What the group is for.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List the organization's groups.
    #[command(after_help = crate::examples!("grantry group list -e admin", "grantry group list -e admin --json"))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Show a group: its parent, children and members.
    #[command(after_help = crate::examples!("grantry group show \"Tier 1 Support\" -e admin"))]
    Show {
        /// The group's name or id.
        group: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Rename a group, change its description, or move it under another parent (or to the top).
    #[command(after_help = crate::examples!(
        "grantry group update \"Tier 1 Support\" --name \"Tier 1\" -e admin",
        "grantry group update \"Tier 1\" --parent \"Support Department\" -e admin",
        "grantry group update \"Tier 1\" --no-parent -e admin"
    ))]
    Update {
        /// The group's name or id.
        group: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
        /// A new parent group (its name or id).
        #[arg(long, conflicts_with = "no_parent")]
        parent: Option<String>,
        /// Make the group a top-level one.
        #[arg(long)]
        no_parent: bool,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Archive a group: its access stops reaching its members (and its child groups) at once; it
    /// is kept for the record and can be restored.
    #[command(after_help = crate::examples!("grantry group archive \"Product Launch Q1 2024\" -e admin"))]
    Archive {
        /// The group's name or id.
        group: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Restore an archived group: its access reaches its members again.
    #[command(after_help = crate::examples!("grantry group restore \"Product Launch Q1 2024\" -e admin"))]
    Restore {
        /// The group's name or id.
        group: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Delete a group: its grants are revoked and its memberships removed (a group with child
    /// groups is refused).
    #[command(after_help = crate::examples!("grantry group delete \"Product Launch Q1 2024\" -e admin"))]
    Delete {
        /// The group's name or id.
        group: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Add users to a group (all or none), as members or managers, optionally until an end date.
    #[command(after_help = crate::examples!(
        "grantry group add-members \"Sales Team\" --user-email ann@acme.test --user-email bo@acme.test -e admin",
        "grantry group add-members \"Sales Team\" --user-email lead@acme.test --role MANAGER -e admin",
        "grantry group add-members \"Holiday Support Staff\" --user-email temp@acme.test --end 2025-01-15 --timezone America/New_York -e admin"
    ))]
    AddMembers {
        /// The group's name or id.
        group: String,
        /// A user to add, by email (repeatable).
        #[arg(long = "user-email", required = true)]
        emails: Vec<String>,
        /// MEMBER (the default) or MANAGER, who may add and remove members.
        #[arg(long, default_value = "MEMBER")]
        role: String,
        /// The last day of the membership (2025-01-15), a time (2025-01-15T18:00) or an instant.
        #[arg(long)]
        end: Option<String>,
        /// The IANA timezone --end is read in (UTC unless given).
        #[arg(long)]
        timezone: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Remove users from a group (all or none): the group's access stops reaching them at once.
    #[command(after_help = crate::examples!(
        "grantry group remove-members \"Sales Team\" --user-email ann@acme.test -e admin"
    ))]
    RemoveMembers {
        /// The group's name or id.
        group: String,
        /// A user to remove, by email (repeatable).
        #[arg(long = "user-email", required = true)]
        emails: Vec<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Add and remove users and agents across several groups in one transaction: every user and
    /// every agent with every group. A user not in a group, or an agent a group is not assigned
    /// to, is left as it is; anything else wrong refuses the whole change.
    #[command(after_help = crate::examples!(
        "grantry group bulk --group \"Sales Team\" --group \"Support Team\" --add-user ann@acme.test --add-user bo@acme.test -e admin",
        "grantry group bulk --group \"Sales Team\" --group \"Support Team\" --add-agent \"Sales Assistant\" --permission EDIT --dry-run -e admin",
        "grantry group bulk --group \"Contractors\" --group \"Interns\" --remove-user temp@acme.test --remove-agent \"Finance Bot\" -e admin"
    ))]
    Bulk {
        /// A group, by name or id (repeatable, up to 100).
        #[arg(long = "group", required = true)]
        groups: Vec<String>,
        /// A user added to every group, by email (repeatable).
        #[arg(long = "add-user")]
        add_users: Vec<String>,
        /// A user taken out of every group, by email (repeatable).
        #[arg(long = "remove-user")]
        remove_users: Vec<String>,
        /// The added users' role: MEMBER (the default) or MANAGER.
        #[arg(long, default_value = "MEMBER")]
        role: String,
        /// The added memberships' last day, time or instant.
        #[arg(long)]
        member_end: Option<String>,
        /// An agent every group is assigned to, by name or id (repeatable).
        #[arg(long = "add-agent")]
        add_agents: Vec<String>,
        /// An agent every group's assignment to is taken away (repeatable).
        #[arg(long = "remove-agent")]
        remove_agents: Vec<String>,
        /// The added assignments' level: VIEW_AND_USE (the default) or EDIT.
        #[arg(long, default_value = "VIEW_AND_USE")]
        permission: String,
        /// The added assignments' window (and the zone --member-end is read in too).
        #[command(flatten)]
        window: super::agent::Window,
        /// Show what each pair would do; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

/// The id of the group `text` names: an id as it is, or a name.
pub async fn group_id(client: &Client, text: &str) -> Result<String> {
    super::named_id(client, ("/groups", "groups"), "group", "grantry group list", text).await
}

fn text(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_default().to_owned()
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|t| t.parse().ok())
}

fn member_rows(members: &Value) -> Vec<Vec<String>> {
    output::rows_of(members, |m| {
        let state = if m["active"].as_bool() == Some(true) { "active" } else { "ended" };
        vec![text(m, "email"), text(m, "role"), fmt_opt_time(time(&m["expires_at"])), state.to_owned()]
    })
}

async fn set_status(env: &EnvArg, out: &OutputArg, group: &str, status: &str, said: &str) -> Result<()> {
    let c = client(&env.env)?;
    let id = group_id(&c, group).await?;
    let written: Value = c.patch(&format!("/groups/{id}"), &json!({ "status": status })).await?;
    if out.json {
        return output::json(&written);
    }
    crate::say!("Group `{}` {said}.", output::clean_line(&text(&written["group"], "name")));
    Ok(())
}

pub async fn run(command: GroupCommand) -> Result<()> {
    match command {
        GroupCommand::Create { name, parent, description, env, out } => {
            let body = json!({ "name": name, "parent": parent, "description": description });
            let written: Value = client(&env.env)?.post("/groups", &body).await?;
            if out.json {
                return output::json(&written);
            }
            let g = &written["group"];
            let under = g["parent"]["name"].as_str().map(|p| format!(" under `{}`", output::clean_line(p))).unwrap_or_default();
            crate::say!("Created group `{}` ({}){under}.", output::clean_line(&text(g, "name")), text(g, "id"));
            Ok(())
        }
        GroupCommand::List { env, out } => {
            let list: Value = client(&env.env)?.get("/groups", &[]).await?;
            if out.json {
                return output::json(&list["groups"]);
            }
            let rows = output::rows_of(&list["groups"], |g| {
                let parent = g["parent"]["name"].as_str().unwrap_or("-").to_owned();
                vec![text(g, "id"), text(g, "name"), parent, text(g, "status"), g["member_count"].to_string()]
            });
            output::print_table(&["ID", "NAME", "PARENT", "STATUS", "MEMBERS"], &rows, "No groups.");
            Ok(())
        }
        GroupCommand::Show { group, env, out } => {
            let c = client(&env.env)?;
            let id = group_id(&c, &group).await?;
            let detail: Value = c.get(&format!("/groups/{id}"), &[]).await?;
            if out.json {
                return output::json(&detail);
            }
            let g = &detail["group"];
            crate::say!("Group `{}` ({}), {}", output::clean_line(&text(g, "name")), text(g, "id"), text(g, "status"));
            if let Some(p) = g["parent"]["name"].as_str() {
                crate::say!("Parent: {}", output::clean_line(p));
            }
            let children: Vec<String> = detail["children"].as_array().into_iter().flatten().map(|c| text(c, "name")).collect();
            if !children.is_empty() {
                crate::say!("Children: {}", output::clean_line(&children.join(", ")));
            }
            output::print_table(&["MEMBER", "ROLE", "UNTIL", "STATE"], &member_rows(&detail["members"]), "No members.");
            Ok(())
        }
        GroupCommand::Update { group, name, description, parent, no_parent, env, out } => {
            let c = client(&env.env)?;
            let id = group_id(&c, &group).await?;
            let mut body = json!({ "name": name, "description": description });
            if no_parent {
                body["parent"] = Value::Null;
            } else if let Some(p) = parent {
                body["parent"] = Value::String(p);
            }
            let written: Value = c.patch(&format!("/groups/{id}"), &body).await?;
            if out.json {
                return output::json(&written);
            }
            crate::say!("Updated group `{}`.", output::clean_line(&text(&written["group"], "name")));
            Ok(())
        }
        GroupCommand::Archive { group, env, out } => {
            set_status(&env, &out, &group, "archived", "is archived; its access no longer reaches its members").await
        }
        GroupCommand::Restore { group, env, out } => set_status(&env, &out, &group, "active", "is active again").await,
        GroupCommand::Delete { group, env, out } => {
            let c = client(&env.env)?;
            let id = group_id(&c, &group).await?;
            let written: Value = c.delete(&format!("/groups/{id}")).await?;
            if out.json {
                return output::json(&written);
            }
            crate::say!("Deleted group `{}`; its grants are revoked.", output::clean_line(&text(&written["group"], "name")));
            Ok(())
        }
        GroupCommand::AddMembers { group, emails, role, end, timezone, env, out } => {
            let c = client(&env.env)?;
            let id = group_id(&c, &group).await?;
            let body = json!({ "userIds": emails, "role": role, "endDate": end, "timezone": timezone });
            let written: Value = c.post(&format!("/groups/{id}/members"), &body).await?;
            if out.json {
                return output::json(&written);
            }
            output::print_table(&["MEMBER", "ROLE", "UNTIL", "STATE"], &member_rows(&written["members"]), "No members.");
            Ok(())
        }
        GroupCommand::RemoveMembers { group, emails, env, out } => {
            let c = client(&env.env)?;
            let id = group_id(&c, &group).await?;
            let written: Value = c.post(&format!("/groups/{id}/members:remove"), &json!({ "userIds": emails })).await?;
            if out.json {
                return output::json(&written);
            }
            let n = written["members"].as_array().map_or(0, Vec::len);
            crate::say!("Removed {n} member{} from the group.", if n == 1 { "" } else { "s" });
            Ok(())
        }
        GroupCommand::Bulk {
            groups,
            add_users,
            remove_users,
            role,
            member_end,
            add_agents,
            remove_agents,
            permission,
            window,
            dry_run,
            env,
            out,
        } => {
            let mut body = json!({
                "groupIds": groups, "addUserIds": add_users, "removeUserIds": remove_users, "role": role,
                "memberEndDate": member_end, "addAgentIds": add_agents, "removeAgentIds": remove_agents,
                "permission": permission, "dryRun": dry_run,
            });
            window.fill(&mut body);
            let report: Value = client(&env.env)?.post("/groups:bulk", &body).await?;
            super::import::print_report(&report, dry_run, &out, "#")
        }
    }
}
