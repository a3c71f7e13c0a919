//! The one authorization module of the service itself. Everything a caller can ask for is an
//! [`Action`]; [`authorize`] decides it for an actor in an organization at `now` and hands back a
//! [`Permit`], which a service needs in order to write anything. Handlers, the CLI and later the
//! console never decide permissions themselves: they parse, call a service, render.
//!
//! One rule bounds every grant: nobody hands out access beyond their own *permanent* authority
//! (temporary grants never count), and nobody takes away access they could not have given —
//! except the self-service shapes a permission's temporary policy names (seed 001's owner-scoped
//! conversation access). Production-trace access comes only from org_admin or higher (seed 002).

mod requests;
mod rules;
mod temporary;

pub use requests::{describe_approvers, place};

use crate::catalogue::{perm, Catalogue, PermissionGrant, Role};
use crate::error::Result;
use crate::index::OrgState;
use crate::model::{AccessRequest, Anchor, GrantTerms, Group, GroupRole, Principal, Requested, Resource, ScopeRef};
use jiff::Timestamp;

/// Something a caller can ask the service to do, with what the decision needs to know about it.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Read the catalogue, one's own profile, the settings, the scope tree: anyone in the organization.
    ReadOrganization,
    /// List users and look them up by email; read the role matrix.
    ListUsers,
    /// Read the audit log at `scope` — the organization's whole log, verification and the
    /// isolation report at the organization; a workspace's or project's feed below it.
    ReadAudit { scope: &'a ScopeRef },
    /// Check or explain `principal`'s access (one's own: anyone).
    Check { principal: &'a Principal },
    /// List `of`'s temporary grants (`None`: everyone's).
    ListGrants { of: Option<&'a Principal> },
    /// Create a user holding the organization role `role`.
    CreateUser { role: &'a Role },
    /// Revoke a token of `target`, or act for it (grant to it, revoke its grants).
    ManageUser { target: &'a Principal },
    /// Issue a token that acts as `to`: whoever holds it holds all `to` holds now.
    IssueToken { to: &'a Principal },
    /// Register a conversation.
    RegisterConversation,
    /// See every registered conversation (one looked up `by_id`, or all of them); without this, a
    /// caller sees the conversations it may read.
    SeeConversations { by_id: bool },
    /// Grant `grant` to `to` temporarily (anchored at the organization).
    CreateTemporaryGrant { to: &'a Principal, grant: &'a PermissionGrant },
    /// Revoke a temporary grant.
    RevokeGrant { grant: &'a GrantTerms },
    /// Create a node under `parent`, or change node `parent` itself (an environment's flag).
    ManageScope { at: &'a ScopeRef },
    /// Set `environment`'s production flag to `is_production`.
    SetProduction { environment: &'a ScopeRef, is_production: bool },
    /// Capture a trace in `environment`.
    CaptureTrace { environment: &'a ScopeRef },
    /// See trace `trace`: what reading it needs (`traces:read:prod` for a production trace,
    /// `traces:read` otherwise), decided as a check is.
    ReadTrace { trace: &'a Resource },
    /// List the tokens of `of` (one's own: anyone).
    ListTokens { of: &'a Principal },
    /// Suspend or delete user `target` (another user, whom the actor may manage), or, when
    /// `resuming`, give them back all they hold.
    SetUserStatus { target: &'a Principal, resuming: bool },
    /// Give `role` at `scope` to someone, taking away the roles of `removing` there.
    GrantRole { role: &'a Role, scope: &'a ScopeRef, removing: &'a [&'a GrantTerms] },
    /// Take away the role grants of `removing` at `scope`.
    RevokeRole { scope: &'a ScopeRef, removing: &'a [&'a GrantTerms] },
    /// See, create or revoke the API keys of `project`.
    ManageApiKeys { project: &'a ScopeRef },
    /// Give or take away the API-key scopes `scopes` in `project`.
    ChangeKeyScopes { project: &'a ScopeRef, scopes: &'a [&'a str] },
    /// Change the organization's settings.
    UpdateSettings,
    /// List the groups and their members.
    ListGroups,
    /// Create, rename, move, archive or delete groups.
    ManageGroups,
    /// Add to or remove from `group` a member whose group role is `role`: whoever manages groups,
    /// or a manager of the group itself for plain members.
    ManageMembers { group: &'a Group, role: GroupRole },
    /// Register an agent.
    CreateAgent,
    /// Do `permission` on `agent` (`Agent:View`, `Agent:Edit`, `Agent:Delete`,
    /// `Agent:ManagePermissions`), decided as a check is.
    OnAgent { agent: &'a Resource, permission: &'a str },
    /// Assign `group` to `agent` with `level` (an agent role), or change or take away such an
    /// assignment: whoever manages the agent's permissions; or a manager (seed 003) who may edit
    /// the agent, manages the group, and gives no more than editing.
    AssignGroup { agent: &'a Resource, group: &'a Group, level: &'a Role },
    /// Certify or revoke (seed 003's access reviews) `group`'s membership of a user, or, with
    /// `agent`, its assignment to that agent: whoever manages groups (and, for an assignment, the
    /// agent's permissions), or the group's own manager.
    Review { group: &'a Group, agent: Option<&'a Resource> },
    /// Read the organization's access reports (the matrix, memberships, coverage, compliance).
    ReadReports,
    /// List the agent pools (seed 004).
    ListPools,
    /// Register or delete an agent pool.
    ManagePools,
    /// Create or delete a temporary access instance granting `role` on `pools`: the actor holds
    /// `TempAccess:Manage` and, for good, every permission of the role on every pool.
    ManageTempAccess { pools: &'a [Resource], role: &'a Role },
    /// Ask for access for oneself: any user (an API key acts for a project, not a person).
    RequestAccess,
    /// Create or delete a request policy covering `scope`.
    ManageRequestPolicies { scope: &'a ScopeRef },
    /// See every access request (without it: one's own, and those one may decide).
    ListRequests,
    /// Approve or deny stage `stage` of `request`, with a credential minted by `token_made_by`
    /// when someone other than the actor minted it (such a credential decides nothing) and in the
    /// `custody` of others (who count as deciding too).
    DecideRequest { request: &'a AccessRequest, stage: usize, token_made_by: Option<&'a Principal>, custody: &'a [Principal] },
    /// Hand out `requested` on `targets` (an approval's bound: the actor is the policy's author,
    /// or the approver when no policy names one).
    HandOut { requested: &'a Requested, targets: &'a [Anchor] },
    /// Cancel a pending request, give back what an approved one gave, or ask to extend it: its
    /// requester.
    WithdrawRequest { request: &'a AccessRequest },
    /// See, create, rotate or delete webhooks, and read their deliveries.
    ManageWebhooks,
    /// Hand one's own access to an agent through a key of `project` carrying `scopes`: any user
    /// who holds each of them there now (the key never allows more than they may do at a check).
    DelegateKey { project: &'a ScopeRef, scopes: &'a [&'a str] },
    /// Revoke a key one delegated oneself.
    RevokeOwnKey { key: &'a crate::model::ApiKey },
}

impl Action<'_> {
    /// The action's name, for logs and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ReadOrganization => "read_organization",
            Self::ListUsers => "list_users",
            Self::ReadAudit { .. } => "read_audit",
            Self::Check { .. } => "check",
            Self::ListGrants { .. } => "list_grants",
            Self::CreateUser { .. } => "create_user",
            Self::ManageUser { .. } => "manage_user",
            Self::IssueToken { .. } => "issue_token",
            Self::RegisterConversation => "register_conversation",
            Self::SeeConversations { .. } => "see_conversations",
            Self::CreateTemporaryGrant { .. } => "create_temporary_grant",
            Self::RevokeGrant { .. } => "revoke_grant",
            Self::ManageScope { .. } => "manage_scope",
            Self::SetProduction { .. } => "set_production",
            Self::CaptureTrace { .. } => "capture_trace",
            Self::ReadTrace { .. } => "read_trace",
            Self::ListTokens { .. } => "list_tokens",
            Self::SetUserStatus { .. } => "set_user_status",
            Self::GrantRole { .. } => "grant_role",
            Self::RevokeRole { .. } => "revoke_role",
            Self::ManageApiKeys { .. } => "manage_api_keys",
            Self::ChangeKeyScopes { .. } => "change_key_scopes",
            Self::UpdateSettings => "update_settings",
            Self::ListGroups => "list_groups",
            Self::ManageGroups => "manage_groups",
            Self::ManageMembers { .. } => "manage_members",
            Self::CreateAgent => "create_agent",
            Self::OnAgent { .. } => "on_agent",
            Self::AssignGroup { .. } => "assign_group",
            Self::Review { .. } => "review",
            Self::ReadReports => "read_reports",
            Self::ListPools => "list_pools",
            Self::ManagePools => "manage_pools",
            Self::ManageTempAccess { .. } => "manage_temp_access",
            Self::RequestAccess => "request_access",
            Self::ManageRequestPolicies { .. } => "manage_request_policies",
            Self::ListRequests => "list_requests",
            Self::DecideRequest { .. } => "decide_request",
            Self::HandOut { .. } => "hand_out",
            Self::WithdrawRequest { .. } => "withdraw_request",
            Self::ManageWebhooks => "manage_webhooks",
            Self::DelegateKey { .. } => "delegate_key",
            Self::RevokeOwnKey { .. } => "revoke_own_key",
        }
    }
}

/// Proof that an action was authorized: a service needs one to write a batch. Only
/// [`authorize`] (and [`Permit::system`] for the system's own tasks) makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    action: &'static str,
}

impl Permit {
    /// The name of the action this permit was given for.
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// A permit for a task the system does on its own behalf — creating an organization and its
    /// first owner, recording expiries — which no caller can ask for.
    pub fn system(task: SystemTask) -> Self {
        Self { action: task.name() }
    }
}

/// What the system does without a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemTask {
    /// Create an organization and its first owner (`grantry admin bootstrap`, the demo).
    Bootstrap,
    /// Write the audit events of grants that ended on their own.
    RecordExpiries,
    /// End a single-use request's access at the first check it allowed.
    ConsumeSingleUse,
}

impl SystemTask {
    fn name(self) -> &'static str {
        match self {
            Self::Bootstrap => "bootstrap",
            Self::RecordExpiries => "record_expiries",
            Self::ConsumeSingleUse => "consume_single_use",
        }
    }
}

/// Decides `action` for `actor` in organization `o` at `now`; on success, the permit to act.
pub fn authorize(o: &OrgState, cat: &Catalogue, actor: &Principal, action: Action<'_>, now: Timestamp) -> Result<Permit> {
    use rules::{require, require_at, require_covers, require_manage, require_takes_away};
    match action {
        Action::ReadOrganization => Ok(()),
        Action::ListUsers => require(o, cat, actor, perm::USER_LIST, now),
        Action::ReadAudit { scope } => require_at(o, cat, actor, perm::AUDIT_READ, scope, now),
        Action::Check { principal } if principal == actor => Ok(()),
        Action::Check { .. } => require(o, cat, actor, perm::ACCESS_CHECK, now),
        Action::ListGrants { of: Some(p) } if p == actor => Ok(()),
        Action::ListGrants { .. } => require(o, cat, actor, perm::GRANT_LIST_ALL, now),
        Action::CreateUser { role } => {
            require(o, cat, actor, perm::USER_CREATE, now)?;
            require_covers(o, cat, actor, &format!("role `{}`", role.name), role.permission_names(), &ScopeRef::Org, now)
        }
        Action::ManageUser { target } => require_manage(o, cat, actor, target, now),
        Action::IssueToken { to } if to == actor => Ok(()),
        Action::IssueToken { to } => {
            require_manage(o, cat, actor, to, now)?;
            // A suspended user holds nothing now, and everything again once resumed: a token made
            // meanwhile would carry it all, unmeasured.
            rules::require_not_suspended(o, to, "a token for them is made once they are resumed")?;
            rules::require_covers_all_held(o, cat, actor, to, now)
        }
        Action::RegisterConversation => require(o, cat, actor, perm::CONVERSATION_CREATE, now),
        // Whoever may ask for access looks a conversation up by id: the request needs its owner.
        Action::SeeConversations { by_id: true } => {
            require(o, cat, actor, perm::CONVERSATION_CREATE, now).or_else(|_| require(o, cat, actor, perm::GRANT_CREATE, now))
        }
        Action::SeeConversations { by_id: false } => require(o, cat, actor, perm::CONVERSATION_CREATE, now),
        Action::CreateTemporaryGrant { to, grant } => {
            require(o, cat, actor, perm::GRANT_CREATE, now)?;
            require_manage(o, cat, actor, to, now)?;
            temporary::may_grant(o, cat, actor, grant, now)
        }
        Action::RevokeGrant { grant } if &grant.principal == actor => Ok(()),
        Action::RevokeGrant { grant } => {
            require(o, cat, actor, perm::GRANT_REVOKE, now)?;
            require_manage(o, cat, actor, &grant.principal, now)
        }
        Action::ManageScope { at } => require_at(o, cat, actor, perm::SCOPE_MANAGE, at, now),
        Action::SetProduction { environment, is_production } => {
            require_at(o, cat, actor, perm::SCOPE_MANAGE, environment, now)?;
            // Turning production off lets the traces captured afterwards be read with
            // `traces:read`: a declassification, which only org_admin or higher decides.
            if is_production {
                Ok(())
            } else {
                rules::require_prod_grantor(o, cat, actor, "turning an environment's production flag off", now)
            }
        }
        Action::CaptureTrace { environment } => require_at(o, cat, actor, perm::TRACE_CAPTURE, environment, now),
        Action::ReadTrace { trace } => rules::require_readable_trace(o, actor, trace, now),
        Action::ListTokens { of } if of == actor => Ok(()),
        Action::ListTokens { of } => require_manage(o, cat, actor, of, now),
        Action::SetUserStatus { target, .. } if target == actor => {
            Err(crate::CoreError::Forbidden("you cannot suspend or delete yourself; ask another administrator".to_owned()))
        }
        Action::SetUserStatus { target, resuming: false } => require_manage(o, cat, actor, target, now),
        // Resuming gives back every administrative permission they hold, for a while included:
        // only someone who holds all of it permanently may.
        Action::SetUserStatus { target, resuming: true } => {
            require_manage(o, cat, actor, target, now)?;
            rules::require_covers_admin_held(o, cat, actor, target, "resuming them gives it back", now)
        }
        Action::GrantRole { role, scope, removing } => {
            require_at(o, cat, actor, perm::ROLE_ASSIGN, scope, now)?;
            require_covers(o, cat, actor, &format!("role `{}`", role.name), role.permission_names(), scope, now)?;
            require_takes_away(o, cat, actor, scope, removing, now)
        }
        Action::RevokeRole { scope, removing } => {
            require_at(o, cat, actor, perm::ROLE_ASSIGN, scope, now)?;
            require_takes_away(o, cat, actor, scope, removing, now)
        }
        Action::ManageApiKeys { project } => require_at(o, cat, actor, perm::APIKEY_MANAGE, project, now),
        Action::ChangeKeyScopes { project, scopes } => {
            require_at(o, cat, actor, perm::APIKEY_MANAGE, project, now)?;
            require_covers(o, cat, actor, "this key", scopes.iter().copied(), project, now)
        }
        Action::UpdateSettings => require(o, cat, actor, perm::ORG_MANAGE, now),
        Action::ListGroups => require(o, cat, actor, perm::USER_LIST, now),
        Action::ManageGroups => require(o, cat, actor, perm::GROUP_MANAGE, now),
        Action::ManageMembers { group, role } => require(o, cat, actor, perm::GROUP_MANAGE, now).or_else(|refusal| {
            if !rules::manages_group(o, actor, group, now) {
                return Err(refusal);
            }
            match role {
                GroupRole::Member => Ok(()),
                GroupRole::Manager => Err(crate::CoreError::Forbidden(format!(
                    "a group's managers add and remove its members, not its managers; ask someone with `{}`",
                    perm::GROUP_MANAGE
                ))),
            }
        }),
        Action::CreateAgent => require(o, cat, actor, perm::AGENT_CREATE, now),
        // Changing who reaches an agent rests on what is held for good.
        Action::OnAgent { agent, permission } => {
            rules::require_on(o, actor, agent, permission, permission == perm::AGENT_MANAGE_PERMISSIONS, now)
        }
        Action::AssignGroup { agent, group, level } => rules::require_on(o, actor, agent, perm::AGENT_MANAGE_PERMISSIONS, true, now)
            .or_else(|refusal| {
                let within = level.permission_names().iter().all(|p| [perm::AGENT_VIEW, perm::AGENT_USE, perm::AGENT_EDIT].contains(p));
                let manager = rules::held_permanently(o, cat, actor, &ScopeRef::Org, now).contains(perm::AGENT_ASSIGN_OWN_GROUPS)
                    && rules::require_on(o, actor, agent, perm::AGENT_EDIT, true, now).is_ok()
                    && rules::manages_group(o, actor, group, now);
                if manager && within {
                    Ok(())
                } else {
                    Err(crate::CoreError::Forbidden(format!(
                        "{refusal}; a manager assigns only the groups they manage, to agents they may edit, both for good"
                    )))
                }
            }),
        Action::Review { group, agent } => {
            let admin = match agent {
                None => require(o, cat, actor, perm::GROUP_MANAGE, now),
                Some(agent) => rules::require_on(o, actor, agent, perm::AGENT_MANAGE_PERMISSIONS, true, now),
            };
            admin.or_else(|refusal| {
                if rules::manages_group(o, actor, group, now) {
                    Ok(())
                } else {
                    Err(crate::CoreError::Forbidden(format!("{refusal}; or be a manager of group `{}`", group.name)))
                }
            })
        }
        Action::ReadReports => require(o, cat, actor, perm::GROUP_MANAGE, now),
        Action::ListPools => require(o, cat, actor, perm::USER_LIST, now),
        Action::ManagePools => require(o, cat, actor, perm::AGENT_POOL_MANAGE, now),
        Action::ManageTempAccess { pools, role } => {
            require(o, cat, actor, perm::TEMP_ACCESS_MANAGE, now)?;
            let needed = role.permission_names();
            pools.iter().try_for_each(|pool| needed.iter().try_for_each(|p| rules::require_on(o, actor, pool, p, true, now)))
        }
        Action::RequestAccess => match actor {
            Principal::User(_) => rules::require_not_suspended(o, actor, "a suspended user asks for nothing"),
            _ => Err(crate::CoreError::Forbidden("access is requested by people for themselves; use a user's token".to_owned())),
        },
        Action::ManageRequestPolicies { scope } => require_at(o, cat, actor, perm::ACCESS_POLICY_MANAGE, scope, now),
        Action::ListRequests => require(o, cat, actor, perm::GRANT_LIST_ALL, now),
        Action::DecideRequest { request, stage, token_made_by, custody } => {
            requests::may_decide(o, cat, actor, request, stage, now)?;
            requests::own_token(o, token_made_by)?;
            requests::apart(o, actor, custody, request)
        }
        Action::HandOut { requested, targets } => requests::require_hands_out(o, cat, actor, requested, targets, now),
        Action::ManageWebhooks => require(o, cat, actor, perm::WEBHOOK_MANAGE, now),
        Action::DelegateKey { project, scopes } => {
            let Principal::User(_) = actor else {
                return Err(crate::CoreError::Forbidden("access is delegated by people; use a user's token".to_owned()));
            };
            rules::require_not_suspended(o, actor, "a suspended user hands on nothing")?;
            let held = o.held_at(cat, actor, project, now, false);
            match scopes.iter().find(|s| !held.contains(**s)) {
                None => Ok(()),
                Some(missing) => Err(crate::CoreError::Forbidden(format!(
                    "you do not hold `{missing}` at {} now; a delegated key never carries more than its user",
                    o.describe_scope(project)
                ))),
            }
        }
        Action::RevokeOwnKey { key } => match (actor, &key.delegated_by) {
            (Principal::User(me), Some(by)) if me == by => Ok(()),
            _ => require_at(o, cat, actor, perm::APIKEY_MANAGE, &ScopeRef::Project(key.project.clone()), now),
        },
        Action::WithdrawRequest { request } => match actor {
            Principal::User(id) if id == &request.requester => Ok(()),
            _ => Err(crate::CoreError::Forbidden(
                "only the requester cancels a request or gives its access back; an approver denies or revokes it".to_owned(),
            )),
        },
    }?;
    Ok(Permit { action: action.name() })
}

/// Whether `actor` may see scope node `node`: everyone sees the whole tree, except an API key,
/// which sees only its own project, the nodes above it and its environments.
pub fn sees_scope(o: &OrgState, actor: &Principal, node: &ScopeRef) -> bool {
    let Principal::ApiKey(id) = actor else { return true };
    let Some(key) = o.api_key(id) else { return false };
    let project = ScopeRef::Project(key.project.clone());
    o.is_within(node, &project) || o.is_within(&project, node)
}

/// Refuses an API key a scope path outside its project before anything is looked up at it, so a
/// key cannot map the tree beyond its project by what exists (404) and what it may not (403).
pub fn may_name(o: &OrgState, actor: &Principal, path: &str) -> Result<()> {
    let Principal::ApiKey(id) = actor else { return Ok(()) };
    let home = o.api_key(id).and_then(|k| o.scope(&k.project)).map(|n| o.path_of(n)).unwrap_or_default();
    let related = path == home || path.starts_with(&format!("{home}/")) || home.starts_with(&format!("{path}/"));
    if related {
        Ok(())
    } else {
        Err(rules::outside_project(o, id))
    }
}

#[cfg(test)]
mod tests;
