//! Users and their tokens.

use super::roles::role_grant;
use super::{grant_event, org, Ctx};
use crate::ids::{new_id, new_secret};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::catalogue::Tier;
use grantry_core::change::Change;
use grantry_core::ids::{TokenId, UserId};
use grantry_core::index::DecisionIndex;
use grantry_core::model::{Credential, GrantSource, Principal, ScopeRef, User, UserStatus};
use grantry_core::secret::hash_secret;
use grantry_core::{validate, SignedDuration, Timestamp};

/// A token as issued: its id, its secret (shown once) and its end.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: TokenId,
    pub secret: String,
    pub credential: Credential,
}

/// Creates a user holding the organization-tier `role` permanently, and optionally a token.
/// The actor needs `User:Create`, and its own permanent permissions must cover the role's.
pub async fn create_user(
    state: &AppState,
    ctx: &Ctx,
    email: &str,
    role: &str,
    with_token: bool,
) -> Result<(u64, User, Option<IssuedToken>)> {
    let (committed, out) = state
        .write_as(ctx, |ix, ctx| {
            let role_def = ix.catalogue().role(role)?;
            let permit = ctx.authorize(ix, Action::CreateUser { role: role_def })?;
            let (user, mut changes, mut audit) = plan_user(ix, ctx, email, role)?;
            let token = if with_token {
                let t = new_token(ctx, &user.id, Some(for_another(None)?))?;
                audit.push(token_event(ctx, "token.issued", &t.credential));
                changes.push(Change::CredentialIssued { credential: t.credential.clone() });
                Some(t)
            } else {
                None
            };
            Ok((ctx.batch(permit, changes, audit), (user, token)))
        })
        .await?;
    Ok((committed.revision, out.0, out.1))
}

/// The changes and audit events that create user `email` holding the organization role `role`
/// (the caller authorizes it): refused for a malformed or taken email, or a role of another tier.
pub(super) fn plan_user(ix: &DecisionIndex, ctx: &Ctx, email: &str, role: &str) -> Result<(User, Vec<Change>, Vec<AuditDraft>)> {
    let o = org(ix, &ctx.org)?;
    let role_def = ix.catalogue().role(role)?;
    let email = validate::email(email)?;
    if role_def.tier != Tier::Organization {
        return Err(ServiceError::Invalid { field: "role".into(), message: format!("`{role}` is not an organization role") });
    }
    if o.user_by_email(&email).is_some() {
        return Err(ServiceError::Conflict(format!("a user with email `{email}` already exists in this organization")));
    }
    let user = User { id: UserId(new_id()?), org: ctx.org.clone(), email, status: UserStatus::Active, created_at: ctx.now };
    let principal = Principal::User(user.id.clone());
    let grant = role_grant(ctx, principal, role, ScopeRef::Org, None, None, GrantSource::Manual)?;
    let mut created = AuditDraft::new(&ctx.audit_actor(), "user.created", "user", user.id.as_str());
    created.principal = Some(Principal::User(user.id.clone()).to_string());
    created.after = serde_json::to_value(&user).ok();
    let changes = vec![Change::UserCreated { user: user.clone() }, Change::GrantCreated { grant: grant.clone() }];
    let audit = vec![created, grant_event(&ctx.audit_actor(), "grant.created", &grant)];
    Ok((user, changes, audit))
}

/// How long a token minted for someone else lasts by default, and at most: it acts as them, and
/// whatever they come to hold later, so it must not outlive the moment it was checked for long.
const TOKEN_FOR_ANOTHER: SignedDuration = SignedDuration::from_hours(8);
const TOKEN_FOR_ANOTHER_MAX: SignedDuration = SignedDuration::from_hours(24);

/// The lifetime of a token minted for someone else: `ttl`, or eight hours; at most a day.
fn for_another(ttl: Option<SignedDuration>) -> Result<SignedDuration> {
    let ttl = ttl.unwrap_or(TOKEN_FOR_ANOTHER);
    if ttl > TOKEN_FOR_ANOTHER_MAX {
        return Err(ServiceError::Invalid {
            field: "expires_in".into(),
            message: "a token made for someone else lasts at most P1D; they can make a longer one of their own".into(),
        });
    }
    Ok(ttl)
}

pub(super) fn new_token(ctx: &Ctx, user: &UserId, ttl: Option<SignedDuration>) -> Result<IssuedToken> {
    let expires_at = ttl
        .map(|d| ctx.now.checked_add(d))
        .transpose()
        .map_err(|_| ServiceError::Invalid { field: "expires_in".into(), message: "is too long".into() })?;
    let (secret, credential) = mint(ctx, Principal::User(user.clone()), expires_at)?;
    Ok(IssuedToken { id: credential.id.clone(), secret, credential })
}

/// A new secret for `principal` and its credential, made by the context's actor: marked as minted
/// by whoever did ([`Ctx::mints_as`]), in the custody of everyone who could have held it
/// ([`Ctx::custody_for`]).
pub(super) fn mint(ctx: &Ctx, principal: Principal, expires_at: Option<Timestamp>) -> Result<(String, Credential)> {
    let secret = new_secret()?;
    let credential = Credential {
        id: TokenId(new_id()?),
        org: ctx.org.clone(),
        issued_by: ctx.mints_as(&principal),
        custody: ctx.custody_for(&principal),
        principal,
        secret_hash: hash_secret(&secret),
        created_at: ctx.now,
        expires_at: ctx.bounded(expires_at),
        revoked_at: None,
    };
    Ok((secret, credential))
}

pub(super) fn token_event(ctx: &Ctx, event_type: &str, c: &Credential) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, "token", c.id.as_str());
    d.principal = Some(c.principal.to_string());
    // The secret never reaches the log: only the record without its hash.
    d.after = Some(serde_json::json!({ "id": c.id, "expires_at": c.expires_at, "revoked_at": c.revoked_at }));
    d
}

/// Issues a token for `user` (the actor itself, or a user it may manage), valid for `ttl`.
pub async fn issue_token(state: &AppState, ctx: &Ctx, user: &UserId, ttl: Option<SignedDuration>) -> Result<(u64, IssuedToken)> {
    let (committed, token) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            // Authorized first, so whether a user exists is told only to those who may manage users.
            let permit = ctx.authorize(ix, Action::IssueToken { to: &Principal::User(user.clone()) })?;
            if o.user(user).is_none() {
                return Err(ServiceError::NotFound(format!("user `{user}` not found in this organization")));
            }
            let for_self = ctx.actor == Principal::User(user.clone());
            if !for_self
                && ix.credentials_of(&ctx.org, &Principal::User(user.clone())).iter().any(|c| c.issued_by.is_none() && c.is_live(ctx.now))
            {
                // Minting one would let the minter act, and decide requests, as them unseen.
                return Err(ServiceError::Conflict(format!(
                    "`{}` holds a token of their own, so nobody else mints one for them; they make more themselves \
                     (`grantry token create`), or, to reset their access, revoke their tokens first (`grantry token list \
                     --user-email …`, `grantry token revoke ID`), which they will notice",
                    o.user(user).map_or_else(|| user.to_string(), |u| u.email.clone())
                )));
            }
            let ttl = if for_self { ttl } else { Some(for_another(ttl)?) };
            let t = new_token(ctx, user, ttl)?;
            let audit = vec![token_event(ctx, "token.issued", &t.credential)];
            Ok((ctx.batch(permit, vec![Change::CredentialIssued { credential: t.credential.clone() }], audit), t))
        })
        .await?;
    Ok((committed.revision, token))
}

/// Exchanges the caller's token for a new one of their own, valid for `ttl` (no end when absent):
/// the new token is marked as minted by nobody else, and the presented one — with every other
/// token someone minted for them — is revoked in the same write: whoever else holds a copy cannot
/// keep using it, and if they exchanged first, the user finds their token refused at once (and the
/// audit log says when). Nobody mints for a user who holds a token of their own
/// ([`issue_token`]), so an exchange cannot be done behind a user's back unnoticed.
pub async fn exchange_token(state: &AppState, ctx: &Ctx, ttl: Option<SignedDuration>) -> Result<(u64, IssuedToken)> {
    let (committed, token) = state
        .write_as(ctx, |ix, ctx| {
            let Principal::User(user) = &ctx.actor else {
                return Err(ServiceError::Forbidden(
                    "only a user's token is exchanged; an API key gets a new secret with `grantry apikey rotate`".to_owned(),
                ));
            };
            let old = ctx
                .token
                .as_ref()
                .and_then(|id| ix.credential(id))
                .ok_or_else(|| ServiceError::Forbidden("a token is exchanged by presenting it over the API".to_owned()))?;
            let permit = ctx.authorize(ix, Action::IssueToken { to: &ctx.actor })?;
            if !old.is_live(ctx.now) {
                return Err(ServiceError::Conflict(
                    "this token was exchanged or revoked meanwhile; use the one that replaced it".to_owned(),
                ));
            }
            // Unmarked and unbounded: a token of their own, as if made with one.
            let own = Ctx { token_made_by: None, ..ctx.clone() };
            let mut t = new_token(&own, user, ttl)?;
            // Whoever minted the token exchanged could have done the exchange: they keep custody.
            if let Some(by) = old.issued_by.as_ref().filter(|by| !t.credential.custody.contains(by)) {
                t.credential.custody.push(by.clone());
            }
            let mut exchanged = token_event(ctx, "token.exchanged", &t.credential);
            exchanged.before = Some(serde_json::json!({ "id": old.id, "issued_by": old.issued_by.as_ref().map(ToString::to_string) }));
            let (mut changes, mut audit) = (vec![Change::CredentialIssued { credential: t.credential.clone() }], vec![exchanged]);
            // The presented token, and every other someone minted for them: whoever holds a copy
            // is shut out, and if that was not the user, the user finds their token refused.
            let minted = ix.credentials_of(&ctx.org, &ctx.actor).into_iter().filter(|c| c.issued_by.is_some() && c.is_live(ctx.now));
            for c in std::iter::once(old).chain(minted.filter(|c| c.id != old.id)) {
                let mut revoked = c.clone();
                revoked.revoked_at = Some(ctx.now);
                audit.push(token_event(ctx, "token.revoked", &revoked));
                changes.push(Change::CredentialRevoked { org: ctx.org.clone(), id: c.id.clone(), at: ctx.now });
            }
            Ok((ctx.batch(permit, changes, audit), t))
        })
        .await?;
    Ok((committed.revision, token))
}

/// Revokes a token: one's own, or one of a user the actor may manage.
pub async fn revoke_token(state: &AppState, ctx: &Ctx, id: &TokenId) -> Result<u64> {
    let (committed, ()) = state
        .write_as(ctx, |ix: &DecisionIndex, ctx: &Ctx| {
            let cred =
                ix.credential(id).filter(|c| c.org == ctx.org).ok_or_else(|| ServiceError::NotFound(format!("token `{id}` not found")))?;
            let permit = ctx.authorize(ix, Action::ManageUser { target: &cred.principal })?;
            if cred.revoked_at.is_some_and(|at| at <= ctx.now) {
                return Err(ServiceError::Conflict(format!("token `{id}` is already revoked")));
            }
            let mut revoked = cred.clone();
            revoked.revoked_at = Some(ctx.now);
            let audit = vec![token_event(ctx, "token.revoked", &revoked)];
            Ok((ctx.batch(permit, vec![Change::CredentialRevoked { org: ctx.org.clone(), id: id.clone(), at: ctx.now }], audit), ()))
        })
        .await?;
    Ok(committed.revision)
}
