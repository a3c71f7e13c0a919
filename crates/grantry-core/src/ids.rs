//! Typed identifiers. Every id is an opaque string; the types keep a user id from being passed
//! where a grant id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    )*};
}

id_type! {
    /// An organization (tenant).
    OrgId,
    /// A user.
    UserId,
    /// A group of users.
    GroupId,
    /// An API key.
    ApiKeyId,
    /// A grant.
    GrantId,
    /// A login token (a user's bearer secret).
    TokenId,
    /// A node of the scope tree below the organization (workspace, project or environment).
    ScopeId,
}
