//! Assembling the guard and the built-in authorization server from the
//! configuration, once at start-up.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::auth::jwt::{JwtValidator, KeySource, TrustedIssuer};
use crate::auth::passwords::CredentialList;
use crate::auth::principal::CredentialConfigError;
use crate::auth::rate_limit::FailureLimiter;
use crate::auth::remembered::Remembered;
use crate::auth::tenancy::TenantBindings;
use crate::auth::verifier::Verifier;
use crate::auth::verify_keys::{KeyError, KeySet, RemoteJwks};
use crate::config::{Config, JwtConfig};
use crate::oauth::{self, AuthServer, ClientRegistry, KeyRing, ServerError, Settings};
use crate::secrets::at_rest::SealingKey;

/// Authentication as the application serves it: the SCIM guard's verifier
/// and failure limiter, and the built-in authorization server.
#[derive(Clone)]
pub struct AuthStack {
    pub verifier: Arc<Verifier>,
    pub limiter: Arc<FailureLimiter>,
    /// The built-in authorization server, when a client is configured.
    pub server: Option<Arc<AuthServer>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Credentials(#[from] CredentialConfigError),
    #[error("JWT keys: {0}")]
    Keys(#[from] KeyError),
    #[error("{0}")]
    Invalid(String),
    #[error("authorization server: {0}")]
    Server(#[from] ServerError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

pub async fn build(
    config: &Config,
    db: DatabaseConnection,
    tenant: Uuid,
    tenants: TenantBindings,
) -> Result<AuthStack, SetupError> {
    let remembered = Arc::new(Remembered::default());
    let server = built_in_server(config, &db, tenant, remembered.clone()).await?;
    let leeway = config.auth.jwt.leeway_seconds;
    let mut issuers = Vec::new();
    if config.auth.jwt.enabled() {
        issuers.push(external_issuer(&config.auth.jwt)?);
    }
    if let Some(s) = &server {
        if issuers.iter().any(|i| i.issuer == s.settings.issuer) {
            return Err(SetupError::Invalid(
                "auth.jwt.issuer must differ from the built-in server's issuer".to_owned(),
            ));
        }
        issuers.push(TrustedIssuer {
            issuer: s.settings.issuer.clone(),
            audiences: vec![s.settings.audience.clone()],
            required_scope: Some(s.settings.scope.clone()),
            leeway_seconds: leeway,
            sources: vec![KeySource::Own(s.keys.clone())],
        });
    }
    let verifier = Verifier::new(
        &config.auth,
        JwtValidator::new(issuers),
        db,
        remembered,
        tenants,
    )?;
    Ok(AuthStack {
        verifier: Arc::new(verifier),
        limiter: Arc::new(FailureLimiter::new(&config.auth.rate_limit)),
        server,
    })
}

/// The configured key that seals secrets at rest, if any.
pub fn sealing_key(config: &Config) -> Result<Option<SealingKey>, SetupError> {
    let text = match (&config.secrets.key, &config.secrets.key_file) {
        (Some(key), _) => key.expose().to_owned(),
        (None, Some(path)) => read_key_file(path)?,
        (None, None) => return Ok(None),
    };
    SealingKey::from_text(&text)
        .map(Some)
        .map_err(|e| SetupError::Invalid(e.to_string()))
}

fn read_key_file(path: &std::path::Path) -> Result<String, SetupError> {
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        SetupError::Invalid(format!("cannot read the secrets key file {shown}: {e}"))
    })?;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        log::warn!(
            "the secrets key file {shown} is readable by other users; run 'chmod 600 {shown}'"
        );
    }
    Ok(text)
}

/// How long a retired signing key stays published: its last token must
/// expire first, leeway included.
pub fn key_retention(config: &Config) -> Duration {
    Duration::from_secs(config.oauth.access_token_seconds + config.auth.jwt.leeway_seconds)
}

async fn built_in_server(
    config: &Config,
    db: &DatabaseConnection,
    tenant: Uuid,
    issued: Arc<Remembered>,
) -> Result<Option<Arc<AuthServer>>, SetupError> {
    if config.oauth.clients.is_empty() && !oauth::any_stored(db).await? {
        return Ok(None);
    }
    let keys = Arc::new(KeyRing::new(
        db.clone(),
        tenant,
        key_retention(config),
        Duration::from_secs(config.oauth.key_reload_seconds),
        sealing_key(config)?,
    ));
    keys.ensure_signing_key().await?;
    let admins = CredentialList::parse(&config.oauth.admins)?;
    if admins.is_empty() {
        log::warn!("oauth.admins is empty: nobody can approve an authorization request");
    }
    let clients = ClientRegistry::new(&config.oauth.clients, &config.oauth.scope, db.clone());
    let settings = Settings::from_config(config);
    Ok(Some(Arc::new(AuthServer::new(
        settings,
        keys,
        clients,
        admins,
        db.clone(),
        issued,
    ))))
}

fn external_issuer(c: &JwtConfig) -> Result<TrustedIssuer, SetupError> {
    let allowed = c
        .algorithms
        .iter()
        .map(|a| Algorithm::from_str(a).map_err(|e| SetupError::Invalid(format!("{a}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut sources = Vec::new();
    if let Some(url) = &c.jwks_url {
        sources.push(KeySource::Remote(Arc::new(RemoteJwks::new(
            url.clone(),
            allowed.clone(),
            Duration::from_secs(c.jwks_cache_seconds),
            Duration::from_secs(c.jwks_min_refresh_seconds),
        ))));
    }
    if let Some(path) = &c.jwks_file {
        sources.push(KeySource::Fixed(Arc::new(KeySet::from_file(
            path, &allowed,
        )?)));
    }
    if let Some(secret) = &c.hs256_secret {
        sources.push(KeySource::Fixed(Arc::new(KeySet::hmac(
            secret.expose().as_bytes(),
        ))));
    }
    Ok(TrustedIssuer {
        issuer: c.issuer.clone().unwrap_or_default(),
        audiences: c.audience.clone(),
        required_scope: c.required_scope.clone(),
        leeway_seconds: c.leeway_seconds,
        sources,
    })
}
