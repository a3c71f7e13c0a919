//! How an access request reads over HTTP: its targets, stages and approvals, window, extension
//! and closing, with people named by email.

use crate::service;
use grantry_core::duration::format_iso;
use grantry_core::index::OrgState;
use grantry_core::model::{AccessRequest, Anchor, Approval, RequestState, Requested};
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A target: a scope node (`path`) or a registered resource (`type:id`), with its name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TargetView {
    /// `org`, `workspace`, `project`, `environment`, or the resource's type.
    pub kind: String,
    /// The scope path, or `type:id`.
    pub target: String,
    pub name: String,
}

/// One approval, or a review.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalView {
    pub by: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub reason: String,
}

/// A stage and where it stands.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageView {
    pub name: String,
    pub approvals_needed: u32,
    pub approvals: Vec<ApprovalView>,
    /// Who decides it, in words.
    pub approvers: String,
}

/// An access request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestView {
    pub id: String,
    pub requester: String,
    pub role: Option<String>,
    pub permissions: Vec<String>,
    pub targets: Vec<TargetView>,
    /// The targets an approver left out.
    pub declined: Vec<TargetView>,
    /// ISO 8601.
    pub duration: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<Timestamp>,
    pub justification: String,
    pub ticket: Option<String>,
    /// pending, scheduled, active, denied, cancelled, expired or revoked.
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub pending_until: Timestamp,
    /// The deciding policy's name (none: the organization's approvers).
    pub policy: Option<String>,
    pub stages: Vec<StageView>,
    /// The stage awaiting approval (0-based), while pending.
    pub open_stage: Option<usize>,
    pub break_glass: bool,
    /// A break-glass request's review after the fact.
    pub reviewed: Option<ApprovalView>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// How it closed (denied, cancelled, revoked), by whom, when and why.
    pub closed_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    pub reason: Option<String>,
    /// The ids of the grants it holds now.
    pub grants: Vec<String>,
    /// An extension waiting for its stages (`openStage` is its stage).
    pub extension: Option<ExtensionView>,
    /// The extensions given, oldest first.
    pub extended: Vec<ExtendedView>,
    /// The permission whose first allowed check ends the access, when single use.
    pub single_use: Option<String>,
}

/// An extension asked for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionView {
    /// ISO 8601: how much later the access would end.
    pub duration: String,
    pub justification: String,
    #[schema(value_type = String, format = DateTime)]
    pub asked_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub pending_until: Timestamp,
    pub approvals: Vec<ApprovalView>,
}

/// An extension given.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedView {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub duration: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

fn approval(o: &OrgState, a: &Approval) -> ApprovalView {
    ApprovalView { by: service::email_of(o, &a.by), at: a.at, reason: a.reason.clone() }
}

fn target(o: &OrgState, t: &Anchor) -> TargetView {
    match t {
        Anchor::Scope(s) => {
            let kind = match s {
                grantry_core::model::ScopeRef::Org => "org",
                grantry_core::model::ScopeRef::Workspace(_) => "workspace",
                grantry_core::model::ScopeRef::Project(_) => "project",
                grantry_core::model::ScopeRef::Environment(_) => "environment",
            };
            let path = o.scope_path(s);
            TargetView { kind: kind.into(), target: path.clone(), name: path }
        }
        Anchor::Resource(r) => {
            let name = o.resource(r).map(|res| grantry_core::attr::text(&res.attributes, "name").to_owned()).unwrap_or_default();
            TargetView { kind: r.kind.clone(), target: r.to_string(), name }
        }
    }
}

impl RequestView {
    pub fn new(o: &OrgState, r: &AccessRequest, now: Timestamp) -> Self {
        let (role, permissions) = match &r.requested {
            Requested::Role(role) => (Some(role.clone()), vec![]),
            Requested::Permissions(p) => (None, p.clone()),
        };
        let stages = r
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| StageView {
                name: s.name.clone(),
                approvals_needed: s.approvals,
                approvals: r.approvals.iter().filter(|a| a.stage == i).map(|a| approval(o, a)).collect(),
                approvers: grantry_core::authz::describe_approvers(&s.approvers, o).replace('`', ""),
            })
            .collect();
        let state = r.state(now);
        let policy = r.policy.as_ref().map(|id| service::find_policy(o, id).map_or_else(|_| format!("{id} (deleted)"), |p| p.name));
        Self {
            id: r.id.clone(),
            requester: service::email_of(o, &r.requester),
            role,
            permissions,
            targets: r.targets.iter().map(|t| target(o, t)).collect(),
            declined: r.declined.iter().map(|t| target(o, t)).collect(),
            duration: format_iso(r.duration),
            start: r.start,
            justification: r.justification.clone(),
            ticket: r.ticket.clone(),
            state: state.name().to_owned(),
            created_at: r.created_at,
            pending_until: r.pending_until,
            policy,
            stages,
            open_stage: (state == RequestState::Pending || r.extension_pending(now)).then(|| r.open_stage()).flatten(),
            break_glass: r.break_glass,
            reviewed: r.reviewed.as_ref().map(|a| approval(o, a)),
            approved_at: r.granted.map(|g| g.approved_at),
            starts_at: r.granted.map(|g| g.starts_at),
            expires_at: r.granted.map(|g| g.expires_at),
            closed_by: r.closed.as_ref().map(|c| c.by.clone()),
            closed_at: r.closed.as_ref().map(|c| c.at),
            reason: r.closed.as_ref().map(|c| c.reason.clone()),
            grants: service::live_grants(o, r).iter().map(|g| g.id.to_string()).collect(),
            single_use: r.single_use.clone(),
            extension: r.extension.as_ref().filter(|_| r.extension_pending(now)).map(|e| ExtensionView {
                duration: format_iso(e.duration),
                justification: e.justification.clone(),
                asked_at: e.asked_at,
                pending_until: e.pending_until,
                approvals: e.approvals.iter().map(|a| approval(o, a)).collect(),
            }),
            extended: r
                .extended
                .iter()
                .map(|e| ExtendedView { at: e.at, duration: format_iso(e.duration), expires_at: e.expires_at })
                .collect(),
        }
    }
}
