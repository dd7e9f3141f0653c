//! The command-line layer: a sparse mirror of the settings that have a flag
//! or a named environment variable (see `cli`).

use std::path::PathBuf;

use serde::Serialize;

/// Values given on the command line or through their named environment
/// variables; they win over everything else.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerOverrides>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseOverrides>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthOverrides>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsOverrides>,
}

#[derive(Debug, Default, Serialize)]
pub struct ServerOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_timeout_secs: Option<u64>,
}

/// `--tls-cert` / `ROSTER_TLS_CERT` and `--tls-key` / `ROSTER_TLS_KEY`.
#[derive(Debug, Default, Serialize)]
pub struct TlsOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
}

#[derive(Debug, Default, Serialize)]
pub struct DatabaseOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct AuthOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_tokens: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtOverrides>,
}

/// `ROSTER_JWT_*` and the matching flags.
#[derive(Debug, Default, Serialize)]
pub struct JwtOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hs256_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<String>,
}
