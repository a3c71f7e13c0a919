//! Groups of users (seed 003): a group has members, each with a group role, and may have a parent
//! group whose access it inherits. A grant to a group reaches every member of it and of the groups
//! below it, for as long as the membership lasts and the groups on the way are active.

use crate::ids::{GroupId, OrgId, UserId};
use crate::model::Actor;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A member's role within a group: a manager may add and remove members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GroupRole {
    Member,
    Manager,
}

impl GroupRole {
    /// The role as the API writes it: `MEMBER` or `MANAGER`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Member => "MEMBER",
            Self::Manager => "MANAGER",
        }
    }
}

impl std::str::FromStr for GroupRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "MEMBER" => Ok(Self::Member),
            "MANAGER" => Ok(Self::Manager),
            _ => Err(format!("`{s}` is not a group role; use MEMBER or MANAGER")),
        }
    }
}

/// Whether a group's grants reach its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    Active,
    /// Kept for the record; its grants reach nobody and it passes nothing down to its children.
    Archived,
}

/// A group of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub org: OrgId,
    /// Unique within the organization, compared without case.
    pub name: String,
    pub description: String,
    pub parent: Option<GroupId>,
    pub status: GroupStatus,
    /// Set for groups kept in step with an identity provider (SSO group sync).
    pub external_id: Option<String>,
    pub created_by: Actor,
    pub created_at: Timestamp,
}

impl Group {
    /// Whether the group's grants reach its members.
    pub fn is_active(&self) -> bool {
        self.status == GroupStatus::Active
    }
}

/// One user's membership of one group, until `expires_at` if it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    pub org: OrgId,
    pub group: GroupId,
    pub user: UserId,
    pub role: GroupRole,
    pub added_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

impl GroupMember {
    /// Whether the membership counts at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }
}
