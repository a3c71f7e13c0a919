//! API keys of projects (seed 002): a key is a principal that acts only within its project and
//! its scopes. Each scope is a permanent grant to the key anchored at the project, so adding or
//! removing a scope is a grant or a revocation, decided like any other; the secret is shown once
//! and stored hashed. Creating, editing and revoking a key write `apikey.*` events and an
//! `rbac_grant` row with the key's scopes before and after. Rotating a key issues a new secret and
//! lets the old ones work for a grace period the caller gives.

use super::rbac::rbac_event;
use super::scopes::find;
use super::users::token_event;
use super::{org, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::{Action, Permit};
use grantry_core::catalogue::{carried_grant, perm, Catalogue, PermissionKind};
use grantry_core::change::Change;
use grantry_core::ids::{ApiKeyId, GrantId};
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{Anchor, ApiKey, Credential, Grant, GrantSource, GrantTarget, Principal, Revocation, ScopeKind, ScopeRef};
use grantry_core::{SignedDuration, Timestamp};
use serde_json::json;
use std::collections::BTreeSet;

/// The admin permissions a key may carry besides data permissions: capturing traces, for ingestion.
const KEY_ADMIN_SCOPES: [&str; 1] = [perm::TRACE_CAPTURE];

/// A key's name: at most 100 printable characters, not blank.
fn key_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(grantry_core::validate::is_hostile) {
        return Err(ServiceError::Invalid { field: "name".into(), message: "must be 1 to 100 printable characters".into() });
    }
    Ok(name.to_owned())
}

/// What to change about a key: scopes to add and remove, and a new name.
#[derive(Debug, Clone, Default)]
pub struct KeyEdit {
    pub add: Vec<String>,
    pub remove: Vec<String>,
    pub name: Option<String>,
}

/// A key as made: the record, its scopes, and its secret (shown once).
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub scopes: BTreeSet<String>,
    pub secret: String,
}

/// The scopes `key` carries at `now`: the permissions of its grants in force.
pub fn key_scopes(o: &OrgState, cat: &Catalogue, key: &ApiKey, now: Timestamp) -> BTreeSet<String> {
    o.effective_set(cat, o.grants_of(&Principal::ApiKey(key.id.clone())), &ScopeRef::Project(key.project.clone()), now)
}

/// Checks that each of `scopes` may be a key's scope, and returns them without repeats.
fn valid_scopes(cat: &Catalogue, scopes: &[String]) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for s in scopes {
        let p = cat.permission(s.trim()).map_err(|_| ServiceError::Invalid {
            field: "scope".into(),
            message: format!(
                "unknown scope `{s}`; a scope is a permission such as traces:read or traces:read:prod (the catalogue lists them)"
            ),
        })?;
        if p.kind == PermissionKind::Admin && !KEY_ADMIN_SCOPES.contains(&p.name.as_str()) {
            return Err(ServiceError::Invalid {
                field: "scope".into(),
                message: format!(
                    "`{}` manages the organization and cannot be an API key's scope; keys carry data permissions and Trace:Capture",
                    p.name
                ),
            });
        }
        out.insert(p.name.clone());
    }
    Ok(out)
}

/// Scope `scope` of `key` at `project`, until the key ends.
fn scope_grant(ctx: &Ctx, key: &ApiKey, project: &ScopeRef, scope: &str) -> Result<Grant> {
    Ok(Grant {
        id: GrantId(new_id()?),
        org: ctx.org.clone(),
        principal: Principal::ApiKey(key.id.clone()),
        target: GrantTarget::Permission { grant: carried_grant(scope) },
        anchor: Anchor::Scope(project.clone()),
        starts_at: ctx.now,
        expires_at: key.expires_at,
        justification: None,
        tags: vec![],
        creator: ctx.audit_actor(),
        source: GrantSource::Manual,
        created_at: ctx.now,
        revoked: None,
    })
}

fn key_event(ctx: &Ctx, event_type: &str, key: &ApiKey, scopes: &BTreeSet<String>) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, "api_key", key.id.as_str());
    d.principal = Some(Principal::ApiKey(key.id.clone()).to_string());
    d.after = Some(json!({ "key": key, "scopes": scopes }));
    d
}

/// A key a user hands their own access through, to an agent: it never allows what the user may
/// not do at the moment of a check, and ends when their access does.
#[derive(Debug, Clone, Default)]
pub struct Delegation {
    /// ISO 8601: how long the key lasts (at most the organization's longest grant; without one,
    /// as long as the user's access).
    pub duration: Option<String>,
}

/// Creates a key of project `project` (`WS/PRJ`) carrying `scopes`: a project's key, made by
/// whoever manages its keys; or, with `delegation`, the caller's own access handed to an agent.
pub async fn create_key(
    state: &AppState,
    ctx: &Ctx,
    project: &str,
    scopes: &[String],
    name: Option<&str>,
    delegation: Option<&Delegation>,
) -> Result<(u64, CreatedKey)> {
    let (committed, created) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let cat = ix.catalogue();
            let node = find(o, &ctx.actor, ScopeKind::Project, project)?;
            let at = node.as_ref();
            if delegation.is_none() {
                ctx.authorize(ix, Action::ManageApiKeys { project: &at })?;
            }
            if scopes.is_empty() {
                return Err(ServiceError::Invalid { field: "scopes".into(), message: "give the key at least one scope".into() });
            }
            let scopes = valid_scopes(cat, scopes)?;
            let named: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let permit = match delegation {
                None => ctx.authorize(ix, Action::ChangeKeyScopes { project: &at, scopes: &named })?,
                Some(_) => ctx.authorize(ix, Action::DelegateKey { project: &at, scopes: &named })?,
            };
            let lasts = delegation
                .and_then(|d| d.duration.as_deref())
                .map(|text| grantry_core::duration::parse_grant_duration(text, o.org().policy.max_grant_duration))
                .transpose()?;
            let expires_at = ctx.bounded(
                lasts
                    .map(|d| ctx.now.checked_add(d))
                    .transpose()
                    .map_err(|e| ServiceError::Invalid { field: "duration".into(), message: e.to_string() })?,
            );
            let delegated_by = match (&ctx.actor, delegation) {
                (Principal::User(me), Some(_)) => Some(me.clone()),
                _ => None,
            };
            let name = match name.map(str::trim) {
                None | Some("") => format!("{project} key"),
                Some(n) => key_name(n)?,
            };
            let key = ApiKey {
                id: ApiKeyId(new_id()?),
                org: ctx.org.clone(),
                name,
                project: node.id.clone(),
                created_by: ctx.audit_actor(),
                created_at: ctx.now,
                revoked_at: None,
                delegated_by,
                expires_at,
            };
            let (secret, credential) = super::users::mint(ctx, Principal::ApiKey(key.id.clone()), expires_at)?;
            let mut changes = vec![Change::ApiKeyCreated { key: key.clone() }, Change::CredentialIssued { credential: credential.clone() }];
            for s in &scopes {
                changes.push(Change::GrantCreated { grant: scope_grant(ctx, &key, &at, s)? });
            }
            let created = if key.delegated_by.is_some() { "apikey.delegated" } else { "apikey.created" };
            let mut audit = vec![key_event(ctx, created, &key, &scopes), token_event(ctx, "token.issued", &credential)];
            let principal = Principal::ApiKey(key.id.clone());
            audit.extend(rbac_event(
                o,
                &ctx.audit_actor(),
                &principal,
                &at,
                (&BTreeSet::new(), &scopes),
                json!({ "event": "apikey.created" }),
                None,
            ));
            Ok((ctx.batch(permit, changes, audit), CreatedKey { key, scopes, secret }))
        })
        .await?;
    Ok((committed.revision, created))
}

/// The key `id`, not revoked, whose project the actor may manage keys of; with its project and
/// its scopes now.
fn managed_key<'a>(
    ix: &'a DecisionIndex,
    o: &'a OrgState,
    ctx: &Ctx,
    id: &ApiKeyId,
) -> Result<(&'a ApiKey, ScopeRef, BTreeSet<String>, Permit)> {
    keyed(ix, o, ctx, id, false)
}

/// The key `id`, not revoked, if the actor manages its project's keys (or, `revoking`, delegated
/// it); with its project and scopes now.
fn keyed<'a>(
    ix: &'a DecisionIndex,
    o: &'a OrgState,
    ctx: &Ctx,
    id: &ApiKeyId,
    revoking: bool,
) -> Result<(&'a ApiKey, ScopeRef, BTreeSet<String>, Permit)> {
    let key = o
        .api_key(id)
        .ok_or_else(|| ServiceError::NotFound(format!("api key `{id}` not found in this organization; list the keys to find it")))?;
    let project = ScopeRef::Project(key.project.clone());
    let permit = if revoking {
        ctx.authorize(ix, Action::RevokeOwnKey { key })?
    } else {
        ctx.authorize(ix, Action::ManageApiKeys { project: &project })?
    };
    if let Some(at) = key.revoked_at {
        return Err(ServiceError::Conflict(format!("api key `{id}` was revoked at {at}; create a new key instead")));
    }
    Ok((key, ScopeRef::Project(key.project.clone()), key_scopes(o, ix.catalogue(), key, ctx.now), permit))
}

/// Adds and removes scopes of key `id` (it keeps at least one) and renames it, in one change.
pub async fn edit_key(state: &AppState, ctx: &Ctx, id: &ApiKeyId, edit: &KeyEdit) -> Result<(u64, ApiKey, BTreeSet<String>)> {
    let (committed, out) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let cat = ix.catalogue();
            let (key, at, prior, permit) = managed_key(ix, o, ctx, id)?;
            let (add, remove) = (valid_scopes(cat, &edit.add)?, valid_scopes(cat, &edit.remove)?);
            let name = edit.name.as_deref().map(key_name).transpose()?;
            if add.is_empty() && remove.is_empty() && name.is_none() {
                return Err(ServiceError::Invalid {
                    field: "add_scopes".into(),
                    message: "nothing to change; add or remove a scope, or give a new name".into(),
                });
            }
            // Renaming to the name it has is nothing to do (alone, a conflict).
            let name = name.filter(|n| n != &key.name);
            if name.is_none() && add.is_empty() && remove.is_empty() {
                return Err(ServiceError::Conflict(format!("api key `{id}` is already named `{}`", key.name)));
            }
            let listed = prior.iter().cloned().collect::<Vec<_>>().join(", ");
            if let Some(s) = add.iter().find(|s| prior.contains(*s)) {
                return Err(ServiceError::Conflict(format!("api key `{id}` already carries `{s}` (its scopes: {listed})")));
            }
            if let Some(s) = remove.iter().find(|s| !prior.contains(*s)) {
                return Err(ServiceError::NotFound(format!("api key `{id}` does not carry `{s}`; its scopes: {listed}")));
            }
            let new: BTreeSet<String> = prior.difference(&remove).chain(add.iter()).cloned().collect();
            if new.is_empty() {
                return Err(ServiceError::Invalid {
                    field: "remove_scopes".into(),
                    message: format!("this would leave api key `{id}` with no scope; revoke the key instead"),
                });
            }
            let changed: Vec<&str> = add.iter().chain(remove.iter()).map(String::as_str).collect();
            let permit =
                if changed.is_empty() { permit } else { ctx.authorize(ix, Action::ChangeKeyScopes { project: &at, scopes: &changed })? };
            let mut changes = Vec::new();
            let mut renamed = key.clone();
            if let Some(name) = name {
                changes.push(Change::ApiKeyRenamed { org: ctx.org.clone(), id: id.clone(), name: name.clone() });
                renamed.name = name;
            }
            for s in &add {
                changes.push(Change::GrantCreated { grant: scope_grant(ctx, key, &at, s)? });
            }
            let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
            let gone = o.grants_of(&Principal::ApiKey(id.clone())).into_iter().filter(|g| {
                g.is_active(ctx.now) && matches!(&g.target, GrantTarget::Permission { grant } if remove.contains(&grant.permission))
            });
            changes.extend(gone.map(|g| Change::GrantRevoked { org: ctx.org.clone(), id: g.id.clone(), revocation: revocation.clone() }));
            let mut audit = vec![key_event(ctx, "apikey.updated", &renamed, &new)];
            audit[0].before = Some(json!({ "key": key, "scopes": prior }));
            let cause = json!({ "event": "apikey.updated", "added": add, "removed": remove });
            audit.extend(rbac_event(o, &ctx.audit_actor(), &Principal::ApiKey(id.clone()), &at, (&prior, &new), cause, None));
            Ok((ctx.batch(permit, changes, audit), (renamed, new)))
        })
        .await?;
    Ok((committed.revision, out.0, out.1))
}

/// The longest grace period a rotated-out secret may keep working.
pub const MAX_ROTATION_GRACE: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Rotates key `id`'s secret: a new one (shown once), and every secret it had keeps working for
/// `grace` more (none: `PT0S`), then is refused.
pub async fn rotate_key(state: &AppState, ctx: &Ctx, id: &ApiKeyId, grace: SignedDuration) -> Result<(u64, ApiKey, String, Timestamp)> {
    if grace.is_negative() || grace > MAX_ROTATION_GRACE {
        return Err(ServiceError::Invalid {
            field: "grace".into(),
            message: format!("give a grace period from PT0S to {}", grantry_core::duration::format_iso(MAX_ROTATION_GRACE)),
        });
    }
    let (committed, (key, secret, until)) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let (key, _, scopes, permit) = managed_key(ix, o, ctx, id)?;
            let until = ctx.now.checked_add(grace).map_err(|e| ServiceError::Internal(e.to_string()))?;
            let principal = Principal::ApiKey(id.clone());
            let retiring: Vec<&Credential> = ix
                .credentials_of(&ctx.org, &principal)
                .into_iter()
                .filter(|c| c.revoked_at.is_none_or(|at| at > until) && c.expires_at.is_none_or(|at| at > ctx.now))
                .collect();
            let (secret, credential) = super::users::mint(ctx, principal.clone(), key.expires_at)?;
            let mut changes: Vec<Change> =
                retiring.iter().map(|c| Change::CredentialRevoked { org: ctx.org.clone(), id: c.id.clone(), at: until }).collect();
            changes.push(Change::CredentialIssued { credential: credential.clone() });
            let mut event = key_event(ctx, "apikey.rotated", key, &scopes);
            event.after = Some(json!({
                "key": key,
                "new_token": credential.id,
                "retired_tokens": retiring.iter().map(|c| &c.id).collect::<Vec<_>>(),
                "grace": grantry_core::duration::format_iso(grace),
                "old_secrets_until": until,
            }));
            let audit = vec![event, token_event(ctx, "token.issued", &credential)];
            Ok((ctx.batch(permit, changes, audit), (key.clone(), secret, until)))
        })
        .await?;
    Ok((committed.revision, key, secret, until))
}

/// Revokes key `id`: its secret stops authenticating and its scopes stop on the next request.
pub async fn revoke_key(state: &AppState, ctx: &Ctx, id: &ApiKeyId) -> Result<(u64, ApiKey)> {
    let (committed, key) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            // Whoever delegated a key may revoke it; project keys, their managers.
            let (key, _, _, permit) = keyed(ix, o, ctx, id, true)?;
            let (changes, audit, revoked) = key_revocation(ix, o, ctx, key);
            Ok((ctx.batch(permit, changes, audit), revoked))
        })
        .await?;
    Ok((committed.revision, key))
}

/// What revoking `key` changes and records (its secrets, its scopes, the key), and the key after.
pub(super) fn key_revocation(ix: &DecisionIndex, o: &OrgState, ctx: &Ctx, key: &ApiKey) -> (Vec<Change>, Vec<AuditDraft>, ApiKey) {
    let principal = Principal::ApiKey(key.id.clone());
    let (at, prior) = (ScopeRef::Project(key.project.clone()), key_scopes(o, ix.catalogue(), key, ctx.now));
    let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
    let mut changes = vec![Change::ApiKeyRevoked { org: ctx.org.clone(), id: key.id.clone(), at: ctx.now }];
    for c in ix.credentials_of(&ctx.org, &principal).into_iter().filter(|c| c.revoked_at.is_none_or(|at| at > ctx.now)) {
        changes.push(Change::CredentialRevoked { org: ctx.org.clone(), id: c.id.clone(), at: ctx.now });
    }
    for g in o.grants_of(&principal).iter().filter(|g| g.is_active(ctx.now)) {
        changes.push(Change::GrantRevoked { org: ctx.org.clone(), id: g.id.clone(), revocation: revocation.clone() });
    }
    let mut revoked = key.clone();
    revoked.revoked_at = Some(ctx.now);
    let mut audit = vec![key_event(ctx, "apikey.revoked", &revoked, &BTreeSet::new())];
    audit[0].before = Some(json!({ "key": key, "scopes": prior }));
    audit.extend(rbac_event(
        o,
        &ctx.audit_actor(),
        &principal,
        &at,
        (&prior, &BTreeSet::new()),
        json!({ "event": "apikey.revoked" }),
        None,
    ));
    (changes, audit, revoked)
}
