//! Request policies: which access requests are approved at once, and which need approvals in
//! stages (for example a peer, then a manager), by whom, how long they stay pending, how long the
//! access may last, the ticket reference they must carry, and whether the glass may be broken.
//! A policy covers a scope node and everything below it, optionally only production or only
//! non-production targets, optionally only resources of one data classification; the most
//! specific policy covering a target decides it (see `policy_reach`). Making or deleting one needs
//! `AccessPolicy:Manage` where it applies. Audited as `request_policy.created` / `.deleted`.

use super::agents::record_name;
use super::{org, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::duration::format_iso;
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{Approvers, EnvFilter, RequestPolicy, Resource, ResourceRef, ScopeRef, Stage, DEFAULT_WARNING, REQUEST_POLICY};
use grantry_core::{validate, SignedDuration};

/// The most stages a policy may have, and the most approvals one stage may ask for.
pub const MAX_STAGES: usize = 5;
pub const MAX_APPROVALS: u32 = 10;
/// The longest a request may stay pending, and the default (the 24 hours).
const MAX_PENDING: SignedDuration = SignedDuration::from_hours(24 * 14);
pub const DEFAULT_PENDING: SignedDuration = SignedDuration::from_hours(24);
/// The longest ticket pattern.
const MAX_PATTERN: usize = 200;

/// One stage as given: approvers by role name and group name or id.
#[derive(Debug, Clone, Default)]
pub struct StageSpec {
    pub name: String,
    pub approvals: u32,
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    /// ISO 8601; with `escalation_roles` / `escalation_groups`.
    pub escalate_after: Option<String>,
    pub escalation_roles: Vec<String>,
    pub escalation_groups: Vec<String>,
}

/// A policy as given.
#[derive(Debug, Clone, Default)]
pub struct PolicySpec {
    pub name: String,
    /// A scope path; empty or `org`: the whole organization.
    pub scope: String,
    pub environment: Option<EnvFilter>,
    pub classification: Option<String>,
    pub auto_approve: bool,
    pub stages: Vec<StageSpec>,
    pub pending_timeout: Option<String>,
    pub max_duration: Option<String>,
    pub ticket_pattern: Option<String>,
    pub break_glass: bool,
    /// ISO 8601: how long before access ends its holder is warned (PT15M unless given).
    pub expiry_warning: Option<String>,
    /// The roles and permissions it decides requests for (any, when empty).
    pub requestable: Vec<String>,
}

/// The organization's policies, most specific first.
pub fn policies(o: &OrgState) -> Vec<RequestPolicy> {
    let mut all: Vec<RequestPolicy> = o.resources_of(REQUEST_POLICY).iter().filter_map(RequestPolicy::of).collect();
    all.sort_by(|a, b| b.specificity().cmp(&a.specificity()).then_with(|| a.created_at.cmp(&b.created_at)));
    all
}

/// The policy `text` names: its id, or its name without regard to case.
pub fn find_policy(o: &OrgState, text: &str) -> Result<RequestPolicy> {
    let by_id = o.resource(&ResourceRef::new(REQUEST_POLICY, text.trim())).and_then(|r| RequestPolicy::of(&r));
    let key = validate::name_key(text);
    by_id.or_else(|| policies(o).into_iter().find(|p| validate::name_key(&p.name) == key)).ok_or_else(|| {
        ServiceError::NotFound(format!("no request policy `{}`; `grantry access policy list` shows them", validate::shown(text)))
    })
}

/// The scope node a path names (`""` or `org`: the organization).
pub fn scope_at(o: &OrgState, field: &str, path: &str) -> Result<ScopeRef> {
    let path = path.trim().trim_matches('/');
    if path.is_empty() || path == "org" {
        return Ok(ScopeRef::Org);
    }
    o.scope_by_path(path).map(|n| n.as_ref()).ok_or_else(|| ServiceError::Invalid {
        field: field.into(),
        message: format!(
            "no workspace, project or environment `{}`; `grantry workspace list` and `grantry project list` show them",
            validate::shown(path)
        ),
    })
}

fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid { field: field.into(), message }
}

/// A duration given as ISO 8601, within `1s..=max`.
pub fn duration(field: &'static str, text: Option<&str>, default: SignedDuration, max: SignedDuration) -> Result<SignedDuration> {
    let Some(text) = text else { return Ok(default) };
    grantry_core::duration::parse_grant_duration(text, max).map_err(ServiceError::about(field))
}

/// Approvers by role and group names, each known.
fn approvers(ix: &DecisionIndex, o: &OrgState, field: &'static str, roles: &[String], groups: &[String]) -> Result<Approvers> {
    let roles = roles
        .iter()
        .map(|r| ix.catalogue().role(r.trim()).map(|r| r.name.clone()).map_err(ServiceError::about(field)))
        .collect::<Result<Vec<_>>>()?;
    let groups = groups
        .iter()
        .map(|g| super::find_group(o, g).map(|g| g.id.clone()).map_err(ServiceError::named_in(field)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Approvers { roles, groups })
}

fn stage(ix: &DecisionIndex, o: &OrgState, i: usize, s: &StageSpec) -> Result<Stage> {
    let name = if s.name.trim().is_empty() { format!("stage {}", i + 1) } else { record_name("stages", &s.name)? };
    if !(1..=MAX_APPROVALS).contains(&s.approvals) {
        return Err(invalid("stages", format!("stage `{name}` asks for {} approvals; give 1 to {MAX_APPROVALS}", s.approvals)));
    }
    let approvers = approvers(ix, o, "stages", &s.roles, &s.groups)?;
    let escalation = approvers_or_none(ix, o, s)?;
    let escalate_after = s.escalate_after.as_deref().map(|t| duration("stages", Some(t), DEFAULT_PENDING, MAX_PENDING)).transpose()?;
    if escalate_after.is_some() == escalation.is_default() {
        return Err(invalid("stages", format!("stage `{name}`: give both an escalation time and escalation approvers, or neither")));
    }
    Ok(Stage { name, approvals: s.approvals, approvers, escalate_after, escalation })
}

fn approvers_or_none(ix: &DecisionIndex, o: &OrgState, s: &StageSpec) -> Result<Approvers> {
    approvers(ix, o, "stages", &s.escalation_roles, &s.escalation_groups)
}

/// The policy `spec` describes, checked.
fn build(ix: &DecisionIndex, ctx: &Ctx, spec: &PolicySpec) -> Result<RequestPolicy> {
    let o = org(ix, &ctx.org)?;
    let name = record_name("name", &spec.name)?;
    let scope = scope_at(o, "scope", &spec.scope)?;
    let scope_path = o.scope_path(&scope);
    if spec.auto_approve != spec.stages.is_empty() {
        return Err(invalid("stages", "give approval stages, or auto-approve — one of the two".into()));
    }
    if spec.stages.len() > MAX_STAGES {
        return Err(invalid("stages", format!("give at most {MAX_STAGES} stages; {} were given", spec.stages.len())));
    }
    let stages = spec.stages.iter().enumerate().map(|(i, s)| stage(ix, o, i, s)).collect::<Result<Vec<_>>>()?;
    let classification =
        spec.classification.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(|c| record_name("classification", c)).transpose()?;
    let policy = &o.org().policy;
    let pending_timeout = duration("pendingTimeout", spec.pending_timeout.as_deref(), DEFAULT_PENDING, MAX_PENDING)?;
    let longest = policy.max_role_duration.max(policy.max_grant_duration);
    let max_duration = duration("maxDuration", spec.max_duration.as_deref(), longest, longest)?;
    let expiry_warning = duration("expiryWarning", spec.expiry_warning.as_deref(), DEFAULT_WARNING, SignedDuration::from_hours(24))?;
    let ticket_pattern = match spec.ticket_pattern.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => {
            validate::bounded("ticketPattern", p, MAX_PATTERN)?;
            regex_lite::Regex::new(&format!("^(?:{p})$"))
                .map_err(|e| invalid("ticketPattern", format!("`{}` is not a pattern: {e}", validate::shown(p))))?;
            Some(p.to_owned())
        }
    };
    let mut requestable: Vec<String> = Vec::new();
    for name in &spec.requestable {
        let name = name.trim();
        let known =
            ix.catalogue().find_role(name).map(|r| r.name.clone()).or_else(|| ix.catalogue().permission(name).ok().map(|p| p.name.clone()));
        let Some(known) = known else {
            return Err(invalid("requestable", format!("`{}` is neither a role nor a permission of the catalogue", validate::shown(name))));
        };
        if !requestable.contains(&known) {
            requestable.push(known);
        }
    }
    Ok(RequestPolicy {
        id: new_id()?,
        name,
        scope: scope_path,
        environment: spec.environment,
        classification,
        auto_approve: spec.auto_approve,
        stages,
        pending_timeout,
        max_duration,
        ticket_pattern,
        break_glass: spec.break_glass,
        expiry_warning,
        requestable,
        created_by: ctx.audit_actor().to_string(),
        created_at: ctx.now,
    })
}

/// Whether `ticket` matches `pattern` whole.
pub fn ticket_matches(pattern: &str, ticket: &str) -> bool {
    regex_lite::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(ticket))
}

fn event(ctx: &Ctx, event_type: &str, p: &RequestPolicy) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, REQUEST_POLICY, &p.id);
    d.after = serde_json::to_value(p).ok();
    d
}

/// Creates the policy `spec` describes.
pub async fn create_policy(state: &AppState, ctx: &Ctx, spec: &PolicySpec) -> Result<(u64, RequestPolicy)> {
    let (committed, policy) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let scope = scope_at(o, "scope", &spec.scope);
            let permit = ctx.authorize(ix, Action::ManageRequestPolicies { scope: scope.as_ref().unwrap_or(&ScopeRef::Org) })?;
            let policy = build(ix, ctx, spec)?;
            let key = validate::name_key(&policy.name);
            if let Some(other) = policies(o).into_iter().find(|p| validate::name_key(&p.name) == key) {
                return Err(ServiceError::Conflict(format!(
                    "a request policy named `{}` already exists (id `{}`); choose another name",
                    other.name, other.id
                )));
            }
            let same_reach = policies(o)
                .into_iter()
                .find(|p| p.scope == policy.scope && p.environment == policy.environment && p.classification == policy.classification);
            if let Some(other) = same_reach {
                return Err(ServiceError::Conflict(format!(
                    "policy `{}` already covers the same targets; delete it first, or narrow this one",
                    other.name
                )));
            }
            let resource = Resource {
                org: ctx.org.clone(),
                reference: policy.reference(),
                parent: None,
                scope: ScopeRef::Org,
                attributes: policy.attributes(),
                created_at: ctx.now,
            };
            let audit = vec![event(ctx, "request_policy.created", &policy)];
            Ok((ctx.batch(permit, vec![Change::ResourceRegistered { resource }], audit), policy))
        })
        .await?;
    Ok((committed.revision, policy))
}

/// Deletes the policy `text` names. Requests made under it keep the stages they were made with.
pub async fn delete_policy(state: &AppState, ctx: &Ctx, text: &str) -> Result<(u64, RequestPolicy)> {
    let (committed, gone) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let policy = find_policy(o, text)?;
            let scope = scope_at(o, "scope", &policy.scope).unwrap_or(ScopeRef::Org);
            let permit = ctx.authorize(ix, Action::ManageRequestPolicies { scope: &scope })?;
            let mut d = event(ctx, "request_policy.deleted", &policy);
            d.before = d.after.take();
            Ok((ctx.batch(permit, vec![Change::ResourceRemoved { org: ctx.org.clone(), reference: policy.reference() }], vec![d]), policy))
        })
        .await?;
    Ok((committed.revision, gone))
}

/// How a policy reads in a sentence.
pub fn summary(p: &RequestPolicy) -> String {
    if p.auto_approve {
        return format!("auto-approved, up to {}", format_iso(p.max_duration));
    }
    let stages: Vec<String> =
        p.stages.iter().map(|s| format!("{} ({} approval{})", s.name, s.approvals, if s.approvals == 1 { "" } else { "s" })).collect();
    stages.join(" then ")
}
