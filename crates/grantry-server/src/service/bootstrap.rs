//! Bootstrap: the first owner of an organization, made on the database directly by someone who
//! holds it (`grantry admin bootstrap`), recorded in the audit log as the system's doing.

use super::roles::role_grant;
use super::users::{new_token, token_event};
use super::{grant_event, Ctx};
use crate::ids::new_id;
use crate::service::error::Result;
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::{Permit, SystemTask};
use grantry_core::catalogue::role;
use grantry_core::change::Change;
use grantry_core::ids::{OrgId, UserId};
use grantry_core::model::{Actor, GrantSource, GrantTarget, Org, Policy, Principal, ScopeRef, User, UserStatus};
use grantry_core::{validate, Timestamp};

/// What bootstrap made.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub token: String,
    pub created_org: bool,
    pub created_user: bool,
}

/// Creates organization `slug` if absent and its owner `email` if absent, makes sure the owner
/// holds `org_owner` permanently, and issues a token for them.
pub async fn bootstrap(state: &AppState, slug: &str, email: &str, now: Timestamp) -> Result<Bootstrapped> {
    let slug = validate::slug("org", slug)?;
    let email = validate::email(email)?;
    let (_, out) = state
        .write(|ix| {
            let existing = ix.org_by_slug(&slug);
            let org_id = existing.map_or_else(|| new_id().map(OrgId), |o| Ok(o.org().id.clone()))?;
            let user = existing.and_then(|o| o.user_by_email(&email)).cloned();
            let user_id = user.as_ref().map_or_else(|| new_id().map(UserId), |u| Ok(u.id.clone()))?;
            let principal = Principal::User(user_id.clone());
            let ctx = Ctx { by: Actor::System, ..Ctx::new(org_id.clone(), principal.clone(), None, now) };
            let mut changes = Vec::new();
            let mut audit = Vec::new();
            if existing.is_none() {
                let org = Org { id: org_id.clone(), slug: slug.clone(), name: slug.clone(), created_at: now, policy: Policy::default() };
                let mut d = AuditDraft::new(&Actor::System, "org.created", "org", org_id.as_str());
                d.after = serde_json::to_value(&org).ok();
                audit.push(d);
                changes.push(Change::OrgCreated { org });
            }
            if user.is_none() {
                let u =
                    User { id: user_id.clone(), org: org_id.clone(), email: email.clone(), status: UserStatus::Active, created_at: now };
                let mut d = AuditDraft::new(&Actor::System, "user.created", "user", user_id.as_str());
                d.principal = Some(principal.to_string());
                d.after = serde_json::to_value(&u).ok();
                audit.push(d);
                changes.push(Change::UserCreated { user: u });
            }
            let is_owner = existing.is_some_and(|o| {
                o.grants_of(&principal)
                    .iter()
                    .any(|g| !g.is_temporary() && g.is_active(now) && g.target == GrantTarget::Role { role: role::ORG_OWNER.to_owned() })
            });
            if !is_owner {
                let grant =
                    role_grant(&ctx, Principal::User(user_id.clone()), role::ORG_OWNER, ScopeRef::Org, None, None, GrantSource::Bootstrap)?;
                audit.push(grant_event(&Actor::System, "grant.created", &grant));
                changes.push(Change::GrantCreated { grant });
            }
            let token = new_token(&ctx, &user_id, None)?;
            audit.push(token_event(&ctx, "token.issued", &token.credential));
            changes.push(Change::CredentialIssued { credential: token.credential });
            let out = Bootstrapped { org_id, user_id, token: token.secret, created_org: existing.is_none(), created_user: user.is_none() };
            Ok((ctx.batch(Permit::system(SystemTask::Bootstrap), changes, audit), out))
        })
        .await?;
    Ok(out)
}
