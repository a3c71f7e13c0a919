//! Test fixtures for Grantry: a real server on port 0 over a temporary SQLite database, an API
//! client that returns status and JSON, and the JSON decision corpus with its drivers.

#![expect(clippy::expect_used, clippy::panic, reason = "test support: failing loudly at the point of failure is its job")]

pub mod api;
pub mod corpus;
pub mod server;

pub use api::Api;
pub use server::TestServer;
