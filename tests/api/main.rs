//! Integration tests: the real HTTP app against a real database, each test
//! on SQLite and on MariaDB. One binary, so the suite links once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test binary: its cases and helpers are outside #[test] fns, and a failed step fails the test"
)]

mod helpers;
mod issuer;
mod process;

mod admin_commands;
mod audit_admins;
mod audit_trail;
mod auth;
mod auth_modes;
mod binary;
mod bulk;
mod changes;
mod concurrency;
mod conformance;
mod console_activity;
mod console_browser;
mod console_client;
mod console_pages;
mod console_scale;
mod console_session;
mod counts;
mod credentials;
mod database_startup;
mod db_failover;
mod delta_sync;
mod dialects;
mod discovery;
mod errors;
mod etag;
mod events;
mod events_admin;
mod events_push;
mod events_support;
mod extensions;
mod faults;
mod fuzz_smoke;
mod groups;
mod import_paging;
mod input_rules;
mod jwt;
mod large_groups;
mod large_users;
mod mariadb_pool;
mod mysql_subset;
mod oauth_server;
mod observe;
mod observe_binary;
mod okta;
mod paging;
mod profiles;
mod profiles_migration;
mod profiles_rules;
mod projection;
mod query;
mod sealed_keys;
mod search;
mod tenants;
mod tenants_cli;
mod tenants_isolation;
mod tenants_oauth;
mod tenants_profiles;
mod tls;
mod transport;
mod users;
