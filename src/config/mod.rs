//! Layered configuration: built-in defaults, then the TOML file, then
//! `ROSTER_<SECTION>__<KEY>` environment variables, then the named
//! environment variables and command-line flags (see `cli`).

mod secret;

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use secret::{DatabaseUrl, Secret};

/// Where `roster` looks for its config file when none is named.
pub const DEFAULT_CONFIG_PATH: &str = "config/default.toml";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub scim: ScimConfig,
}

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:5000".to_owned(),
            base_path: "/scim/v2".to_owned(),
            workers: 0,
            max_body_bytes: 1024 * 1024,
            public_url: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: DatabaseUrl,
    pub max_connections: u32,
    /// Apply pending migrations at start-up. Turn off where schema changes go
    /// through a review process, and run `roster migrate` instead.
    pub migrate_on_start: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::new("sqlite://roster.db?mode=rwc"),
            max_connections: 8,
            migrate_on_start: true,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Static bearer tokens: the token itself, or `sha256:<hex digest>`.
    pub bearer_tokens: Vec<Secret>,
    /// Basic credentials: `user:password`, or `user:<argon2 PHC hash>`.
    pub basic: Vec<Secret>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScimConfig {
    pub default_page_size: u32,
    pub max_page_size: u32,
    /// Keep an Argon2 hash of the `password` clients send. Off by default:
    /// IdPs send passwords even when the application signs users in by SSO,
    /// and a hash that is never used is only a liability.
    pub store_password_hashes: bool,
    /// Answer a successful group PATCH with 204 and no body. Microsoft
    /// recommends it for large groups; Okta accepts either.
    pub group_patch_no_content: bool,
    /// Signs RFC 9865 cursors. Unset: a random key per process, so cursors
    /// do not survive a restart and only the instance that issued them
    /// accepts them. Set it (the same on every instance) behind a load
    /// balancer.
    pub cursor_secret: Option<Secret>,
    /// How long a cursor stays valid, in seconds (advertised as
    /// `cursorTimeout`).
    pub cursor_timeout_secs: u32,
    /// Operator schema extensions (`/Schemas` entries in JSON files),
    /// stored, validated, filterable, sortable and returned like the RFC
    /// ones.
    pub schema_extensions: Vec<SchemaExtensionConfig>,
}

/// One extension schema and the resource type it extends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaExtensionConfig {
    /// `User` or `Group`.
    pub resource_type: String,
    /// A JSON file with one schema, shaped like a `/Schemas` entry; a
    /// relative path is read from the working directory.
    pub file: PathBuf,
    /// Whether every resource of the type must carry the extension.
    #[serde(default)]
    pub required: bool,
}

impl Default for ScimConfig {
    fn default() -> Self {
        Self {
            default_page_size: 100,
            max_page_size: 1000,
            store_password_hashes: false,
            group_patch_no_content: false,
            cursor_secret: None,
            cursor_timeout_secs: 3600,
            schema_extensions: Vec::new(),
        }
    }
}

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
}

#[derive(Debug, Default, Serialize)]
pub struct ServerOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_path: Option<String>,
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
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads the layered configuration. A file named explicitly must exist;
    /// the default file is optional so that `roster` runs from any directory.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::Missing(path.to_owned())),
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file(DEFAULT_CONFIG_PATH)),
        }
        // Only nested keys: the flat ROSTER_* names belong to the CLI layer.
        let env = Env::prefixed("ROSTER_")
            .split("__")
            .filter(|key| key.as_str().contains('.'));
        let config: Config = figment
            .merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError::Invalid(one_line(&e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let base = &self.server.base_path;
        if !base.starts_with('/') || (base.len() > 1 && base.ends_with('/')) {
            return Err(ConfigError::Invalid(format!(
                "server.base_path must start with '/' and not end with one, got {base:?}"
            )));
        }
        if self.scim.cursor_timeout_secs == 0 {
            return Err(ConfigError::Invalid(
                "scim.cursor_timeout_secs must be > 0".to_owned(),
            ));
        }
        if self.scim.max_page_size == 0 || self.scim.default_page_size > self.scim.max_page_size {
            return Err(ConfigError::Invalid(
                "scim.default_page_size must not exceed scim.max_page_size, which must be > 0"
                    .to_owned(),
            ));
        }
        Ok(())
    }
}

fn one_line(e: &figment::Error) -> String {
    e.to_string().replace('\n', " ")
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail dictates the error type
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_interface() {
        let c = Config::default();
        assert_eq!(c.server.bind, "127.0.0.1:5000");
        assert_eq!(c.server.base_path, "/scim/v2");
        assert_eq!(c.database.url.expose(), "sqlite://roster.db?mode=rwc");
    }

    #[test]
    fn precedence_is_file_then_env_then_overrides() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "roster.toml",
                "[server]\nbind = \"0.0.0.0:1\"\nbase_path = \"/file\"\n[scim]\nmax_page_size = 50\ndefault_page_size = 10\n",
            )?;
            jail.set_env("ROSTER_SERVER__BASE_PATH", "/env");
            jail.set_env("ROSTER_BIND", "ignored-by-this-layer");
            let overrides = Overrides {
                server: Some(ServerOverrides {
                    bind: Some("127.0.0.1:9".to_owned()),
                    base_path: None,
                }),
                ..Overrides::default()
            };
            let c = Config::load(Some(Path::new("roster.toml")), &overrides)
                .map_err(|e| e.to_string())?;
            assert_eq!(c.server.bind, "127.0.0.1:9");
            assert_eq!(c.server.base_path, "/env");
            assert_eq!(c.scim.max_page_size, 50);
            Ok(())
        });
    }

    #[test]
    fn named_missing_file_and_bad_values_are_errors() {
        let missing = Config::load(
            Some(Path::new("/nonexistent/roster.toml")),
            &Overrides::default(),
        );
        assert!(matches!(missing, Err(ConfigError::Missing(_))));
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "[server]\nbase_path = \"scim\"\n")?;
            let err = Config::load(Some(Path::new("bad.toml")), &Overrides::default());
            assert!(matches!(err, Err(ConfigError::Invalid(_))));
            jail.create_file("typo.toml", "[server]\nbnd = \"x\"\n")?;
            let err = Config::load(Some(Path::new("typo.toml")), &Overrides::default());
            assert!(matches!(err, Err(ConfigError::Invalid(m)) if m.contains("bnd")));
            Ok(())
        });
    }
}
