//! The built-in OAuth2 authorization server: RFC 8414 metadata, its JWKS,
//! the authorization endpoint (code + PKCE, approved by an admin on a small
//! HTML page) and the token endpoint. Access tokens are JWTs that the guard
//! validates like any other issuer's. Off unless a client is configured.

mod authorize;
mod clients;
mod error;
mod form;
mod grants;
mod keys;
mod page;
mod token;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;
use serde_json::json;
use uuid::Uuid;

pub use clients::{ClientRegistry, NewClient, add_client, any_stored, list_clients, remove_client};
pub use error::ServerError;
pub use keys::{KeyRing, list_keys, rotate_key};

use super::passwords::CredentialList;
use crate::config::{Config, GRANT_TYPES};

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
    tenant: Uuid,
}

impl AuthServer {
    pub fn new(
        settings: Settings,
        keys: Arc<KeyRing>,
        clients: ClientRegistry,
        admins: CredentialList,
        db: DatabaseConnection,
        tenant: Uuid,
    ) -> Self {
        Self {
            settings,
            keys,
            clients,
            admins,
            db,
            tenant,
        }
    }
}

/// Registers the endpoints. They sit outside the SCIM base path and answer
/// in OAuth's own formats, not SCIM's. The limiter is registered by the
/// caller, which shares it with the SCIM guard.
pub fn routes(cfg: &mut web::ServiceConfig, server: Arc<AuthServer>) {
    cfg.app_data(web::Data::from(server));
    let endpoints = [
        (METADATA_PATH, web::get().to(metadata)),
        (JWKS_PATH, web::get().to(jwks)),
        (TOKEN_PATH, web::post().to(token::exchange)),
    ];
    for (path, route) in endpoints {
        cfg.service(
            web::resource(path)
                .route(route)
                .default_service(web::to(error::method_not_allowed)),
        );
    }
    cfg.service(
        web::resource(AUTHORIZE_PATH)
            .route(web::get().to(authorize::show))
            .route(web::post().to(authorize::submit))
            .default_service(web::to(error::method_not_allowed)),
    );
}

async fn metadata(server: web::Data<AuthServer>) -> HttpResponse {
    let s = &server.settings;
    public_json(&json!({
        "issuer": s.issuer,
        "authorization_endpoint": s.endpoint(AUTHORIZE_PATH),
        "token_endpoint": s.endpoint(TOKEN_PATH),
        "jwks_uri": s.endpoint(JWKS_PATH),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": [s.scope],
    }))
}

async fn jwks(server: web::Data<AuthServer>) -> HttpResponse {
    public_json(&json!(*server.keys.jwks().await))
}

/// Public documents that clients may cache briefly; short so that a new key
/// is seen within a minute of rotation.
fn public_json(body: &serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        ))
        .body(body.to_string())
}
