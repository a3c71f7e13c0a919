//! The audit log's records and its hash chain. Each event carries the hash of the one before it
//! in its organization, so an edited, removed or reordered row breaks the chain.

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
    /// The hash this event should carry, given its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
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
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(b"\n");
        // INVARIANT: serializing this struct cannot fail (no maps with non-string keys).
        hasher.update(serde_json::to_vec(&fields).unwrap_or_default());
        hex(&hasher.finalize())
    }
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Verifies one organization's events, given in `seq` order; returns how many were checked.
pub fn verify_chain(events: &[AuditEvent]) -> Result<usize, ChainBreak> {
    let mut prev = GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        let expected_seq = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1);
        if e.seq != expected_seq {
            return Err(ChainBreak {
                seq: e.seq,
                reason: format!("expected event {expected_seq} here: an event is missing or out of order"),
            });
        }
        if e.prev_hash != prev {
            return Err(ChainBreak { seq: e.seq, reason: "its prev_hash is not the hash of the event before it".to_owned() });
        }
        if e.compute_hash() != e.hash {
            return Err(ChainBreak { seq: e.seq, reason: "its contents do not match its hash: the row was edited".to_owned() });
        }
        prev.clone_from(&e.hash);
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = AuditEvent {
                    org: OrgId::from("o1"),
                    seq,
                    at: Timestamp::from_second(1_700_000_000 + seq).unwrap(),
                    actor: Actor::System,
                    event_type: "grant.created".into(),
                    target_type: "grant".into(),
                    target_id: format!("g{seq}"),
                    principal: None,
                    before: None,
                    after: Some(serde_json::json!({"b": 1, "a": [seq]})),
                    justification: Some("because of #42".into()),
                    request_id: None,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.compute_hash();
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    #[test]
    fn detects_edits_removals_and_reorders() {
        let good = chain(4);
        assert_eq!(verify_chain(&good), Ok(4));
        let mut edited = good.clone();
        edited[1].justification = Some("tampered".into());
        assert_eq!(verify_chain(&edited).unwrap_err().seq, 2);
        let mut removed = good.clone();
        removed.remove(2);
        assert!(verify_chain(&removed).is_err());
        let mut swapped = good;
        swapped.swap(1, 2);
        assert!(verify_chain(&swapped).is_err());
    }
}
