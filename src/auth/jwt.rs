//! Bearer JWTs: signature from the issuer's keys, then `iss`, `aud`, `exp`,
//! `nbf` and the required scope.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::BoxFuture;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation, decode, decode_header};
use serde::Deserialize;
use uuid::Uuid;

use super::principal::{AuthError, Principal};
use super::tenancy::{self, Authenticated, TenantBindings};
use super::verify_keys::{KeySet, RemoteJwks};

/// Keys their owner keeps current while the server runs: the built-in
/// authorization server's signing keys, which live in the database. A trait
/// so that verification does not depend on the server that signs.
pub trait OwnKeys: Send + Sync {
    /// The keys that may verify a token naming `kid`.
    fn verification_keys<'a>(&'a self, kid: Option<&'a str>) -> BoxFuture<'a, Arc<KeySet>>;
}

/// Where an issuer's keys come from.
pub enum KeySource {
    Fixed(Arc<KeySet>),
    Remote(Arc<RemoteJwks>),
    /// The built-in authorization server's own keys.
    Own(Arc<dyn OwnKeys>),
}

impl KeySource {
    async fn keys(&self, kid: Option<&str>) -> Arc<KeySet> {
        match self {
            Self::Fixed(keys) => keys.clone(),
            Self::Remote(remote) => remote.keys(kid).await,
            Self::Own(own) => own.verification_keys(kid).await,
        }
    }
}

pub struct TrustedIssuer {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub required_scope: Option<String>,
    pub leeway_seconds: u64,
    pub sources: Vec<KeySource>,
}

#[derive(Default)]
pub struct JwtValidator {
    issuers: Vec<TrustedIssuer>,
}

impl JwtValidator {
    pub fn new(issuers: Vec<TrustedIssuer>) -> Self {
        Self { issuers }
    }

    pub fn issuers_count(&self) -> usize {
        self.issuers.len()
    }

    /// Whether an issuer other than the built-in server is trusted.
    pub fn has_external(&self) -> bool {
        self.issuers.iter().any(|i| !i.is_builtin())
    }

    /// The configured issuer a JWT claims to come from. The claim is only
    /// used to pick the keys and rules; validation checks it again.
    pub fn issuer_for(&self, token: &str) -> Option<&TrustedIssuer> {
        let iss = unverified_issuer(token)?;
        self.issuers.iter().find(|i| i.issuer == iss)
    }
}

#[derive(Deserialize)]
struct IssuerOnly {
    iss: Option<String>,
}

fn unverified_issuer(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if !URL_SAFE_NO_PAD
        .decode(header)
        .is_ok_and(|h| h.starts_with(b"{"))
    {
        return None;
    }
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<IssuerOnly>(&payload).ok()?.iss
}

/// Okta sends `scp` as a list, Entra as a space-separated string, RFC 9068
/// servers `scope` as a string.
/// `aud`: one value or a list (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audiences {
    One(String),
    Many(Vec<String>),
}

impl Audiences {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(a) => vec![a],
            Self::Many(list) => list,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scopes {
    Text(String),
    List(Vec<String>),
}

impl Scopes {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Self::Text(s) => s.split_whitespace().any(|x| x == wanted),
            Self::List(l) => l.iter().any(|x| x == wanted),
        }
    }
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    aud: Option<Audiences>,
    /// The tenant of a token the built-in server issued (its client's);
    /// read from no other issuer's tokens.
    #[serde(default)]
    roster_tenant: Option<Uuid>,
    #[serde(default)]
    scope: Option<Scopes>,
    #[serde(default)]
    scp: Option<Scopes>,
}

impl TrustedIssuer {
    fn is_builtin(&self) -> bool {
        self.sources.iter().any(|s| matches!(s, KeySource::Own(_)))
    }

    pub async fn verify(
        &self,
        token: &str,
        tenants: &TenantBindings,
    ) -> Result<Authenticated, AuthError> {
        let header = decode_header(token).map_err(|e| rejected(&e))?;
        let kid = header.kid.as_deref();
        for source in &self.sources {
            let keys = source.keys(kid).await;
            for key in keys.candidates(kid, header.alg) {
                match decode::<Claims>(token, &key.key, &self.validation(&key.algorithms)) {
                    Ok(data) => return self.principal(data.claims, tenants),
                    // Several keys may share a kid (or have none): try on.
                    Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => continue,
                    Err(e) => return Err(rejected(&e)),
                }
            }
        }
        log::debug!(
            "JWT from {}: no key verifies it ({})",
            self.issuer,
            describe(&header)
        );
        Err(AuthError::BadToken)
    }

    /// The algorithms come from the key, never from the token.
    fn validation(&self, algorithms: &[Algorithm]) -> Validation {
        let mut v = Validation::new(algorithms.first().copied().unwrap_or(Algorithm::RS256));
        v.algorithms = algorithms.to_vec();
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&self.audiences);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v.validate_nbf = true;
        v.leeway = self.leeway_seconds;
        v
    }

    fn principal(
        &self,
        claims: Claims,
        tenants: &TenantBindings,
    ) -> Result<Authenticated, AuthError> {
        if let Some(required) = &self.required_scope {
            let granted = [&claims.scope, &claims.scp]
                .into_iter()
                .flatten()
                .any(|s| s.contains(required));
            if !granted {
                return Err(AuthError::InsufficientScope(required.clone()));
            }
        }
        let tenant = match self.is_builtin() {
            true => claims.roster_tenant.unwrap_or(tenancy::DEFAULT),
            false => {
                let audiences = claims.aud.map(Audiences::into_vec).unwrap_or_default();
                tenants.of_jwt(&self.issuer, &audiences)
            }
        };
        Ok(Authenticated {
            principal: Principal::Jwt {
                issuer: self.issuer.clone(),
                subject: claims.sub,
            },
            tenant,
        })
    }
}

fn rejected(e: &jsonwebtoken::errors::Error) -> AuthError {
    log::debug!("JWT rejected: {e}");
    AuthError::BadToken
}

fn describe(header: &Header) -> String {
    format!("alg {:?}, kid {:?}", header.alg, header.kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_issuer_only_from_jwt_shaped_tokens() {
        let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
        let token = format!(
            "{}.{}.sig",
            enc(r#"{"alg":"RS256"}"#),
            enc(r#"{"iss":"https://i"}"#)
        );
        assert_eq!(unverified_issuer(&token).as_deref(), Some("https://i"));
        assert_eq!(unverified_issuer("roster_abc"), None);
        assert_eq!(unverified_issuer("a.b.c"), None);
        assert_eq!(unverified_issuer(&format!("{token}.x")), None);
    }

    #[test]
    fn scopes_come_as_text_or_list() {
        let text: Scopes = serde_json::from_str(r#""openid scim""#).unwrap();
        let list: Scopes = serde_json::from_str(r#"["openid","scim"]"#).unwrap();
        assert!(text.contains("scim") && list.contains("scim"));
        assert!(!text.contains("sci") && !list.contains("openid scim"));
    }
}
