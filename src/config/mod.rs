//! Layered configuration: built-in defaults, then the TOML file, then
//! `ROSTER_<SECTION>__<KEY>` environment variables, then the named
//! environment variables and command-line flags (see `cli`). Each section
//! lives in its own file with its `validate`; this one loads and checks the
//! whole.

mod at_rest;
mod audit;
mod auth;
mod console;
mod database;
mod events;
mod oauth;
mod observe;
mod overrides;
mod scim;
mod secret;
mod server;
mod tenants;
mod tls;

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use at_rest::SecretsConfig;
pub use audit::AuditConfig;
pub use auth::{
    ASYMMETRIC_ALGORITHMS, AuthConfig, IntrospectionConfig, JwtConfig, RateLimitConfig,
    check_fetch_url,
};
pub use console::ConsoleConfig;
pub use database::DatabaseConfig;
pub use events::EventsConfig;
pub use oauth::{GRANT_TYPES, OAuthClientConfig, OAuthConfig};
pub use observe::{LogConfig, LogFormat, MetricsConfig};
pub use overrides::{
    AuthOverrides, DatabaseOverrides, JwtOverrides, Overrides, ServerOverrides, TlsOverrides,
};
pub use scim::{BulkConfig, SchemaExtensionConfig, ScimConfig};
pub use secret::{DatabaseUrl, Secret};
pub use server::ServerConfig;
pub use tenants::{JwtTenantConfig, TenantConfig};
pub use tls::TlsConfig;

/// Where `roster` looks for its config file when none is named.
pub const DEFAULT_CONFIG_PATH: &str = "config/default.toml";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub oauth: OAuthConfig,
    pub scim: ScimConfig,
    pub metrics: MetricsConfig,
    pub log: LogConfig,
    pub tls: TlsConfig,
    pub secrets: SecretsConfig,
    /// `[[tenant]]` tables: credentials bound to tenants other than `default`.
    pub tenant: Vec<TenantConfig>,
    pub audit: AuditConfig,
    pub console: ConsoleConfig,
    pub events: EventsConfig,
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

    /// Section by section; the first problem found is reported.
    fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()?;
        self.scim.validate()?;
        self.tls.validate()?;
        self.auth.validate()?;
        self.secrets.validate()?;
        tenants::validate(&self.tenant)?;
        self.audit.validate()?;
        self.console.validate(&self.server.base_path)?;
        self.events.validate()?;
        self.oauth.validate(&self.oauth_issuer())
    }

    /// The built-in authorization server's issuer URL, without a trailing slash.
    pub fn oauth_issuer(&self) -> String {
        if let Some(issuer) = &self.oauth.issuer {
            return issuer.trim_end_matches('/').to_owned();
        }
        let from_public = self
            .server
            .public_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| u.origin().ascii_serialization())
            .filter(|origin| origin != "null");
        from_public.unwrap_or_else(|| format!("{}://{}", self.scheme(), self.server.bind))
    }

    /// How clients reach the main listener.
    pub fn scheme(&self) -> &'static str {
        if self.tls.files().is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The `aud` of tokens the built-in server issues.
    pub fn oauth_audience(&self) -> String {
        self.oauth.audience.clone().unwrap_or_else(|| {
            let base = if self.server.base_path == "/" {
                ""
            } else {
                &self.server.base_path
            };
            format!("{}{base}", self.oauth_issuer())
        })
    }
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

/// One RFC 6749 §3.3 scope token: it travels inside a quoted
/// `WWW-Authenticate` parameter, so no spaces, quotes or backslashes.
fn check_scope(key: &str, scope: Option<&str>) -> Result<(), ConfigError> {
    let Some(scope) = scope else {
        return Ok(());
    };
    let nqchar = |c: char| c == '!' || ('#'..='[').contains(&c) || (']'..='~').contains(&c);
    if scope.is_empty() || !scope.chars().all(nqchar) {
        return Err(invalid(format!(
            "{key} must be one scope token, got {scope:?}"
        )));
    }
    Ok(())
}

fn one_line(e: &figment::Error) -> String {
    e.to_string().replace('\n', " ")
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail dictates the error type
mod tests {
    use super::*;

    /// The checked-in file documents the defaults; it must be exactly them.
    #[test]
    fn documented_file_equals_the_built_in_defaults() {
        // In a jail: the other tests' jails set ROSTER_* variables, which
        // this load would otherwise read when the tests run in parallel.
        figment::Jail::expect_with(|_| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG_PATH);
            let from_file =
                Config::load(Some(&path), &Overrides::default()).map_err(|e| e.to_string())?;
            let as_json = |c: &Config| serde_json::to_value(c).expect("serializable");
            assert_eq!(as_json(&from_file), as_json(&Config::default()));
            Ok(())
        });
    }

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
                    ..ServerOverrides::default()
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
            jail.create_file("zero.toml", "[scim]\nmember_batch = 0\n")?;
            let err = Config::load(Some(Path::new("zero.toml")), &Overrides::default());
            assert!(matches!(err, Err(ConfigError::Invalid(m)) if m.contains("member_batch")));
            Ok(())
        });
    }

    #[test]
    fn issuer_defaults_to_the_public_origin_or_the_bind_address() {
        let mut c = Config::default();
        assert_eq!(c.oauth_issuer(), "http://127.0.0.1:5000");
        assert_eq!(c.oauth_audience(), "http://127.0.0.1:5000/scim/v2");
        c.server.public_url = Some("https://scim.example.com/scim/v2".to_owned());
        assert_eq!(c.oauth_issuer(), "https://scim.example.com");
        c.oauth.issuer = Some("https://auth.example.com/".to_owned());
        assert_eq!(c.oauth_issuer(), "https://auth.example.com");
    }

    #[test]
    fn secrets_are_masked_in_debug_output() {
        let mut c = Config::default();
        c.auth.jwt.hs256_secret = Some(Secret::new("hs-secret-value"));
        c.auth.introspection.client_secret = Some(Secret::new("introspection-secret"));
        c.oauth.admins = vec![Secret::new("admin:admin-password")];
        let shown = format!("{c:?}");
        for secret in ["hs-secret-value", "introspection-secret", "admin-password"] {
            assert!(!shown.contains(secret), "{secret} leaked");
        }
    }
}
