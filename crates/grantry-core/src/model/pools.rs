//! Agent pools and temporary access instances (seed 004). A pool is a registered resource of type
//! `agent_pool`, a named set of agents a team debugs with. A temporary access instance grants its
//! users `pool_standard` or `pool_privileged` on each of its pools until it expires — a
//! privileged holder may also ignore the pool's agent quota, a permission the check answers
//! (`AgentPool:IgnoreQuota`). The instance is kept as a resource of type `temp_access` (its name,
//! role, window, users and pools); its grants are ordinary grants, anchored at the pools.

use crate::attr::{text, AttrValue, Attributes};
use crate::catalogue::role;
use crate::model::{Resource, ResourceRef};
use jiff::Timestamp;

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

/// The resource type of a temporary access instance.
pub const TEMP_ACCESS: &str = "temp_access";

/// The role a temporary access instance grants on its pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempRole {
    Standard,
    /// Also ignores the pools' agent quotas.
    Privileged,
}

impl TempRole {
    /// `standard` or `privileged`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Privileged => "privileged",
        }
    }

    /// The pool role it grants.
    pub fn role(self) -> &'static str {
        match self {
            Self::Standard => role::POOL_STANDARD,
            Self::Privileged => role::POOL_PRIVILEGED,
        }
    }
}

impl std::str::FromStr for TempRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "standard" => Ok(Self::Standard),
            "privileged" => Ok(Self::Privileged),
            _ => Err(format!("`{s}` is not a temporary access role; use standard or privileged")),
        }
    }
}

/// A temporary access instance, read from its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TempAccess {
    pub id: String,
    pub name: String,
    pub role: TempRole,
    pub starts_at: Timestamp,
    pub expires_at: Timestamp,
    /// The users' ids and the pools' ids, in the order given.
    pub users: Vec<String>,
    pub pools: Vec<String>,
    /// Who made it (`user:ID`).
    pub created_by: String,
}

fn instant(attrs: &Attributes, key: &str) -> Option<Timestamp> {
    match attrs.get(key) {
        Some(AttrValue::Int(us)) => Timestamp::from_microsecond(*us).ok(),
        _ => None,
    }
}

fn ids(text: &str) -> Vec<String> {
    text.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

impl TempAccess {
    /// The instance a resource holds, if it is one.
    pub fn of(r: &Resource) -> Option<Self> {
        if r.reference.kind != TEMP_ACCESS {
            return None;
        }
        let a = &r.attributes;
        Some(Self {
            id: r.reference.id.clone(),
            name: text(a, "name").to_owned(),
            role: text(a, "role").parse().ok()?,
            starts_at: instant(a, "starts_at")?,
            expires_at: instant(a, "expires_at")?,
            users: ids(text(a, "users")),
            pools: ids(text(a, "pools")),
            created_by: text(a, "created_by").to_owned(),
        })
    }

    /// The attributes the resource keeps.
    pub fn attributes(&self) -> Attributes {
        Attributes::from([
            ("name".to_owned(), self.name.as_str().into()),
            ("role".to_owned(), self.role.name().into()),
            ("starts_at".to_owned(), AttrValue::Int(self.starts_at.as_microsecond())),
            ("expires_at".to_owned(), AttrValue::Int(self.expires_at.as_microsecond())),
            ("users".to_owned(), AttrValue::Str(self.users.join(","))),
            ("pools".to_owned(), AttrValue::Str(self.pools.join(","))),
            ("created_by".to_owned(), self.created_by.as_str().into()),
        ])
    }

    /// The instance's resource reference.
    pub fn reference(&self) -> ResourceRef {
        ResourceRef::new(TEMP_ACCESS, &self.id)
    }

    /// Whether it grants access at `now`: it has started and not expired.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.expires_at
    }
}
