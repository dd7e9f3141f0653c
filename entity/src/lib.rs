//! SeaORM entities for Roster's tables.
//!
//! Every table leads with `tenant_id` so that serving several IdP connections
//! from one database needs no data migration, and every key is an
//! application-generated UUID so the schema also runs on distributed
//! MySQL-compatible engines (no auto-increment hot spots).
//!
//! Timestamps are integer milliseconds since the Unix epoch: they compare and
//! sort identically on SQLite, MariaDB and TiDB, and SCIM renders them at
//! millisecond precision, so a `meta.lastModified gt "<value a client saw>"`
//! filter never matches the resource the client took the value from.

pub mod admin_account;
pub mod api_token;
pub mod api_token_use;
pub mod audit_change;
pub mod audit_request;
pub mod console_session;
pub mod group;
pub mod group_member;
pub mod oauth_client;
pub mod oauth_code;
pub mod oauth_refresh_token;
pub mod oauth_signing_key;
pub mod resource_count;
pub mod roster_state;
pub mod tenant;
pub mod user;
pub mod user_email;
