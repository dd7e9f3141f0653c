//! The built-in OAuth2 authorization server: RFC 8414 metadata, its JWKS,
//! the authorization endpoint (code + PKCE, approved by an admin on a small
//! HTML page) and the token endpoint. Access tokens are JWTs that the SCIM
//! guard validates like any other issuer's. Off unless a client is
//! configured. A sibling of `http`: its endpoints sit outside the SCIM base
//! path and answer in OAuth's formats.

mod authorize;
mod clients;
mod error;
mod es256;
mod form;
mod grants;
mod routes;
mod sign_in_page;
mod signing_keys;
mod token;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

pub use clients::{ClientRegistry, NewClient, add_client, any_stored, list_clients, remove_client};
pub use error::ServerError;
pub use routes::routes;
pub use signing_keys::{KeyRing, list_keys, rotate_key};

use crate::auth::credential_use::CredentialUse;
use crate::auth::passwords::CredentialList;
use crate::auth::remembered::Remembered;
use crate::config::Config;

/// Where the endpoints live, relative to the issuer.
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const JWKS_PATH: &str = "/oauth2/jwks";
pub const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// Form bodies of the OAuth endpoints are small; this bounds them before
/// any parsing.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Durations as the database stores instants: milliseconds.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub struct Settings {
    pub issuer: String,
    pub audience: String,
    pub scope: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub code_ttl: Duration,
}

impl Settings {
    pub fn from_config(config: &Config) -> Self {
        let o = &config.oauth;
        Self {
            issuer: config.oauth_issuer(),
            audience: config.oauth_audience(),
            scope: o.scope.clone(),
            access_ttl: Duration::from_secs(o.access_token_seconds),
            refresh_ttl: Duration::from_secs(o.refresh_token_seconds),
            code_ttl: Duration::from_secs(o.code_seconds),
        }
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

pub struct AuthServer {
    pub settings: Settings,
    pub keys: Arc<KeyRing>,
    clients: ClientRegistry,
    admins: CredentialList,
    db: DatabaseConnection,
    /// The SCIM guard's memory of good credentials: a token issued here is
    /// good, so its client is not refused with the guesses of its address.
    issued: Arc<Remembered>,
    /// When stored clients last authenticated, for the console.
    pub client_use: CredentialUse,
}

impl AuthServer {
    pub fn new(
        settings: Settings,
        keys: Arc<KeyRing>,
        clients: ClientRegistry,
        admins: CredentialList,
        db: DatabaseConnection,
        issued: Arc<Remembered>,
    ) -> Self {
        Self {
            settings,
            keys,
            clients,
            admins,
            client_use: CredentialUse::new(db.clone()),
            db,
            issued,
        }
    }
}
