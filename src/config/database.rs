//! `[database]`: which database, and how start-up treats it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::DatabaseUrl;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: DatabaseUrl,
    /// The pool's size; 0 sizes it from the host's cores and the
    /// server's own limit (`store::pool_size`).
    pub max_connections: u32,
    /// How long start-up, and a request that needs a new connection, wait
    /// for the database to accept one.
    pub connect_timeout_secs: u64,
    /// How long a request waits for a pooled connection to MySQL/MariaDB
    /// before it is answered 503: when the server stops answering, every
    /// pooled connection is soon stuck, and a client is better told to
    /// retry than kept waiting.
    pub acquire_timeout_ms: u64,
    /// How long one statement may take on MySQL/MariaDB before its request
    /// is answered 503. A server that stops answering (paused, a dead
    /// host without a TCP reset) is noticed by this alone. Raise it where
    /// counts over millions of rows take longer.
    pub statement_timeout_ms: u64,
    /// Apply pending migrations at start-up. Turn off where schema changes go
    /// through a review process, and run `roster migrate` instead.
    pub migrate_on_start: bool,
}

impl DatabaseConfig {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs.max(1))
    }

    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms.max(1))
    }

    pub fn statement_timeout(&self) -> Duration {
        Duration::from_millis(self.statement_timeout_ms.max(1))
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::new("sqlite://roster.db?mode=rwc"),
            max_connections: 0,
            connect_timeout_secs: 10,
            acquire_timeout_ms: 1000,
            statement_timeout_ms: 1000,
            migrate_on_start: true,
        }
    }
}
