//! Changes: the one shape in which state moves. A service operation produces changes, the store
//! writes them (with their audit events) in one transaction and numbers them with a revision, and
//! the decision index applies them. Loading the index at start-up applies the same changes.

use crate::ids::{ApiKeyId, GrantId, GroupId, OrgId, ScopeId, TokenId, UserId};
use crate::model::{
    ApiKey, Credential, Grant, Group, GroupMember, Org, Policy, Resource, ResourceRef, Revocation, ScopeNode, User, UserStatus,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One change of state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    OrgCreated {
        org: Org,
    },
    /// The organization's policy settings changed.
    OrgPolicySet {
        org: OrgId,
        policy: Policy,
    },
    ScopeNodeCreated {
        node: ScopeNode,
    },
    /// An environment's production flag changed; traces already captured keep their class.
    EnvironmentProductionSet {
        org: OrgId,
        id: ScopeId,
        is_production: bool,
    },
    UserCreated {
        user: User,
    },
    UserStatusChanged {
        org: OrgId,
        user: UserId,
        status: UserStatus,
    },
    /// A user left the organization: the record goes (its history stays in the audit log), and
    /// the same batch revokes the user's grants and tokens.
    UserDeleted {
        org: OrgId,
        user: UserId,
    },
    CredentialIssued {
        credential: Credential,
    },
    CredentialRevoked {
        org: OrgId,
        id: TokenId,
        at: Timestamp,
    },
    ApiKeyCreated {
        key: ApiKey,
    },
    /// The key stops authenticating and acting; its scope grants are revoked in the same batch.
    ApiKeyRevoked {
        org: OrgId,
        id: ApiKeyId,
        at: Timestamp,
    },
    ApiKeyRenamed {
        org: OrgId,
        id: ApiKeyId,
        name: String,
    },
    ResourceRegistered {
        resource: Resource,
    },
    /// A registered resource's attributes changed (an agent's access type, say): the record as it is now.
    ResourceUpdated {
        resource: Resource,
    },
    /// A registered resource is gone; the same batch revokes the grants anchored at it.
    ResourceRemoved {
        org: OrgId,
        reference: ResourceRef,
    },
    GrantCreated {
        grant: Grant,
    },
    GrantRevoked {
        org: OrgId,
        id: GrantId,
        revocation: Revocation,
    },
    /// A live temporary grant now ends at `expires_at` (an extension in place, made at `at`): the
    /// same grant, no gap, no second grant.
    GrantExtended {
        org: OrgId,
        id: GrantId,
        expires_at: jiff::Timestamp,
        at: jiff::Timestamp,
    },
    GroupCreated {
        group: Group,
    },
    /// A group's name, description, parent or status changed: the record as it is now.
    GroupUpdated {
        group: Group,
    },
    /// The group and its memberships go; the same batch revokes the grants it held.
    GroupDeleted {
        org: OrgId,
        id: GroupId,
    },
    /// A user joined a group, or their role or end date in it changed.
    GroupMemberSet {
        member: GroupMember,
    },
    GroupMemberRemoved {
        org: OrgId,
        group: GroupId,
        user: UserId,
    },
    /// A temporary grant's expiry was recorded in the audit log (the decision never waits for it).
    GrantExpiryRecorded {
        org: OrgId,
        id: GrantId,
    },
}

impl Change {
    /// When the change took effect, for the changes that carry their time: a grant's creation and
    /// the revocations. A write validated after such a change must not be stamped before it.
    pub fn stamped_at(&self) -> Option<jiff::Timestamp> {
        match self {
            Self::GrantCreated { grant } => Some(grant.created_at),
            Self::GrantRevoked { revocation, .. } => Some(revocation.at),
            Self::GrantExtended { at, .. } => Some(*at),
            Self::CredentialRevoked { at, .. } | Self::ApiKeyRevoked { at, .. } => Some(*at),
            Self::UserCreated { user } => Some(user.created_at),
            Self::GroupMemberSet { member } => Some(member.added_at),
            _ => None,
        }
    }

    /// The organization the change belongs to.
    pub fn org(&self) -> &OrgId {
        match self {
            Self::OrgCreated { org } => &org.id,
            Self::UserCreated { user } => &user.org,
            Self::ScopeNodeCreated { node } => &node.org,
            Self::CredentialIssued { credential } => &credential.org,
            Self::ResourceRegistered { resource } | Self::ResourceUpdated { resource } => &resource.org,
            Self::ApiKeyCreated { key } => &key.org,
            Self::GrantCreated { grant } => &grant.org,
            Self::GroupCreated { group } | Self::GroupUpdated { group } => &group.org,
            Self::GroupMemberSet { member } => &member.org,
            Self::GroupDeleted { org, .. } | Self::GroupMemberRemoved { org, .. } => org,
            Self::UserStatusChanged { org, .. }
            | Self::UserDeleted { org, .. }
            | Self::ApiKeyRenamed { org, .. }
            | Self::CredentialRevoked { org, .. }
            | Self::GrantRevoked { org, .. }
            | Self::GrantExtended { org, .. }
            | Self::GrantExpiryRecorded { org, .. }
            | Self::ResourceRemoved { org, .. }
            | Self::OrgPolicySet { org, .. }
            | Self::ApiKeyRevoked { org, .. }
            | Self::EnvironmentProductionSet { org, .. } => org,
        }
    }
}
