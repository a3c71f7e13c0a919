//! Access requests (issue 13). A user asks for a role, or a set of data permissions, on one or
//! more targets (scope nodes or resources) for a duration, with a justification. The policy that
//! covers the targets (`request_policies`) says whether the request is approved at once, or needs
//! approvals in stages that must all pass (N of the named approvers each); a stage still open
//! after a while may also be approved by a second set (escalation). The clock starts at approval,
//! or at the requested start if that is later; a pending request lapses after the policy's
//! timeout. A request is kept as a resource (`access_request`) holding its whole record (see
//! `records`): its history is in the audit log.

use super::records::{keep_record, read_record};
use super::request_policies::Stage;
use crate::attr::Attributes;
use crate::ids::UserId;
use crate::model::{Anchor, Resource, ResourceRef};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The resource type of an access request.
pub const ACCESS_REQUEST: &str = "access_request";
/// The attribute naming the user a single-use request's access is used up by, while it is open.
pub const CONSUMABLE_BY: &str = "consumable_by";

/// The attribute that says whether the sweeper still watches a request.
pub const WATCHED: &str = "watched";

/// What a request asks for on each of its targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requested {
    Role(String),
    /// Data permissions, each granted without conditions on the target.
    Permissions(Vec<String>),
}

impl Requested {
    /// How people read it: `role org_admin` or `traces:read, traces:read:prod`.
    pub fn describe(&self) -> String {
        match self {
            Self::Role(r) => format!("role `{r}`"),
            Self::Permissions(p) => format!("`{}`", p.join("`, `")),
        }
    }
}

/// One approval given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub stage: usize,
    pub by: UserId,
    pub at: Timestamp,
    pub reason: String,
    /// Who else could have given it: the custody of the token it was given with.
    #[serde(default)]
    pub custody: Vec<crate::model::Principal>,
}

/// How a request ended other than by running its course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Closing {
    Denied,
    Cancelled,
    /// Approved, then revoked — or given back early by its holder.
    Revoked,
}

/// A closing, by whom and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    pub how: Closing,
    /// `user:ID`, `api_key:ID` or `system`.
    pub by: String,
    pub at: Timestamp,
    pub reason: String,
}

/// The window approval gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Granted {
    pub approved_at: Timestamp,
    pub starts_at: Timestamp,
    pub expires_at: Timestamp,
}

/// More time asked for on an approved request, decided in its stages like the request was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub duration: SignedDuration,
    pub justification: String,
    pub asked_at: Timestamp,
    /// When it lapses unless decided (never after the access ends).
    pub pending_until: Timestamp,
    pub approvals: Vec<Approval>,
}

/// An extension given: the access then ended at `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extended {
    pub at: Timestamp,
    pub duration: SignedDuration,
    pub expires_at: Timestamp,
}

/// Where a request stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Pending,
    /// Approved; its access starts later.
    Scheduled,
    /// Approved and in force.
    Active,
    Denied,
    Cancelled,
    /// Lapsed while pending, or its access ran out.
    Expired,
    Revoked,
}

impl RequestState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Scheduled => "scheduled",
            Self::Active => "active",
            Self::Denied => "denied",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

impl std::str::FromStr for RequestState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let all = [Self::Pending, Self::Scheduled, Self::Active, Self::Denied, Self::Cancelled, Self::Expired, Self::Revoked];
        all.into_iter()
            .find(|st| st.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("`{s}` is not a request state; use pending, scheduled, active, denied, cancelled, expired or revoked"))
    }
}

/// An access request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    pub id: String,
    pub requester: UserId,
    pub requested: Requested,
    /// The targets asked for and not declined.
    pub targets: Vec<Anchor>,
    /// The targets an approver left out (approving the others).
    #[serde(default)]
    pub declined: Vec<Anchor>,
    pub duration: SignedDuration,
    /// The longest access it may give, extensions included (its policy's when it was made).
    #[serde(default)]
    pub max_duration: Option<SignedDuration>,
    /// The earliest the access may start (a booking ahead); `None`: at approval.
    pub start: Option<Timestamp>,
    pub justification: String,
    pub ticket: Option<String>,
    pub created_at: Timestamp,
    /// When it lapses unless decided.
    pub pending_until: Timestamp,
    /// The policy that decides it (`None`: the organization's approvers, one approval).
    pub policy: Option<String>,
    /// Its stages as the policy had them when it was made.
    pub stages: Vec<Stage>,
    /// The policy's author, whose permanent authority bounds what approval hands out.
    pub authority: Option<UserId>,
    pub break_glass: bool,
    pub approvals: Vec<Approval>,
    pub granted: Option<Granted>,
    pub closed: Option<Closed>,
    /// A break-glass request's review after the fact.
    pub reviewed: Option<Approval>,
    /// An extension asked for and not yet decided.
    #[serde(default)]
    pub extension: Option<Extension>,
    /// The extensions given, oldest first.
    #[serde(default)]
    pub extended: Vec<Extended>,
    /// How long before its end the holder is warned (the policy's; 15 minutes without one).
    #[serde(default = "default_warning")]
    pub warn_before: SignedDuration,
    /// What the sweeper has recorded of it.
    #[serde(default)]
    pub noted: Noted,
    /// Single use: the permission whose first allowed check (at the moment of asking) ends the
    /// access it gave.
    #[serde(default)]
    pub single_use: Option<String>,
}

pub(super) fn default_warning() -> SignedDuration {
    DEFAULT_WARNING
}

/// The warning before an approved request's access ends, unless its policy says otherwise.
pub const DEFAULT_WARNING: SignedDuration = SignedDuration::from_mins(15);

/// What the expiry sweeper has written of a request: its booked access starting, the warning
/// before its end, and its end (lapsed unanswered, or run out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Noted {
    pub activated: bool,
    pub warned: bool,
    pub ended: bool,
    /// The stages (of the request's own round) whose escalation has been told.
    #[serde(default)]
    pub escalated: Vec<usize>,
}

/// Something the sweeper records of a request at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// Its booked access started.
    Activated,
    /// Its access ends soon.
    ExpiringSoon,
    /// It lapsed unanswered, or its access ran out.
    Expired,
    /// Stage `0` has waited its escalation time: its escalation's approvers may decide it too.
    Escalated(usize),
}

impl AccessRequest {
    /// Where it stands at `now`.
    pub fn state(&self, now: Timestamp) -> RequestState {
        match (&self.closed, &self.granted) {
            (Some(c), _) => match c.how {
                Closing::Denied => RequestState::Denied,
                Closing::Cancelled => RequestState::Cancelled,
                Closing::Revoked => RequestState::Revoked,
            },
            (None, Some(g)) if now < g.starts_at => RequestState::Scheduled,
            (None, Some(g)) if now < g.expires_at => RequestState::Active,
            (None, Some(_)) => RequestState::Expired,
            (None, None) if now < self.pending_until => RequestState::Pending,
            (None, None) => RequestState::Expired,
        }
    }

    /// The approvals being gathered now, and since when: an extension's while one is asked for,
    /// else the request's own.
    fn round(&self) -> (&[Approval], Timestamp) {
        match &self.extension {
            Some(e) => (&e.approvals, e.asked_at),
            None => (&self.approvals, self.created_at),
        }
    }

    /// The stage awaiting approval in this round (`None` once every stage has passed).
    pub fn open_stage(&self) -> Option<usize> {
        (0..self.stages.len()).find(|&i| self.approvals_in(i) < self.stages.get(i).map_or(0, |s| s.approvals as usize))
    }

    /// How many approvals stage `i` has in this round.
    pub fn approvals_in(&self, i: usize) -> usize {
        self.round().0.iter().filter(|a| a.stage == i).count()
    }

    /// When stage `i` opened in this round: at its start, or when the stage before it passed.
    pub fn stage_opened_at(&self, i: usize) -> Timestamp {
        let (approvals, since) = self.round();
        if i == 0 {
            return since;
        }
        approvals.iter().filter(|a| a.stage + 1 == i).map(|a| a.at).max().unwrap_or(since)
    }

    /// Whether `user` has approved any stage of this round.
    pub fn approved_by(&self, user: &UserId) -> bool {
        self.round().0.iter().any(|a| &a.by == user)
    }

    /// The approvals of this round.
    pub fn round_approvals(&self) -> &[Approval] {
        self.round().0
    }

    /// Whether `user` has approved it, or an extension of it, ever.
    pub fn ever_approved_by(&self, user: &UserId) -> bool {
        self.approvals.iter().chain(self.extension.iter().flat_map(|e| &e.approvals)).any(|a| &a.by == user)
    }

    /// Whether an extension awaits a decision at `now`.
    pub fn extension_pending(&self, now: Timestamp) -> bool {
        let running = matches!(self.state(now), RequestState::Active | RequestState::Scheduled);
        running && self.extension.as_ref().is_some_and(|e| now < e.pending_until)
    }

    /// Whether the sweeper still has something to record of it.
    pub fn watched(&self) -> bool {
        self.closed.is_none() && !self.noted.ended
    }

    /// What the sweeper should record of it at `now`, each with the moment it happened, in order.
    pub fn moments_due(&self, now: Timestamp) -> Vec<(Moment, Timestamp)> {
        let mut due = Vec::new();
        if !self.watched() {
            return due;
        }
        match self.granted {
            None if now >= self.pending_until => due.push((Moment::Expired, self.pending_until)),
            None => {
                let escalation = self.open_stage().and_then(|i| {
                    let stage = self.stages.get(i)?;
                    let at = self.stage_opened_at(i).checked_add(stage.escalate_after?).ok()?;
                    (!stage.escalation.is_default() && !self.noted.escalated.contains(&i) && now >= at).then_some((i, at))
                });
                if let Some((i, at)) = escalation {
                    due.push((Moment::Escalated(i), at));
                }
            }
            Some(g) => {
                if !self.noted.activated && g.starts_at > g.approved_at && now >= g.starts_at {
                    due.push((Moment::Activated, g.starts_at));
                }
                let warn_at = g.expires_at.checked_sub(self.warn_before).unwrap_or(g.expires_at).max(g.starts_at);
                if !self.noted.warned && now >= warn_at && now < g.expires_at {
                    due.push((Moment::ExpiringSoon, warn_at));
                }
                if now >= g.expires_at {
                    due.push((Moment::Expired, g.expires_at));
                }
            }
        }
        due
    }

    /// When it ended, if it has by `now`: closed (denied, cancelled, revoked), lapsed unanswered,
    /// or run out. A break-glass request not yet reviewed has not ended for this purpose.
    pub fn ended_at(&self, now: Timestamp) -> Option<Timestamp> {
        if self.break_glass && self.reviewed.is_none() {
            return None;
        }
        let end = match (&self.closed, &self.granted) {
            (Some(c), _) => c.at,
            (None, Some(g)) => g.expires_at,
            (None, None) => self.pending_until,
        };
        (end <= now).then_some(end)
    }

    /// Marks `moment` recorded.
    pub fn note(&mut self, moment: Moment) {
        match moment {
            Moment::Activated => self.noted.activated = true,
            Moment::ExpiringSoon => self.noted.warned = true,
            Moment::Expired => self.noted.ended = true,
            Moment::Escalated(i) => self.noted.escalated.push(i),
        }
    }

    /// The window approval at `now` gives: from `now` (or the booked start, if later) for the
    /// requested duration — the clock starts at approval.
    pub fn window_from(&self, now: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let starts = self.start.filter(|s| *s > now).unwrap_or(now);
        starts.checked_add(self.duration).ok().map(|end| (starts, end))
    }
}

impl AccessRequest {
    /// The request a resource holds, if it is one.
    pub fn of(r: &Resource) -> Option<Self> {
        read_record(r, ACCESS_REQUEST)
    }

    /// The attributes the resource keeps: the record, and whether the sweeper watches it (so it
    /// finds the few it must look at without reading every request).
    pub fn attributes(&self) -> Attributes {
        let mut a = keep_record(self);
        a.insert(WATCHED.to_owned(), crate::attr::AttrValue::Bool(self.watched()));
        if self.single_use.is_some() && self.closed.is_none() {
            // So a check finds at once whether its principal holds something to use up.
            a.insert(CONSUMABLE_BY.to_owned(), crate::attr::AttrValue::Str(self.requester.to_string()));
        }
        a
    }

    /// The request's resource reference.
    pub fn reference(&self) -> ResourceRef {
        ResourceRef::new(ACCESS_REQUEST, &self.id)
    }
}
