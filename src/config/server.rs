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
        Ok(())
    }
}
