//! Notifications from a write's own audit events. Every write passes here as it is staged
//! ([`crate::indexes`]): each event that tells of something a webhook may want — an access request
//! made, approved, denied, cancelled, revoked or extended; a break-glass request; a grant
//! activated, expiring soon, expired or revoked — becomes one outbox row per webhook of the
//! organization that wants it, committed with the write. So a rollback never sends one and a
//! crash never loses one; [`crate::deliver`] sends them.

use crate::ids::new_id;
use crate::service::error::Result;
use grantry_core::audit::AuditDraft;
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{AccessRequest, Grant, PayloadFormat, Principal, Webhook, WEBHOOK};
use grantry_core::Timestamp;
use grantry_store::{Notice, WriteBatch};
use serde_json::{json, Value};

/// The notification an audit event makes, if any.
fn kind_of(d: &AuditDraft, at: Timestamp) -> Option<&'static str> {
    Some(match d.event_type.as_str() {
        "access_request.created" => "request.created",
        "access_request.stage_approved" => "request.stage_approved",
        "access_request.approved" => "request.approved",
        "access_request.denied" => "request.denied",
        "access_request.cancelled" => "request.cancelled",
        "access_request.revoked" => "request.revoked",
        "access_request.extended" => "request.extended",
        "access_request.break_glass" => "request.break_glass",
        "access_request.expired" => "request.expired",
        "access_request.activated" => "grant.activated",
        "access_request.escalated" => "request.escalated",
        "access_request.expiring_soon" => "grant.expiring_soon",
        "grant.expired" | "role.expired" => "grant.expired",
        "grant.revoked" | "role.revoked" | "role.replaced" => "grant.revoked",
        "grant.expiring_soon" => "grant.expiring_soon",
        "grant.activated" => "grant.activated",
        // A grant in force from its creation is activated by it; a booked one, at its start.
        "grant.created" | "role.granted" => {
            let starts = d.after.as_ref().and_then(|a| a.get("starts_at")).and_then(Value::as_str)?.parse::<Timestamp>().ok()?;
            return (starts <= d.at.unwrap_or(at)).then_some("grant.activated");
        }
        "webhook.pinged" => "webhook.ping",
        _ => return None,
    })
}

/// `user:ID` as its email, where it is a user of `o`.
fn person(o: &OrgState, who: Option<&str>) -> Option<String> {
    let p: Principal = who?.parse().ok()?;
    match &p {
        Principal::User(id) => o.user(id).map(|u| u.email.clone()),
        other => Some(other.to_string()),
    }
}

/// One line for people (and the chat payload).
fn summary(o: &OrgState, kind: &str, d: &AuditDraft) -> String {
    let actor = person(o, Some(&d.actor.to_string())).unwrap_or_else(|| d.actor.to_string());
    let principal = person(o, d.principal.as_deref()).unwrap_or_default();
    let after = d.after.clone().unwrap_or(Value::Null);
    if let Ok(r) = serde_json::from_value::<AccessRequest>(after.clone()) {
        let targets: Vec<String> = r
            .targets
            .iter()
            .map(|t| match t {
                grantry_core::model::Anchor::Scope(s) => o.scope_path(s),
                grantry_core::model::Anchor::Resource(r) => r.to_string(),
            })
            .collect();
        let what = format!("{} on {}", r.requested.describe().replace('`', ""), targets.join(", "));
        let verb = kind.strip_prefix("request.").unwrap_or(kind).replace('_', " ");
        let extend = match kind {
            "request.approved" | "request.extended" | "grant.activated" => {
                r.granted.map(|g| format!(", until {}", g.expires_at)).unwrap_or_default()
            }
            "request.escalated" => {
                let stage = d
                    .after
                    .as_ref()
                    .and_then(|a| a.get("stage"))
                    .and_then(Value::as_u64)
                    .and_then(|i| r.stages.get(usize::try_from(i).ok()?));
                let who = stage.map(|s| grantry_core::authz::describe_approvers(&s.escalation, o).replace('`', "")).unwrap_or_default();
                format!(
                    "; stage {} waited too long: {who} may now decide it (grantry access approve {})",
                    stage.map(|s| s.name.as_str()).unwrap_or_default(),
                    r.id
                )
            }
            // The approvers it skipped are told at once, and asked to review it.
            "request.break_glass" => {
                let skipped: Vec<String> =
                    r.stages.iter().map(|st| grantry_core::authz::describe_approvers(&st.approvers, o).replace('`', "")).collect();
                format!("; it skipped {} and awaits their review (grantry access review {})", skipped.join(", then "), r.id)
            }
            "grant.expiring_soon" => {
                let command = d.after.as_ref().and_then(|a| a.get("extend_command")).and_then(Value::as_str).unwrap_or_default();
                let ends = r.granted.map(|g| g.expires_at.to_string()).unwrap_or_default();
                format!(", ends {ends}; to extend it: {command}")
            }
            _ => String::new(),
        };
        return format!("Access request {} by {principal} ({what}): {verb} by {actor}{extend}", r.id);
    }
    if let Ok(g) = serde_json::from_value::<Grant>(after) {
        let verb = kind.strip_prefix("grant.").unwrap_or(kind).replace('_', " ");
        let end = g.expires_at.map(|e| format!(", ends {e}")).unwrap_or_default();
        return format!("Grant {} to {principal}: {verb}{end}", g.id);
    }
    format!("{kind}: {} {} ({principal}) by {actor}", d.target_type, d.target_id)
}

/// The body a webhook of `format` receives for event `d` of kind `kind`.
pub fn payload(o: &OrgState, format: PayloadFormat, id: &str, kind: &str, d: &AuditDraft, at: Timestamp) -> Value {
    let text = summary(o, kind, d);
    match format {
        PayloadFormat::Chat => json!({ "text": text }),
        PayloadFormat::Json => json!({
            "id": id,
            "type": kind,
            "organization": o.org().slug,
            "occurred_at": d.at.unwrap_or(at),
            "actor": d.actor.to_string(),
            "actor_email": person(o, Some(&d.actor.to_string())),
            "target": { "type": d.target_type, "id": d.target_id },
            "principal": d.principal,
            "principal_email": person(o, d.principal.as_deref()),
            "justification": d.justification,
            "text": text,
            "data": d.after,
        }),
    }
}

/// The organization's webhooks.
pub fn webhooks(o: &OrgState) -> Vec<Webhook> {
    o.resources_of(WEBHOOK).iter().filter_map(Webhook::of).collect()
}

/// The notifications `batch`'s events make for the webhooks of its organization in `ix`.
pub fn notices(ix: &DecisionIndex, batch: &WriteBatch) -> Result<Vec<Notice>> {
    let kinds: Vec<(&AuditDraft, &'static str)> = batch.audit.iter().filter_map(|d| kind_of(d, batch.at).map(|k| (d, k))).collect();
    let Some(o) = ix.org(&batch.org).filter(|_| !kinds.is_empty()) else { return Ok(vec![]) };
    let hooks = webhooks(o);
    let mut out = Vec::new();
    for (d, kind) in kinds {
        // A ping goes to the webhook pinged, whatever it wants.
        let wanted = |h: &&Webhook| if kind == "webhook.ping" { d.target_id == h.id } else { h.wants(kind) };
        for hook in hooks.iter().filter(wanted) {
            let id = new_id()?;
            let body = payload(o, hook.format, &id, kind, d, batch.at);
            out.push(Notice { id, webhook: hook.id.clone(), event_type: kind.to_owned(), payload: body.to_string() });
        }
    }
    Ok(out)
}
