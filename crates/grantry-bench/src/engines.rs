//! The engines under test, each behind the same two steps: build from the workload, then answer
//! prepared checks. Preparing a check (turning it into the engine's own request) is not timed.

pub mod casbin;
pub mod cedar;
pub mod grantry;

use crate::workload::{Query, Workload};

/// A decision engine.
pub trait Engine: Sync {
    /// A check in the engine's own terms.
    type Prepared: Send + Sync;
    fn name(&self) -> &'static str;
    fn prepare(&self, w: &Workload, q: &Query) -> Self::Prepared;
    fn check(&self, p: &Self::Prepared) -> bool;
}
