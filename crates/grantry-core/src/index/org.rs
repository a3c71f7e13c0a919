//! One organization's state in the index: users, resources and grants, with the lookups the
//! decision and the service operations need.

use super::compiled::Compiled;
use super::groups::Groups;
use crate::catalogue::Catalogue;
use crate::change::Change;
use crate::error::{CoreError, Result};
use crate::ids::{ApiKeyId, GrantId, ScopeId, UserId};
use crate::model::{ApiKey, GrantTerms, Org, Principal, Resource, ResourceRef, ScopeKind, ScopeNode, ScopeRef, User, UserStatus};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One organization's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgState {
    pub(super) org: Org,
    users: HashMap<UserId, User>,
    user_by_email: HashMap<String, UserId>,
    /// The parent of each scope node below the organization.
    pub(super) scope_parent: HashMap<ScopeRef, ScopeRef>,
    scopes: HashMap<ScopeId, ScopeNode>,
    /// `WS`, `WS/PRJ` or `WS/PRJ/ENV` → the node.
    scope_by_path: HashMap<String, ScopeId>,
    api_keys: HashMap<ApiKeyId, ApiKey>,
    pub(super) groups: Groups,
    /// The live grants, and the resources, laid out for `check`.
    pub(super) compiled: Compiled,
    /// The latest time a change applied here took effect.
    latest_at: Option<jiff::Timestamp>,
}

impl OrgState {
    pub(super) fn new(org: Org) -> Self {
        Self {
            org,
            users: HashMap::new(),
            user_by_email: HashMap::new(),
            scope_parent: HashMap::new(),
            scopes: HashMap::new(),
            scope_by_path: HashMap::new(),
            api_keys: HashMap::new(),
            groups: Groups::default(),
            compiled: Compiled::default(),
            latest_at: None,
        }
    }

    pub(super) fn apply(&mut self, cat: &Catalogue, change: &Change) -> Result<()> {
        self.latest_at = self.latest_at.max(change.stamped_at());
        match change {
            Change::UserCreated { user } => {
                self.user_by_email.insert(user.email.clone(), user.id.clone());
                self.compiled.set_active(&Principal::User(user.id.clone()), user.status == UserStatus::Active);
                self.users.insert(user.id.clone(), user.clone());
            }
            Change::UserStatusChanged { user, status, .. } => {
                let u = self.users.get_mut(user).ok_or_else(|| CoreError::NotFound(format!("user `{user}` is not known")))?;
                u.status = *status;
                self.compiled.set_active(&Principal::User(user.clone()), *status == UserStatus::Active);
            }
            Change::UserDeleted { user, .. } => {
                let u = self.users.remove(user).ok_or_else(|| CoreError::NotFound(format!("user `{user}` is not known")))?;
                self.user_by_email.remove(&u.email);
                self.compiled.set_active(&Principal::User(user.clone()), false);
                self.groups.apply(change, &mut self.compiled)?;
            }
            Change::ScopeNodeCreated { node } => {
                let path = match &node.parent {
                    ScopeRef::Org => node.slug.clone(),
                    ScopeRef::Workspace(p) | ScopeRef::Project(p) | ScopeRef::Environment(p) => {
                        let parent = self.scopes.get(p).map(|n| self.path_of(n)).unwrap_or_default();
                        format!("{parent}/{}", node.slug)
                    }
                };
                self.scope_parent.insert(node.as_ref(), node.parent.clone());
                self.scope_by_path.insert(path, node.id.clone());
                self.scopes.insert(node.id.clone(), node.clone());
            }
            Change::EnvironmentProductionSet { id, is_production, .. } => {
                let node = self.scopes.get_mut(id).ok_or_else(|| CoreError::NotFound(format!("environment `{id}` is not known")))?;
                node.is_production = *is_production;
            }
            Change::OrgPolicySet { policy, .. } => self.org.policy = policy.clone(),
            Change::ApiKeyCreated { key } => {
                self.api_keys.insert(key.id.clone(), key.clone());
            }
            Change::ApiKeyRevoked { id, at, .. } => {
                let key = self.api_keys.get_mut(id).ok_or_else(|| CoreError::NotFound(format!("api key `{id}` is not known")))?;
                key.revoked_at = Some(*at);
                // INVARIANT: the batch that revokes a key also revokes its scope grants, so the
                // compiled layout needs no flag of its own.
            }
            Change::ApiKeyRenamed { id, name, .. } => {
                let key = self.api_keys.get_mut(id).ok_or_else(|| CoreError::NotFound(format!("api key `{id}` is not known")))?;
                key.name = name.clone();
            }
            Change::ResourceRegistered { resource } | Change::ResourceUpdated { resource } => {
                self.compiled.add_resource(resource, &self.scope_parent)
            }
            Change::ResourceRemoved { reference, .. } => self.compiled.remove_resource(reference),
            Change::GrantCreated { grant } => self.compiled.add_grant(cat, grant),
            // An ended grant leaves the index; one that is not there had already ended (it was
            // not loaded), so there is nothing to take out.
            Change::GrantRevoked { id, .. } | Change::GrantExpiryRecorded { id, .. } => {
                self.compiled.remove(id);
            }
            // One that is not there has ended, and stays ended.
            Change::GrantExtended { id, expires_at, .. } => {
                self.compiled.set_end(id, *expires_at);
            }
            Change::GroupCreated { .. }
            | Change::GroupUpdated { .. }
            | Change::GroupDeleted { .. }
            | Change::GroupMemberSet { .. }
            | Change::GroupMemberRemoved { .. } => self.groups.apply(change, &mut self.compiled)?,
            Change::OrgCreated { .. } | Change::CredentialIssued { .. } | Change::CredentialRevoked { .. } => {}
        }
        Ok(())
    }

    /// The latest time a change to this organization took effect (a grant's creation, a
    /// revocation): writes validated now are stamped no earlier.
    pub fn latest_change_at(&self) -> Option<jiff::Timestamp> {
        self.latest_at
    }

    /// The organization's record.
    pub fn org(&self) -> &Org {
        &self.org
    }

    /// The user with id `id`.
    pub fn user(&self, id: &UserId) -> Option<&User> {
        self.users.get(id)
    }

    /// The user with this (normalized) email.
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.user_by_email.get(email).and_then(|id| self.users.get(id))
    }

    /// Every user, sorted by email.
    pub fn users(&self) -> Vec<&User> {
        let mut all: Vec<&User> = self.users.values().collect();
        all.sort_by(|a, b| a.email.cmp(&b.email));
        all
    }

    /// The scope node at `path` (`WS`, `WS/PRJ` or `WS/PRJ/ENV`).
    pub fn scope_by_path(&self, path: &str) -> Option<&ScopeNode> {
        self.scope_by_path.get(path).and_then(|id| self.scopes.get(id))
    }

    /// The scope node with id `id`.
    pub fn scope(&self, id: &ScopeId) -> Option<&ScopeNode> {
        self.scopes.get(id)
    }

    /// The path of a scope node: `WS`, `WS/PRJ` or `WS/PRJ/ENV`.
    pub fn path_of(&self, node: &ScopeNode) -> String {
        let mut parts = vec![node.slug.as_str()];
        let mut parent = &node.parent;
        while let ScopeRef::Workspace(p) | ScopeRef::Project(p) | ScopeRef::Environment(p) = parent {
            let Some(n) = self.scopes.get(p) else { break };
            parts.push(n.slug.as_str());
            parent = &n.parent;
        }
        parts.reverse();
        parts.join("/")
    }

    /// Every scope node of `kind`, sorted by path.
    pub fn scopes_of(&self, kind: ScopeKind) -> Vec<&ScopeNode> {
        let mut all: Vec<&ScopeNode> = self.scopes.values().filter(|n| n.kind == kind).collect();
        all.sort_by_cached_key(|n| self.path_of(n));
        all
    }

    /// The API key with id `id`.
    pub fn api_key(&self, id: &ApiKeyId) -> Option<&ApiKey> {
        self.api_keys.get(id)
    }

    /// Every API key, oldest first.
    pub fn api_keys(&self) -> Vec<&ApiKey> {
        let mut all: Vec<&ApiKey> = self.api_keys.values().collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        all
    }

    /// The registered resource `reference`.
    pub fn resource(&self, reference: &ResourceRef) -> Option<Resource> {
        self.compiled.resource(&self.org.id, reference)
    }

    /// Every registered resource of type `kind`, sorted by id.
    pub fn resources_of(&self, kind: &str) -> Vec<Resource> {
        let mut all = self.compiled.resources_of(&self.org.id, kind);
        all.sort_by(|a, b| a.reference.id.cmp(&b.reference.id));
        all
    }

    /// The registered resources of type `kind` whose attribute `attr` equals `value`, by id (from
    /// the listing, without walking the type).
    pub fn resources_with(&self, kind: &str, attr: &str, value: &crate::attr::AttrValue) -> Vec<Resource> {
        self.compiled.resources_with(&self.org.id, kind, attr, value)
    }

    /// Whether a registered resource of type `kind` has attribute `attr` equal to `value`.
    pub fn has_resource_with(&self, kind: &str, attr: &str, value: &crate::attr::AttrValue) -> bool {
        self.compiled.has_resource_with(kind, attr, value)
    }

    /// The live grants held directly by `principal`, in the order they were made.
    pub fn grants_of(&self, principal: &Principal) -> Vec<GrantTerms> {
        self.compiled.grants_of(principal)
    }

    /// The live grant with id `id`.
    pub fn grant(&self, id: &GrantId) -> Option<GrantTerms> {
        self.compiled.grant(id)
    }

    /// The live grants anchored at the resource `reference` (an agent's assignments, its
    /// creator's grant, a data source's readers), wherever held.
    pub fn grants_on(&self, reference: &ResourceRef) -> Vec<GrantTerms> {
        self.compiled.grants_at(reference)
    }

    /// The live grants of role `role` in the organization, wherever held.
    pub fn role_grants(&self, role: &str) -> Vec<GrantTerms> {
        self.compiled.role_grants(role)
    }

    /// How much the organization's index holds.
    pub fn size(&self) -> super::IndexSize {
        self.compiled.size()
    }

    /// How many live grants the organization has.
    pub fn grant_count(&self) -> usize {
        self.compiled.grant_count()
    }
}
