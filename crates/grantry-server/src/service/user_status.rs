//! A user's standing in the organization: suspend (every token and every grant stops working at
//! once, and all of it comes back on resume), resume, and delete (the user leaves for good: their
//! grants and tokens are revoked, their record removed — its history stays in the audit log — and
//! the email may be used again, by a new user with a new id). Only another user who may manage
//! them does this; nobody suspends or deletes themselves.

use super::rbac::rbac_event;
use super::{org, Ctx};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::ids::UserId;
use grantry_core::model::{GrantTerms, Principal, Revocation, ScopeRef, User, UserStatus};
use grantry_core::validate;
use serde_json::json;
use std::collections::BTreeSet;

/// What happens to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Suspend,
    Resume,
    Delete,
}

impl Standing {
    fn event(self) -> &'static str {
        match self {
            Self::Suspend => "user.suspended",
            Self::Resume => "user.resumed",
            Self::Delete => "user.deleted",
        }
    }
}

/// Suspends, resumes or deletes `user`, with an optional justification; the user as they were.
pub async fn set_standing(
    state: &AppState,
    ctx: &Ctx,
    user: &UserId,
    standing: Standing,
    justification: Option<&str>,
) -> Result<(u64, User)> {
    let (committed, before) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            // Whether a user exists is told only to those who may act on users at all.
            ctx.authorize(ix, Action::SetUserStatus { target: &Principal::User(UserId(String::new())), resuming: false })?;
            let u = o.user(user).ok_or_else(|| ServiceError::NotFound(format!("no user `{user}` in this organization")))?;
            let principal = Principal::User(u.id.clone());
            let permit = ctx.authorize(ix, Action::SetUserStatus { target: &principal, resuming: standing == Standing::Resume })?;
            let policy = &o.org().policy;
            let justification = justification
                .map(|j| validate::justification(j, policy.min_justification_chars, policy.max_justification_chars))
                .transpose()?;
            let mut event = AuditDraft::new(&ctx.audit_actor(), standing.event(), "user", u.id.as_str());
            event.principal = Some(principal.to_string());
            event.before = serde_json::to_value(u).ok();
            event.justification.clone_from(&justification);
            // What they hold, scope by scope, stops (or starts again): one `rbac_grant` row per scope.
            let held: Vec<GrantTerms> = o.grants_of(&principal).into_iter().filter(|g| g.expires_at.is_none_or(|e| e > ctx.now)).collect();
            let rows = |losing: bool| {
                let mut scopes: Vec<ScopeRef> = held.iter().map(|g| g.anchor.scope().clone()).collect();
                scopes.sort_by_key(|s| o.scope_path(s));
                scopes.dedup();
                let none = BTreeSet::new();
                scopes
                    .iter()
                    .filter_map(|scope| {
                        let set = o.effective_set(ix.catalogue(), &held, scope, ctx.now);
                        let sets = if losing { (&set, &none) } else { (&none, &set) };
                        let cause = json!({ "event": standing.event() });
                        rbac_event(o, &ctx.audit_actor(), &principal, scope, sets, cause, justification.as_deref())
                    })
                    .collect::<Vec<_>>()
            };
            let (changes, audit) = match (standing, u.status) {
                (Standing::Suspend, UserStatus::Suspended) => {
                    return Err(ServiceError::Conflict(format!("`{}` is already suspended; resume them to lift it", u.email)))
                }
                (Standing::Resume, UserStatus::Active) => {
                    return Err(ServiceError::Conflict(format!("`{}` is not suspended", u.email)));
                }
                (Standing::Suspend | Standing::Resume, _) => {
                    let status = if standing == Standing::Suspend { UserStatus::Suspended } else { UserStatus::Active };
                    event.after = Some(json!({ "status": status }));
                    let change = Change::UserStatusChanged { org: ctx.org.clone(), user: u.id.clone(), status };
                    (vec![change], std::iter::once(event).chain(rows(standing == Standing::Suspend)).collect())
                }
                (Standing::Delete, _) => {
                    let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
                    let tokens: Vec<_> = ix
                        .credentials_of(&ctx.org, &principal)
                        .into_iter()
                        .filter(|c| c.revoked_at.is_none_or(|at| at > ctx.now))
                        .collect();
                    let mut changes: Vec<Change> = held
                        .iter()
                        .map(|g| Change::GrantRevoked { org: ctx.org.clone(), id: g.id.clone(), revocation: revocation.clone() })
                        .collect();
                    changes.extend(tokens.iter().map(|c| Change::CredentialRevoked {
                        org: ctx.org.clone(),
                        id: c.id.clone(),
                        at: ctx.now,
                    }));
                    // The keys they handed to agents end with them.
                    let delegated: Vec<_> =
                        o.api_keys().into_iter().filter(|k| k.revoked_at.is_none() && k.delegated_by.as_ref() == Some(&u.id)).collect();
                    let mut key_audit = Vec::new();
                    for k in &delegated {
                        let (more, audit, _) = super::api_keys::key_revocation(ix, o, ctx, k);
                        changes.extend(more);
                        key_audit.extend(audit);
                    }
                    changes.push(Change::UserDeleted { org: ctx.org.clone(), user: u.id.clone() });
                    let grant_ids: Vec<_> = held.iter().map(|g| &g.id).collect();
                    let token_ids: Vec<_> = tokens.iter().map(|c| &c.id).collect();
                    let key_ids: Vec<_> = delegated.iter().map(|k| &k.id).collect();
                    event.after = Some(json!({ "revoked_grants": grant_ids, "revoked_tokens": token_ids, "revoked_keys": key_ids }));
                    // A suspended user's set is already empty; their grants end all the same.
                    let rows = if u.status == UserStatus::Active { rows(true) } else { Vec::new() };
                    (changes, std::iter::once(event).chain(rows).chain(key_audit).collect())
                }
            };
            Ok((ctx.batch(permit, changes, audit), u.clone()))
        })
        .await?;
    Ok((committed.revision, before))
}
