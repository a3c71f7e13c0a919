//! The decision index: every organization's state in memory, kept current by applying
//! [`Change`]s, answering checks without IO. Its cost per check depends on the principal's own
//! grants, never on the total number of grants.

mod check;
mod compiled;
mod effective;
mod groups;
mod listing;
mod org;
mod reach;
mod symbols;

pub use org::OrgState;

use crate::catalogue::Catalogue;
use crate::change::Change;
use crate::error::{CoreError, Result};
use crate::ids::{OrgId, TokenId};
use crate::model::Credential;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Why a bearer secret was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credential has this secret.
    Unknown,
    /// The credential expired at this time.
    Expired(Timestamp),
    /// The credential was revoked at this time.
    Revoked(Timestamp),
}

/// How much one organization's index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexSize {
    pub grants: usize,
    /// Distinct sets of conditions, each kept once however many grants share it.
    pub condition_sets: usize,
    /// Interned strings.
    pub symbols: usize,
    pub resources: usize,
    pub principals: usize,
    /// Group memberships.
    pub memberships: usize,
}

/// All organizations' state, and the credentials that authenticate into them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionIndex {
    /// The built-in catalogue; not saved.
    #[serde(skip, default = "Catalogue::builtin")]
    catalogue: Catalogue,
    orgs: HashMap<OrgId, OrgState>,
    org_by_slug: HashMap<String, OrgId>,
    credentials: HashMap<String, Credential>,
    credential_hash: HashMap<TokenId, String>,
    revision: u64,
}

impl Default for DecisionIndex {
    fn default() -> Self {
        Self::new(Catalogue::builtin())
    }
}

impl DecisionIndex {
    /// An empty index over `catalogue`.
    pub fn new(catalogue: Catalogue) -> Self {
        Self {
            catalogue,
            orgs: HashMap::new(),
            org_by_slug: HashMap::new(),
            credentials: HashMap::new(),
            credential_hash: HashMap::new(),
            revision: 0,
        }
    }

    /// The permission catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The revision of the last change applied.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Applies the changes committed as `revision`.
    pub fn apply_all<'a>(&mut self, revision: u64, changes: impl IntoIterator<Item = &'a Change>) -> Result<()> {
        for change in changes {
            self.apply(change)?;
        }
        self.revision = self.revision.max(revision);
        Ok(())
    }

    /// Applies one change.
    pub fn apply(&mut self, change: &Change) -> Result<()> {
        match change {
            Change::OrgCreated { org } => {
                self.org_by_slug.insert(org.slug.clone(), org.id.clone());
                self.orgs.insert(org.id.clone(), OrgState::new(org.clone()));
            }
            Change::CredentialIssued { credential } => {
                self.credential_hash.insert(credential.id.clone(), credential.secret_hash.clone());
                self.credentials.insert(credential.secret_hash.clone(), credential.clone());
            }
            Change::CredentialRevoked { id, at, .. } => {
                let cred = self.credential_hash.get(id).and_then(|h| self.credentials.get_mut(h));
                let cred = cred.ok_or_else(|| CoreError::NotFound(format!("token `{id}` is not known")))?;
                cred.revoked_at = Some(*at);
            }
            other => {
                let org = self
                    .orgs
                    .get_mut(other.org())
                    .ok_or_else(|| CoreError::NotFound(format!("organization `{}` is not known", other.org())))?;
                org.apply(&self.catalogue, other)?;
            }
        }
        Ok(())
    }

    /// The index as bytes to save, for [`DecisionIndex::decode`] in the same build. MessagePack
    /// with structs as maps: the model's adjacently tagged enums (a unit variant such as
    /// `ScopeRef::Org` among them) round-trip only so.
    pub fn encode(&self) -> Result<Vec<u8>> {
        rmp_serde::to_vec_named(self).map_err(|e| CoreError::invalid("saved index", format!("cannot encode the index: {e}")))
    }

    /// An index from [`DecisionIndex::encode`]'s bytes (made by this same build: the layout is not
    /// versioned), over the built-in catalogue.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut index: Self =
            rmp_serde::from_slice(bytes).map_err(|e| CoreError::invalid("saved index", format!("it does not decode: {e}")))?;
        for org in index.orgs.values_mut() {
            org.compiled.relist();
        }
        Ok(index)
    }

    /// Drops spare capacity, after loading a snapshot: memory then holds what the state needs.
    pub fn shrink(&mut self) {
        for org in self.orgs.values_mut() {
            org.compiled.shrink();
        }
        self.credentials.shrink_to_fit();
        self.credential_hash.shrink_to_fit();
    }

    /// The organization with id `id`.
    pub fn org(&self, id: &OrgId) -> Option<&OrgState> {
        self.orgs.get(id)
    }

    /// Every organization.
    pub fn orgs(&self) -> impl Iterator<Item = &OrgState> {
        self.orgs.values()
    }

    /// The organization with slug `slug`.
    pub fn org_by_slug(&self, slug: &str) -> Option<&OrgState> {
        self.org_by_slug.get(slug).and_then(|id| self.orgs.get(id))
    }

    /// The credential whose secret hashes to `secret_hash`, if it is in force at `now`.
    pub fn authenticate(&self, secret_hash: &str, now: Timestamp) -> std::result::Result<&Credential, AuthFailure> {
        let cred = self.credentials.get(secret_hash).ok_or(AuthFailure::Unknown)?;
        if let Some(at) = cred.revoked_at.filter(|at| *at <= now) {
            return Err(AuthFailure::Revoked(at));
        }
        if let Some(at) = cred.expires_at.filter(|at| *at <= now) {
            return Err(AuthFailure::Expired(at));
        }
        Ok(cred)
    }

    /// The credentials of `principal` in organization `org`.
    pub fn credentials_of(&self, org: &OrgId, principal: &crate::model::Principal) -> Vec<&Credential> {
        self.credentials.values().filter(|c| &c.org == org && &c.principal == principal).collect()
    }

    /// The credential with id `id`.
    pub fn credential(&self, id: &TokenId) -> Option<&Credential> {
        self.credential_hash.get(id).and_then(|h| self.credentials.get(h))
    }
}
