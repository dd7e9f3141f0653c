//! Errors of the authorization server, answered as RFC 6749 §5.2 JSON with
//! the `oauth2` crate's standard error type.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use oauth2::StandardErrorResponse;
use oauth2::basic::BasicErrorResponseType;
use sea_orm::DbErr;

use crate::http::throttle::retry_after;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A protocol error the client can act on.
    #[error("{description}")]
    OAuth {
        kind: BasicErrorResponseType,
        description: String,
        /// The client authenticated with HTTP Basic, so a 401 challenges it.
        basic_challenge: bool,
    },
    #[error("too many failed attempts; retry in {0} s")]
    TooMany(u64),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    Internal(String),
}

impl ServerError {
    pub fn new(kind: BasicErrorResponseType, description: impl Into<String>) -> Self {
        Self::OAuth {
            kind,
            description: description.into(),
            basic_challenge: false,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(BasicErrorResponseType::InvalidRequest, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(BasicErrorResponseType::InvalidGrant, description)
    }

    pub fn invalid_client(basic_challenge: bool) -> Self {
        Self::OAuth {
            kind: BasicErrorResponseType::InvalidClient,
            description: "client authentication failed".to_owned(),
            basic_challenge,
        }
    }

    pub fn into_response(self) -> HttpResponse {
        self.error_response()
    }

    fn body(&self) -> StandardErrorResponse<BasicErrorResponseType> {
        let (kind, description) = match self {
            Self::OAuth {
                kind, description, ..
            } => (kind.clone(), description.clone()),
            Self::TooMany(_) => (
                extension("temporarily_unavailable"),
                "too many failed attempts from this address; retry later".to_owned(),
            ),
            Self::Db(_) | Self::Internal(_) => (
                extension("temporarily_unavailable"),
                "the request could not be completed; try again".to_owned(),
            ),
        };
        StandardErrorResponse::new(kind, Some(description), None)
    }
}

fn extension(code: &str) -> BasicErrorResponseType {
    BasicErrorResponseType::Extension(code.to_owned())
}

impl ResponseError for ServerError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::OAuth {
                kind: BasicErrorResponseType::InvalidClient,
                ..
            } => StatusCode::UNAUTHORIZED,
            Self::OAuth { .. } => StatusCode::BAD_REQUEST,
            Self::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Db(_) | Self::Internal(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Db(_) | Self::Internal(_) = self {
            // The detail stays in the log: database errors can carry data.
            log::error!("authorization server: {self}");
        }
        let mut resp = HttpResponse::build(self.status_code());
        resp.content_type("application/json")
            .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match self {
            Self::TooMany(wait) => {
                resp.insert_header(retry_after(*wait));
            }
            Self::Db(_) | Self::Internal(_) => {
                resp.insert_header(retry_after(1));
            }
            Self::OAuth {
                basic_challenge: true,
                ..
            } => {
                resp.insert_header((
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Basic realm="roster-oauth""#),
                ));
            }
            Self::OAuth { .. } => {}
        }
        resp.body(serde_json::to_string(&self.body()).unwrap_or_default())
    }
}

pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let mut resp = ServerError::invalid_request(format!(
        "{} is not supported on {}",
        req.method(),
        req.path()
    ))
    .into_response();
    *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    resp
}
