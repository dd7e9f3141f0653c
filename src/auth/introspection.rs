//! Opaque bearer tokens checked by RFC 7662 introspection at the issuing
//! server, with active answers cached (bounded) until the token expires.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use oauth2::basic::{BasicClient, BasicTokenIntrospectionResponse};
use oauth2::{
    AccessToken, ClientId, ClientSecret, EndpointNotSet, EndpointSet, IntrospectionUrl,
    TokenIntrospectionResponse,
};

use super::http_client;
use super::principal::{AuthError, CredentialConfigError, Principal};
use crate::config::IntrospectionConfig;
use crate::secrets::sha256;

type IntrospectionClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointSet, EndpointNotSet, EndpointNotSet>;

struct Answer {
    until: Instant,
    subject: Option<String>,
}

pub struct Introspector {
    client: IntrospectionClient,
    required_scope: Option<String>,
    max_age: Duration,
    capacity: usize,
    /// SHA-256 of the token → the active answer, so no token is kept.
    cache: Mutex<HashMap<[u8; 32], Answer>>,
}

impl Introspector {
    pub fn from_config(c: &IntrospectionConfig) -> Result<Option<Self>, CredentialConfigError> {
        let (Some(url), Some(id), Some(secret)) = (&c.url, &c.client_id, &c.client_secret) else {
            return Ok(None);
        };
        let url = IntrospectionUrl::new(url.clone())
            .map_err(|e| CredentialConfigError::new(format!("auth.introspection.url: {e}")))?;
        let client = BasicClient::new(ClientId::new(id.clone()))
            .set_client_secret(ClientSecret::new(secret.expose().to_owned()))
            .set_introspection_url(url);
        Ok(Some(Self {
            client,
            required_scope: c.required_scope.clone(),
            max_age: Duration::from_secs(c.cache_seconds),
            capacity: c.cache_entries,
            cache: Mutex::new(HashMap::new()),
        }))
    }

    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let key = sha256(token.as_bytes());
        if let Some(subject) = self.cached(&key) {
            return Ok(Principal::Introspected { subject });
        }
        let access = AccessToken::new(token.to_owned());
        let answer: BasicTokenIntrospectionResponse = self
            .client
            .introspect(&access)
            .request_async(&http_client::oauth2_send)
            .await
            .map_err(|e| {
                log::error!("token introspection failed: {e}");
                AuthError::Unavailable
            })?;
        let until = self.check(&answer)?;
        let subject = answer.sub().map(str::to_owned);
        self.remember(key, until, subject.clone());
        Ok(Principal::Introspected { subject })
    }

    /// Whether the answer admits the request, and until when it may be reused.
    fn check(&self, answer: &BasicTokenIntrospectionResponse) -> Result<Instant, AuthError> {
        if !answer.active() {
            return Err(AuthError::BadToken);
        }
        let now = chrono::Utc::now();
        if answer.nbf().is_some_and(|nbf| nbf > now) {
            return Err(AuthError::BadToken);
        }
        let left = match answer.exp() {
            Some(exp) => (exp - now).to_std().map_err(|_| AuthError::BadToken)?,
            None => self.max_age,
        };
        if let Some(required) = &self.required_scope {
            let granted = answer
                .scopes()
                .is_some_and(|s| s.iter().any(|x| x.as_str() == required));
            if !granted {
                return Err(AuthError::InsufficientScope(required.clone()));
            }
        }
        Ok(Instant::now() + left.min(self.max_age))
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Option<String>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(key)
            .filter(|a| a.until > Instant::now())
            .map(|a| a.subject.clone())
    }

    fn remember(&self, key: [u8; 32], until: Instant, subject: Option<String>) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= self.capacity {
            let now = Instant::now();
            cache.retain(|_, a| a.until > now);
        }
        if cache.len() < self.capacity {
            cache.insert(key, Answer { until, subject });
        }
    }
}
