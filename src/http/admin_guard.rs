//! Who may use the console's API: an admin account (`roster admin add`),
//! never a SCIM credential. An admin presents HTTP Basic credentials, or
//! something earlier in the request (a console session) has already put an
//! [`Admin`] into the request's extensions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, HttpResponse, web};

use super::error::scim_error_response;
use super::throttle::{client_addr, retry_after};
use crate::auth::admins::{AdminAuthError, AdminVerifier};
use crate::auth::credentials::{self, Presented};
use crate::scim::ScimError;

/// A signed-in console admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    pub name: String,
}

/// Middleware for a scope of admin-only routes.
pub async fn require_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    match admit_admin(req.request()).await {
        Ok(admin) => {
            req.extensions_mut().insert(admin);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(resp) => Ok(req.into_response(resp).map_into_right_body()),
    }
}

impl FromRequest for Admin {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            admit_admin(&req)
                .await
                .map_err(|resp| actix_web::error::InternalError::from_response("", resp).into())
        })
    }
}

/// The admin a request speaks for, or the response refusing it.
pub async fn admit_admin(req: &HttpRequest) -> Result<Admin, HttpResponse> {
    if let Some(admin) = req.extensions().get::<Admin>() {
        return Ok(admin.clone());
    }
    if let Some(by_session) = super::console_session::session_admin(req).await {
        return by_session;
    }
    let Some(verifier) = req.app_data::<web::Data<Arc<AdminVerifier>>>().cloned() else {
        return Err(scim_error_response(&ScimError::internal(
            "admin accounts are not configured",
        )));
    };
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let Some(Ok(Presented::Basic { user, password })) = header.map(credentials::parse) else {
        return Err(challenge(
            "an admin account's Basic credentials are required",
        ));
    };
    let addr = client_addr(verifier.limiter(), req);
    match verifier.verify(&user, &password, addr).await {
        Ok(()) => Ok(Admin { name: user }),
        Err(AdminAuthError::Invalid) => {
            log::warn!("console sign-in failed for admin {user:?}");
            Err(challenge("the admin name or password is not valid"))
        }
        Err(AdminAuthError::TooMany(wait)) => {
            let mut resp = scim_error_response(&ScimError::too_many_requests(
                "too many failed sign-ins; retry later",
            ));
            let (name, value) = retry_after(wait);
            resp.headers_mut().insert(name, value);
            Err(resp)
        }
        Err(AdminAuthError::Unavailable) => Err(scim_error_response(&ScimError::unavailable(
            "admin accounts could not be checked; try again",
        ))),
    }
}

fn challenge(detail: &str) -> HttpResponse {
    let mut resp = scim_error_response(&ScimError::unauthorized(detail));
    resp.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Basic realm="roster console", charset="UTF-8""#),
    );
    resp
}
