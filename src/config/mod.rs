//! Layered configuration: built-in defaults, then the TOML file, then
//! `ROSTER_<SECTION>__<KEY>` environment variables, then the named
//! environment variables and command-line flags (see `cli`).

mod secret;

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use secret::{DatabaseUrl, Secret};

use crate::scim::idp_dialect::Dialect;

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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Static bearer tokens: the token itself, or `sha256:<hex digest>`.
    pub bearer_tokens: Vec<Secret>,
    /// Basic credentials: `user:password`, or `user:<argon2 PHC hash>`.
    pub basic: Vec<Secret>,
    pub jwt: JwtConfig,
    pub introspection: IntrospectionConfig,
    pub rate_limit: RateLimitConfig,
}

/// Every JWT algorithm a public key can verify with.
pub const ASYMMETRIC_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// Bearer JWTs from an external authorization server (Okta, Entra, ...).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtConfig {
    pub issuer: Option<String>,
    /// Accepted `aud` values; a token needs one of them.
    pub audience: Vec<String>,
    pub jwks_url: Option<String>,
    /// A JWKS document or a PEM public key.
    pub jwks_file: Option<PathBuf>,
    pub hs256_secret: Option<Secret>,
    pub required_scope: Option<String>,
    /// Signature algorithms accepted from asymmetric keys. HS256 is added
    /// only with `hs256_secret`.
    pub algorithms: Vec<String>,
    pub leeway_seconds: u64,
    /// How long fetched keys count as fresh.
    pub jwks_cache_seconds: u64,
    /// Least time between two fetches of the JWKS URL.
    pub jwks_min_refresh_seconds: u64,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            audience: Vec::new(),
            jwks_url: None,
            jwks_file: None,
            hs256_secret: None,
            required_scope: None,
            algorithms: ASYMMETRIC_ALGORITHMS.map(str::to_owned).to_vec(),
            leeway_seconds: 30,
            jwks_cache_seconds: 3600,
            jwks_min_refresh_seconds: 30,
        }
    }
}

impl JwtConfig {
    /// JWT validation is on as soon as any key source is configured.
    pub fn enabled(&self) -> bool {
        self.jwks_url.is_some() || self.jwks_file.is_some() || self.hs256_secret.is_some()
    }
}

/// RFC 7662 introspection of opaque bearer tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntrospectionConfig {
    pub url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub required_scope: Option<String>,
    /// Longest time an active answer is reused (never beyond the token's `exp`).
    pub cache_seconds: u64,
    pub cache_entries: usize,
}

impl Default for IntrospectionConfig {
    fn default() -> Self {
        Self {
            url: None,
            client_id: None,
            client_secret: None,
            required_scope: None,
            cache_seconds: 300,
            cache_entries: 10_000,
        }
    }
}

/// Failed authentications per client address.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Failures allowed in a row before an address is refused.
    pub burst: u32,
    /// Failures per minute an address regains after that.
    pub per_minute: u32,
    /// Count by the last `X-Forwarded-For` entry (the one the proxy
    /// appends). Only behind a proxy: otherwise clients choose their address.
    pub trust_forwarded_for: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            burst: 20,
            per_minute: 10,
            trust_forwarded_for: false,
        }
    }
}

/// The built-in OAuth2 authorization server; off without a client.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthConfig {
    /// `iss` of issued tokens and base of the endpoint URLs. Default: the
    /// origin of `server.public_url`, else `http://<server.bind>`.
    pub issuer: Option<String>,
    /// `aud` of issued tokens. Default: the issuer followed by the SCIM base path.
    pub audience: Option<String>,
    /// The scope that grants SCIM access.
    pub scope: String,
    pub access_token_seconds: u64,
    pub refresh_token_seconds: u64,
    pub code_seconds: u64,
    /// How often running servers re-read the signing keys, which picks up
    /// `roster oauth-key rotate`.
    pub key_reload_seconds: u64,
    /// Who may approve an authorization request: `user:password` or
    /// `user:<argon2 PHC hash>`.
    pub admins: Vec<Secret>,
    pub clients: Vec<OAuthClientConfig>,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            audience: None,
            scope: "scim".to_owned(),
            access_token_seconds: 3600,
            refresh_token_seconds: 30 * 24 * 3600,
            code_seconds: 60,
            key_reload_seconds: 60,
            admins: Vec::new(),
            clients: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClientConfig {
    pub client_id: String,
    /// An Argon2 PHC hash (`roster hash-secret`), or the secret itself.
    pub client_secret: Secret,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default = "default_true")]
    pub require_pkce: bool,
}

fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".to_owned(), "refresh_token".to_owned()]
}

fn default_true() -> bool {
    true
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
    /// Leniency rules for what IdPs really send; all on by default.
    pub dialect: Dialect,
    pub bulk: BulkConfig,
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
    /// Group members read per statement. A response carrying more members
    /// than this streams them, a batch at a time, so that its memory stays
    /// bounded however large the group.
    pub member_batch: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BulkConfig {
    /// Most operations in one bulk request (413 tooLarge beyond).
    pub max_operations: usize,
    /// Largest bulk request body in bytes (413 tooLarge beyond).
    pub max_payload_bytes: usize,
}

impl Default for BulkConfig {
    fn default() -> Self {
        Self {
            max_operations: 1000,
            max_payload_bytes: 4 * 1024 * 1024,
        }
    }
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
            dialect: Dialect::default(),
            bulk: BulkConfig::default(),
            cursor_secret: None,
            cursor_timeout_secs: 3600,
            schema_extensions: Vec::new(),
            member_batch: 1000,
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
        if self.scim.member_batch == 0 {
            return Err(ConfigError::Invalid(
                "scim.member_batch must be > 0".to_owned(),
            ));
        }
        if self.scim.max_page_size == 0 || self.scim.default_page_size > self.scim.max_page_size {
            return Err(ConfigError::Invalid(
                "scim.default_page_size must not exceed scim.max_page_size, which must be > 0"
                    .to_owned(),
            ));
        }
        self.auth.jwt.validate()?;
        self.auth.introspection.validate()?;
        if self.auth.rate_limit.burst == 0 || self.auth.rate_limit.per_minute == 0 {
            return Err(invalid(
                "auth.rate_limit.burst and per_minute must be at least 1",
            ));
        }
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
        from_public.unwrap_or_else(|| format!("http://{}", self.server.bind))
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

/// Keys and introspection answers are trusted for what they say, so they
/// must come over TLS; plain http only reaches this machine.
pub fn check_fetch_url(key: &str, value: &str) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(value)
        .map_err(|e| invalid(format!("{key} is not a valid URL ({e}): {value:?}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(invalid(format!(
            "{key} must be an https URL (plain http only for loopback addresses): {value:?}"
        ))),
    }
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

/// The shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key at
/// least as long as the hash.
const MIN_HS256_SECRET: usize = 32;

impl JwtConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for name in &self.algorithms {
            if !ASYMMETRIC_ALGORITHMS.contains(&name.as_str()) {
                return Err(invalid(format!(
                    "auth.jwt.algorithms: {name:?} is not an accepted asymmetric algorithm \
                     (HS256 is enabled by hs256_secret alone)"
                )));
            }
        }
        if !self.enabled() {
            return Ok(());
        }
        if self.issuer.as_deref().is_none_or(str::is_empty) || self.audience.is_empty() {
            return Err(invalid(
                "JWT validation needs auth.jwt.issuer and auth.jwt.audience \
                 (ROSTER_JWT_ISSUER, ROSTER_JWT_AUDIENCE)",
            ));
        }
        check_scope("auth.jwt.required_scope", self.required_scope.as_deref())?;
        if let Some(url) = &self.jwks_url {
            check_fetch_url("auth.jwt.jwks_url", url)?;
        }
        if self
            .hs256_secret
            .as_ref()
            .is_some_and(|s| s.expose().len() < MIN_HS256_SECRET)
        {
            return Err(invalid(format!(
                "auth.jwt.hs256_secret must be at least {MIN_HS256_SECRET} bytes"
            )));
        }
        Ok(())
    }
}

impl IntrospectionConfig {
    pub fn enabled(&self) -> bool {
        self.url.is_some()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let Some(url) = &self.url else {
            return Ok(());
        };
        check_fetch_url("auth.introspection.url", url)?;
        check_scope(
            "auth.introspection.required_scope",
            self.required_scope.as_deref(),
        )?;
        if self.client_id.is_none() || self.client_secret.is_none() {
            return Err(invalid(
                "auth.introspection needs client_id and client_secret",
            ));
        }
        Ok(())
    }
}

/// Grant types the built-in server implements.
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

impl OAuthConfig {
    fn validate(&self, issuer: &str) -> Result<(), ConfigError> {
        let parsed = url::Url::parse(issuer)
            .map_err(|e| invalid(format!("oauth.issuer {issuer:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            return Err(invalid(format!(
                "oauth.issuer must be an http(s) URL without query: {issuer:?}"
            )));
        }
        check_scope("oauth.scope", Some(&self.scope))?;
        if self.access_token_seconds == 0 || self.code_seconds == 0 {
            return Err(invalid(
                "oauth.access_token_seconds and code_seconds must be positive",
            ));
        }
        self.clients
            .iter()
            .try_for_each(OAuthClientConfig::validate)
    }
}

impl OAuthClientConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let id = &self.client_id;
        if id.is_empty() || id.len() > 255 || id.contains(':') {
            return Err(invalid(format!(
                "oauth client_id {id:?} must be 1-255 characters without ':'"
            )));
        }
        if self.client_secret.expose().is_empty() {
            return Err(invalid(format!(
                "oauth client {id:?} needs a client_secret"
            )));
        }
        if let Some(g) = self
            .grant_types
            .iter()
            .find(|g| !GRANT_TYPES.contains(&g.as_str()))
        {
            return Err(invalid(format!(
                "oauth client {id:?}: unknown grant type {g:?} (known: {})",
                GRANT_TYPES.join(", ")
            )));
        }
        let code = self.grant_types.iter().any(|g| g == "authorization_code");
        if code && self.redirect_uris.is_empty() {
            return Err(invalid(format!(
                "oauth client {id:?} uses authorization_code and needs redirect_uris"
            )));
        }
        for uri in &self.redirect_uris {
            let parsed = url::Url::parse(uri)
                .map_err(|e| invalid(format!("oauth client {id:?}: redirect URI {uri:?}: {e}")))?;
            if parsed.fragment().is_some() {
                return Err(invalid(format!(
                    "oauth client {id:?}: redirect URI {uri:?} must not have a fragment"
                )));
            }
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
            jail.create_file("zero.toml", "[scim]\nmember_batch = 0\n")?;
            let err = Config::load(Some(Path::new("zero.toml")), &Overrides::default());
            assert!(matches!(err, Err(ConfigError::Invalid(m)) if m.contains("member_batch")));
            Ok(())
        });
    }

    #[test]
    fn key_and_introspection_urls_need_tls_except_on_loopback() {
        for ok in [
            "https://idp.example.com/keys",
            "http://127.0.0.1:8080/keys",
            "http://[::1]/keys",
            "http://localhost/keys",
        ] {
            assert!(check_fetch_url("k", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example.com/keys",
            "http://10.0.0.1/keys",
            "ftp://127.0.0.1/keys",
            "not a url",
        ] {
            assert!(check_fetch_url("k", bad).is_err(), "{bad}");
        }
    }

    fn jwt(adjust: impl FnOnce(&mut JwtConfig)) -> Result<(), ConfigError> {
        let mut c = JwtConfig {
            issuer: Some("https://i".to_owned()),
            audience: vec!["a".to_owned()],
            jwks_url: Some("https://i/keys".to_owned()),
            ..JwtConfig::default()
        };
        adjust(&mut c);
        c.validate()
    }

    #[test]
    fn jwt_settings_are_checked() {
        assert!(jwt(|_| {}).is_ok());
        assert!(jwt(|c| c.issuer = None).is_err());
        assert!(jwt(|c| c.audience.clear()).is_err());
        assert!(jwt(|c| c.jwks_url = Some("http://idp.example.com/keys".to_owned())).is_err());
        assert!(jwt(|c| c.hs256_secret = Some(Secret::new("short"))).is_err());
        assert!(jwt(|c| c.algorithms.push("HS256".to_owned())).is_err());
        assert!(jwt(|c| c.algorithms.push("none".to_owned())).is_err());
        assert!(jwt(|c| c.required_scope = Some("two words".to_owned())).is_err());
        assert!(jwt(|c| c.required_scope = Some("a\"b".to_owned())).is_err());
        // Nothing to check keys with: off, so nothing else is required.
        assert!(
            jwt(|c| {
                c.jwks_url = None;
                c.issuer = None;
            })
            .is_ok()
        );
    }

    #[test]
    fn oauth_clients_are_checked() {
        let client = |adjust: fn(&mut OAuthClientConfig)| {
            let mut c = OAuthClientConfig {
                client_id: "okta".to_owned(),
                client_secret: Secret::new("s"),
                redirect_uris: vec!["https://okta.example/cb".to_owned()],
                grant_types: default_grant_types(),
                scopes: vec![],
                require_pkce: true,
            };
            adjust(&mut c);
            c.validate()
        };
        assert!(client(|_| {}).is_ok());
        assert!(client(|c| c.client_id = "a:b".to_owned()).is_err());
        assert!(client(|c| c.redirect_uris.clear()).is_err());
        assert!(client(|c| c.redirect_uris = vec!["https://x/cb#frag".to_owned()]).is_err());
        assert!(client(|c| c.grant_types = vec!["password".to_owned()]).is_err());
        assert!(
            client(|c| {
                c.redirect_uris.clear();
                c.grant_types = vec!["client_credentials".to_owned()];
            })
            .is_ok()
        );
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
