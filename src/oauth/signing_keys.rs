//! The authorization server's signing keys: ES256, generated on first start
//! and kept in the database, sealed under the configured secrets key when
//! there is one (`secrets::at_rest`). Rotation adds a key and retires the
//! others; retired keys stay published until the tokens they signed have
//! expired.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use entity::oauth_signing_key;
use futures_util::future::BoxFuture;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use sea_orm::ActiveValue::Set;
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;
use uuid::Uuid;

use super::es256::Es256Key;
use super::{ServerError, millis};
use crate::auth::jwt::OwnKeys;
use crate::auth::verify_keys::{KeySet, VerifyKey};
use crate::secrets::at_rest::{SealingKey, is_sealed};
use crate::store::oauth as store;
use crate::time::now_ms;

const ALGORITHM: Algorithm = Algorithm::ES256;
/// A token naming an unknown key reloads no more often than this.
const MIN_RELOAD: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct Signer {
    kid: String,
    key: Es256Key,
}

#[derive(Default)]
struct Loaded {
    signer: Option<Signer>,
    keys: Arc<KeySet>,
    jwks: Arc<JwkSet>,
    loaded_at: Option<Instant>,
}

pub struct KeyRing {
    db: DatabaseConnection,
    tenant: Uuid,
    /// How long a retired key stays published: the longest token lifetime
    /// plus the validation leeway.
    retention: Duration,
    /// Picks up a rotation done by the CLI (or another instance) within this.
    reload_after: Duration,
    sealing: Option<SealingKey>,
    loaded: RwLock<Loaded>,
    loading: tokio::sync::Mutex<()>,
}

impl KeyRing {
    pub fn new(
        db: DatabaseConnection,
        tenant: Uuid,
        retention: Duration,
        reload_after: Duration,
        sealing: Option<SealingKey>,
    ) -> Self {
        Self {
            db,
            tenant,
            retention,
            reload_after,
            sealing,
            loaded: RwLock::new(Loaded::default()),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// The configured secrets key, which also seals other secrets Roster
    /// must read back (webhook secrets).
    pub fn sealing(&self) -> Option<&SealingKey> {
        self.sealing.as_ref()
    }

    /// Seals keys stored in plain text when a secrets key is configured,
    /// checks that every published key can be read, creates the first
    /// signing key unless one is active, then loads.
    pub async fn ensure_signing_key(&self) -> Result<(), ServerError> {
        self.seal_plain_keys().await?;
        let cutoff = now_ms() - millis(self.retention);
        for row in store::published_keys(&self.db, self.tenant, cutoff).await? {
            private_pem(&row, self.sealing.as_ref())?;
        }
        self.reload().await?;
        if self.current(None).0.signer.is_none() {
            insert_new_key(&self.db, self.tenant, self.sealing.as_ref()).await?;
            self.reload().await?;
        }
        Ok(())
    }

    async fn seal_plain_keys(&self) -> Result<(), ServerError> {
        let sealed = seal_plain_keys(&self.db, self.tenant, self.sealing.as_ref()).await?;
        if sealed > 0 {
            log::info!("sealed {sealed} OAuth signing key(s) stored in plain text");
        }
        Ok(())
    }

    /// Signs `claims` as a JWT access token (RFC 9068 `at+jwt`).
    pub async fn sign<T: Serialize>(&self, claims: &T) -> Result<String, ServerError> {
        self.sign_typed(claims, "at+jwt").await
    }

    /// Signs `claims` as a JWT of type `typ` (e.g. `secevent+jwt`).
    pub async fn sign_typed<T: Serialize>(
        &self,
        claims: &T,
        typ: &str,
    ) -> Result<String, ServerError> {
        self.reload_if_due(None).await;
        let signer = self
            .current(None)
            .0
            .signer
            .ok_or_else(|| ServerError::Internal("no active signing key".to_owned()))?;
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(signer.kid.clone());
        header.typ = Some(typ.to_owned());
        signer
            .key
            .sign(&header, claims)
            .map_err(|e| ServerError::Internal(format!("cannot sign a token: {e}")))
    }

    pub async fn jwks(&self) -> Arc<JwkSet> {
        self.reload_if_due(None).await;
        self.current(None).0.jwks
    }

    /// Work goes on with the keys we have when the database is briefly
    /// unreachable.
    async fn reload_if_due(&self, kid: Option<&str>) {
        if self.current(kid).1
            && let Err(e) = self.reload_once().await
        {
            log::warn!("cannot reload the signing keys: {e}");
        }
    }

    /// A snapshot, and whether a reload is due: the keys are old, or a
    /// token names a key we do not know and we have not just looked.
    fn current(&self, kid: Option<&str>) -> (LoadedView, bool) {
        let Ok(loaded) = self.loaded.read() else {
            return (LoadedView::default(), true);
        };
        let age = loaded.loaded_at.map(|t| t.elapsed());
        let stale = age.is_none_or(|a| a >= self.reload_after);
        let unknown = kid.is_some_and(|k| !loaded.keys.has_kid(k));
        let min_reload = MIN_RELOAD.min(self.reload_after);
        let due = stale || (unknown && age.is_none_or(|a| a >= min_reload));
        let view = LoadedView {
            signer: loaded.signer.clone(),
            keys: loaded.keys.clone(),
            jwks: loaded.jwks.clone(),
        };
        (view, due)
    }

    /// One reload at a time; those who waited use its result.
    async fn reload_once(&self) -> Result<(), ServerError> {
        let before = self.loaded.read().ok().and_then(|l| l.loaded_at);
        let _one_at_a_time = self.loading.lock().await;
        let after = self.loaded.read().ok().and_then(|l| l.loaded_at);
        if before != after {
            return Ok(());
        }
        self.reload().await
    }

    async fn reload(&self) -> Result<(), ServerError> {
        let cutoff = now_ms() - millis(self.retention);
        let rows = store::published_keys(&self.db, self.tenant, cutoff).await?;
        let mut loaded = Loaded {
            loaded_at: Some(Instant::now()),
            ..Loaded::default()
        };
        let mut keys = Vec::new();
        let mut jwks = Vec::new();
        for row in &rows {
            let Some((signer, jwk)) = parse_row(row, self.sealing.as_ref()) else {
                continue;
            };
            if row.retired_at.is_none() && loaded.signer.is_none() {
                loaded.signer = Some(signer);
            }
            if let Ok(key) = DecodingKey::from_jwk(&jwk) {
                keys.push(VerifyKey {
                    kid: jwk.common.key_id.clone(),
                    key,
                    algorithms: vec![ALGORITHM],
                });
            }
            jwks.push(jwk);
        }
        loaded.keys = Arc::new(KeySet::new(keys));
        loaded.jwks = Arc::new(JwkSet { keys: jwks });
        if let Ok(mut slot) = self.loaded.write() {
            *slot = loaded;
        }
        Ok(())
    }
}

impl OwnKeys for KeyRing {
    fn verification_keys<'a>(&'a self, kid: Option<&'a str>) -> BoxFuture<'a, Arc<KeySet>> {
        Box::pin(async move {
            self.reload_if_due(kid).await;
            self.current(None).0.keys
        })
    }
}

#[derive(Default)]
struct LoadedView {
    signer: Option<Signer>,
    keys: Arc<KeySet>,
    jwks: Arc<JwkSet>,
}

/// Seals the keys stored in plain text when `sealing` is configured (else
/// warns that they are plain); how many it sealed.
async fn seal_plain_keys(
    db: &DatabaseConnection,
    tenant: Uuid,
    sealing: Option<&SealingKey>,
) -> Result<usize, ServerError> {
    let rows = store::all_keys(db, tenant).await?;
    let plain = rows.iter().filter(|r| !is_sealed(&r.private_key));
    let Some(sealing) = sealing else {
        if plain.count() > 0 {
            log::warn!(
                "the OAuth signing keys are stored unencrypted in the database; \
                 set [secrets] key or key_file to seal them"
            );
        }
        return Ok(0);
    };
    let mut sealed = 0;
    for row in plain {
        let value = sealing
            .seal(&row.private_key, row.id.as_bytes())
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        store::set_private_key(db, tenant, row.id, &value).await?;
        sealed += 1;
    }
    Ok(sealed)
}

/// The row's private key as PEM, opened with `sealing` when sealed.
fn private_pem(
    row: &oauth_signing_key::Model,
    sealing: Option<&SealingKey>,
) -> Result<String, ServerError> {
    if !is_sealed(&row.private_key) {
        return Ok(row.private_key.clone());
    }
    let Some(sealing) = sealing else {
        return Err(ServerError::Internal(format!(
            "signing key {} is sealed and no secrets key is configured \
             (set [secrets] key or key_file, e.g. ROSTER_SECRETS__KEY)",
            row.id
        )));
    };
    sealing
        .open(&row.private_key, row.id.as_bytes())
        .map_err(|e| ServerError::Internal(format!("signing key {}: {e}", row.id)))
}

/// The private key for signing and the public JWK it publishes.
fn parse_row(
    row: &oauth_signing_key::Model,
    sealing: Option<&SealingKey>,
) -> Option<(Signer, Jwk)> {
    if row.algorithm != "ES256" {
        log::warn!(
            "signing key {} has unknown algorithm {}",
            row.id,
            row.algorithm
        );
        return None;
    }
    let pem = private_pem(row, sealing)
        .map_err(|e| log::error!("{e}"))
        .ok()?;
    let unreadable = |e: String| log::error!("signing key {} is unreadable: {e}", row.id);
    let encoding = EncodingKey::from_ec_pem(pem.as_bytes())
        .map_err(|e| unreadable(e.to_string()))
        .ok()?;
    let key = Es256Key::from_pem(&pem).map_err(unreadable).ok()?;
    let mut jwk = Jwk::from_encoding_key(&encoding, ALGORITHM).ok()?;
    let kid = row.id.to_string();
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Some((Signer { kid, key }, jwk))
}

/// A fresh P-256 private key as PKCS#8 PEM, from the OS generator.
fn generate_pem() -> Result<String, ServerError> {
    // A random 32-byte string is a valid scalar except with negligible
    // probability; a few tries make that certain.
    for _ in 0..8 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| ServerError::Internal(format!("no randomness available: {e}")))?;
        if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
            let pem = secret
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| ServerError::Internal(format!("cannot encode a key: {e}")))?;
            return Ok(pem.to_string());
        }
    }
    Err(ServerError::Internal(
        "cannot generate a signing key".to_owned(),
    ))
}

async fn insert_new_key(
    db: &DatabaseConnection,
    tenant: Uuid,
    sealing: Option<&SealingKey>,
) -> Result<Uuid, ServerError> {
    let id = Uuid::new_v4();
    let pem = generate_pem()?;
    let private_key = match sealing {
        Some(key) => key
            .seal(&pem, id.as_bytes())
            .map_err(|e| ServerError::Internal(e.to_string()))?,
        None => pem,
    };
    let model = oauth_signing_key::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(id),
        algorithm: Set("ES256".to_owned()),
        private_key: Set(private_key),
        created_at: Set(now_ms()),
        retired_at: Set(None),
    };
    store::insert(db, model).await?;
    Ok(id)
}

/// `roster oauth-key rotate`: a new key signs from now on (running servers
/// switch within a minute); the old ones are retired and published until
/// `retention` has passed, and keys retired longer ago are deleted. With
/// `sealing`, keys stored in plain text are sealed first.
pub async fn rotate_key(
    db: &DatabaseConnection,
    tenant: Uuid,
    retention: Duration,
    sealing: Option<&SealingKey>,
) -> Result<Uuid, ServerError> {
    seal_plain_keys(db, tenant, sealing).await?;
    let id = insert_new_key(db, tenant, sealing).await?;
    let now = now_ms();
    store::retire_keys_except(db, tenant, id, now).await?;
    store::delete_keys_retired_before(db, tenant, now - millis(retention)).await?;
    Ok(id)
}

pub async fn list_keys(
    db: &DatabaseConnection,
    tenant: Uuid,
) -> Result<Vec<oauth_signing_key::Model>, DbErr> {
    store::all_keys(db, tenant).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_publish() {
        let pem = generate_pem().unwrap();
        let row = oauth_signing_key::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::new_v4(),
            algorithm: "ES256".to_owned(),
            private_key: pem,
            created_at: 0,
            retired_at: None,
        };
        let (signer, jwk) = parse_row(&row, None).unwrap();
        let text = serde_json::to_string(&jwk).unwrap();
        assert!(
            !text.contains("\"d\""),
            "no private part is published: {text}"
        );
        let token = signer
            .key
            .sign(
                &Header::new(ALGORITHM),
                &serde_json::json!({"exp": 4_000_000_000u64}),
            )
            .unwrap();
        let mut v = jsonwebtoken::Validation::new(ALGORITHM);
        v.required_spec_claims.clear();
        let key = DecodingKey::from_jwk(&jwk).unwrap();
        jsonwebtoken::decode::<serde_json::Value>(&token, &key, &v).unwrap();
        assert!(!format!("{row:?}").contains("PRIVATE"));
    }
}
