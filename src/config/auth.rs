//! `[auth]`: the credentials the SCIM API accepts, and the limit on failed
//! attempts.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret, check_scope, invalid};

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

impl AuthConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        self.jwt.validate()?;
        self.introspection.validate()?;
        self.rate_limit.validate()
    }
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

/// The shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key at
/// least as long as the hash.
const MIN_HS256_SECRET: usize = 32;

impl JwtConfig {
    /// JWT validation is on as soon as any key source is configured.
    pub fn enabled(&self) -> bool {
        self.jwks_url.is_some() || self.jwks_file.is_some() || self.hs256_secret.is_some()
    }

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

/// Failed authentications per client address and per Basic user name.
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

impl RateLimitConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.burst == 0 || self.per_minute == 0 {
            return Err(invalid(
                "auth.rate_limit.burst and per_minute must be at least 1",
            ));
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
