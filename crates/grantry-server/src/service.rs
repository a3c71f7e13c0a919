//! The service operations: each validates its input against the decision index, checks the
//! actor's permission before any side effect, and writes one batch (state + audit) or nothing.
//! The API handlers and the CLI's direct-database commands both call these.

mod agents;
mod api_keys;
mod assignments;
mod bootstrap;
mod bulk;
mod compliance;
mod conversations;
pub mod error;
mod grants;
mod groups;
mod imports;
mod members;
mod planned;
mod policy_reach;
mod pools;
mod rbac;
mod records;
mod reports;
mod request_decisions;
mod request_events;
mod request_policies;
mod requests;
mod reviews;
mod roles;
mod scopes;
mod settings;
mod single_use;
mod sources;
mod temp_access;
mod traces;
mod troubleshoot;
mod user_status;
mod users;
mod webhooks;

pub use agents::{create_agent, delete_agent, find_agent, update_agent, visible_agent, AgentPatch, AgentSpec};
pub use api_keys::{create_key, edit_key, key_scopes, revoke_key, rotate_key, CreatedKey, Delegation, KeyEdit, MAX_ROTATION_GRACE};
pub use assignments::{
    assign, assignments_of_agent, assignments_of_group, change_assignment, unassign, with_zones, Assignment, Named, Span,
};
pub use bootstrap::{bootstrap, Bootstrapped};
pub use bulk::{bulk_change, BulkSpec};
pub use compliance::{compliance, ComplianceItem, LastReview};
pub use conversations::{conversation_url_path, register_conversation, CONVERSATION};
pub use error::ServiceError;
pub use grants::{create_grants, record_expiries, request_conversation_access, revoke_grant, GrantSpec};
pub use groups::{create_group, delete_group, find_group, update_group, GroupPatch, GroupSpec};
pub use imports::{import_assignments, import_users, MAX_ROWS};
pub use members::{add_members, find_user, remove_members, MAX_MEMBERS_AT_ONCE};
pub use planned::{ImportReport, Outcome, RowPlan};
pub use pools::{create_pool, delete_pool, find_pool, pools};
pub use records::Records;
pub use reports::{access_matrix, coverage, memberships, Coverage, MatrixCell};
pub use request_decisions::{decide, extend, Decision, ExtensionSpec};
pub use request_events::{purge_ended_requests, record_request_events};
pub use request_policies::{create_policy, delete_policy, find_policy, policies, summary, PolicySpec, StageSpec};
pub use requests::{create_request, decides_in_person, email_of, find_request, live_grants, may_see, requests, RequestSpec};
pub use reviews::{review, Review, Reviewed, Verdict};
pub use roles::{grant_role, revoke_role, RoleChange, RoleGranted, TierSel, Window};
pub use scopes::{create_scope, set_production};
pub use settings::{update_policy, PolicyPatch};
pub use single_use::{consume, may_consume};
pub use sources::{add_source, remove_source, restrict_source, sources, sources_for, Source};
pub use temp_access::{create_temp_access, delete_temp_access, find_instance, grants_of, instances, refuse_change, Expiry, TempSpec};
pub use traces::{capture_trace, TRACE};
pub use troubleshoot::{walk, Step, Walk};
pub use user_status::{set_standing, Standing};
pub use users::{create_user, exchange_token, issue_token, revoke_token, IssuedToken};
pub use webhooks::{change_webhook, check_url, create_webhook, find_webhook, forbidden_ip, webhooks, WebhookChange, WebhookSpec};

use crate::service::error::Result;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::{self, Action, Permit};
use grantry_core::change::Change;
use grantry_core::ids::{OrgId, TokenId};
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{Actor, Credential, Grant, GrantTerms, Principal, Revocation};
use grantry_core::Timestamp;
use grantry_store::WriteBatch;

/// Who is acting, where, and when.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub org: OrgId,
    /// The principal whose permissions are checked.
    pub actor: Principal,
    /// How the audit log names the actor (the principal, or the system for bootstrap and expiry).
    pub by: Actor,
    pub request_id: Option<String>,
    pub now: Timestamp,
    /// The credential the actor presented, when acting over the API.
    pub token: Option<TokenId>,
    /// Who minted that credential, when someone other than the actor did (`Credential::issued_by`).
    pub token_made_by: Option<Principal>,
    /// When that credential expires.
    pub token_expires_at: Option<Timestamp>,
    /// That credential's custody (`Credential::custody`).
    pub token_custody: Vec<Principal>,
}

impl Ctx {
    /// A context for `actor` acting in `org` at `now`.
    pub fn new(org: OrgId, actor: Principal, request_id: Option<String>, now: Timestamp) -> Self {
        let by = Actor::from(&actor);
        Self { org, actor, by, request_id, now, token: None, token_made_by: None, token_expires_at: None, token_custody: vec![] }
    }

    /// The same context, acting with `credential`.
    pub fn with_credential(self, credential: &Credential) -> Self {
        Self {
            token: Some(credential.id.clone()),
            token_made_by: credential.issued_by.clone(),
            token_expires_at: credential.expires_at,
            token_custody: credential.custody.clone(),
            ..self
        }
    }

    /// The latest a credential this actor makes may expire: a token someone else minted for them
    /// makes nothing that outlives it (else a short impersonation would last for good).
    pub fn credential_bound(&self) -> Option<Timestamp> {
        self.token_made_by.as_ref().and(self.token_expires_at)
    }

    /// `expires_at`, cut to [`Ctx::credential_bound`].
    pub fn bounded(&self, expires_at: Option<Timestamp>) -> Option<Timestamp> {
        match (expires_at, self.credential_bound()) {
            (Some(at), Some(bound)) => Some(at.min(bound)),
            (at, bound) => at.or(bound),
        }
    }

    /// Who minted a credential this actor makes for `principal`, when it is not `principal`'s own
    /// doing: the actor, for someone else; for themself, whoever minted the token they act with.
    pub fn mints_as(&self, principal: &Principal) -> Option<Principal> {
        if &self.actor == principal {
            self.token_made_by.clone()
        } else {
            Some(self.actor.clone())
        }
    }

    /// The custody of a credential this actor makes for `principal`: their own token's custody,
    /// whoever minted that token, and the actor when the credential is someone else's — everyone
    /// who could have held its secret.
    pub fn custody_for(&self, principal: &Principal) -> Vec<Principal> {
        let mut custody = self.token_custody.clone();
        let me = (&self.actor != principal).then_some(&self.actor);
        for p in self.token_made_by.iter().chain(me) {
            if !custody.contains(p) {
                custody.push(p.clone());
            }
        }
        custody
    }

    /// The same context at another time.
    pub fn at(&self, now: Timestamp) -> Self {
        Self { now, ..self.clone() }
    }

    /// The actor as the audit log names it.
    pub fn audit_actor(&self) -> Actor {
        self.by.clone()
    }

    /// Decides `action` for this context's actor (the one authorization module decides); the
    /// permit is what [`Ctx::batch`] needs.
    pub fn authorize(&self, ix: &DecisionIndex, action: Action<'_>) -> Result<Permit> {
        Ok(authz::authorize(org(ix, &self.org)?, ix.catalogue(), &self.actor, action, self.now)?)
    }

    /// A batch of `changes` and `audit` for this context's organization, stamped now; only an
    /// authorized action (its `permit`) writes.
    pub fn batch(&self, permit: Permit, changes: Vec<Change>, mut audit: Vec<AuditDraft>) -> WriteBatch {
        tracing::debug!(action = permit.action(), "authorized");
        for d in &mut audit {
            d.request_id.clone_from(&self.request_id);
        }
        WriteBatch { org: self.org.clone(), at: self.now, changes, audit, base_revision: None, outbox: vec![] }
    }
}

/// The organization `id` in the index.
pub fn org<'a>(ix: &'a DecisionIndex, id: &OrgId) -> Result<&'a OrgState> {
    ix.org(id).ok_or_else(|| ServiceError::NotFound(format!("organization `{id}` not found")))
}

/// The audit event that records a grant's creation, revocation or expiry.
pub fn grant_event(actor: &Actor, event_type: &str, grant: &Grant) -> AuditDraft {
    let mut d = AuditDraft::new(actor, event_type, "grant", grant.id.as_str());
    d.principal = Some(grant.principal.to_string());
    d.justification.clone_from(&grant.justification);
    d.after = serde_json::to_value(grant).ok();
    d
}

/// Revokes `grants` now: their changes and their `grant.revoked` events.
pub fn revocations(ctx: &Ctx, grants: &[GrantTerms]) -> (Vec<Change>, Vec<AuditDraft>) {
    let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
    let changes =
        grants.iter().map(|g| Change::GrantRevoked { org: ctx.org.clone(), id: g.id.clone(), revocation: revocation.clone() }).collect();
    let audit = grants
        .iter()
        .map(|g| {
            let mut e = AuditDraft::new(&ctx.audit_actor(), "grant.revoked", "grant", g.id.as_str());
            e.principal = Some(g.principal.to_string());
            e
        })
        .collect();
    (changes, audit)
}
