//! The single mapping from errors to RFC 7644 §3.12 responses.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use super::content_type::SCIM_CONTENT_TYPE;
use crate::scim::ScimError;
use crate::service::ServiceError;
use crate::store;
use crate::store::error::Fault;
use sea_orm::DbErr;

/// An error on its way to the client.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(pub ScimError);

impl From<ScimError> for ApiError {
    fn from(e: ScimError) -> Self {
        Self(e)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Scim(e) => Self(e),
            ServiceError::NotFound { kind, id } => Self(ScimError::not_found(format!(
                "{} {id} not found",
                kind.name()
            ))),
            ServiceError::PreconditionFailed => Self(ScimError::precondition_failed(
                "the resource has changed since the version in If-Match; read it again",
            )),
            ServiceError::Db(e) => Self(database_error(&e)),
            ServiceError::Internal(msg) => {
                log::error!("internal error: {msg}");
                Self(ScimError::internal("internal server error"))
            }
        }
    }
}

/// A database error as the client sees it. The detail stays generic:
/// database errors can carry data. An outage or a full disk fails every
/// request alike, so each is logged when it begins, not per request.
fn database_error(e: &DbErr) -> ScimError {
    match store::error::classify(e) {
        Fault::Unavailable => {
            store::error::log_unavailable(e);
            ScimError::unavailable("the database is unavailable; try again shortly")
        }
        Fault::Busy => {
            log::warn!("database busy: {e}");
            ScimError::unavailable("the database is busy; try again shortly")
        }
        Fault::StorageFull => {
            if store::error::STORAGE_FULL.opens() {
                log::error!(
                    "the database has no space left, refusing writes with 507 until space is freed: {e}"
                );
            } else {
                log::debug!("database full: {e}");
            }
            ScimError::new(
                507,
                None,
                "the server has no storage space left for this change, and nothing was written; \
                 reads still work; try again once space has been freed",
            )
        }
        Fault::Other if store::is_retryable(e) => {
            log::warn!("database conflict: {e}");
            ScimError::unavailable("the request could not be completed; try again")
        }
        Fault::Other => {
            log::error!("database error: {e}");
            ScimError::internal("the request could not be completed; try again")
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        scim_error_response(&self.0)
    }
}

pub fn scim_error_response(e: &ScimError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = HttpResponse::build(status);
    resp.content_type(SCIM_CONTENT_TYPE);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        // Okta backs off for minutes without an integer Retry-After.
        resp.insert_header(("Retry-After", "1"));
    }
    // A server-side failure names the request, so that its log lines can
    // be found.
    if status.is_server_error()
        && let Some(id) = crate::observe::request_id::current_id()
    {
        let mut named = e.clone();
        named.detail = format!("{} (request id {id})", e.detail);
        return resp.body(named.to_json().to_string());
    }
    resp.body(e.to_json().to_string())
}

pub async fn unknown_route(req: HttpRequest) -> HttpResponse {
    scim_error_response(&ScimError::not_found(format!(
        "no such endpoint: {}",
        req.path()
    )))
}

pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    scim_error_response(&ScimError::method_not_allowed(format!(
        "{} is not supported on {}",
        req.method(),
        req.path()
    )))
}
