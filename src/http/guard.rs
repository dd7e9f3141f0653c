//! The middleware that puts the [`Verifier`] in front of every SCIM route.
//! It reads the credentials from the request, and turns the verifier's
//! answer into HTTP: 401 with challenges, 403, 429 or 503.

use std::net::IpAddr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse, web};

use super::error::scim_error_response;
use super::throttle::{client_addr, retry_after};
use super::{AppState, tenant};
use crate::auth::credentials::{self, Presented};
use crate::auth::rate_limit::FailureLimiter;
use crate::auth::{AuthError, Authenticated, Modes, Verifier};
use crate::observe::metrics;
use crate::scim::ScimError;

pub async fn require_auth(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let admitted = match admit(req.request()).await {
        Ok(admitted) => admitted,
        Err(resp) => return Ok(req.into_response(resp).map_into_right_body()),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        let resp = scim_error_response(&ScimError::internal("the API is not configured"));
        return Ok(req.into_response(resp).map_into_right_body());
    };
    let tenant = match tenant::resolve(req.request(), &state.tenants, &admitted).await {
        Ok(tenant) => tenant,
        Err(resp) => return Ok(req.into_response(resp).map_into_right_body()),
    };
    req.extensions_mut().insert(admitted.principal);
    req.extensions_mut().insert(tenant);
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Checks a request's credentials under the failure limits: the principal,
/// or the response that refuses it. Every route that takes a credential
/// (the SCIM API, `/metrics`) goes through here, so none of them is a way
/// around the limits.
pub(crate) async fn admit(req: &HttpRequest) -> Result<Authenticated, HttpResponse> {
    let (Some(verifier), Some(limiter)) = (
        req.app_data::<web::Data<Verifier>>().cloned(),
        req.app_data::<web::Data<FailureLimiter>>().cloned(),
    ) else {
        return Err(scim_error_response(&ScimError::internal(
            "authentication is not configured",
        )));
    };
    let addr = client_addr(&limiter, req);
    let presented = presented(req.headers().get(AUTHORIZATION));
    let name = presented
        .as_ref()
        .ok()
        .and_then(Presented::basic_user)
        .map(|u| verifier.throttle_name(u).to_owned());
    let known = presented.as_ref().is_ok_and(|p| verifier.remembers(p));
    if let Some(wait) = refused(
        &limiter,
        (!known).then_some(addr).flatten(),
        name.as_deref(),
    ) {
        metrics::auth_failed(req, None);
        return Err(too_many(wait));
    }
    let verified = match &presented {
        Ok(p) => verifier.verify(p).await,
        Err(e) => Err(e.clone()),
    };
    verified.map_err(|e| {
        metrics::auth_failed(req, Some(&e));
        let shown = addr.map(|a| a.to_string()).unwrap_or_default();
        log::warn!(
            "authentication failed from {shown} for {} {}: {e}",
            req.method(),
            req.path()
        );
        let over_limit = match e {
            AuthError::BadToken | AuthError::BadBasic | AuthError::Malformed => {
                failed(&limiter, addr, name.as_deref())
            }
            _ => None,
        };
        match over_limit {
            Some(wait) => too_many(wait),
            None => refusal(verifier.modes(), &e),
        }
    })
}

/// The credentials of the `Authorization` header, if it has any.
fn presented(header: Option<&HeaderValue>) -> Result<Presented, AuthError> {
    let header = header.ok_or(AuthError::Missing)?;
    credentials::parse(header.to_str().map_err(|_| AuthError::Malformed)?)
}

/// The longer wait of the address's and the user name's, if either is spent.
/// A known credential skips its address's allowance but never its user
/// name's: checking a guess against the known credentials is cheap, so
/// that allowance is what bounds guessing a Basic password.
fn refused(limiter: &FailureLimiter, addr: Option<IpAddr>, name: Option<&str>) -> Option<u64> {
    let by_addr = addr.and_then(|a| limiter.refused(a));
    let by_name = name.and_then(|n| limiter.name_refused(n));
    by_addr.max(by_name)
}

/// Counts a failure against the address and the user name.
fn failed(limiter: &FailureLimiter, addr: Option<IpAddr>, name: Option<&str>) -> Option<u64> {
    let by_addr = addr.and_then(|a| limiter.failed(a));
    let by_name = name.and_then(|n| limiter.name_failed(n));
    by_addr.max(by_name)
}

fn too_many(wait: u64) -> HttpResponse {
    let mut resp = scim_error_response(&ScimError::too_many_requests(
        "too many failed authentication attempts from this address; retry later",
    ));
    let (name, value) = retry_after(wait);
    resp.headers_mut().insert(name, value);
    resp
}

fn refusal(modes: Modes, e: &AuthError) -> HttpResponse {
    let error = match e {
        AuthError::Unavailable => {
            ScimError::unavailable("credentials could not be checked; try again")
        }
        AuthError::InsufficientScope(_) => ScimError::forbidden(format!("forbidden: {e}")),
        _ => ScimError::unauthorized(format!("authentication required: {e}")),
    };
    let status = error.status;
    let mut resp = scim_error_response(&error);
    if status == 503 {
        return resp;
    }
    let headers = resp.headers_mut();
    headers.append(WWW_AUTHENTICATE, bearer_challenge(e));
    if modes.basic && status == 401 {
        headers.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="roster", charset="UTF-8""#),
        );
    }
    resp
}

/// RFC 6750 §3: say why a presented bearer token was refused.
fn bearer_challenge(e: &AuthError) -> HeaderValue {
    match e {
        AuthError::BadToken => {
            HeaderValue::from_static(r#"Bearer realm="roster", error="invalid_token""#)
        }
        AuthError::InsufficientScope(scope) => HeaderValue::from_str(&format!(
            r#"Bearer realm="roster", error="insufficient_scope", scope="{scope}""#
        ))
        .unwrap_or(HeaderValue::from_static(
            r#"Bearer realm="roster", error="insufficient_scope""#,
        )),
        _ => HeaderValue::from_static(r#"Bearer realm="roster""#),
    }
}
