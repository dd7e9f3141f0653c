//! Roster: a SCIM 2.0 provisioning server.
//!
//! Layers, outermost first: `startup` (builds the application from the
//! configuration; `main`, the CLI and the tests all start it there) →
//! `http` (routes, extractors, the guard, the one place that turns errors
//! into SCIM error responses) and `oauth` (the built-in authorization
//! server's endpoints) → `service` (use cases, one transaction each) →
//! `store` (SeaORM queries) over the `entity` crate. `auth` verifies
//! credentials and knows no HTTP; `secrets` hashes and generates them.
//! `scim` is the pure protocol (schemas, filter and PATCH engines, list
//! rules), the `roster-scim` crate: a crate of its own, so it cannot reach
//! the layers above or the database. `config` is the layered settings.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod events;
pub mod http;
pub mod oauth;
pub mod observe;
pub mod secrets;
pub mod service;
pub mod startup;
pub mod store;

pub use roster_scim as scim;
pub use roster_scim::time;
