//! Checking presented credentials against the configured ones. The HTTP
//! guard reads them from the request and hands them over; this side knows
//! nothing of headers or statuses.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use subtle::ConstantTimeEq;

use super::credential_use::CredentialUse;
use super::credentials::Presented;
use super::introspection::Introspector;
use super::jwt::JwtValidator;
use super::passwords::CredentialList;
use super::principal::{AuthError, CredentialConfigError, Principal};
use super::remembered::Remembered;
use super::tenancy::{Authenticated, TenantBindings};
use crate::config::AuthConfig;
use crate::secrets::{sha256, sha256_hex};
use crate::store::error::Fault;
use crate::store::{self, tokens};

/// Which kinds of credentials are accepted; ServiceProviderConfig and the
/// 401 challenges say exactly this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes {
    pub basic: bool,
    /// JWTs from an external issuer (the built-in server is listed apart).
    pub jwt: bool,
    pub introspection: bool,
}

pub struct Verifier {
    bearer_digests: Vec<[u8; 32]>,
    basic: CredentialList,
    db: DatabaseConnection,
    jwt: JwtValidator,
    introspection: Option<Introspector>,
    remembered: Arc<Remembered>,
    tenants: TenantBindings,
    token_use: CredentialUse,
}

impl Verifier {
    /// `jwt` holds the trusted issuers (external and built-in), built by
    /// start-up because their keys need the database and the network.
    /// `remembered` is shared with the built-in authorization server, which
    /// adds the tokens it issues.
    pub fn new(
        auth: &AuthConfig,
        jwt: JwtValidator,
        db: DatabaseConnection,
        remembered: Arc<Remembered>,
        tenants: TenantBindings,
    ) -> Result<Self, CredentialConfigError> {
        let bearer_digests = auth
            .bearer_tokens
            .iter()
            .map(|s| bearer_digest(s.expose()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            bearer_digests,
            basic: CredentialList::parse(&auth.basic)?,
            token_use: CredentialUse::new(db.clone()),
            db,
            jwt,
            introspection: Introspector::from_config(&auth.introspection)?,
            remembered,
            tenants,
        })
    }

    pub fn modes(&self) -> Modes {
        Modes {
            basic: !self.basic.is_empty(),
            jwt: self.jwt.has_external(),
            introspection: self.introspection.is_some(),
        }
    }

    /// Whether anything but database tokens can get in (the built-in
    /// server's tokens included); without that, the first start mints a
    /// token so that the server is usable.
    pub fn has_configured_credentials(&self) -> bool {
        let m = self.modes();
        m.basic
            || m.introspection
            || self.jwt.issuers_count() > 0
            || !self.bearer_digests.is_empty()
    }

    /// Whether Basic credentials are accepted at all; without, a Basic
    /// header is no credential this server knows.
    pub fn accepts_basic(&self) -> bool {
        !self.basic.is_empty()
    }

    /// Whether `presented` is known good without asking anyone: a
    /// configured static token, or a credential that verified recently.
    /// Such a credential is checked even where guesses are being refused.
    pub fn remembers(&self, presented: &Presented) -> bool {
        if let Presented::Bearer(token) = presented
            && self.is_configured_token(token)
        {
            return true;
        }
        self.remembered.contains(presented)
    }

    /// The name failures of a Basic `user` are counted under: configured
    /// names each their own, every other name one shared budget, so that
    /// made-up names cannot grow the limiter's memory.
    pub fn throttle_name<'a>(&self, user: &'a str) -> &'a str {
        if self.basic.has_user(user) { user } else { "" }
    }

    /// Checks `presented`; a success is remembered (see `remembers`).
    pub async fn verify(&self, presented: &Presented) -> Result<Authenticated, AuthError> {
        let admitted = match presented {
            Presented::Bearer(token) => self.verify_bearer(token).await?,
            Presented::Basic { user, password } if self.accepts_basic() => {
                self.verify_basic(user, password).await?
            }
            Presented::Basic { .. } => return Err(AuthError::Malformed),
        };
        self.remembered.insert(presented);
        Ok(admitted)
    }

    async fn verify_basic(&self, user: &str, password: &str) -> Result<Authenticated, AuthError> {
        match self.basic.verify(user, password).await? {
            true => Ok(Authenticated {
                principal: Principal::BasicUser(user.to_owned()),
                tenant: self.tenants.of_basic(user),
            }),
            false => Err(AuthError::BadBasic),
        }
    }

    fn is_configured_token(&self, token: &str) -> bool {
        let digest = sha256(token.as_bytes());
        // Compare against every configured digest so timing says nothing
        // about which one (or whether one) matched.
        let configured = self
            .bearer_digests
            .iter()
            .fold(subtle::Choice::from(0), |acc, d| acc | d.ct_eq(&digest));
        bool::from(configured)
    }

    async fn verify_bearer(&self, token: &str) -> Result<Authenticated, AuthError> {
        if self.is_configured_token(token) {
            return Ok(Authenticated::in_default(Principal::ConfiguredToken));
        }
        if let Some(issuer) = self.jwt.issuer_for(token) {
            return issuer.verify(token, &self.tenants).await;
        }
        let hex = sha256_hex(token.as_bytes());
        match tokens::find_active_by_hash(&self.db, &hex).await {
            Ok(Some(t)) => {
                self.token_use.used(t.tenant_id, t.id);
                return Ok(Authenticated {
                    principal: Principal::DatabaseToken { name: t.name },
                    tenant: t.tenant_id,
                });
            }
            Ok(None) => {}
            Err(e) => {
                // An outage fails every request's lookup: one line for it.
                match store::error::classify(&e) {
                    Fault::Unavailable => store::error::log_unavailable(&e),
                    _ => log::error!("token lookup failed: {e}"),
                }
                return Err(AuthError::Unavailable);
            }
        }
        match &self.introspection {
            Some(introspector) => introspector
                .verify(token)
                .await
                .map(Authenticated::in_default),
            None => Err(AuthError::BadToken),
        }
    }
}

fn bearer_digest(s: &str) -> Result<[u8; 32], CredentialConfigError> {
    let Some(hex) = s.strip_prefix("sha256:") else {
        if s.trim().is_empty() {
            return Err(CredentialConfigError::new(
                "an empty bearer token is not allowed",
            ));
        }
        return Ok(sha256(s.as_bytes()));
    };
    decode_hex32(hex)
        .ok_or_else(|| CredentialConfigError::new("a 'sha256:' bearer token needs 64 hex digits"))
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
    }
}
