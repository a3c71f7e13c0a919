//! The whole records of grants, read from the store for the audit events of a change that ends
//! them: the decision index keeps only a live grant's terms (what, to whom, where, when), not
//! its justification, tags or creator.

use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::ids::{GrantId, OrgId};
use grantry_core::model::{Grant, GrantTerms, Principal};
use grantry_store::{GrantFilter, GrantState};
use std::collections::HashMap;

/// Grants' whole records by id.
#[derive(Debug, Default)]
pub struct Records(HashMap<GrantId, Grant>);

impl Records {
    /// The live grants of `principal`.
    pub async fn live_of(state: &AppState, org: &OrgId, principal: &Principal) -> Result<Self> {
        let filter = GrantFilter { principal: Some(principal.clone()), state: Some(GrantState::Live), ..GrantFilter::default() };
        Ok(Self::from(state.store.grants(org, filter).await?))
    }

    /// The grant `id`, live or ended, if the organization has it.
    pub async fn one(state: &AppState, org: &OrgId, id: &GrantId) -> Result<Self> {
        let filter = GrantFilter { id: Some(id.clone()), ..GrantFilter::default() };
        Ok(Self::from(state.store.grants(org, filter).await?))
    }

    /// The record of the grant the index holds as `terms`.
    pub fn of(&self, terms: &GrantTerms) -> Result<&Grant> {
        self.get(&terms.id)
            .ok_or_else(|| ServiceError::Conflict(format!("grant `{}` was made while this request was under way; send it again", terms.id)))
    }

    /// The record of grant `id`, if read.
    pub fn get(&self, id: &GrantId) -> Option<&Grant> {
        self.0.get(id)
    }
}

impl From<Vec<Grant>> for Records {
    fn from(grants: Vec<Grant>) -> Self {
        Self(grants.into_iter().map(|g| (g.id.clone(), g)).collect())
    }
}
