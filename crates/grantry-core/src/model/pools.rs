//! Agent pools (seed 004): named sets of agents a team debugs with. A pool is a registered
//! resource of type `agent_pool`; temporary access instances grant `pool_standard` or
//! `pool_privileged` on pools, and a privileged holder may ignore the pool's agent quota — a
//! permission the check answers (`AgentPool:IgnoreQuota`).

use crate::attr::{text, Attributes};
use crate::model::{Resource, ResourceRef};

/// The resource type of an agent pool.
pub const AGENT_POOL: &str = "agent_pool";

/// An agent pool, read from its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPool {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Who registered it (`user:ID`, or `system`).
    pub created_by: String,
}

impl AgentPool {
    /// The pool a resource holds, if it is one.
    pub fn of(r: &Resource) -> Option<Self> {
        if r.reference.kind != AGENT_POOL {
            return None;
        }
        let a = &r.attributes;
        Some(Self {
            id: r.reference.id.clone(),
            name: text(a, "name").to_owned(),
            description: text(a, "description").to_owned(),
            created_by: text(a, "created_by").to_owned(),
        })
    }

    /// The attributes the resource keeps.
    pub fn attributes(&self) -> Attributes {
        Attributes::from([
            ("name".to_owned(), self.name.as_str().into()),
            ("description".to_owned(), self.description.as_str().into()),
            ("created_by".to_owned(), self.created_by.as_str().into()),
        ])
    }

    /// The pool's resource reference.
    pub fn reference(&self) -> ResourceRef {
        ResourceRef::new(AGENT_POOL, &self.id)
    }
}
