//! `name:secret` credentials: Basic users, the authorization server's
//! admins, and its clients' secrets all verify the same way.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use super::principal::{AuthError, CredentialConfigError};
use crate::config::Secret;
use crate::secrets::{sha256, verify_secret};

/// A configured or stored secret, never the presented one.
#[derive(Clone)]
pub enum StoredSecret {
    /// SHA-256 of a plain-text secret from the config.
    Digest([u8; 32]),
    /// An Argon2 PHC string.
    Argon2(String),
}

impl StoredSecret {
    /// An Argon2 PHC string stays a hash; anything else is a plain secret
    /// kept only as its digest.
    pub fn parse(secret: &str) -> Self {
        if secret.starts_with("$argon2") {
            Self::Argon2(secret.to_owned())
        } else {
            Self::Digest(sha256(secret.as_bytes()))
        }
    }
}

/// How long a successful Argon2 check is remembered. Argon2 costs tens of
/// milliseconds by design; without a cache Basic auth would cap throughput.
const CACHE_TTL: Duration = Duration::from_secs(300);
const CACHE_MAX: usize = 1024;

/// Checks presented secrets against stored ones: Argon2 off the event loop,
/// successes remembered briefly.
#[derive(Default)]
pub struct SecretChecker {
    /// Digest of `name\0secret\0hash` → when the successful check expires.
    cache: Mutex<HashMap<[u8; 32], Instant>>,
}

impl SecretChecker {
    pub async fn matches(
        &self,
        name: &str,
        presented: &str,
        stored: &StoredSecret,
    ) -> Result<bool, AuthError> {
        match stored {
            StoredSecret::Digest(d) => Ok(bool::from(d.ct_eq(&sha256(presented.as_bytes())))),
            StoredSecret::Argon2(phc) => self.check_argon2(name, presented, phc).await,
        }
    }

    async fn check_argon2(
        &self,
        name: &str,
        presented: &str,
        phc: &str,
    ) -> Result<bool, AuthError> {
        // The hash is part of the key so that a changed secret is never
        // answered from the cache.
        let key = sha256(format!("{name}\u{0}{presented}\u{0}{phc}").as_bytes());
        let now = Instant::now();
        if let Ok(cache) = self.cache.lock()
            && cache.get(&key).is_some_and(|exp| *exp > now)
        {
            return Ok(true);
        }
        let (presented, phc) = (presented.to_owned(), phc.to_owned());
        let ok = tokio::task::spawn_blocking(move || verify_secret(&presented, &phc))
            .await
            .map_err(|_| AuthError::Unavailable)?;
        if ok && let Ok(mut cache) = self.cache.lock() {
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

struct Credential {
    user: String,
    secret: StoredSecret,
}

/// Configured `user:secret` pairs.
#[derive(Default)]
pub struct CredentialList {
    entries: Vec<Credential>,
    checker: SecretChecker,
}

impl CredentialList {
    pub fn parse(list: &[Secret]) -> Result<Self, CredentialConfigError> {
        let entries = list
            .iter()
            .map(|s| credential(s.expose()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            entries,
            checker: SecretChecker::default(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn has_user(&self, user: &str) -> bool {
        self.entries.iter().any(|c| c.user == user)
    }

    pub async fn verify(&self, user: &str, password: &str) -> Result<bool, AuthError> {
        for cred in &self.entries {
            if !bool::from(cred.user.as_bytes().ct_eq(user.as_bytes())) {
                continue;
            }
            if self.checker.matches(user, password, &cred.secret).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn credential(s: &str) -> Result<Credential, CredentialConfigError> {
    let (user, secret) = s
        .split_once(':')
        .filter(|(u, p)| !u.is_empty() && !p.is_empty())
        .ok_or_else(|| CredentialConfigError::new("credentials must look like user:password"))?;
    Ok(Credential {
        user: user.to_owned(),
        secret: StoredSecret::parse(secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_configured_credentials() {
        assert!(credential("nopassword").is_err());
        assert!(credential(":p").is_err());
        assert!(matches!(
            credential("u:p:with:colons").unwrap().secret,
            StoredSecret::Digest(_)
        ));
        assert!(matches!(
            credential("u:$argon2id$v=19$...").unwrap().secret,
            StoredSecret::Argon2(_)
        ));
    }

    #[tokio::test]
    async fn verifies_plain_and_hashed_secrets() {
        let hash = crate::secrets::hash_secret("pw2").unwrap();
        let list = CredentialList::parse(&[Secret::new("a:pw1"), Secret::new(format!("b:{hash}"))])
            .unwrap();
        assert!(list.verify("a", "pw1").await.unwrap());
        assert!(!list.verify("a", "pw2").await.unwrap());
        assert!(list.verify("b", "pw2").await.unwrap());
        assert!(list.verify("b", "pw2").await.unwrap(), "cached");
        assert!(!list.verify("b", "pw1").await.unwrap());
        assert!(!list.verify("c", "pw1").await.unwrap());
    }
}
