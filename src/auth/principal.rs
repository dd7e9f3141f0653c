//! What every verifier answers: who a request authenticated as, or why it
//! did not. A leaf, so that the verifiers and their orchestrator all import
//! it and none imports another's caller.

use std::sync::Arc;

/// Who a request authenticated as. Never holds the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    BasicUser(String),
    ConfiguredToken,
    DatabaseToken {
        name: String,
    },
    Jwt {
        issuer: String,
        subject: Option<String>,
    },
    Introspected {
        subject: Option<String>,
    },
}

impl Principal {
    /// The name a credential is known by in change records, logs and
    /// metrics: the Basic user, the token's name, the JWT's subject (else
    /// its issuer).
    pub fn name(&self) -> Arc<str> {
        match self {
            Self::BasicUser(name) | Self::DatabaseToken { name } => name.as_str().into(),
            Self::ConfiguredToken => "configured bearer token".into(),
            Self::Jwt { issuer, subject } => subject.as_deref().unwrap_or(issuer).into(),
            Self::Introspected { subject } => {
                subject.as_deref().unwrap_or("introspected token").into()
            }
        }
    }
}

/// Why credentials were refused. The HTTP guard turns each into a status
/// and a challenge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no credentials were presented")]
    Missing,
    #[error("the Authorization header is malformed or uses an unsupported scheme")]
    Malformed,
    #[error("the bearer token is not valid")]
    BadToken,
    #[error("the user name or password is not valid")]
    BadBasic,
    #[error("the token lacks the required scope {0:?}")]
    InsufficientScope(String),
    #[error("credentials could not be checked")]
    Unavailable,
}

/// A configured credential that cannot be used (found at start-up).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CredentialConfigError(String);

impl CredentialConfigError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}
