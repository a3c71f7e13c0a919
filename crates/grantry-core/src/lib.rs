//! Grantry's model and decision: the types of the whole access model, validation, the permission
//! catalogue, the decision index (apply a change, check, explain) and the audit chain hash.
//!
//! Pure and synchronous: no IO and no clock. Every function that depends on time takes `now`.

pub mod attr;
pub mod audit;
pub mod authz;
pub mod catalogue;
pub mod change;
pub mod condition;
pub mod decision;
pub mod duration;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod ids;
pub mod index;
pub mod model;
pub mod secret;
pub mod validate;
pub mod window;

pub use error::{CoreError, Result};
pub use jiff::{SignedDuration, Timestamp};
