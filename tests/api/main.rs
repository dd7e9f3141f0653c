//! Integration tests: the real HTTP app against a real database, each test
//! on SQLite and on MariaDB. One binary, so the suite links once.

mod helpers;

mod auth;
mod binary;
mod concurrency;
mod conformance;
mod discovery;
mod errors;
mod extensions;
mod groups;
mod okta;
mod paging;
mod projection;
mod query;
mod search;
mod users;
