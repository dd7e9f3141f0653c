//! Checking presented credentials against the configured ones.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header::HeaderValue;
use actix_web_httpauth::headers::authorization::{Basic, Bearer, Scheme};
use sea_orm::DatabaseConnection;
use subtle::ConstantTimeEq;

use super::{sha256, sha256_hex};
use crate::config::Secret;
use crate::store::tokens;

/// Who a request authenticated as. Never holds the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    BasicUser(String),
    ConfiguredToken,
    DatabaseToken { name: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no credentials were presented")]
    Missing,
    #[error("the Authorization header is malformed or uses an unsupported scheme")]
    Malformed,
    #[error("the bearer token is not valid")]
    BadToken,
    #[error("the user name or password is not valid")]
    BadBasic,
    #[error("credentials could not be checked")]
    Unavailable,
}

enum BasicSecret {
    /// SHA-256 of a plain-text password from the config.
    Digest([u8; 32]),
    /// An Argon2 PHC string from the config.
    Argon2(String),
}

struct BasicCredential {
    user: String,
    secret: BasicSecret,
}

/// How long a successful Argon2 check is remembered. Argon2 costs tens of
/// milliseconds by design; without a cache Basic auth would cap throughput.
const CACHE_TTL: Duration = Duration::from_secs(300);
const CACHE_MAX: usize = 1024;

pub struct Verifier {
    bearer_digests: Vec<[u8; 32]>,
    basic: Vec<BasicCredential>,
    db: DatabaseConnection,
    /// Digest of `user:password` → when the successful check expires.
    basic_cache: Mutex<HashMap<[u8; 32], Instant>>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CredentialConfigError(String);

impl Verifier {
    pub fn new(
        bearer: &[Secret],
        basic: &[Secret],
        db: DatabaseConnection,
    ) -> Result<Self, CredentialConfigError> {
        let bearer_digests = bearer
            .iter()
            .map(|s| bearer_digest(s.expose()))
            .collect::<Result<_, _>>()?;
        let basic = basic
            .iter()
            .map(|s| basic_credential(s.expose()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            bearer_digests,
            basic,
            db,
            basic_cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn basic_enabled(&self) -> bool {
        !self.basic.is_empty()
    }

    pub fn has_configured_credentials(&self) -> bool {
        !self.basic.is_empty() || !self.bearer_digests.is_empty()
    }

    pub async fn verify(&self, header: Option<&HeaderValue>) -> Result<Principal, AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        let text = header.to_str().map_err(|_| AuthError::Malformed)?;
        let scheme = text.split_whitespace().next().unwrap_or_default();
        if scheme.eq_ignore_ascii_case("bearer") {
            let bearer = Bearer::parse(header).map_err(|_| AuthError::Malformed)?;
            return self.verify_bearer(bearer.token()).await;
        }
        if scheme.eq_ignore_ascii_case("basic") && self.basic_enabled() {
            let basic = Basic::parse(header).map_err(|_| AuthError::BadBasic)?;
            let password = basic.password().unwrap_or_default();
            return self.verify_basic(basic.user_id(), password).await;
        }
        Err(AuthError::Malformed)
    }

    async fn verify_bearer(&self, token: &str) -> Result<Principal, AuthError> {
        let digest = sha256(token.as_bytes());
        // Compare against every configured digest so timing says nothing
        // about which one (or whether one) matched.
        let configured = self
            .bearer_digests
            .iter()
            .fold(subtle::Choice::from(0), |acc, d| acc | d.ct_eq(&digest));
        if bool::from(configured) {
            return Ok(Principal::ConfiguredToken);
        }
        let hex = sha256_hex(token.as_bytes());
        match tokens::find_active_by_hash(&self.db, &hex).await {
            Ok(Some(t)) => Ok(Principal::DatabaseToken { name: t.name }),
            Ok(None) => Err(AuthError::BadToken),
            Err(e) => {
                log::error!("token lookup failed: {e}");
                Err(AuthError::Unavailable)
            }
        }
    }

    async fn verify_basic(&self, user: &str, password: &str) -> Result<Principal, AuthError> {
        let presented = sha256(password.as_bytes());
        let cache_key = sha256(format!("{user}\u{0}{password}").as_bytes());
        for cred in &self.basic {
            if !bool::from(cred.user.as_bytes().ct_eq(user.as_bytes())) {
                continue;
            }
            let ok = match &cred.secret {
                BasicSecret::Digest(d) => bool::from(d.ct_eq(&presented)),
                BasicSecret::Argon2(phc) => self.check_argon2(cache_key, password, phc).await?,
            };
            if ok {
                return Ok(Principal::BasicUser(user.to_owned()));
            }
        }
        Err(AuthError::BadBasic)
    }

    async fn check_argon2(
        &self,
        key: [u8; 32],
        password: &str,
        phc: &str,
    ) -> Result<bool, AuthError> {
        let now = Instant::now();
        if let Ok(cache) = self.basic_cache.lock()
            && cache.get(&key).is_some_and(|exp| *exp > now)
        {
            return Ok(true);
        }
        let (password, phc) = (password.to_owned(), phc.to_owned());
        let ok = tokio::task::spawn_blocking(move || super::verify_secret(&password, &phc))
            .await
            .map_err(|_| AuthError::Unavailable)?;
        if ok && let Ok(mut cache) = self.basic_cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, exp| *exp > now);
            }
            if cache.len() < CACHE_MAX {
                cache.insert(key, now + CACHE_TTL);
            }
        }
        Ok(ok)
    }
}

fn bearer_digest(s: &str) -> Result<[u8; 32], CredentialConfigError> {
    let Some(hex) = s.strip_prefix("sha256:") else {
        if s.trim().is_empty() {
            return Err(CredentialConfigError(
                "an empty bearer token is not allowed".to_owned(),
            ));
        }
        return Ok(sha256(s.as_bytes()));
    };
    decode_hex32(hex).ok_or_else(|| {
        CredentialConfigError("a 'sha256:' bearer token needs 64 hex digits".to_owned())
    })
}

fn decode_hex32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn basic_credential(s: &str) -> Result<BasicCredential, CredentialConfigError> {
    let (user, secret) = s
        .split_once(':')
        .filter(|(u, p)| !u.is_empty() && !p.is_empty())
        .ok_or_else(|| {
            CredentialConfigError("basic credentials must look like user:password".to_owned())
        })?;
    let secret = if secret.starts_with("$argon2") {
        BasicSecret::Argon2(secret.to_owned())
    } else {
        BasicSecret::Digest(sha256(secret.as_bytes()))
    };
    Ok(BasicCredential {
        user: user.to_owned(),
        secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_configured_secrets() {
        assert!(bearer_digest("").is_err());
        assert!(bearer_digest("sha256:abc").is_err());
        let hex = sha256_hex(b"tok");
        assert_eq!(
            bearer_digest(&format!("sha256:{hex}")).unwrap(),
            sha256(b"tok")
        );
        assert!(basic_credential("nopassword").is_err());
        assert!(basic_credential(":p").is_err());
        assert!(matches!(
            basic_credential("u:p:with:colons").unwrap().secret,
            BasicSecret::Digest(_)
        ));
        assert!(matches!(
            basic_credential("u:$argon2id$v=19$...").unwrap().secret,
            BasicSecret::Argon2(_)
        ));
    }
}
