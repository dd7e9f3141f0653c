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

mod auth;
mod auth_modes;
mod binary;
mod bulk;
mod changes;
mod concurrency;
mod conformance;
mod db_failover;
mod dialects;
mod discovery;
mod errors;
mod etag;
mod extensions;
mod faults;
mod groups;
mod jwt;
mod large_groups;
mod mysql_subset;
mod oauth_server;
mod okta;
mod paging;
mod projection;
mod query;
mod search;
mod users;
