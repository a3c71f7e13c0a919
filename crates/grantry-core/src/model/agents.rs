//! Agents and their data sources (seed 003), kept as registered resources: an agent is a resource
//! of type `agent` whose attributes hold its name, access type and data classification; a data
//! source is a resource of type `data_source` under its agent, open to every user of the agent or
//! restricted to groups. Assignments of groups to agents are grants of the agent roles.

use crate::attr::{text, AttrValue, Attributes};
use crate::catalogue::{role, AGENT_ORGANIZATION, AGENT_PRIVATE};
use crate::model::{Resource, ResourceRef};
use serde::{Deserialize, Serialize};

/// The resource type of agents.
pub const AGENT: &str = "agent";
/// The resource type of data sources.
pub const DATA_SOURCE: &str = "data_source";

/// Who reaches an agent besides the admins (seed 003's access levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessType {
    /// Everyone in the organization.
    Organization,
    /// The members of the groups assigned to it.
    Group,
    /// Its creator (and the admins).
    Private,
}

/// How sensitive the data an agent reaches is; later approval policies key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Public,
    Internal,
    Confidential,
    Restricted,
}

/// The level of a group's assignment to an agent (seed 003's `permission`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    ViewAndUse,
    Edit,
}

macro_rules! text_forms {
    ($ty:ty, $what:literal, $($variant:ident = $text:literal),+) => {
        impl $ty {
            /// The value as the API writes it.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
                $(if t == $text.to_ascii_lowercase() { return Ok(Self::$variant); })+
                Err(format!(concat!("`{}` is not ", $what, "; use {}"), crate::validate::shown(s), [$($text),+].join(", ")))
            }
        }
    };
}

text_forms!(AccessType, "an access type", Organization = "organization", Group = "group", Private = "private");
text_forms!(
    Classification,
    "a classification",
    Public = "public",
    Internal = "internal",
    Confidential = "confidential",
    Restricted = "restricted"
);
text_forms!(Level, "a permission level", ViewAndUse = "VIEW_AND_USE", Edit = "EDIT");

impl AccessType {
    /// The access type as the decision's conditions read it.
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Organization => AGENT_ORGANIZATION,
            Self::Group => "group",
            Self::Private => AGENT_PRIVATE,
        }
    }
}

impl Level {
    /// The agent role an assignment at this level grants.
    pub fn role(self) -> &'static str {
        match self {
            Self::ViewAndUse => role::AGENT_USER,
            Self::Edit => role::AGENT_EDITOR,
        }
    }

    /// The level whose role is `role`.
    pub fn of_role(role_name: &str) -> Option<Self> {
        [Self::ViewAndUse, Self::Edit].into_iter().find(|l| l.role() == role_name)
    }
}

/// An agent, read from its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub description: String,
    pub access_type: AccessType,
    pub classification: Classification,
    /// The user who registered it (`user:ID`), if one did.
    pub created_by: String,
}

impl Agent {
    /// The agent a resource holds, if it is one.
    pub fn of(r: &Resource) -> Option<Self> {
        if r.reference.kind != AGENT {
            return None;
        }
        let a = &r.attributes;
        Some(Self {
            id: r.reference.id.clone(),
            name: text(a, "name").to_owned(),
            description: text(a, "description").to_owned(),
            access_type: text(a, "access_type").parse().ok()?,
            classification: text(a, "classification").parse().ok()?,
            created_by: text(a, "created_by").to_owned(),
        })
    }

    /// The attributes the resource keeps.
    pub fn attributes(&self) -> Attributes {
        Attributes::from([
            ("name".to_owned(), self.name.as_str().into()),
            ("description".to_owned(), self.description.as_str().into()),
            ("access_type".to_owned(), self.access_type.attribute().into()),
            ("classification".to_owned(), self.classification.name().into()),
            ("created_by".to_owned(), self.created_by.as_str().into()),
        ])
    }

    /// The agent's resource reference.
    pub fn reference(&self) -> ResourceRef {
        ResourceRef::new(AGENT, &self.id)
    }
}

/// A data source, read from its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    pub id: String,
    pub name: String,
    pub agent_id: String,
    /// Whether only some groups retrieve from it (else every user of the agent does).
    pub restricted: bool,
}

impl DataSource {
    /// The data source a resource holds, if it is one.
    pub fn of(r: &Resource) -> Option<Self> {
        if r.reference.kind != DATA_SOURCE {
            return None;
        }
        let a = &r.attributes;
        Some(Self {
            id: r.reference.id.clone(),
            name: text(a, "name").to_owned(),
            agent_id: text(a, "agent_id").to_owned(),
            restricted: a.get("restricted") == Some(&AttrValue::Bool(true)),
        })
    }

    /// The attributes the resource keeps.
    pub fn attributes(&self) -> Attributes {
        Attributes::from([
            ("name".to_owned(), self.name.as_str().into()),
            ("agent_id".to_owned(), self.agent_id.as_str().into()),
            ("restricted".to_owned(), self.restricted.into()),
        ])
    }

    /// The data source's resource reference.
    pub fn reference(&self) -> ResourceRef {
        ResourceRef::new(DATA_SOURCE, &self.id)
    }
}
