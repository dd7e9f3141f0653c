//! The middleware that puts the [`Verifier`] in front of every SCIM route.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};

use super::Verifier;
use super::credentials::AuthError;
use crate::http::error::scim_error_response;
use crate::scim::ScimError;

pub async fn require_auth(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(verifier) = req.app_data::<web::Data<Verifier>>().cloned() else {
        let resp = scim_error_response(&ScimError::new(
            500,
            None,
            "authentication is not configured",
        ));
        return Ok(req.into_response(resp).map_into_right_body());
    };
    match verifier.verify(req.headers().get(AUTHORIZATION)).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(e) => {
            let peer = req
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            log::warn!(
                "authentication failed from {peer} for {} {}: {e}",
                req.method(),
                req.path()
            );
            let resp = unauthorized(&verifier, e);
            Ok(req.into_response(resp).map_into_right_body())
        }
    }
}

fn unauthorized(verifier: &Verifier, e: AuthError) -> actix_web::HttpResponse {
    let (status, detail) = match e {
        AuthError::Unavailable => (
            503,
            "credentials could not be checked; try again".to_owned(),
        ),
        other => (401, format!("authentication required: {other}")),
    };
    let mut resp = scim_error_response(&ScimError::new(status, None, detail));
    if status == 401 {
        // RFC 6750 §3: say why a presented bearer token was refused.
        let bearer = if e == AuthError::BadToken {
            r#"Bearer realm="roster", error="invalid_token""#
        } else {
            r#"Bearer realm="roster""#
        };
        let headers = resp.headers_mut();
        headers.append(WWW_AUTHENTICATE, HeaderValue::from_static(bearer));
        if verifier.basic_enabled() {
            headers.append(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="roster", charset="UTF-8""#),
            );
        }
    }
    resp
}
