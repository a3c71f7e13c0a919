//! Webhooks: where an organization's notifications go. Each has a URL (http or https), the
//! notification types it wants (none named: all), and a payload shape — Grantry's JSON, or a
//! message chat tools accept from an incoming webhook (`{"text": …}`). Its signing secret is
//! derived from the installation's audit key and its `generation` (rotating moves it on), so the
//! secret is never stored.

use super::records::{keep_record, read_record};
use crate::attr::Attributes;
use crate::model::{Resource, ResourceRef};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The resource type of a webhook.
pub const WEBHOOK: &str = "webhook";

/// The notifications there are.
pub const NOTIFICATIONS: [&str; 15] = [
    "request.created",
    "request.stage_approved",
    "request.escalated",
    "request.approved",
    "request.denied",
    "request.cancelled",
    "request.revoked",
    "request.extended",
    "request.break_glass",
    "request.expired",
    "grant.activated",
    "grant.expiring_soon",
    "grant.expired",
    "grant.revoked",
    "webhook.ping",
];

/// The shape a webhook's payloads take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadFormat {
    /// Grantry's own JSON.
    Json,
    /// `{"text": …}`, which Slack, Mattermost and Microsoft Teams take as an incoming message.
    Chat,
}

/// A webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub url: String,
    /// The notification types it wants; empty: all.
    pub events: Vec<String>,
    pub format: PayloadFormat,
    /// Moves on when the secret is rotated.
    pub generation: u32,
    pub created_by: String,
    pub created_at: Timestamp,
    /// When it was pinged within the last [`PING_WINDOW`], oldest first (at most [`PINGS_PER_WINDOW`]).
    #[serde(default)]
    pub pinged: Vec<Timestamp>,
}

/// How many pings a webhook takes within [`PING_WINDOW`]: a ping is for trying a receiver out, not
/// for filling the outbox.
pub const PINGS_PER_WINDOW: usize = 5;
pub const PING_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

impl Webhook {
    /// Notes a ping at `now`, or says when the next may be sent (more than
    /// [`PINGS_PER_WINDOW`] within [`PING_WINDOW`] are refused).
    pub fn ping(&mut self, now: Timestamp) -> Result<(), Timestamp> {
        self.pinged.retain(|at| at.checked_add(PING_WINDOW).is_ok_and(|until| until > now));
        if self.pinged.len() >= PINGS_PER_WINDOW {
            let next = self.pinged.first().and_then(|at| at.checked_add(PING_WINDOW).ok()).unwrap_or(now);
            return Err(next);
        }
        self.pinged.push(now);
        Ok(())
    }

    /// The webhook a resource holds, if it is one.
    pub fn of(r: &Resource) -> Option<Self> {
        read_record(r, WEBHOOK)
    }

    /// The attributes the resource keeps.
    pub fn attributes(&self) -> Attributes {
        keep_record(self)
    }

    /// The webhook's resource reference.
    pub fn reference(&self) -> ResourceRef {
        ResourceRef::new(WEBHOOK, &self.id)
    }

    /// Whether it wants notifications of `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == kind)
    }
}
