//! The permission catalogue and the built-in roles.
//!
//! A permission names one action and declares the typed attributes a condition on it may test.
//! *Data* permissions reach resources and may be granted temporarily; *admin* permissions manage
//! the organization, are never granted temporarily, and are what privilege comparisons weigh.

use crate::attr::AttrType;
use crate::condition::{self, Condition, Conditions};
use crate::error::{CoreError, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// What a permission is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermissionKind {
    /// Reaches resources; may be granted temporarily.
    Data,
    /// Manages the organization; only ever held through permanent roles.
    Admin,
}

/// One permission of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    pub name: String,
    pub description: String,
    pub kind: PermissionKind,
    /// The attributes a condition on this permission may test, with their types.
    pub attributes: Vec<(&'static str, AttrType)>,
    /// The shape of temporary grant of this permission that anyone allowed to create temporary
    /// grants may give without holding the permission (see `authz`); `None`: only a grantor who
    /// holds it permanently may.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_service: Option<SelfService>,
}

/// A self-service shape: grants bound to the resources of one owner — an attribute that must
/// equal the owner of a registered resource of `resource_type` — and to the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SelfService {
    pub resource_type: &'static str,
    pub owner_attr: &'static str,
}

impl Permission {
    /// The declared type of attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<AttrType> {
        self.attributes.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }
}

/// The tier of the scope tree (or the resource type) a role is defined for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Organization,
    Workspace,
    Project,
    /// Held on one resource — an agent, a data source, an agent pool — never through the role API.
    Agent,
}

impl Tier {
    /// The tier's name: `organization`, `workspace` or `project`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Organization => "organization",
            Self::Workspace => "workspace",
            Self::Project => "project",
            Self::Agent => "agent",
        }
    }

    /// "a workspace role" needs its article: `an` for the organization, `a` otherwise.
    pub fn article(self) -> &'static str {
        match self {
            Self::Organization => "an",
            Self::Workspace | Self::Project | Self::Agent => "a",
        }
    }

    /// Where a role of this tier is held: `the organization`, `a workspace`, `a project`.
    pub fn place(self) -> &'static str {
        match self {
            Self::Organization => "the organization",
            Self::Workspace => "a workspace",
            Self::Project => "a project",
            Self::Agent => "an agent",
        }
    }
}

/// A permission with the conditions under which it applies; the unit a role or grant carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionGrant {
    #[serde(rename = "permission_name")]
    pub permission: String,
    #[serde(default)]
    pub conditions: Conditions,
}

/// A named set of permission grants, defined for a tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Role {
    pub name: String,
    pub tier: Tier,
    pub description: String,
    pub grants: Vec<PermissionGrant>,
}

impl Role {
    /// The names of every permission this role carries.
    pub fn permission_names(&self) -> std::collections::BTreeSet<&str> {
        self.grants.iter().map(|g| g.permission.as_str()).collect()
    }
}

/// Permission names used by the server's own checks.
pub mod perm {
    pub const CONVERSATION_GET: &str = "Conversation:GetConversation";
    pub const CONVERSATION_GET_MESSAGE: &str = "Conversation:GetMessage";
    pub const CONVERSATION_GET_INSIGHTS: &str = "Conversation:GetInteractionInsights";
    pub const CONVERSATION_CREATE: &str = "Conversation:Create";
    pub const GRANT_CREATE: &str = "Role:CreateTemporaryPermissionGrant";
    pub const GRANT_LIST_ALL: &str = "Role:ListTemporaryPermissionGrants";
    pub const GRANT_REVOKE: &str = "Role:RevokeTemporaryPermissionGrant";
    pub const USER_CREATE: &str = "User:Create";
    pub const USER_LIST: &str = "User:List";
    pub const USER_MANAGE: &str = "User:Manage";
    pub const AUDIT_READ: &str = "Audit:Read";
    pub const ACCESS_CHECK: &str = "Access:Check";
    pub const ORG_MANAGE: &str = "Organization:Manage";
    pub const SCOPE_MANAGE: &str = "Scope:Manage";
    pub const TRACE_CAPTURE: &str = "Trace:Capture";
    pub const ROLE_ASSIGN: &str = "Role:Assign";
    pub const APIKEY_MANAGE: &str = "ApiKey:Manage";
    pub const GROUP_MANAGE: &str = "Group:Manage";
    pub const AGENT_VIEW: &str = "Agent:View";
    pub const AGENT_USE: &str = "Agent:Use";
    pub const AGENT_EDIT: &str = "Agent:Edit";
    pub const AGENT_DELETE: &str = "Agent:Delete";
    pub const AGENT_MANAGE_PERMISSIONS: &str = "Agent:ManagePermissions";
    pub const AGENT_CREATE: &str = "Agent:Create";
    pub const AGENT_ASSIGN_OWN_GROUPS: &str = "Agent:AssignOwnGroups";
    pub const DATA_SOURCE_RETRIEVE: &str = "DataSource:Retrieve";
    pub const AGENT_POOL_USE: &str = "AgentPool:Use";
    pub const AGENT_POOL_IGNORE_QUOTA: &str = "AgentPool:IgnoreQuota";
    pub const AGENT_POOL_MANAGE: &str = "AgentPool:Manage";
    pub const TEMP_ACCESS_MANAGE: &str = "TempAccess:Manage";
    pub const ACCESS_REQUEST_APPROVE: &str = "AccessRequest:Approve";
    pub const ACCESS_POLICY_MANAGE: &str = "AccessPolicy:Manage";
    pub const WEBHOOK_MANAGE: &str = "Webhook:Manage";
    pub const TRACES_READ: &str = "traces:read";
    pub const TRACES_READ_PROD: &str = "traces:read:prod";
}

/// The three permissions a conversation access request grants (seed 001).
pub const CONVERSATION_ACCESS: [&str; 3] = [perm::CONVERSATION_GET, perm::CONVERSATION_GET_MESSAGE, perm::CONVERSATION_GET_INSIGHTS];

/// Built-in role names.
pub mod role {
    pub const ORG_OWNER: &str = "org_owner";
    pub const ORG_ADMIN: &str = "org_admin";
    pub const ORG_MEMBER: &str = "org_member";
    pub const ORG_MANAGER: &str = "org_manager";
    /// Seed 003's `VIEW_AND_USE` assignment of a group to an agent.
    pub const AGENT_USER: &str = "agent_user";
    /// Seed 003's `EDIT` assignment of a group to an agent.
    pub const AGENT_EDITOR: &str = "agent_editor";
    /// What the creator of an agent holds on it, whatever its access type.
    pub const AGENT_CREATOR: &str = "agent_creator";
    /// What a group named on a restricted data source holds on it.
    pub const DATA_SOURCE_READER: &str = "data_source_reader";
    /// Seed 004's standard role on an agent pool: uses its agents.
    pub const POOL_STANDARD: &str = "pool_standard";
    /// Seed 004's privileged role on an agent pool: also ignores the pool's agent quota.
    pub const POOL_PRIVILEGED: &str = "pool_privileged";
    pub const WORKSPACE_OWNER: &str = "workspace_owner";
    pub const WORKSPACE_ADMIN: &str = "workspace_admin";
    pub const PROJECT_OWNER: &str = "project_owner";
    pub const PROJECT_ADMIN: &str = "project_admin";
    pub const PROJECT_DEVELOPER: &str = "project_developer";
}

/// The permissions and roles an organization can use.
#[derive(Debug, Clone)]
pub struct Catalogue {
    permissions: HashMap<String, Permission>,
    roles: HashMap<String, Role>,
}

/// A row of the built-in permission table: name, kind, attributes, description.
type PermissionRow = (&'static str, PermissionKind, &'static [(&'static str, AttrType)], &'static str);

const CONVERSATION_ATTRS: &[(&str, AttrType)] = &[("conversation_user_id", AttrType::String), ("org_id", AttrType::String)];
const TRACE_ATTRS: &[(&str, AttrType)] = &[("is_prod", AttrType::Bool), ("org_id", AttrType::String)];
const AGENT_ATTRS: &[(&str, AttrType)] = &[("access_type", AttrType::String), ("classification", AttrType::String)];
const DATA_SOURCE_ATTRS: &[(&str, AttrType)] = &[("restricted", AttrType::Bool), ("agent_id", AttrType::String)];
const POOL_ATTRS: &[(&str, AttrType)] = &[("name", AttrType::String)];

/// The permissions that also need another on the resource's parent: retrieving from a data source
/// needs the use of its agent first (seed 003: a source restricted to groups restricts further).
const NEEDS_ON_PARENT: [(&str, &str); 1] = [(perm::DATA_SOURCE_RETRIEVE, perm::AGENT_USE)];

/// The permission `permission` also needs on the resource's parent, if any.
pub fn needed_on_parent(permission: &str) -> Option<&'static str> {
    NEEDS_ON_PARENT.iter().find(|(p, _)| *p == permission).map(|(_, needed)| *needed)
}

/// A permission grant of `permission` under one condition `attr` `op` `value`.
fn conditioned(permission: &str, attr: &str, condition: crate::condition::Condition) -> PermissionGrant {
    PermissionGrant { permission: permission.to_owned(), conditions: Conditions::from([(attr.to_owned(), condition)]) }
}

/// How a role or an API key's scope carries `permission`. The trace permissions are bound to the trace's class, fixed at
/// capture: `traces:read` reaches only non-production traces and `traces:read:prod` only
/// production ones, so asking for the wrong one is refused rather than allowed.
pub fn carried_grant(permission: &str) -> PermissionGrant {
    let is_prod = match permission {
        perm::TRACES_READ => Some(false),
        perm::TRACES_READ_PROD => Some(true),
        _ => None,
    };
    let conditions = is_prod
        .map(|v| Conditions::from([("is_prod".to_owned(), crate::condition::Condition::Equals { value: crate::attr::AttrValue::Bool(v) })]))
        .unwrap_or_default();
    PermissionGrant { permission: permission.to_owned(), conditions }
}

impl Catalogue {
    /// The built-in catalogue, which covers the seeds.
    pub fn builtin() -> Self {
        use PermissionKind::{Admin, Data};
        let table: &[PermissionRow] = &[
            (perm::CONVERSATION_GET, Data, CONVERSATION_ATTRS, "view conversation metadata and state"),
            (perm::CONVERSATION_GET_MESSAGE, Data, CONVERSATION_ATTRS, "read conversation messages"),
            (perm::CONVERSATION_GET_INSIGHTS, Data, CONVERSATION_ATTRS, "view interaction-level debugging insights"),
            (perm::TRACES_READ, Data, TRACE_ATTRS, "read non-production traces"),
            (perm::TRACES_READ_PROD, Data, TRACE_ATTRS, "read production traces"),
            (perm::CONVERSATION_CREATE, Admin, &[], "register conversations"),
            (perm::GRANT_CREATE, Admin, &[], "create temporary permission grants"),
            (perm::GRANT_LIST_ALL, Admin, &[], "list every user's temporary permission grants"),
            (perm::GRANT_REVOKE, Admin, &[], "revoke other users' temporary permission grants"),
            (perm::USER_CREATE, Admin, &[], "create users"),
            (perm::USER_LIST, Admin, &[], "list users and look them up by email"),
            (perm::USER_MANAGE, Admin, &[], "manage users: issue their tokens, grant to them"),
            (perm::AUDIT_READ, Admin, &[], "read and verify the audit log"),
            (perm::ACCESS_CHECK, Admin, &[], "check and explain other principals' access"),
            (perm::ORG_MANAGE, Admin, &[], "change the organization's settings"),
            (perm::SCOPE_MANAGE, Admin, &[], "create workspaces, projects and environments, and set environments' production flag"),
            (perm::TRACE_CAPTURE, Admin, &[], "register traces, classified by their environment at capture"),
            (perm::ROLE_ASSIGN, Admin, &[], "grant and revoke roles at the tier where it is held, and below"),
            (perm::APIKEY_MANAGE, Admin, &[], "create, edit and revoke the API keys of projects"),
            (perm::GROUP_MANAGE, Admin, &[], "create, change, archive and delete groups, and manage the members of any group"),
            (perm::AGENT_VIEW, Data, AGENT_ATTRS, "see an agent"),
            (perm::AGENT_USE, Data, AGENT_ATTRS, "query an agent"),
            (perm::AGENT_EDIT, Data, AGENT_ATTRS, "change an agent's settings and data sources"),
            (perm::AGENT_DELETE, Data, AGENT_ATTRS, "delete an agent"),
            (perm::AGENT_MANAGE_PERMISSIONS, Data, AGENT_ATTRS, "change an agent's access type and assign any group to it"),
            (perm::DATA_SOURCE_RETRIEVE, Data, DATA_SOURCE_ATTRS, "retrieve from a data source (also needs Agent:Use on its agent)"),
            (perm::AGENT_CREATE, Admin, &[], "register agents"),
            (perm::AGENT_ASSIGN_OWN_GROUPS, Admin, &[], "assign the groups one manages to the agents one may edit (seed 003's managers)"),
            (perm::AGENT_POOL_USE, Data, POOL_ATTRS, "use an agent pool's agents: create actions with them and read their data"),
            (perm::AGENT_POOL_IGNORE_QUOTA, Data, POOL_ATTRS, "ignore an agent pool's agent quota (seed 004's privileged role)"),
            (perm::AGENT_POOL_MANAGE, Admin, &[], "register and delete agent pools"),
            (perm::TEMP_ACCESS_MANAGE, Admin, &[], "create and delete temporary access instances on agent pools (seed 004)"),
            (perm::ACCESS_REQUEST_APPROVE, Admin, &[], "approve and deny access requests where no request policy names the approvers"),
            (
                perm::ACCESS_POLICY_MANAGE,
                Admin,
                &[],
                "create and delete request policies: who approves which access requests, in which stages",
            ),
            (perm::WEBHOOK_MANAGE, Admin, &[], "see, create, rotate and delete the organization's webhooks, and read their deliveries"),
        ];
        let permissions: HashMap<String, Permission> = table
            .iter()
            .map(|(name, kind, attrs, desc)| {
                // Seed 001: anyone may ask for temporary access to one owner's conversations.
                let self_service = CONVERSATION_ACCESS
                    .contains(name)
                    .then_some(SelfService { resource_type: "conversation", owner_attr: "conversation_user_id" });
                let p = Permission {
                    name: (*name).to_owned(),
                    description: (*desc).to_owned(),
                    kind: *kind,
                    attributes: attrs.to_vec(),
                    self_service,
                };
                ((*name).to_owned(), p)
            })
            .collect();
        let all_but_conversations: Vec<&str> = table.iter().map(|(n, ..)| *n).filter(|n| !CONVERSATION_ACCESS.contains(n)).collect();
        let admin: Vec<&str> = all_but_conversations.iter().copied().filter(|n| *n != perm::ORG_MANAGE).collect();
        let member = [perm::GRANT_CREATE, perm::USER_LIST];
        let traces = [perm::TRACES_READ, perm::TRACES_READ_PROD];
        let tier_admin = [
            perm::TRACES_READ,
            perm::TRACES_READ_PROD,
            perm::ROLE_ASSIGN,
            perm::SCOPE_MANAGE,
            perm::TRACE_CAPTURE,
            perm::APIKEY_MANAGE,
            perm::AUDIT_READ,
            perm::ACCESS_REQUEST_APPROVE,
        ];
        // INVARIANT: no built-in role carries the conversation permissions; conversations are read
        // through temporary grants (seed 001: the administrator role does not see every conversation).
        // The workspace and project roles carry seed 002's trace table (every one reads production
        // traces except `project_developer`) and, for owners and admins, the management of their
        // tier: assigning roles, creating scopes below, capturing traces, managing API keys, and
        // reading their tier's audit feed.
        let manager = [perm::GRANT_CREATE, perm::USER_LIST, perm::AGENT_ASSIGN_OWN_GROUPS];
        let roles: [(&str, Tier, &str, &[&str]); 9] = [
            (role::ORG_OWNER, Tier::Organization, "everything in the organization, including its settings", &all_but_conversations[..]),
            (role::ORG_ADMIN, Tier::Organization, "manages users, grants and the audit log", &admin[..]),
            (role::ORG_MEMBER, Tier::Organization, "requests temporary access for itself and looks up colleagues", &member[..]),
            (
                role::ORG_MANAGER,
                Tier::Organization,
                "an org_member who also assigns the groups they manage to the agents they may edit",
                &manager[..],
            ),
            (role::WORKSPACE_OWNER, Tier::Workspace, "owns a workspace and everything in it", &tier_admin[..]),
            (role::WORKSPACE_ADMIN, Tier::Workspace, "administers a workspace and everything in it", &tier_admin[..]),
            (role::PROJECT_OWNER, Tier::Project, "owns a project", &tier_admin[..]),
            (role::PROJECT_ADMIN, Tier::Project, "administers a project", &tier_admin[..]),
            (role::PROJECT_DEVELOPER, Tier::Project, "develops in a project: reads its non-production traces", &traces[..1]),
        ];
        let mut roles: HashMap<String, Role> = roles
            .into_iter()
            .map(|(name, tier, desc, perms)| {
                let grants = perms.iter().map(|p| carried_grant(p)).collect();
                (name.to_owned(), Role { name: name.to_owned(), tier, description: desc.to_owned(), grants })
            })
            .collect();
        for role in agent_roles() {
            roles.insert(role.name.clone(), role);
        }
        // Seed 003's users see and use organization-wide agents, and retrieve from the data sources
        // open to every user of an agent they may use.
        let everyone = [
            conditioned(perm::AGENT_VIEW, "access_type", Condition::Equals { value: AGENT_ORGANIZATION.into() }),
            conditioned(perm::AGENT_USE, "access_type", Condition::Equals { value: AGENT_ORGANIZATION.into() }),
            conditioned(perm::DATA_SOURCE_RETRIEVE, "restricted", Condition::Equals { value: false.into() }),
        ];
        for name in [role::ORG_MEMBER, role::ORG_MANAGER] {
            if let Some(r) = roles.get_mut(name) {
                r.grants.extend(everyone.iter().cloned());
            }
        }
        Self { permissions, roles }
    }

    /// The permission named `name`, or an error listing how to find the known ones.
    pub fn permission(&self, name: &str) -> Result<&Permission> {
        self.permissions.get(name).ok_or_else(|| {
            CoreError::invalid("permission_name", format!("unknown permission `{name}`; the catalogue lists the permissions"))
        })
    }

    /// The role named `name`, or an error naming the known ones.
    pub fn role(&self, name: &str) -> Result<&Role> {
        self.roles.get(name).ok_or_else(|| {
            let mut known: Vec<&str> = self.roles.keys().map(String::as_str).collect();
            known.sort_unstable();
            CoreError::invalid("role", format!("unknown role `{name}`; known roles: {}", known.join(", ")))
        })
    }

    /// Looks a role up without an error.
    pub fn find_role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }

    /// Every permission, sorted by name.
    pub fn permissions(&self) -> Vec<&Permission> {
        let mut all: Vec<&Permission> = self.permissions.values().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Every role, sorted by name.
    pub fn roles(&self) -> Vec<&Role> {
        let mut all: Vec<&Role> = self.roles.values().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Checks a permission grant that is to be granted temporarily: a known data permission whose
    /// conditions test declared attributes. Returns the permission.
    pub fn validate_temporary(&self, grant: &PermissionGrant) -> Result<&Permission> {
        let permission = self.permission(&grant.permission)?;
        if permission.kind == PermissionKind::Admin {
            return Err(CoreError::invalid(
                "permission_name",
                format!("`{}` manages the organization and cannot be granted temporarily; assign a role instead", permission.name),
            ));
        }
        condition::validate(permission, &grant.conditions)?;
        Ok(permission)
    }

    /// The admin permissions of a set of permission names (what privilege comparisons weigh).
    pub fn admin_subset<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        names.into_iter().filter(|n| self.permissions.get(*n).is_some_and(|p| p.kind == PermissionKind::Admin)).map(str::to_owned).collect()
    }
}

/// The access type of an agent open to everyone in the organization.
pub const AGENT_ORGANIZATION: &str = "organization";
/// The access type of an agent only its creator and the admins reach.
pub const AGENT_PRIVATE: &str = "private";

/// The roles held on one resource: seed 003's assignment levels, the agent creator's, the reader
/// of a restricted data source, and seed 004's standard and privileged roles on an agent pool. Assignments reach a private agent no more: only its
/// creator and the admins do.
fn agent_roles() -> Vec<Role> {
    let not_private = || Condition::NotEquals { value: AGENT_PRIVATE.into() };
    let on_agent = |perms: &[&str]| perms.iter().map(|p| conditioned(p, "access_type", not_private())).collect::<Vec<_>>();
    let plain = |perms: &[&str]| perms.iter().map(|p| carried_grant(p)).collect::<Vec<_>>();
    let role = |name: &str, description: &str, grants| Role {
        name: name.to_owned(),
        tier: Tier::Agent,
        description: description.to_owned(),
        grants,
    };
    vec![
        role(role::AGENT_USER, "VIEW_AND_USE: sees and queries the agent", on_agent(&[perm::AGENT_VIEW, perm::AGENT_USE])),
        role(
            role::AGENT_EDITOR,
            "EDIT: also changes the agent's settings",
            on_agent(&[perm::AGENT_VIEW, perm::AGENT_USE, perm::AGENT_EDIT]),
        ),
        role(
            role::AGENT_CREATOR,
            "made the agent: sees, queries and edits it",
            plain(&[perm::AGENT_VIEW, perm::AGENT_USE, perm::AGENT_EDIT]),
        ),
        role(role::DATA_SOURCE_READER, "retrieves from a data source restricted to its groups", plain(&[perm::DATA_SOURCE_RETRIEVE])),
        role(role::POOL_STANDARD, "uses an agent pool's agents (seed 004's standard role)", plain(&[perm::AGENT_POOL_USE])),
        role(
            role::POOL_PRIVILEGED,
            "uses an agent pool's agents and ignores its agent quota (seed 004's privileged role)",
            plain(&[perm::AGENT_POOL_USE, perm::AGENT_POOL_IGNORE_QUOTA]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_carry_known_permissions_only() {
        let cat = Catalogue::builtin();
        for role in cat.roles() {
            for g in &role.grants {
                assert!(cat.permission(&g.permission).is_ok(), "{} carries unknown {}", role.name, g.permission);
            }
        }
    }

    #[test]
    fn admin_permissions_are_not_temporary() {
        let cat = Catalogue::builtin();
        let g = PermissionGrant { permission: perm::USER_MANAGE.into(), conditions: Conditions::new() };
        assert!(cat.validate_temporary(&g).is_err());
    }
}
