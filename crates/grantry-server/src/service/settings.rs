//! The organization's policy settings: where the seeds disagree or leave a choice, each rule is a
//! setting with the seed's value as its default — the longest temporary grant and role window, the
//! default grant window, the shortest and longest justification, how long audit events are
//! kept (seed 002: five years), how deep groups may nest, and seed 004's temporary access limits. Changing them needs
//! `Organization:Manage`; each change is audited with the settings before and after.

use super::{org, Ctx};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::duration::parse_grant_duration;
use grantry_core::index::OrgState;
use grantry_core::model::{
    Policy, AUDIT_RETENTION_DAYS, GROUP_DEPTH, REQUEST_RETENTION_DAYS, REVIEW_PERIOD_DAYS, TEMP_ACCESS_ACTIVE, TEMP_ACCESS_POOLS,
    TEMP_ACCESS_USERS,
};
use grantry_core::SignedDuration;

/// The settings to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct PolicyPatch {
    pub max_grant_duration: Option<String>,
    pub default_grant_duration: Option<String>,
    pub max_role_duration: Option<String>,
    pub audit_retention_days: Option<u32>,
    pub min_justification_chars: Option<usize>,
    pub max_justification_chars: Option<usize>,
    pub max_group_depth: Option<u32>,
    pub review_period_days: Option<u32>,
    pub temp_access_max_users: Option<u32>,
    pub temp_access_max_pools: Option<u32>,
    pub temp_access_max_duration: Option<String>,
    pub temp_access_max_active: Option<u32>,
    pub request_retention_days: Option<u32>,
}

/// `value` for setting `field` if it lies in `range`.
fn within(field: &str, value: u32, range: &std::ops::RangeInclusive<u32>) -> Result<u32> {
    if range.contains(&value) {
        return Ok(value);
    }
    let message = format!("{value} is out of range; give {} to {}", range.start(), range.end());
    Err(ServiceError::Invalid { field: field.into(), message })
}

/// The longest justification a setting may allow.
const LONGEST_JUSTIFICATION: usize = 10_000;

/// The longest window a setting may allow.
const LONGEST_WINDOW: SignedDuration = SignedDuration::from_hours(366 * 24);

/// Applies `patch` to the organization's settings; writes nothing when nothing changes.
pub async fn update_policy(state: &AppState, ctx: &Ctx, patch: &PolicyPatch) -> Result<(u64, Policy)> {
    let build = |o: &OrgState| -> Result<Policy> {
        let mut p = o.org().policy.clone();
        if let Some(days) = patch.review_period_days {
            if !REVIEW_PERIOD_DAYS.contains(&days) {
                let (lo, hi) = (REVIEW_PERIOD_DAYS.start(), REVIEW_PERIOD_DAYS.end());
                let message = format!("{days} is out of range; reviews fall due every {lo} to {hi} days");
                return Err(ServiceError::Invalid { field: "review_period_days".into(), message });
            }
            p.review_period_days = days;
        }
        if let Some(depth) = patch.max_group_depth {
            let invalid = |message: String| ServiceError::Invalid { field: "max_group_depth".into(), message };
            if !GROUP_DEPTH.contains(&depth) {
                return Err(invalid(format!(
                    "{depth} is out of range; groups may nest {} to {} deep",
                    GROUP_DEPTH.start(),
                    GROUP_DEPTH.end()
                )));
            }
            let deepest = o.groups().into_iter().map(|g| (o.group_ancestry(&g.id).len(), g)).max_by_key(|(d, _)| *d);
            if let Some((reached, g)) = deepest.filter(|(d, _)| *d > depth as usize) {
                return Err(invalid(format!(
                    "group `{}` is already at depth {reached}; move it (or the groups above it) up before lowering the limit to {depth}",
                    g.name
                )));
            }
            p.max_group_depth = depth;
        }
        if let Some(n) = patch.temp_access_max_users {
            p.temp_access_max_users = within("temp_access_max_users", n, &TEMP_ACCESS_USERS)?;
        }
        if let Some(n) = patch.temp_access_max_pools {
            p.temp_access_max_pools = within("temp_access_max_pools", n, &TEMP_ACCESS_POOLS)?;
        }
        if let Some(n) = patch.temp_access_max_active {
            p.temp_access_max_active = within("temp_access_max_active", n, &TEMP_ACCESS_ACTIVE)?;
        }
        if let Some(n) = patch.request_retention_days {
            p.request_retention_days = within("request_retention_days", n, &REQUEST_RETENTION_DAYS)?;
        }
        if let Some(text) = &patch.temp_access_max_duration {
            p.temp_access_max_duration =
                parse_grant_duration(text, LONGEST_WINDOW).map_err(ServiceError::about("temp_access_max_duration"))?;
        }
        if let Some(text) = &patch.max_grant_duration {
            p.max_grant_duration = parse_grant_duration(text, LONGEST_WINDOW).map_err(ServiceError::about("max_grant_duration"))?;
        }
        if let Some(text) = &patch.default_grant_duration {
            p.default_grant_duration = parse_grant_duration(text, LONGEST_WINDOW).map_err(ServiceError::about("default_grant_duration"))?;
        }
        if let Some(text) = &patch.max_role_duration {
            p.max_role_duration = parse_grant_duration(text, LONGEST_WINDOW).map_err(ServiceError::about("max_role_duration"))?;
        }
        if let Some(days) = patch.audit_retention_days {
            if !AUDIT_RETENTION_DAYS.contains(&days) {
                return Err(ServiceError::Invalid {
                    field: "audit_retention_days".into(),
                    message: format!(
                        "{days} is out of range; keep audit events between {} and {} days",
                        AUDIT_RETENTION_DAYS.start(),
                        AUDIT_RETENTION_DAYS.end()
                    ),
                });
            }
            p.audit_retention_days = days;
        }
        if let Some(n) = patch.min_justification_chars {
            p.min_justification_chars = n;
        }
        if let Some(n) = patch.max_justification_chars {
            p.max_justification_chars = n;
        }
        let (min, max) = (p.min_justification_chars, p.max_justification_chars);
        if min == 0 || min > max || max > LONGEST_JUSTIFICATION {
            let field = if patch.min_justification_chars.is_some() { "min_justification_chars" } else { "max_justification_chars" };
            return Err(ServiceError::Invalid {
                field: field.into(),
                message: format!(
                    "a justification of {min} to {max} characters is out of range; the minimum must be at least 1 and at most \
                     the maximum, and the maximum at most {LONGEST_JUSTIFICATION}"
                ),
            });
        }
        if p.default_grant_duration > p.max_grant_duration {
            let field = if patch.default_grant_duration.is_some() { "default_grant_duration" } else { "max_grant_duration" };
            return Err(ServiceError::Invalid {
                field: field.into(),
                message: format!(
                    "the default grant duration ({}) would be longer than the maximum ({}); keep the default within the maximum",
                    grantry_core::duration::format_iso(p.default_grant_duration),
                    grantry_core::duration::format_iso(p.max_grant_duration)
                ),
            });
        }
        Ok(p)
    };
    {
        let ix = state.index();
        let o = org(&ix, &ctx.org)?;
        ctx.authorize(&ix, Action::UpdateSettings)?;
        let p = build(o)?;
        if p == o.org().policy {
            return Ok((ix.revision(), p));
        }
    }
    let (committed, policy) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let permit = ctx.authorize(ix, Action::UpdateSettings)?;
            let policy = build(o)?;
            let mut d = AuditDraft::new(&ctx.audit_actor(), "org.settings_updated", "organization", ctx.org.as_str());
            d.before = serde_json::to_value(&o.org().policy).ok();
            d.after = serde_json::to_value(&policy).ok();
            let change = Change::OrgPolicySet { org: ctx.org.clone(), policy: policy.clone() };
            Ok((ctx.batch(permit, vec![change], vec![d]), policy))
        })
        .await?;
    Ok((committed.revision, policy))
}
