//! Access requests: a user asks, for themselves, for a role or a set of data permissions on one
//! or more targets (scope nodes or registered resources), for a duration, with a justification —
//! and a ticket reference where the deciding policy wants one. The policy approves it at once
//! (auto-approve, or break-glass: flagged and reviewed afterwards), or it waits for its stages.
//! Nobody decides their own request or approves one twice; approval hands out only what the
//! policy's author (or, without a policy, the approver) holds for good at every target. The clock
//! starts at approval, or at the booked start if that is later; a pending request lapses at its
//! policy's timeout. The requester may cancel a pending request or give an approved one back; an
//! approver denies or revokes. Each step is one write with its `access_request.*` event; the
//! grants are ordinary grants (source `access_request`, tag `access_request:ID`) whose ids derive
//! from the request, so the request always finds exactly its own.

use super::policy_reach::deciding;
use super::request_policies::{ticket_matches, DEFAULT_PENDING};
use super::{grant_event, org, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::attr::AttrValue;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::{self, Action, Permit};
use grantry_core::catalogue::{PermissionGrant, Tier};
use grantry_core::change::Change;
use grantry_core::ids::{GrantId, UserId};
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::records::RECORD_KINDS;
use grantry_core::model::{
    AccessRequest, Anchor, Grant, GrantSource, GrantTarget, GrantTerms, Granted, Principal, RequestState, Requested, Resource, ResourceRef,
    ScopeRef, Stage, UserStatus, ACCESS_REQUEST,
};
use grantry_core::model::{TEMP_ACCESS, WATCHED};
use grantry_core::{validate, SignedDuration, Timestamp};

/// The most targets one request may name, and the most permissions it may ask for.
pub const MAX_TARGETS: usize = 20;
pub const MAX_PERMISSIONS: usize = 20;
/// The most requests one user may have pending at once.
pub const MAX_PENDING_PER_USER: usize = 50;
/// How far ahead access may be booked.
const LONGEST_BOOKING: SignedDuration = SignedDuration::from_hours(31 * 24);
/// The longest ticket reference.
const MAX_TICKET: usize = 100;

/// A request as asked.
#[derive(Debug, Clone, Default)]
pub struct RequestSpec {
    pub role: Option<String>,
    pub permissions: Vec<String>,
    /// Each a scope path (`org`, `WS`, `WS/PRJ`, `WS/PRJ/ENV`) or a resource as `TYPE:ID`.
    pub targets: Vec<String>,
    /// ISO 8601; the organization's default grant duration when absent.
    pub duration: Option<String>,
    pub start: Option<Timestamp>,
    pub justification: String,
    pub ticket: Option<String>,
    pub break_glass: bool,
    /// A permission the request carries whose first allowed check ends its access.
    pub single_use: Option<String>,
}

pub(super) fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid { field: field.into(), message }
}

/// The refusal of a request that is not there, or not to be seen by the caller.
pub(super) fn missing(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no access request `{}`; `grantry access list` shows yours", validate::shown(id)))
}

/// The requests of the organization, newest first.
pub fn requests(o: &OrgState) -> Vec<AccessRequest> {
    let mut all: Vec<AccessRequest> = o.resources_of(ACCESS_REQUEST).iter().filter_map(AccessRequest::of).collect();
    all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    all
}

/// The request with id `id`.
pub fn find_request(o: &OrgState, id: &str) -> Result<AccessRequest> {
    o.resource(&ResourceRef::new(ACCESS_REQUEST, id.trim())).and_then(|r| AccessRequest::of(&r)).ok_or_else(|| missing(id))
}

/// Whether the caller may see `r`: everyone's requests with `Role:ListTemporaryPermissionGrants`;
/// otherwise their own, those they have approved, and those they may decide now.
pub fn may_see(ix: &DecisionIndex, ctx: &Ctx, r: &AccessRequest) -> bool {
    let mine = matches!(&ctx.actor, Principal::User(id) if id == &r.requester || r.ever_approved_by(id));
    let decides = || {
        let stage = match r.state(ctx.now) {
            RequestState::Pending => r.open_stage(),
            _ if r.extension_pending(ctx.now) => r.open_stage(),
            _ if r.break_glass && r.reviewed.is_none() => Some(0),
            _ => None,
        };
        stage.is_some_and(|stage| decides_in_person(ix, ctx, r, stage))
    };
    mine || ctx.authorize(ix, Action::ListRequests).is_ok() || decides()
}

/// Whether the caller, as a person, decides stage `stage` of `r` — whatever token they hold now
/// (one minted for them decides nothing until exchanged, yet lists what waits for them).
pub fn decides_in_person(ix: &DecisionIndex, ctx: &Ctx, r: &AccessRequest, stage: usize) -> bool {
    ctx.authorize(ix, Action::DecideRequest { request: r, stage, token_made_by: None, custody: &[] }).is_ok()
}

/// A target as given: a scope path, or `TYPE:ID` for a registered resource.
pub(super) fn target(o: &OrgState, text: &str) -> Result<Anchor> {
    let text = text.trim();
    validate::printable("targets", text)?;
    if let Some((kind, id)) = text.split_once(':') {
        let kind = kind.trim();
        if RECORD_KINDS.contains(&kind) || kind == TEMP_ACCESS {
            return Err(invalid("targets", format!("a `{kind}` is Grantry's own record, not something to request access to")));
        }
        let reference = ResourceRef::new(kind, id.trim());
        if o.resource(&reference).is_none() {
            return Err(invalid(
                "targets",
                format!("no registered resource `{}`; give TYPE:ID of one, or a scope path", validate::shown(text)),
            ));
        }
        return Ok(Anchor::Resource(reference));
    }
    Ok(Anchor::Scope(super::request_policies::scope_at(o, "targets", text)?))
}

/// What `spec` asks for, checked against the catalogue.
fn requested(ix: &DecisionIndex, spec: &RequestSpec) -> Result<Requested> {
    let cat = ix.catalogue();
    match (spec.role.as_deref().map(str::trim).filter(|r| !r.is_empty()), spec.permissions.is_empty()) {
        (Some(role), true) => Ok(Requested::Role(cat.role(role)?.name.clone())),
        (None, false) => {
            if spec.permissions.len() > MAX_PERMISSIONS {
                return Err(invalid(
                    "permissions",
                    format!("ask for at most {MAX_PERMISSIONS} permissions; {} were given", spec.permissions.len()),
                ));
            }
            let mut names: Vec<String> = Vec::new();
            for p in &spec.permissions {
                let grant = PermissionGrant { permission: p.trim().to_owned(), conditions: Default::default() };
                let permission = cat.validate_temporary(&grant).map_err(ServiceError::about("permissions"))?;
                if !names.contains(&permission.name) {
                    names.push(permission.name.clone());
                }
            }
            Ok(Requested::Permissions(names))
        }
        _ => Err(invalid("role", "give a role, or permissions — one of the two".into())),
    }
}

/// Refuses a role on a target of another tier.
fn fits(ix: &DecisionIndex, requested: &Requested, targets: &[Anchor]) -> Result<()> {
    let Requested::Role(name) = requested else { return Ok(()) };
    let role = ix.catalogue().role(name)?;
    for t in targets {
        let ok = matches!(
            (role.tier, t),
            (Tier::Organization, Anchor::Scope(ScopeRef::Org))
                | (Tier::Workspace, Anchor::Scope(ScopeRef::Workspace(_)))
                | (Tier::Project, Anchor::Scope(ScopeRef::Project(_)))
                | (Tier::Agent, Anchor::Resource(_))
        );
        if !ok {
            return Err(invalid(
                "targets",
                format!("`{}` is {} {} role; ask for it at {}", role.name, role.tier.article(), role.tier.name(), role.tier.place()),
            ));
        }
    }
    Ok(())
}

/// The id of the grant request `r` makes on target `i` of `permission` (or the role): derived, so
/// the request's grants are found exactly.
pub(super) fn grant_id(request: &str, i: usize, what: &str) -> GrantId {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{ACCESS_REQUEST}\0{request}\0{i}\0{what}").as_bytes());
    GrantId(digest.iter().take(12).map(|b| format!("{b:02x}")).collect())
}

/// What each target receives: the role, or each permission.
pub(super) fn pieces(r: &AccessRequest) -> Vec<(usize, String, GrantTarget)> {
    let mut out = Vec::new();
    for i in 0..r.targets.len() {
        match &r.requested {
            Requested::Role(role) => out.push((i, role.clone(), GrantTarget::Role { role: role.clone() })),
            Requested::Permissions(perms) => out.extend(perms.iter().map(|p| {
                (i, p.clone(), GrantTarget::Permission { grant: PermissionGrant { permission: p.clone(), conditions: Default::default() } })
            })),
        }
    }
    out
}

/// The live grants request `r` made.
pub fn live_grants(o: &OrgState, r: &AccessRequest) -> Vec<GrantTerms> {
    pieces(r).iter().filter_map(|(i, what, _)| o.grant(&grant_id(&r.id, *i, what))).collect()
}

/// Refuses handing out `r` beyond what its policy's author holds for good now.
pub(super) fn within_authority(ix: &DecisionIndex, ctx: &Ctx, r: &AccessRequest) -> Result<()> {
    let Some(author) = &r.authority else { return Ok(()) };
    let o = org(ix, &ctx.org)?;
    let action = Action::HandOut { requested: &r.requested, targets: &r.targets };
    authz::authorize(o, ix.catalogue(), &Principal::User(author.clone()), action, ctx.now).map(drop).map_err(|e| {
        ServiceError::Forbidden(format!(
            "the policy's author no longer holds, for good, what this request asks for ({e}); an admin must renew the policy"
        ))
    })
}

/// Approves `r` at `ctx.now`: its window, its grants and their events, within what `bound` (the
/// policy's author) holds for good.
pub(super) fn grant(
    ix: &DecisionIndex,
    ctx: &Ctx,
    r: &mut AccessRequest,
    changes: &mut Vec<Change>,
    audit: &mut Vec<AuditDraft>,
) -> Result<()> {
    let o = org(ix, &ctx.org)?;
    if o.user(&r.requester).is_none_or(|u| u.status != UserStatus::Active) {
        return Err(ServiceError::Conflict("the requester is suspended or gone; nothing can be granted to them".into()));
    }
    within_authority(ix, ctx, r)?;
    let (starts_at, expires_at) =
        r.window_from(ctx.now).ok_or_else(|| invalid("duration", "the access would end past the last representable time".into()))?;
    r.granted = Some(Granted { approved_at: ctx.now, starts_at, expires_at });
    for (i, what, target) in pieces(r) {
        let Some(anchor) = r.targets.get(i) else { continue };
        let g = Grant {
            id: grant_id(&r.id, i, &what),
            org: ctx.org.clone(),
            principal: Principal::User(r.requester.clone()),
            target,
            anchor: anchor.clone(),
            starts_at,
            expires_at: Some(expires_at),
            justification: Some(r.justification.clone()),
            tags: vec![format!("{ACCESS_REQUEST}:{}", r.id)],
            creator: ctx.audit_actor(),
            source: GrantSource::AccessRequest,
            created_at: ctx.now,
            revoked: None,
        };
        audit.push(grant_event(&ctx.audit_actor(), "grant.created", &g));
        changes.push(Change::GrantCreated { grant: g });
    }
    Ok(())
}

/// The request's audit event.
pub(super) fn event(ctx: &Ctx, event_type: &str, r: &AccessRequest) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, ACCESS_REQUEST, &r.id);
    d.principal = Some(Principal::User(r.requester.clone()).to_string());
    d.justification = Some(r.justification.clone());
    d.after = serde_json::to_value(r).ok();
    d
}

/// The resource that keeps `r`.
pub(super) fn kept(ctx: &Ctx, r: &AccessRequest) -> Resource {
    Resource {
        org: ctx.org.clone(),
        reference: r.reference(),
        parent: None,
        scope: ScopeRef::Org,
        attributes: r.attributes(),
        created_at: r.created_at,
    }
}

/// The request `spec` asks for, checked; approved at once where its policy says so.
fn plan(ix: &DecisionIndex, ctx: &Ctx, spec: &RequestSpec) -> Result<(AccessRequest, Vec<Change>, Vec<AuditDraft>, Permit)> {
    let o = org(ix, &ctx.org)?;
    let permit = ctx.authorize(ix, Action::RequestAccess)?;
    let Principal::User(requester) = &ctx.actor else { return Err(ServiceError::Forbidden("access is requested by people".into())) };
    let requested = requested(ix, spec)?;
    if spec.targets.is_empty() || spec.targets.len() > MAX_TARGETS {
        return Err(invalid("targets", format!("give 1 to {MAX_TARGETS} targets; {} were given", spec.targets.len())));
    }
    let mut targets: Vec<Anchor> = Vec::new();
    for t in &spec.targets {
        let t = target(o, t)?;
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    fits(ix, &requested, &targets)?;
    let single_use = match spec.single_use.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => {
            let carried = match &requested {
                Requested::Role(r) => ix.catalogue().role(r)?.permission_names().contains(p),
                Requested::Permissions(list) => list.iter().any(|x| x == p),
            };
            if !carried {
                return Err(invalid("singleUse", format!("`{}` is not among what this request asks for", validate::shown(p))));
            }
            Some(p.to_owned())
        }
    };
    let policy = deciding(o, &targets)?;
    if let Some(p) = policy.as_ref().filter(|p| !p.allows(&requested)) {
        return Err(ServiceError::Forbidden(format!(
            "policy `{}` decides requests for these targets, and only for {}; ask for one of them",
            p.name,
            p.requestable.join(", ")
        )));
    }
    let org_policy = &o.org().policy;
    let longest = policy.as_ref().map_or(org_policy.max_role_duration.max(org_policy.max_grant_duration), |p| p.max_duration);
    let duration =
        super::request_policies::duration("duration", spec.duration.as_deref(), org_policy.default_grant_duration.min(longest), longest)?;
    // Kept to the microsecond, as every instant here.
    let start =
        spec.start.map(|s| Timestamp::from_microsecond(s.as_microsecond())).transpose().map_err(|e| invalid("start", e.to_string()))?;
    if let Some(start) = start {
        if start <= ctx.now {
            return Err(invalid("start", "the start is not in the future; leave it out to start at approval".into()));
        }
        if ctx.now.duration_until(start) > LONGEST_BOOKING {
            return Err(invalid("start", "access may be booked at most 31 days ahead".into()));
        }
    }
    let justification =
        validate::justification(&spec.justification, org_policy.min_justification_chars, org_policy.max_justification_chars)?;
    let ticket = spec.ticket.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    if let Some(t) = &ticket {
        validate::printable("ticket", t)?;
        validate::bounded("ticket", t, MAX_TICKET)?;
    }
    if let Some(pattern) = policy.as_ref().and_then(|p| p.ticket_pattern.as_deref()) {
        let name = policy.as_ref().map(|p| p.name.as_str()).unwrap_or_default();
        match &ticket {
            Some(t) if ticket_matches(pattern, t) => {}
            Some(t) => {
                return Err(invalid(
                    "ticket",
                    format!("`{}` does not match policy `{name}`'s ticket pattern `{pattern}`", validate::shown(t)),
                ))
            }
            None => return Err(invalid("ticket", format!("policy `{name}` needs a ticket reference matching `{pattern}`"))),
        }
    }
    if spec.break_glass && !policy.as_ref().is_some_and(|p| p.break_glass) {
        return Err(ServiceError::Forbidden(
            "no request policy lets these targets be reached by breaking the glass; ask for approval".into(),
        ));
    }
    // Only the requests still watched can be pending: the others need not be read.
    let open: Vec<AccessRequest> =
        o.resources_with(ACCESS_REQUEST, WATCHED, &AttrValue::Bool(true)).iter().filter_map(AccessRequest::of).collect();
    let pending: Vec<&AccessRequest> =
        open.iter().filter(|r| &r.requester == requester && r.state(ctx.now) == RequestState::Pending).collect();
    if let Some(same) = pending.iter().find(|r| r.requested == requested && r.targets == targets) {
        return Err(ServiceError::Conflict(format!(
            "you already asked for this: request `{}` is pending; cancel it first to ask again",
            same.id
        )));
    }
    if pending.len() >= MAX_PENDING_PER_USER {
        return Err(ServiceError::Conflict(format!(
            "you have {MAX_PENDING_PER_USER} requests pending, the most one may; cancel some first"
        )));
    }
    let stages = match &policy {
        None => vec![Stage::default_single()],
        Some(p) => p.stages.clone(),
    };
    let authority = match policy.as_ref().map(|p| p.created_by.parse::<grantry_core::model::Actor>()) {
        None => None,
        Some(Ok(grantry_core::model::Actor::User(u))) => Some(u),
        Some(_) => return Err(ServiceError::Conflict("the deciding policy was not made by a user; an admin must make it again".into())),
    };
    let timeout = policy.as_ref().map_or(DEFAULT_PENDING, |p| p.pending_timeout);
    let mut r = AccessRequest {
        id: new_id()?,
        requester: requester.clone(),
        requested,
        targets,
        declined: vec![],
        duration,
        max_duration: Some(longest),
        start,
        justification,
        ticket,
        created_at: ctx.now,
        pending_until: ctx.now.checked_add(timeout).map_err(|e| ServiceError::Internal(e.to_string()))?,
        policy: policy.as_ref().map(|p| p.id.clone()),
        stages,
        authority,
        break_glass: spec.break_glass,
        approvals: vec![],
        granted: None,
        closed: None,
        reviewed: None,
        extension: None,
        extended: vec![],
        warn_before: policy.as_ref().map_or(grantry_core::model::DEFAULT_WARNING, |p| p.expiry_warning),
        noted: grantry_core::model::Noted::default(),
        single_use,
    };
    let (mut changes, mut audit) = (vec![], vec![]);
    let at_once = spec.break_glass || policy.as_ref().is_some_and(|p| p.auto_approve);
    if at_once {
        grant(ix, ctx, &mut r, &mut changes, &mut audit)?;
    }
    audit.insert(0, event(ctx, "access_request.created", &r));
    if at_once {
        let kind = if r.break_glass { "access_request.break_glass" } else { "access_request.approved" };
        audit.insert(1, event(ctx, kind, &r));
    }
    changes.insert(0, Change::ResourceRegistered { resource: kept(ctx, &r) });
    Ok((r, changes, audit, permit))
}

/// Makes the request `spec` asks for.
pub async fn create_request(state: &AppState, ctx: &Ctx, spec: &RequestSpec) -> Result<(u64, AccessRequest)> {
    let (committed, r) = state
        .write_as(ctx, |ix, ctx| {
            let (r, changes, audit, permit) = plan(ix, ctx, spec)?;
            Ok((ctx.batch(permit, changes, audit), r))
        })
        .await?;
    Ok((committed.revision, r))
}

/// Who a user id is, for people.
pub fn email_of(o: &OrgState, id: &UserId) -> String {
    o.user(id).map_or_else(|| id.to_string(), |u| u.email.clone())
}
