//! Webhooks: an organization's notification endpoints. Whoever holds `Webhook:Manage` makes one
//! (an http or https URL, the notifications it wants, JSON or chat payloads) and sees its secret
//! once; rotating gives a new secret (the old one stops signing at once); deleting stops its
//! deliveries; a ping sends it a test notification. Audited as `webhook.created`, `.rotated`,
//! `.deleted` and `.pinged` — never with the secret.

use super::agents::record_name;
use super::{org, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::index::OrgState;
use grantry_core::model::{PayloadFormat, Resource, ResourceRef, ScopeRef, Webhook, NOTIFICATIONS, PINGS_PER_WINDOW, WEBHOOK};
use grantry_core::validate;
use serde_json::json;

/// The longest URL, and the most webhooks an organization may have.
const MAX_URL: usize = 2_000;
pub const MAX_WEBHOOKS: usize = 20;

/// A webhook to make.
#[derive(Debug, Clone)]
pub struct WebhookSpec {
    pub name: String,
    pub url: String,
    /// Notification types; empty: all.
    pub events: Vec<String>,
    pub format: PayloadFormat,
}

/// The organization's webhooks, by name.
pub fn webhooks(o: &OrgState) -> Vec<Webhook> {
    let mut all = crate::notify::webhooks(o);
    all.sort_by_key(|w| validate::name_key(&w.name));
    all
}

/// The webhook `text` names: its id, or its name.
pub fn find_webhook(o: &OrgState, text: &str) -> Result<Webhook> {
    let by_id = o.resource(&ResourceRef::new(WEBHOOK, text.trim())).and_then(|r| Webhook::of(&r));
    let key = validate::name_key(text);
    by_id
        .or_else(|| webhooks(o).into_iter().find(|w| validate::name_key(&w.name) == key))
        .ok_or_else(|| ServiceError::NotFound(format!("no webhook `{}`; `grantry webhook list` shows them", validate::shown(text))))
}

fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid { field: field.into(), message }
}

/// The names cloud metadata services answer to.
const METADATA_NAMES: [&str; 3] = ["metadata.google.internal", "metadata", "instance-data"];

/// Whether deliveries may never go to `ip`: link-local (where cloud metadata services answer),
/// however it is written — IPv4, IPv4-mapped or -compatible IPv6, NAT64 — and AWS's IPv6
/// metadata address. Checked on the URL and again on every address a name resolves to.
pub fn forbidden_ip(ip: std::net::IpAddr) -> bool {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let v4_link_local = |v4: Ipv4Addr| v4.is_link_local();
    match ip {
        IpAddr::V4(v4) => v4_link_local(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
            let mapped_or_compatible = s[..5].iter().all(|x| *x == 0) && (s[5] == 0xffff || s[5] == 0);
            let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0);
            (s[0] & 0xffc0) == 0xfe80
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || ((mapped_or_compatible || nat64) && v4_link_local(embedded))
        }
    }
}

/// Checks a webhook URL: http or https, a host, no credentials, not link-local (cloud metadata).
pub fn check_url(text: &str) -> Result<String> {
    let text = text.trim();
    validate::printable("url", text)?;
    validate::bounded("url", text, MAX_URL)?;
    let url = reqwest::Url::parse(text)
        .map_err(|e| invalid("url", format!("`{}` is not a URL ({e}); give http(s)://host/path", validate::shown(text))))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("url", format!("a webhook URL is http or https, not `{}`", validate::shown(url.scheme()))));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("url", "a webhook URL carries no credentials; the signature header authenticates each delivery".into()));
    }
    let forbidden = match url.host() {
        None => return Err(invalid("url", "a webhook URL needs a host".into())),
        Some(url::Host::Ipv4(ip)) => forbidden_ip(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => forbidden_ip(std::net::IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => METADATA_NAMES.contains(&name.trim_end_matches('.').to_ascii_lowercase().as_str()),
    };
    if forbidden {
        return Err(invalid("url", "link-local addresses and cloud metadata services are not webhook targets".into()));
    }
    Ok(url.to_string())
}

fn events(given: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for e in given {
        let e = e.trim();
        if !NOTIFICATIONS.contains(&e) {
            return Err(invalid("events", format!("`{}` is not a notification; known: {}", validate::shown(e), NOTIFICATIONS.join(", "))));
        }
        if !out.iter().any(|x| x == e) {
            out.push(e.to_owned());
        }
    }
    Ok(out)
}

fn event(ctx: &Ctx, event_type: &str, w: &Webhook) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, WEBHOOK, &w.id);
    d.after = Some(json!({ "name": w.name, "url": w.url, "events": w.events, "format": w.format, "generation": w.generation }));
    d
}

fn kept(ctx: &Ctx, w: &Webhook) -> Resource {
    Resource {
        org: ctx.org.clone(),
        reference: w.reference(),
        parent: None,
        scope: ScopeRef::Org,
        attributes: w.attributes(),
        created_at: w.created_at,
    }
}

/// Makes the webhook `spec` describes; returns it and its secret (shown this once).
pub async fn create_webhook(state: &AppState, ctx: &Ctx, spec: &WebhookSpec) -> Result<(u64, Webhook, String)> {
    let url = check_url(&spec.url)?;
    let wanted = events(&spec.events)?;
    let (committed, hook) = state
        .write_as(ctx, |ix, ctx| {
            let permit = ctx.authorize(ix, Action::ManageWebhooks)?;
            let o = org(ix, &ctx.org)?;
            let name = record_name("name", &spec.name)?;
            let all = webhooks(o);
            if let Some(other) = all.iter().find(|w| validate::name_key(&w.name) == validate::name_key(&name)) {
                return Err(ServiceError::Conflict(format!(
                    "a webhook named `{}` already exists (id `{}`); choose another name",
                    other.name, other.id
                )));
            }
            if all.len() >= MAX_WEBHOOKS {
                return Err(ServiceError::Conflict(format!(
                    "this organization has {MAX_WEBHOOKS} webhooks, the most it may; delete one first"
                )));
            }
            let hook = Webhook {
                id: new_id()?,
                name,
                url: url.clone(),
                events: wanted.clone(),
                format: spec.format,
                generation: 0,
                created_by: ctx.audit_actor().to_string(),
                created_at: ctx.now,
                pinged: vec![],
            };
            let audit = vec![event(ctx, "webhook.created", &hook)];
            Ok((ctx.batch(permit, vec![Change::ResourceRegistered { resource: kept(ctx, &hook) }], audit), hook))
        })
        .await?;
    let secret = state.store.webhook_secret(&ctx.org, &hook.id, hook.generation);
    Ok((committed.revision, hook, secret))
}

/// What can be done to a webhook after it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookChange {
    /// A new secret; the old one signs no more.
    Rotate,
    /// A test notification.
    Ping,
    Delete,
}

/// Makes `change` to the webhook `text` names; a rotation returns the new secret.
pub async fn change_webhook(state: &AppState, ctx: &Ctx, text: &str, change: WebhookChange) -> Result<(u64, Webhook, Option<String>)> {
    let (committed, hook) = state
        .write_as(ctx, |ix, ctx| {
            let permit = ctx.authorize(ix, Action::ManageWebhooks)?;
            let mut hook = find_webhook(org(ix, &ctx.org)?, text)?;
            let (changes, kind) = match change {
                WebhookChange::Rotate => {
                    hook.generation = hook.generation.saturating_add(1);
                    (vec![Change::ResourceUpdated { resource: kept(ctx, &hook) }], "webhook.rotated")
                }
                WebhookChange::Ping => {
                    hook.ping(ctx.now).map_err(|next| {
                        ServiceError::Conflict(format!(
                            "webhook `{}` was pinged {PINGS_PER_WINDOW} times in the last minute; ping it again from {next}",
                            hook.name
                        ))
                    })?;
                    (vec![Change::ResourceUpdated { resource: kept(ctx, &hook) }], "webhook.pinged")
                }
                WebhookChange::Delete => {
                    (vec![Change::ResourceRemoved { org: ctx.org.clone(), reference: hook.reference() }], "webhook.deleted")
                }
            };
            Ok((ctx.batch(permit, changes, vec![event(ctx, kind, &hook)]), hook))
        })
        .await?;
    let secret = (change == WebhookChange::Rotate).then(|| state.store.webhook_secret(&ctx.org, &hook.id, hook.generation));
    Ok((committed.revision, hook, secret))
}
