//! `[console]`: the operator console in the browser.

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

/// Paths the console may not take: the probes, metrics and the
/// authorization server's endpoints are served at the root.
const TAKEN: [&str; 5] = ["/healthz", "/readyz", "/metrics", "/oauth2", "/.well-known"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    pub enabled: bool,
    /// Where the console is served, outside the SCIM base path.
    pub path: String,
    /// How long a sign-in lasts, in seconds.
    pub session_ttl_secs: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            path: "/console".to_owned(),
            session_ttl_secs: 8 * 3600,
        }
    }
}

impl ConsoleConfig {
    pub(super) fn validate(&self, base_path: &str) -> Result<(), ConfigError> {
        let path = &self.path;
        let well_formed = path.len() > 1
            && path.starts_with('/')
            && !path.ends_with('/')
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b));
        if !well_formed {
            return Err(invalid(format!(
                "console.path must start with '/', not end with one, and hold only letters, digits, '-', '_', '.' and '/', got {path:?}"
            )));
        }
        let under = |outer: &str| path == outer || path.starts_with(&format!("{outer}/"));
        if base_path != "/" && (under(base_path) || base_path.starts_with(&format!("{path}/"))) {
            return Err(invalid(format!(
                "console.path {path:?} must lie outside server.base_path {base_path:?}"
            )));
        }
        if let Some(taken) = TAKEN.iter().find(|t| under(t)) {
            return Err(invalid(format!(
                "console.path {path:?} is taken by {taken}"
            )));
        }
        if self.session_ttl_secs == 0 {
            return Err(invalid("console.session_ttl_secs must be positive"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str) -> ConsoleConfig {
        ConsoleConfig {
            path: path.to_owned(),
            ..ConsoleConfig::default()
        }
    }

    #[test]
    fn the_console_stays_outside_the_scim_base_path() {
        assert!(at("/console").validate("/scim/v2").is_ok());
        assert!(at("/admin/console").validate("/").is_ok());
        for bad in [
            "/scim/v2/console",
            "/scim",
            "/",
            "console",
            "/c/",
            "/metrics",
            "/x y",
        ] {
            assert!(at(bad).validate("/scim/v2").is_err(), "{bad} accepted");
        }
    }
}
