//! Verification keys, each pinned to the algorithms it may verify, so that a
//! token's header can only choose among what the key allows (no `none`, no
//! HS256 with a public key as the secret).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::Deserialize;

use super::http_client;

pub struct VerifyKey {
    /// None for keys given without an id (a PEM file, the shared secret):
    /// those are tried for any `kid`.
    pub kid: Option<String>,
    pub key: DecodingKey,
    pub algorithms: Vec<Algorithm>,
}

#[derive(Default)]
pub struct KeySet {
    keys: Vec<VerifyKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{0} holds no usable public key")]
    NoKey(String),
}

/// A JWKS as published: keys are parsed one by one so that one key of a
/// type we do not know does not hide the others.
#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    pub fn new(keys: Vec<VerifyKey>) -> Self {
        Self { keys }
    }

    pub fn hmac(secret: &[u8]) -> Self {
        Self::new(vec![VerifyKey {
            kid: None,
            key: DecodingKey::from_secret(secret),
            algorithms: vec![Algorithm::HS256],
        }])
    }

    pub fn from_jwks(set: &JwkSet, allowed: &[Algorithm]) -> Self {
        Self::new(
            set.keys
                .iter()
                .filter_map(|jwk| verify_key(jwk, allowed))
                .collect(),
        )
    }

    fn from_raw(raw: RawJwks, allowed: &[Algorithm]) -> Self {
        let keys: Vec<Jwk> = raw
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value(k).ok())
            .collect();
        Self::from_jwks(&JwkSet { keys }, allowed)
    }

    /// A JWKS document, or one PEM-encoded public key (RSA, EC or Ed25519).
    pub fn from_file(path: &std::path::Path, allowed: &[Algorithm]) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| KeyError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let set = match serde_json::from_slice::<RawJwks>(&bytes) {
            Ok(raw) => Self::from_raw(raw, allowed),
            Err(_) => Self::from_pem(&bytes, allowed),
        };
        if set.keys.is_empty() {
            return Err(KeyError::NoKey(shown));
        }
        Ok(set)
    }

    fn from_pem(pem: &[u8], allowed: &[Algorithm]) -> Self {
        let parsed = DecodingKey::from_rsa_pem(pem)
            .or_else(|_| DecodingKey::from_ec_pem(pem))
            .or_else(|_| DecodingKey::from_ed_pem(pem));
        let keys = parsed
            .ok()
            .map(|key| {
                let algorithms = pinned(key.family().algorithms(), allowed);
                VerifyKey {
                    kid: None,
                    key,
                    algorithms,
                }
            })
            .filter(|k| !k.algorithms.is_empty());
        Self::new(keys.into_iter().collect())
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Keys that may verify a token with this header.
    pub fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a VerifyKey> + 'a {
        self.keys.iter().filter(move |k| {
            let kid_fits = match (kid, &k.kid) {
                (Some(wanted), Some(have)) => wanted == have,
                _ => true,
            };
            kid_fits && k.algorithms.contains(&alg)
        })
    }
}

/// The algorithms a JWK may verify: those of its key type (and curve), cut
/// down to its own `alg` when it names one, and to the configured list.
/// Symmetric keys in a key set are ignored: a published HMAC key would let
/// anyone sign.
fn verify_key(jwk: &Jwk, allowed: &[Algorithm]) -> Option<VerifyKey> {
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let by_type: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa.algorithms(),
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => &[Algorithm::ES256],
            EllipticCurve::P384 => &[Algorithm::ES384],
            _ => &[],
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            &[Algorithm::EdDSA]
        }
        _ => &[],
    };
    let mut algorithms = pinned(by_type, allowed);
    if let Some(named) = jwk.common.key_algorithm {
        let named = Algorithm::try_from(named).ok()?;
        algorithms.retain(|a| *a == named);
    }
    if algorithms.is_empty() {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyKey {
        kid: jwk.common.key_id.clone(),
        key,
        algorithms,
    })
}

fn pinned(by_type: &[Algorithm], allowed: &[Algorithm]) -> Vec<Algorithm> {
    by_type
        .iter()
        .copied()
        .filter(|a| allowed.contains(a))
        .collect()
}

/// Keys published at a JWKS URL: fetched on first use, refetched when stale
/// or when a token names an unknown `kid`, never more often than the
/// minimum interval, and kept when the issuer cannot be reached.
pub struct RemoteJwks {
    url: String,
    allowed: Vec<Algorithm>,
    fresh_for: Duration,
    min_interval: Duration,
    cached: RwLock<Cached>,
    /// One fetch at a time; the others wait and use its result.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Cached {
    keys: Arc<KeySet>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

impl RemoteJwks {
    pub fn new(
        url: String,
        allowed: Vec<Algorithm>,
        fresh_for: Duration,
        min_interval: Duration,
    ) -> Self {
        Self {
            url,
            allowed,
            fresh_for,
            min_interval,
            cached: RwLock::new(Cached::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    pub async fn keys(self: &Arc<Self>, kid: Option<&str>) -> Arc<KeySet> {
        let (keys, due) = self.current(kid);
        if !due {
            return keys;
        }
        let has_key = kid.map_or(!keys.is_empty(), |k| keys.has_kid(k));
        if has_key {
            // Merely stale: answer from the cache and refresh behind it, so
            // that a slow issuer never delays a request. On the worker's
            // own thread: each actix worker runs a local task set.
            let this = Arc::clone(self);
            tokio::task::spawn_local(async move {
                if let Ok(_one_at_a_time) = this.fetching.try_lock()
                    && this.current(None).1
                {
                    this.fetch().await;
                }
            });
            return keys;
        }
        let _one_at_a_time = self.fetching.lock().await;
        // Re-checked under the lock: the fetch we waited for may have brought
        // the key, or used up the interval.
        if self.current(kid).1 {
            self.fetch().await;
        }
        self.current(kid).0
    }

    /// The cached keys, and whether a fetch is due and allowed now.
    fn current(&self, kid: Option<&str>) -> (Arc<KeySet>, bool) {
        let Ok(cached) = self.cached.read() else {
            return (Arc::default(), false);
        };
        let now = Instant::now();
        let stale = cached
            .fetched_at
            .is_none_or(|t| now.duration_since(t) >= self.fresh_for);
        let unknown_kid = kid.is_some_and(|k| !cached.keys.has_kid(k));
        let allowed = cached
            .attempted_at
            .is_none_or(|t| now.duration_since(t) >= self.min_interval);
        (cached.keys.clone(), (stale || unknown_kid) && allowed)
    }

    async fn fetch(&self) {
        if let Ok(mut cached) = self.cached.write() {
            cached.attempted_at = Some(Instant::now());
        }
        match http_client::get_json::<RawJwks>(&self.url).await {
            Ok(raw) => {
                let keys = KeySet::from_raw(raw, &self.allowed);
                log::info!("fetched {} usable keys from {}", keys.keys.len(), self.url);
                if let Ok(mut cached) = self.cached.write() {
                    cached.keys = Arc::new(keys);
                    cached.fetched_at = Some(Instant::now());
                }
            }
            Err(e) => log::warn!("cannot refresh signing keys, keeping the cached ones: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwks(v: serde_json::Value) -> KeySet {
        KeySet::from_raw(
            serde_json::from_value(v).unwrap(),
            &[Algorithm::RS256, Algorithm::ES256],
        )
    }

    const N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    #[test]
    fn keys_are_pinned_to_their_type_and_alg() {
        let set = jwks(serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "r", "n": N, "e": "AQAB"},
            {"kty": "RSA", "kid": "r384", "alg": "RS384", "n": N, "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": N, "e": "AQAB"},
            {"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
            {"kty": "weird", "kid": "w"},
        ]}));
        assert!(set.has_kid("r"));
        assert_eq!(set.candidates(Some("r"), Algorithm::RS256).count(), 1);
        assert_eq!(set.candidates(Some("r"), Algorithm::HS256).count(), 0);
        assert_eq!(
            set.candidates(Some("r"), Algorithm::PS256).count(),
            0,
            "not allowed"
        );
        assert!(!set.has_kid("r384"), "RS384 is not on the allow-list");
        assert!(!set.has_kid("enc"));
        assert!(
            !set.has_kid("h"),
            "symmetric keys are never taken from a key set"
        );
        assert_eq!(set.candidates(None, Algorithm::RS256).count(), 1);
    }

    #[test]
    fn hmac_key_only_verifies_hs256() {
        let set = KeySet::hmac(b"0123456789abcdef0123456789abcdef");
        assert_eq!(set.candidates(Some("any"), Algorithm::HS256).count(), 1);
        assert_eq!(set.candidates(None, Algorithm::HS384).count(), 0);
        assert_eq!(set.candidates(None, Algorithm::RS256).count(), 0);
    }
}
