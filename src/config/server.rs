//! `[server]`: where and how Roster listens.

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: String,
    pub base_path: String,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Externally visible base URL (e.g. `https://scim.example.com/scim/v2`)
    /// for `meta.location` and `Location`; derived from the request if unset.
    pub public_url: Option<String>,
    /// A second address (e.g. `127.0.0.1:9000`) that serves only
    /// `/healthz`, `/readyz` and `/metrics`; `/metrics` then leaves the
    /// main listener.
    pub management_bind: Option<String>,
    /// Open connections over all workers; 0 derives it from the open-files
    /// limit, leaving room for the database and log files.
    pub max_connections: usize,
    /// Connections the kernel queues before they are accepted.
    pub backlog: u32,
    /// How long a new connection may take to send a request's headers.
    pub header_timeout_ms: u64,
    /// How long a request's body may take to arrive, from its first byte
    /// read (408 beyond).
    pub body_timeout_ms: u64,
    /// How long an idle connection is kept open between requests.
    pub keep_alive_ms: u64,
    /// Bodies larger than `large_body_bytes` (or compressed, or of unknown
    /// length) read at the same time; beyond, a request waits briefly, then
    /// gets 503.
    pub max_large_bodies: usize,
    pub large_body_bytes: usize,
    /// On SIGTERM or SIGINT, how long in-flight requests may take to finish.
    pub shutdown_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:5000".to_owned(),
            base_path: "/scim/v2".to_owned(),
            workers: 0,
            max_body_bytes: 1024 * 1024,
            public_url: None,
            management_bind: None,
            max_connections: 0,
            backlog: 1024,
            header_timeout_ms: 2_000,
            body_timeout_ms: 10_000,
            keep_alive_ms: 5_000,
            max_large_bodies: 16,
            large_body_bytes: 64 * 1024,
            shutdown_timeout_secs: 30,
        }
    }
}

impl ServerConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let base = &self.base_path;
        if !base.starts_with('/') || (base.len() > 1 && base.ends_with('/')) {
            return Err(invalid(format!(
                "server.base_path must start with '/' and not end with one, got {base:?}"
            )));
        }
        if self.header_timeout_ms == 0 || self.body_timeout_ms == 0 || self.max_large_bodies == 0 {
            return Err(invalid(
                "server.header_timeout_ms, server.body_timeout_ms and server.max_large_bodies must be positive",
            ));
        }
        Ok(())
    }
}
