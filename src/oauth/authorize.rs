//! `/oauth2/authorize`: the Authorization Code flow with PKCE. GET shows
//! the sign-in page; POST checks the admin's credentials and sends the
//! browser back to the client with a code, or with an RFC 6749 §4.1.2.1
//! error. Requests naming an unknown client or redirect URI are never
//! redirected.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::clients::Client;
use super::form::{read_form, read_query};
use super::grants::{Valid, issue_code};
use super::sign_in_page::{self, Carried};
use super::{AuthServer, ServerError};
use crate::auth::rate_limit::FailureLimiter;
use crate::http::throttle::{client_addr, retry_after};

#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeRequest {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    username: Option<String>,
    password: Option<String>,
    decision: Option<String>,
}

impl AuthorizeRequest {
    fn carried(&self) -> Carried<'_> {
        Carried {
            fields: [
                ("response_type", self.response_type.as_deref()),
                ("client_id", self.client_id.as_deref()),
                ("redirect_uri", self.redirect_uri.as_deref()),
                ("scope", self.scope.as_deref()),
                ("state", self.state.as_deref()),
                ("code_challenge", self.code_challenge.as_deref()),
                (
                    "code_challenge_method",
                    self.code_challenge_method.as_deref(),
                ),
            ],
        }
    }
}

enum Refusal {
    /// Shown to the user: the client or redirect URI cannot be trusted.
    Page(StatusCode, String),
    /// Sent back to the client's redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl Refusal {
    fn into_response(self) -> HttpResponse {
        match self {
            Self::Page(status, message) => sign_in_page::error(status, &message),
            Self::Redirect {
                redirect_uri,
                state,
                error,
                description,
            } => redirect(
                &redirect_uri,
                &[
                    ("error", Some(error)),
                    ("error_description", Some(&description)),
                    ("state", state.as_deref()),
                ],
            ),
        }
    }
}

pub async fn show(req: HttpRequest, server: web::Data<AuthServer>) -> HttpResponse {
    let form: AuthorizeRequest = match read_query(&req) {
        Ok(f) => f,
        Err(e) => return sign_in_page::error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match validate(&server, &form).await {
        Ok(valid) => sign_in_page::sign_in(
            StatusCode::OK,
            &valid.client.client_id,
            &valid.scope,
            &form.carried(),
            None,
        ),
        Err(refusal) => refusal.into_response(),
    }
}

pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthServer>,
    limiter: web::Data<FailureLimiter>,
) -> HttpResponse {
    let form: AuthorizeRequest = match read_form(&req, payload).await {
        Ok(f) => f,
        Err(e) => return sign_in_page::error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let valid = match validate(&server, &form).await {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(),
    };
    if form.decision.as_deref() != Some("approve") {
        return refuse(
            &valid,
            "access_denied",
            "the administrator denied the request",
        );
    }
    let again = |status: StatusCode, message: &str| {
        sign_in_page::sign_in(
            status,
            &valid.client.client_id,
            &valid.scope,
            &form.carried(),
            Some(message),
        )
    };
    let addr = client_addr(&limiter, &req);
    if let Some(wait) = addr.and_then(|a| limiter.refused(a)) {
        return too_many(again, wait);
    }
    let user = form.username.as_deref().unwrap_or_default();
    let password = form.password.as_deref().unwrap_or_default();
    match server.admins.verify(user, password).await {
        Ok(true) => {}
        Ok(false) => {
            log::warn!(
                "failed sign-in as {user:?} for client {} from {}",
                valid.client.client_id,
                addr.map(|a| a.to_string()).unwrap_or_default()
            );
            return match addr.and_then(|a| limiter.failed(a)) {
                Some(wait) => too_many(again, wait),
                None => again(StatusCode::UNAUTHORIZED, "Wrong user name or password."),
            };
        }
        Err(_) => {
            return refuse(&valid, "temporarily_unavailable", "try again");
        }
    }
    match issue_code(&server, &valid, user).await {
        Ok(code) => redirect(
            &valid.redirect_uri,
            &[("code", Some(&code)), ("state", valid.state.as_deref())],
        ),
        Err(e) => {
            log::error!("cannot issue an authorization code: {e}");
            refuse(&valid, "server_error", "the code could not be issued")
        }
    }
}

fn too_many(again: impl Fn(StatusCode, &str) -> HttpResponse, wait: u64) -> HttpResponse {
    let mut resp = again(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many failed sign-ins from this address. Wait a while and try again.",
    );
    let (name, value) = retry_after(wait);
    resp.headers_mut().insert(name, value);
    resp
}

fn refuse(valid: &Valid, error: &'static str, description: &str) -> HttpResponse {
    Refusal::Redirect {
        redirect_uri: valid.redirect_uri.clone(),
        state: valid.state.clone(),
        error,
        description: description.to_owned(),
    }
    .into_response()
}

/// RFC 6749 §4.1.2.1: client and redirect URI first (errors about them are
/// shown, never redirected), then everything else (redirected).
async fn validate(server: &AuthServer, form: &AuthorizeRequest) -> Result<Valid, Refusal> {
    let bad = |m: &str| Refusal::Page(StatusCode::BAD_REQUEST, m.to_owned());
    let client_id = form
        .client_id
        .as_deref()
        .ok_or_else(|| bad("client_id is missing."))?;
    let client = server
        .clients
        .find(client_id)
        .await
        .map_err(|e| {
            log::error!("client lookup failed: {e}");
            Refusal::Page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again later.".to_owned(),
            )
        })?
        .ok_or_else(|| bad("The client is not known to this server."))?;
    let redirect_uri = form
        .redirect_uri
        .as_deref()
        .ok_or_else(|| bad("redirect_uri is missing."))?;
    if !client.has_redirect_uri(redirect_uri) {
        // Named so that an operator setting up an IdP learns what to register.
        log::warn!("client {client_id:?} sent an unregistered redirect URI {redirect_uri:?}");
        return Err(bad(&format!(
            "The redirect URI {redirect_uri} is not registered for client {client_id}."
        )));
    }
    let refuse = |error: &'static str, description: String| Refusal::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: form.state.clone(),
        error,
        description,
    };
    if form.response_type.as_deref() != Some("code") {
        return Err(refuse(
            "unsupported_response_type",
            "response_type must be code".to_owned(),
        ));
    }
    if !client.allows("authorization_code") {
        return Err(refuse(
            "unauthorized_client",
            "this client may not use the authorization code grant".to_owned(),
        ));
    }
    let scope = client
        .grant_scope(form.scope.as_deref())
        .map_err(|e| refuse("invalid_scope", description(e)))?;
    let code_challenge = pkce_challenge(&client, form).map_err(|d| refuse("invalid_request", d))?;
    Ok(Valid {
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: form.state.clone(),
        code_challenge,
        client,
    })
}

fn description(e: ServerError) -> String {
    match e {
        ServerError::OAuth { description, .. } => description,
        other => other.to_string(),
    }
}

/// Only S256: `plain` would send the verifier itself through the browser.
fn pkce_challenge(client: &Client, form: &AuthorizeRequest) -> Result<Option<String>, String> {
    let Some(challenge) = form.code_challenge.as_deref() else {
        if client.require_pkce {
            return Err("PKCE is required: send code_challenge with method S256".to_owned());
        }
        return Ok(None);
    };
    if form.code_challenge_method.as_deref() != Some("S256") {
        return Err("code_challenge_method must be S256".to_owned());
    }
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err("code_challenge must be a base64url SHA-256 digest".to_owned());
    }
    Ok(Some(challenge.to_owned()))
}

/// 302 to `uri` with `params` added to its query, keeping any query it has.
fn redirect(uri: &str, params: &[(&str, Option<&str>)]) -> HttpResponse {
    let Ok(mut url) = url::Url::parse(uri) else {
        return sign_in_page::error(
            StatusCode::BAD_REQUEST,
            "The redirect URI is not a valid URL.",
        );
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
    HttpResponse::Found()
        .insert_header((LOCATION, url.as_str()))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .finish()
}
