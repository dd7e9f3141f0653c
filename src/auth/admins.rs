//! Checks a console admin's name and password: Argon2 against the stored
//! hash, the same work whether or not the name exists, and under the same
//! failure limits as SCIM credentials (per client address and per name),
//! kept apart from theirs so that neither side locks the other out.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use sea_orm::DatabaseConnection;

use super::passwords::{SecretChecker, StoredSecret};
use super::rate_limit::FailureLimiter;
use crate::config::RateLimitConfig;
use crate::secrets::{hash_secret, verify_secret};
use crate::store::admins as admin_store;

/// Why an admin was not let in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminAuthError {
    #[error("the admin name or password is not valid")]
    Invalid,
    #[error("too many failed sign-ins; retry in {0} s")]
    TooMany(u64),
    #[error("admin accounts could not be checked")]
    Unavailable,
}

pub struct AdminVerifier {
    db: DatabaseConnection,
    checker: SecretChecker,
    limiter: FailureLimiter,
}

impl AdminVerifier {
    pub fn new(db: DatabaseConnection, limits: &RateLimitConfig) -> Arc<Self> {
        Arc::new(Self {
            db,
            checker: SecretChecker::default(),
            limiter: FailureLimiter::new(limits),
        })
    }

    /// The address failures from `peer` count against (see
    /// `FailureLimiter::client_addr`).
    pub fn limiter(&self) -> &FailureLimiter {
        &self.limiter
    }

    /// Ok when `name` is an admin whose password is `password`.
    pub async fn verify(
        &self,
        name: &str,
        password: &str,
        addr: Option<IpAddr>,
    ) -> Result<(), AdminAuthError> {
        let by_addr = addr.and_then(|a| self.limiter.refused(a));
        if let Some(wait) = by_addr.max(self.limiter.name_refused(name)) {
            return Err(AdminAuthError::TooMany(wait));
        }
        let account = admin_store::find(&self.db, name).await.map_err(|e| {
            log::warn!("cannot read admin accounts: {e}");
            AdminAuthError::Unavailable
        })?;
        let ok = match account {
            Some(account) => {
                let stored = StoredSecret::Argon2(account.password_hash);
                self.checker
                    .matches(name, password, &stored)
                    .await
                    .map_err(|_| AdminAuthError::Unavailable)?
            }
            None => {
                spend_like_a_check(password).await;
                false
            }
        };
        if ok {
            return Ok(());
        }
        let by_addr = addr.and_then(|a| self.limiter.failed(a));
        match by_addr.max(self.limiter.name_failed(name)) {
            Some(wait) => Err(AdminAuthError::TooMany(wait)),
            None => Err(AdminAuthError::Invalid),
        }
    }
}

/// An Argon2 check against a hash of nothing, so that an unknown name
/// answers no sooner than a wrong password and names cannot be probed.
async fn spend_like_a_check(password: &str) {
    static DECOY: OnceLock<String> = OnceLock::new();
    let password = password.to_owned();
    let _ = tokio::task::spawn_blocking(move || {
        let decoy = DECOY.get_or_init(|| hash_secret("").unwrap_or_default());
        verify_secret(&password, decoy)
    })
    .await;
}
