//! What goes wrong on a console page, as a page a person can read. The
//! console answers in HTML, so its errors do not pass through the SCIM
//! error mapping (`http::error`), which writes RFC 7644 bodies.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, LOCATION, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};

use super::layout;
use crate::service::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No live session: the browser goes to the sign-in page.
    #[error("sign in first")]
    SignedOut { login: String },
    /// A form that did not come from this console's own page.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the database is not answering: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl From<ServiceError> for ConsoleError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound { .. } => Self::NotFound(e.to_string()),
            ServiceError::Scim(s) if s.status == 404 => Self::NotFound(s.detail),
            ServiceError::Scim(s) if s.status < 500 => Self::BadInput(s.detail),
            ServiceError::Db(db) => Self::Unavailable(db.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for ConsoleError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignedOut { .. } => StatusCode::SEE_OTHER,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadInput(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::SignedOut { login } => layout::see_other(login),
            Self::Unavailable(detail) | Self::Internal(detail) => {
                // The cause goes to the log; the page says only what to do.
                log::error!("console: {detail}");
                let mut resp = layout::error_page(status, "Try again in a moment.");
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    resp.headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from_static("5"));
                }
                resp
            }
            other => {
                let mut resp = layout::error_page(status, &other.to_string());
                resp.headers_mut().remove(LOCATION);
                resp
            }
        }
    }
}
