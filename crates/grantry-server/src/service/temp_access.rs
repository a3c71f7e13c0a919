//! Temporary access instances (seed 004): a name, a role (`standard`, or `privileged`, which also
//! ignores the pools' agent quotas), agent pools, users, and an expiry in days, hours or at a time.
//! Creating one grants every user the role's pool role on every pool until the expiry, in one
//! write; the organization's limits — users and pools per instance, the longest instance, and how
//! many may be active at once (seed 004: 50, 20, 31 days, 100) — refuse a request past any of
//! them, naming the limit. An active instance cannot be modified, nor a user removed from it:
//! deleting it revokes every grant it made at once, and it is created again. Whoever creates or
//! deletes one holds `TempAccess:Manage` and, for good, what the role carries on every pool.
//! Audited as `temp_access.created` and `temp_access.deleted`, with each grant's own event.

use super::agents::record_name;
use super::members::users;
use super::pools::find_pool;
use super::{grant_event, org, revocations, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::ids::{GrantId, UserId};
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{
    Anchor, Grant, GrantSource, GrantTarget, GrantTerms, Principal, Resource, ResourceRef, ScopeRef, TempAccess, TempRole, AGENT_POOL,
    TEMP_ACCESS,
};
use grantry_core::{validate, SignedDuration, Timestamp};
use serde_json::json;

/// When an instance expires.
#[derive(Debug, Clone, Copy)]
pub enum Expiry {
    Days(u32),
    Hours(u32),
    Until(Timestamp),
}

/// An instance to create.
#[derive(Debug, Clone)]
pub struct TempSpec {
    pub name: String,
    pub role: TempRole,
    /// Pools by id or name, users by id or email.
    pub pools: Vec<String>,
    pub users: Vec<String>,
    pub expiry: Expiry,
}

/// The id of the grant instance `instance` makes to `user` on `pool`: derived from the three, so
/// the instance's grants are found exactly — never another instance's that happens to match.
fn grant_id(instance: &str, user: &str, pool: &str) -> GrantId {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{TEMP_ACCESS}\0{instance}\0{user}\0{pool}").as_bytes());
    GrantId(digest.iter().take(12).map(|b| format!("{b:02x}")).collect())
}

/// The organization's instances, newest first.
pub fn instances(o: &OrgState) -> Vec<TempAccess> {
    let mut all: Vec<TempAccess> = o.resources_of(TEMP_ACCESS).iter().filter_map(TempAccess::of).collect();
    all.sort_by(|a, b| b.starts_at.cmp(&a.starts_at).then_with(|| a.id.cmp(&b.id)));
    all
}

/// The instance `text` names: its id, or its name when one instance has it.
pub fn find_instance(o: &OrgState, text: &str) -> Result<TempAccess> {
    let missing = || {
        ServiceError::NotFound(format!("no temporary access instance `{}`; `grantry temp-access list` shows them", validate::shown(text)))
    };
    if let Some(t) = o.resource(&ResourceRef::new(TEMP_ACCESS, text.trim())).and_then(|r| TempAccess::of(&r)) {
        return Ok(t);
    }
    let key = validate::name_key(text);
    let mut named = instances(o).into_iter().filter(|t| validate::name_key(&t.name) == key);
    match (named.next(), named.next()) {
        (Some(t), None) => Ok(t),
        (Some(_), Some(_)) => Err(ServiceError::Invalid {
            field: "id".into(),
            message: format!("several instances are named `{}`; give the id (`grantry temp-access list`)", validate::shown(text)),
        }),
        _ => Err(missing()),
    }
}

fn limit(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid { field: field.into(), message }
}

/// When an instance asked for now expires, within the organization's longest.
fn expires_at(expiry: Expiry, now: Timestamp, longest: SignedDuration) -> Result<Timestamp> {
    let length = match expiry {
        Expiry::Days(n) => SignedDuration::from_hours(i64::from(n) * 24),
        Expiry::Hours(n) => SignedDuration::from_hours(i64::from(n)),
        Expiry::Until(t) => now.duration_until(t),
    };
    if length <= SignedDuration::ZERO {
        return Err(limit("expiration", "the instance would end before it starts; give days, hours or a time in the future".into()));
    }
    if length > longest {
        let days = longest.as_hours() / 24;
        return Err(limit(
            "expiration",
            format!(
                "an instance may last at most {days} days (temp_access_max_duration, {}); ask for less",
                grantry_core::duration::format_iso(longest)
            ),
        ));
    }
    now.checked_add(length).map_err(|e| limit("expiration", format!("cannot add {length:?} to now: {e}")))
}

/// The pools' resources, each once; at most `max` of them.
fn pool_resources(o: &OrgState, texts: &[String], max: usize) -> Result<Vec<Resource>> {
    let too_many = |n: usize| limit("poolIds", format!("give 1 to {max} agent pools (temp_access_max_pools); {n} were given"));
    // Each name is looked up once, and no more than a few times the limit are looked at.
    if texts.is_empty() || texts.len() > max.saturating_mul(4).max(100) {
        return Err(too_many(texts.len()));
    }
    let mut seen_text: Vec<&str> = Vec::with_capacity(texts.len());
    let mut out: Vec<Resource> = Vec::new();
    for text in texts {
        if seen_text.contains(&text.as_str()) {
            continue;
        }
        seen_text.push(text);
        let pool = find_pool(o, text).map_err(ServiceError::named_in("poolIds"))?;
        if let Some(r) = o.resource(&pool.reference()).filter(|r| !out.iter().any(|seen| seen.reference == r.reference)) {
            out.push(r);
        }
    }
    if out.len() > max {
        return Err(too_many(out.len()));
    }
    Ok(out)
}

/// The instance `spec` asks for, its grants and events; refused past any limit.
fn plan(
    ix: &DecisionIndex,
    ctx: &Ctx,
    spec: &TempSpec,
) -> Result<(TempAccess, Vec<Change>, Vec<grantry_core::audit::AuditDraft>, grantry_core::authz::Permit)> {
    let o = org(ix, &ctx.org)?;
    let role = ix.catalogue().role(spec.role.role())?;
    // Whoever may not make instances learns nothing of which users and pools exist.
    ctx.authorize(ix, Action::ManageTempAccess { pools: &[], role })?;
    let policy = &o.org().policy;
    let name = record_name("name", &spec.name)?;
    let (max_pools, max_users) = (policy.temp_access_max_pools as usize, policy.temp_access_max_users as usize);
    let pools = pool_resources(o, &spec.pools, max_pools)?;
    let too_many = |n: usize| limit("userIds", format!("give 1 to {max_users} users (temp_access_max_users); {n} were given"));
    if spec.users.is_empty() {
        return Err(too_many(0));
    }
    let people = users(o, "userIds", &spec.users)?;
    if people.len() > max_users {
        return Err(too_many(people.len()));
    }
    if let Some(u) = people.iter().find(|u| u.status != grantry_core::model::UserStatus::Active) {
        return Err(limit("userIds", format!("{} is suspended; resume them first, or leave them out", u.email)));
    }
    let expires_at = expires_at(spec.expiry, ctx.now, policy.temp_access_max_duration)?;
    let permit = ctx.authorize(ix, Action::ManageTempAccess { pools: &pools, role })?;
    let live: Vec<TempAccess> = instances(o).into_iter().filter(|t| t.is_active(ctx.now)).collect();
    if let Some(same) = live.iter().find(|t| validate::name_key(&t.name) == validate::name_key(&name)) {
        return Err(ServiceError::Conflict(format!(
            "an active instance is already named `{}` (id `{}`); choose another name, or delete that one first",
            same.name, same.id
        )));
    }
    let active = live.len();
    if active >= policy.temp_access_max_active as usize {
        return Err(ServiceError::Conflict(format!(
            "{active} temporary access instances are active, this organization's limit (temp_access_max_active); delete one, or wait for one to expire"
        )));
    }
    let instance = TempAccess {
        id: new_id()?,
        name,
        role: spec.role,
        starts_at: ctx.now,
        expires_at,
        users: people.iter().map(|u| u.id.0.clone()).collect(),
        pools: pools.iter().map(|p| p.reference.id.clone()).collect(),
        created_by: ctx.audit_actor().to_string(),
    };
    let resource = Resource {
        org: ctx.org.clone(),
        reference: instance.reference(),
        parent: None,
        scope: ScopeRef::Org,
        attributes: instance.attributes(),
        created_at: ctx.now,
    };
    let mut changes = vec![Change::ResourceRegistered { resource }];
    let mut audit = vec![];
    for u in &people {
        for p in &pools {
            let grant = Grant {
                id: grant_id(&instance.id, u.id.as_str(), &p.reference.id),
                org: ctx.org.clone(),
                principal: Principal::User(u.id.clone()),
                target: GrantTarget::Role { role: spec.role.role().to_owned() },
                anchor: Anchor::Resource(p.reference.clone()),
                starts_at: ctx.now,
                expires_at: Some(expires_at),
                justification: Some(format!("temporary access `{}`", instance.name)),
                tags: vec![format!("{TEMP_ACCESS}:{}", instance.id)],
                creator: ctx.audit_actor(),
                source: GrantSource::TemporaryAccessInstance,
                created_at: ctx.now,
                revoked: None,
            };
            audit.push(grant_event(&ctx.audit_actor(), "grant.created", &grant));
            changes.push(Change::GrantCreated { grant });
        }
    }
    let mut d = grantry_core::audit::AuditDraft::new(&ctx.audit_actor(), "temp_access.created", TEMP_ACCESS, &instance.id);
    d.after = Some(shape(o, &instance));
    audit.insert(0, d);
    Ok((instance, changes, audit, permit))
}

/// The instance as the audit log keeps it: names and emails beside the ids.
fn shape(o: &OrgState, t: &TempAccess) -> serde_json::Value {
    let emails: Vec<String> =
        t.users.iter().map(|id| o.user(&UserId(id.clone())).map_or_else(|| id.clone(), |u| u.email.clone())).collect();
    let pools: Vec<String> = t.pools.iter().map(|id| find_pool(o, id).map_or_else(|_| id.clone(), |p| p.name)).collect();
    json!({ "id": t.id, "name": t.name, "role": t.role.name(), "pools": pools, "poolIds": t.pools, "users": emails, "userIds": t.users,
            "startsAt": t.starts_at, "expiresAt": t.expires_at })
}

/// Creates the instance `spec` asks for.
pub async fn create_temp_access(state: &AppState, ctx: &Ctx, spec: &TempSpec) -> Result<(u64, TempAccess)> {
    let (committed, instance) = state
        .write_as(ctx, |ix, ctx| {
            let (instance, changes, audit, permit) = plan(ix, ctx, spec)?;
            Ok((ctx.batch(permit, changes, audit), instance))
        })
        .await?;
    Ok((committed.revision, instance))
}

/// The live grants instance `t` made.
pub fn grants_of(o: &OrgState, t: &TempAccess) -> Vec<GrantTerms> {
    t.users.iter().flat_map(|u| t.pools.iter().filter_map(move |p| o.grant(&grant_id(&t.id, u, p)))).collect()
}

/// Deletes the instance `text` names: every grant it made is revoked in the same write.
pub async fn delete_temp_access(state: &AppState, ctx: &Ctx, text: &str) -> Result<(u64, TempAccess, usize)> {
    let (committed, (gone, revoked)) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let role = ix.catalogue().role(TempRole::Standard.role())?;
            ctx.authorize(ix, Action::ManageTempAccess { pools: &[], role })?;
            let t = find_instance(o, text)?;
            let role = ix.catalogue().role(t.role.role())?;
            let pools: Vec<Resource> = t.pools.iter().filter_map(|p| o.resource(&ResourceRef::new(AGENT_POOL, p))).collect();
            let permit = ctx.authorize(ix, Action::ManageTempAccess { pools: &pools, role })?;
            let grants = grants_of(o, &t);
            let (mut changes, revoked) = revocations(ctx, &grants);
            changes.push(Change::ResourceRemoved { org: ctx.org.clone(), reference: t.reference() });
            let mut d = grantry_core::audit::AuditDraft::new(&ctx.audit_actor(), "temp_access.deleted", TEMP_ACCESS, &t.id);
            d.before = Some(shape(o, &t));
            d.after = Some(json!({ "revoked_grants": grants.iter().map(|g| g.id.as_str()).collect::<Vec<_>>() }));
            let mut audit = vec![d];
            audit.extend(revoked);
            Ok((ctx.batch(permit, changes, audit), (t, grants.len())))
        })
        .await?;
    Ok((committed.revision, gone, revoked))
}

/// The refusal of any change to instance `text`: an active one is deleted and created again.
pub fn refuse_change(ix: &DecisionIndex, ctx: &Ctx, text: &str) -> ServiceError {
    let allowed = ix
        .catalogue()
        .role(TempRole::Standard.role())
        .map_err(ServiceError::from)
        .and_then(|role| ctx.authorize(ix, Action::ManageTempAccess { pools: &[], role }));
    let found = allowed.and_then(|_| org(ix, &ctx.org)).and_then(|o| find_instance(o, text));
    match found {
        Err(e) => e,
        Ok(t) if t.is_active(ctx.now) => ServiceError::Conflict(format!(
            "temporary access instance `{}` is active: it cannot be modified, and no user can be removed from it; delete it (its grants end at once) and create it again",
            t.name
        )),
        Ok(t) => ServiceError::Conflict(format!("temporary access instance `{}` has expired; create a new one", t.name)),
    }
}
