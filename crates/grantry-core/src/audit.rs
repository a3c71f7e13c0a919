//! The audit log's records and its keyed hash chain. Each event carries an HMAC-SHA256, under the
//! installation's audit key (kept outside the database), over itself and the hash of the event
//! before it in its organization, so an edited, removed or reordered row breaks the chain — and
//! nobody without the key can recompute it. The chain's head is checkpointed and signed with the
//! same key, so cutting the tail is detected too (see [`chain`]).

mod chain;

pub use chain::{verify_against, verify_chain, AuditKey, ChainBreak, Checkpoint};

use crate::ids::OrgId;
use crate::model::Actor;
use crate::secret::hex;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of an organization's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event as a service operation writes it; the store numbers, times and chains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditDraft {
    pub actor: Actor,
    pub event_type: String,
    pub target_type: String,
    pub target_id: String,
    /// The principal whose access the change affects, if any.
    pub principal: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub justification: Option<String>,
    pub request_id: Option<String>,
    /// When the event happened, if not at commit (an expiry is written for the instant of expiry).
    pub at: Option<Timestamp>,
}

impl AuditDraft {
    /// A draft of `event_type` on `target_type:target_id` by `actor`, with nothing else set.
    pub fn new(actor: &Actor, event_type: &str, target_type: &str, target_id: &str) -> Self {
        Self {
            actor: actor.clone(),
            event_type: event_type.to_owned(),
            target_type: target_type.to_owned(),
            target_id: target_id.to_owned(),
            principal: None,
            before: None,
            after: None,
            justification: None,
            request_id: None,
            at: None,
        }
    }
}

/// A written audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub org: OrgId,
    /// Position in the organization's chain, from 1, without gaps.
    pub seq: i64,
    pub at: Timestamp,
    pub actor: Actor,
    pub event_type: String,
    pub target_type: String,
    pub target_id: String,
    pub principal: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub justification: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The fields the hash covers, in a fixed order.
#[derive(Serialize)]
struct Hashed<'a> {
    org: &'a OrgId,
    seq: i64,
    at_us: i128,
    actor: &'a Actor,
    event_type: &'a str,
    target_type: &'a str,
    target_id: &'a str,
    principal: &'a Option<String>,
    before: &'a Option<Value>,
    after: &'a Option<Value>,
    justification: &'a Option<String>,
    request_id: &'a Option<String>,
}

impl AuditEvent {
    /// The hash this event should carry under `key`, given its fields and `prev_hash`.
    pub fn compute_hash(&self, key: &AuditKey) -> String {
        key.mac(&[self.prev_hash.as_bytes(), b"\n", &self.hashed_fields()])
    }

    /// The unkeyed SHA-256 that chains written before the audit key existed carry; read only to
    /// migrate them.
    pub fn legacy_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.hashed_fields());
        hex(&hasher.finalize())
    }

    /// The fields the hash covers, serialized in a fixed order.
    fn hashed_fields(&self) -> Vec<u8> {
        let fields = Hashed {
            org: &self.org,
            seq: self.seq,
            at_us: self.at.as_microsecond().into(),
            actor: &self.actor,
            event_type: &self.event_type,
            target_type: &self.target_type,
            target_id: &self.target_id,
            principal: &self.principal,
            before: &self.before,
            after: &self.after,
            justification: &self.justification,
            request_id: &self.request_id,
        };
        // INVARIANT: serializing this struct cannot fail (no maps with non-string keys).
        serde_json::to_vec(&fields).unwrap_or_default()
    }
}
