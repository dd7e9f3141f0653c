//! `[oauth]`: the built-in authorization server and its clients.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret, check_scope, invalid};

/// Grant types the built-in server implements.
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

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

impl OAuthConfig {
    /// `issuer` is the effective one (see `Config::oauth_issuer`).
    pub(super) fn validate(&self, issuer: &str) -> Result<(), ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
