//! The authorization server's endpoints and its two public documents.

use std::sync::Arc;

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{AUTHORIZE_PATH, AuthServer, JWKS_PATH, METADATA_PATH, TOKEN_PATH};
use super::{authorize, error, token};
use crate::config::GRANT_TYPES;

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
