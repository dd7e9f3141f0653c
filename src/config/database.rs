//! `[database]`: which database, and how start-up treats it.

use serde::{Deserialize, Serialize};

use super::DatabaseUrl;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: DatabaseUrl,
    pub max_connections: u32,
    /// How long start-up and requests wait for a database connection.
    pub connect_timeout_secs: u64,
    /// Apply pending migrations at start-up. Turn off where schema changes go
    /// through a review process, and run `roster migrate` instead.
    pub migrate_on_start: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::new("sqlite://roster.db?mode=rwc"),
            max_connections: 8,
            connect_timeout_secs: 10,
            migrate_on_start: true,
        }
    }
}
