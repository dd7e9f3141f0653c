//! `/oauth2/token`: client authentication (`client_secret_basic` or
//! `client_secret_post`, never both), then the grant.

use std::net::IpAddr;

use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, HeaderValue, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use oauth2::basic::{BasicErrorResponseType, BasicTokenResponse};
use percent_encoding::percent_decode_str;
use serde::Deserialize;

use super::clients::Client;
use super::form::read_form;
use super::grants::{self, Grant};
use super::{AuthServer, ServerError};
use crate::auth::credentials::{self, Presented};
use crate::auth::rate_limit::FailureLimiter;
use crate::http::throttle::client_addr;

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub async fn exchange(
    req: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthServer>,
    limiter: web::Data<FailureLimiter>,
) -> HttpResponse {
    match handle(&req, payload, &server, &limiter).await {
        Ok(tokens) => token_response(&tokens),
        Err(e) => e.into_response(),
    }
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    server: &AuthServer,
    limiter: &FailureLimiter,
) -> Result<BasicTokenResponse, ServerError> {
    let addr = client_addr(limiter, req);
    let refused = addr.and_then(|a| limiter.refused(a));
    let form: TokenRequest = match (read_form(req, payload).await, refused) {
        (Ok(form), _) => form,
        (Err(_), Some(wait)) => return Err(ServerError::TooMany(wait)),
        (Err(e), None) => return Err(e),
    };
    let client = authenticate(req, &form, server, limiter, (addr, refused)).await?;
    let grant = Grant {
        code: form.code.as_deref(),
        redirect_uri: form.redirect_uri.as_deref(),
        code_verifier: form.code_verifier.as_deref(),
        refresh_token: form.refresh_token.as_deref(),
        scope: form.scope.as_deref(),
    };
    match form.grant_type.as_deref() {
        Some("authorization_code") => grants::authorization_code(server, &client, &grant).await,
        Some("refresh_token") => grants::refresh_token(server, &client, &grant).await,
        Some("client_credentials") => grants::client_credentials(server, &client, &grant).await,
        Some(other) => Err(ServerError::new(
            BasicErrorResponseType::UnsupportedGrantType,
            format!("grant_type {other:?} is not supported"),
        )),
        None => Err(ServerError::invalid_request("grant_type is required")),
    }
}

async fn authenticate(
    req: &HttpRequest,
    form: &TokenRequest,
    server: &AuthServer,
    limiter: &FailureLimiter,
    (addr, refused): (Option<IpAddr>, Option<u64>),
) -> Result<Client, ServerError> {
    let header = req.headers().get(AUTHORIZATION);
    let via_basic = header.is_some();
    let (id, secret) = match (header, &form.client_id, &form.client_secret) {
        (Some(_), _, Some(_)) => {
            return Err(ServerError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        (Some(h), _, None) => basic_credentials(h).ok_or(ServerError::invalid_client(true))?,
        (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
        (None, _, None) | (None, None, Some(_)) => return Err(ServerError::invalid_client(false)),
    };
    if form
        .client_id
        .as_ref()
        .is_some_and(|body_id| *body_id != id)
    {
        return Err(ServerError::invalid_request(
            "client_id differs from the credentials",
        ));
    }
    // While the address is refused, only a client known to be good is
    // checked: guessing gets nothing, a working client keeps its tokens.
    if let Some(wait) = refused
        && !server.clients.remembers(&id, &secret)
    {
        return Err(ServerError::TooMany(wait));
    }
    if let Some(client) = server.clients.authenticate(&id, &secret).await? {
        if let Some(stored) = client.stored {
            server.client_use.used(client.tenant, stored);
        }
        return Ok(client);
    }
    log::warn!(
        "failed client authentication for {id:?} from {}",
        addr.map(|a| a.to_string()).unwrap_or_default()
    );
    match addr.and_then(|a| limiter.failed(a)) {
        Some(wait) => Err(ServerError::TooMany(wait)),
        None => Err(ServerError::invalid_client(via_basic)),
    }
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
fn basic_credentials(header: &HeaderValue) -> Option<(String, String)> {
    let Presented::Basic { user, password } = credentials::parse(header.to_str().ok()?).ok()?
    else {
        return None;
    };
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    };
    Some((decode(&user)?, decode(&password)?))
}

/// RFC 6749 §5.1: tokens are never cached on the way.
fn token_response(tokens: &BasicTokenResponse) -> HttpResponse {
    match serde_json::to_string(tokens) {
        Ok(body) => HttpResponse::Ok()
            .content_type("application/json")
            .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((PRAGMA, HeaderValue::from_static("no-cache")))
            .body(body),
        Err(e) => ServerError::Internal(format!("cannot encode tokens: {e}")).into_response(),
    }
}
