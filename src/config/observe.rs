//! `[metrics]` and `[log]`: what Roster tells its operators about itself.

use serde::{Deserialize, Serialize};

/// `/metrics`, in the Prometheus text format.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Off: no metric is recorded and `/metrics` answers 404, so that one
    /// build can be measured both ways.
    pub enabled: bool,
    /// Credential names (a Basic user, a stored token's name, `configured
    /// bearer token`) that may read `/metrics` on the main listener.
    pub allow: Vec<String>,
    /// Serve `/metrics` on the main listener to anyone.
    pub open: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            allow: Vec::new(),
            open: false,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
}

/// How log lines are written: for people, or one JSON object per line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(format!("log format must be text or json, got {s:?}")),
        }
    }
}
