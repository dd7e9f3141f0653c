//! Roster: a SCIM 2.0 provisioning server.
//!
//! Layers, outermost first: `http` (routes, extractors, the one place that
//! turns errors into SCIM error responses) → `service` (use cases, one
//! transaction each) → `store` (SeaORM queries) over the `entity` crate.
//! `scim` is the pure protocol (schemas, filter and PATCH engines, list
//! rules), the `roster-scim` crate: a crate of its own, so it cannot reach
//! the layers above or the database. `auth` is the request guard, `config`
//! the layered settings.

pub mod auth;
pub mod cli;
pub mod config;
pub mod http;
pub mod service;
pub mod startup;
pub mod store;

pub use roster_scim as scim;
pub use roster_scim::time;
