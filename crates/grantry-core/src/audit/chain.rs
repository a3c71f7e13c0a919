//! The chain's key, its signed checkpoints and its verification.
//!
//! The audit key is 32 random bytes per installation, kept outside the database. Every event's
//! hash is an HMAC under it, so someone who can write the database but not read the key can
//! neither edit an event nor recompute the chain after one. After every append the store writes
//! the organization's [`Checkpoint`] — the head's sequence and hash, signed with the key — in the
//! same transaction, so removing the tail is detected; a checkpoint exported elsewhere (a digest,
//! as CloudTrail's digest files) proves the log against a copy the database's writer does not
//! control, even if they roll the stored checkpoint back.

use super::{AuditEvent, GENESIS};
use crate::ids::OrgId;
use crate::secret::hex;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;

/// The installation's audit key. Its `Debug` form never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey([u8; 32]);

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditKey({})", self.id())
    }
}

impl AuditKey {
    /// A key of these bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads a key written as 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(t.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(bytes))
    }

    /// The key as 64 hex digits, as its file holds it.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// A short public name for the key (an HMAC of a fixed label), to tell keys apart without
    /// showing them.
    pub fn id(&self) -> String {
        self.mac(&[b"grantry audit key id"]).chars().take(16).collect()
    }

    /// A seal over `parts` for something kept outside the audit log (a saved index), under a
    /// label of its own so it can never pass for an event's hash.
    pub fn seal(&self, label: &str, parts: &[&[u8]]) -> String {
        let mut all = vec![b"grantry seal: ".as_slice(), label.as_bytes(), b"\0".as_slice()];
        all.extend_from_slice(parts);
        self.mac(&all)
    }

    /// Whether `seal` is this key's seal over `parts` under `label` (compared in constant time).
    pub fn opens(&self, label: &str, parts: &[&[u8]], seal: &str) -> bool {
        let mine = self.seal(label, parts);
        mine.len() == seal.len() && mine.bytes().zip(seal.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The HMAC-SHA256 of the concatenated `parts`, in hex.
    pub(super) fn mac(&self, parts: &[&[u8]]) -> String {
        // INVARIANT: HMAC takes a key of any length, so this cannot fail.
        let Ok(mut m) = Hmac::<Sha256>::new_from_slice(&self.0) else { return String::new() };
        for p in parts {
            m.update(p);
        }
        hex(&m.finalize().into_bytes())
    }
}

/// A signed statement of an organization's chain head: event `seq` (the count, since the chain is
/// gapless from 1) has hash `head_hash`, as of `at`. Stored after every append; printed as a
/// digest for safekeeping elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub org: OrgId,
    pub seq: i64,
    pub head_hash: String,
    pub at: Timestamp,
    /// The id of the key that signed it.
    pub key_id: String,
    pub signature: String,
}

impl Checkpoint {
    /// Signs the head `seq`/`head_hash` of `org`'s chain as of `at`.
    pub fn sign(key: &AuditKey, org: &OrgId, seq: i64, head_hash: &str, at: Timestamp) -> Self {
        let mut c = Self { org: org.clone(), seq, head_hash: head_hash.to_owned(), at, key_id: key.id(), signature: String::new() };
        c.signature = c.expected_signature(key);
        c
    }

    fn expected_signature(&self, key: &AuditKey) -> String {
        let body = format!("grantry checkpoint\n{}\n{}\n{}\n{}", self.org, self.seq, self.head_hash, self.at.as_microsecond());
        key.mac(&[body.as_bytes()])
    }

    /// Whether `key` signed this checkpoint as it reads now.
    pub fn is_signed_by(&self, key: &AuditKey) -> bool {
        self.expected_signature(key) == self.signature
    }
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

impl ChainBreak {
    fn at(seq: i64, reason: impl Into<String>) -> Self {
        Self { seq, reason: reason.into() }
    }
}

/// Verifies one organization's events, given in `seq` order, under `key`, and against its stored
/// `checkpoint`; returns how many events were checked.
pub fn verify_chain(events: &[AuditEvent], key: &AuditKey, checkpoint: Option<&Checkpoint>) -> Result<usize, ChainBreak> {
    let mut prev = GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        let expected_seq = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1);
        if e.seq != expected_seq {
            return Err(ChainBreak::at(e.seq, format!("expected event {expected_seq} here: an event is missing or out of order")));
        }
        if e.prev_hash != prev {
            return Err(ChainBreak::at(e.seq, "its prev_hash is not the hash of the event before it"));
        }
        if e.compute_hash(key) != e.hash {
            return Err(ChainBreak::at(
                e.seq,
                "its contents do not match its keyed hash: the row was edited, or re-hashed without the audit key",
            ));
        }
        prev.clone_from(&e.hash);
    }
    let last = events.last().map_or(0, |e| e.seq);
    match checkpoint {
        // Every organization's log begins with its creation: an empty one was emptied.
        None if last == 0 => {
            Err(ChainBreak::at(1, "the log is empty, yet every organization's log begins with its creation: it was removed"))
        }
        None => Err(ChainBreak::at(last, "no signed checkpoint records the chain's head: the checkpoint was removed")),
        Some(c) => {
            head_matches(events, key, c, "the stored checkpoint")?;
            if c.seq < last {
                return Err(ChainBreak::at(
                    c.seq + 1,
                    format!("events after {} are not covered by the signed checkpoint: they were added outside grantry", c.seq),
                ));
            }
            Ok(events.len())
        }
    }
}

/// Verifies that the log holds the head a digest records (the chain itself is checked by
/// [`verify_chain`]): the digest was signed with `key`, and event `digest.seq` is there with the
/// digest's hash.
pub fn verify_against(events: &[AuditEvent], key: &AuditKey, digest: &Checkpoint) -> Result<(), ChainBreak> {
    head_matches(events, key, digest, "the digest")
}

fn head_matches(events: &[AuditEvent], key: &AuditKey, c: &Checkpoint, what: &str) -> Result<(), ChainBreak> {
    if !c.is_signed_by(key) {
        return Err(ChainBreak::at(
            c.seq,
            format!(
                "{what}'s signature does not verify under audit key {}: it was forged, edited, or signed with another key ({})",
                key.id(),
                c.key_id
            ),
        ));
    }
    let last = events.last().map_or(0, |e| e.seq);
    if c.seq > last {
        return Err(ChainBreak::at(
            last + 1,
            format!("{what} records {} events but the log ends at {last}: events were removed from its tail", c.seq),
        ));
    }
    let at = usize::try_from(c.seq - 1).ok().and_then(|i| events.get(i));
    match at {
        Some(e) if e.hash == c.head_hash => Ok(()),
        Some(e) => Err(ChainBreak::at(e.seq, format!("{what} records another hash for event {}: the log was rewritten", e.seq))),
        None if c.seq == 0 => Ok(()),
        None => Err(ChainBreak::at(c.seq, format!("event {} that {what} records is missing", c.seq))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Actor;

    fn key() -> AuditKey {
        AuditKey::from_bytes([7; 32])
    }

    fn chain(n: i64, key: &AuditKey) -> (Vec<AuditEvent>, Checkpoint) {
        let mut prev = GENESIS.to_owned();
        let events: Vec<AuditEvent> = (1..=n)
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
                e.hash = e.compute_hash(key);
                prev.clone_from(&e.hash);
                e
            })
            .collect();
        let head = events.last().unwrap();
        let cp = Checkpoint::sign(key, &head.org, head.seq, &head.hash, head.at);
        (events, cp)
    }

    #[test]
    fn detects_edits_removals_reorders_truncation_and_rehashing() {
        let k = key();
        let (good, cp) = chain(6, &k);
        assert_eq!(verify_chain(&good, &k, Some(&cp)), Ok(6));
        let mut edited = good.clone();
        edited[1].justification = Some("tampered".into());
        assert_eq!(verify_chain(&edited, &k, Some(&cp)).unwrap_err().seq, 2);
        let mut removed = good.clone();
        removed.remove(2);
        assert_eq!(verify_chain(&removed, &k, Some(&cp)).unwrap_err().seq, 4);
        let mut swapped = good.clone();
        swapped.swap(1, 2);
        assert!(verify_chain(&swapped, &k, Some(&cp)).is_err());
        let truncated = &good[..4];
        assert_eq!(verify_chain(truncated, &k, Some(&cp)).unwrap_err().seq, 5, "the tail is gone");
        assert!(verify_chain(&good, &k, None).is_err(), "the checkpoint is gone");
        assert_eq!(verify_chain(&[], &k, None).unwrap_err().seq, 1, "the whole log and its checkpoint are gone");
        // Someone with the database but not the key re-hashes the whole edited chain.
        let mut rehashed = edited.clone();
        let mut prev = GENESIS.to_owned();
        for e in &mut rehashed {
            e.prev_hash.clone_from(&prev);
            e.hash = e.legacy_hash();
            prev.clone_from(&e.hash);
        }
        assert_eq!(verify_chain(&rehashed, &k, Some(&cp)).unwrap_err().seq, 1);
        let forged = Checkpoint { seq: 4, head_hash: good[3].hash.clone(), ..cp.clone() };
        assert!(verify_chain(truncated, &k, Some(&forged)).is_err(), "a checkpoint edited to hide the cut");
        assert!(verify_chain(&good, &AuditKey::from_bytes([8; 32]), Some(&cp)).is_err(), "another key");
    }

    #[test]
    fn a_digest_proves_the_log_it_was_taken_from() {
        let k = key();
        let (good, _) = chain(5, &k);
        let (_, digest) = chain(3, &k);
        assert_eq!(verify_against(&good, &k, &digest), Ok(()), "the log grew since: still proven");
        assert_eq!(verify_against(&good[..2], &k, &digest).unwrap_err().seq, 3);
        let mut other = good.clone();
        other[2].hash = "f".repeat(64);
        assert!(verify_against(&other, &k, &digest).is_err());
    }

    #[test]
    fn keys_round_trip_and_never_print() {
        let k = key();
        assert_eq!(AuditKey::from_hex(&k.to_hex()), Some(k.clone()));
        assert!(!format!("{k:?}").contains(&k.to_hex()));
        assert!(AuditKey::from_hex("zz").is_none());
    }
}
