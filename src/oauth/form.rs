//! `application/x-www-form-urlencoded` bodies, bounded before parsing.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, web};
use serde::de::DeserializeOwned;

use super::{MAX_FORM_BYTES, ServerError};
use crate::http::body_limit::BodyLimits;

pub async fn read_form<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, ServerError> {
    let essence = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(ServerError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    // A client that trickles its form must not hold the connection.
    let deadline = req
        .app_data::<BodyLimits>()
        .cloned()
        .unwrap_or_default()
        .deadline();
    let body = tokio::time::timeout(deadline, payload.to_bytes_limited(MAX_FORM_BYTES))
        .await
        .map_err(|_| ServerError::invalid_request("the body did not arrive in time"))?
        .map_err(|_| {
            ServerError::invalid_request(format!("the body exceeds {MAX_FORM_BYTES} bytes"))
        })?
        .map_err(|e| ServerError::invalid_request(format!("the body could not be read: {e}")))?;
    // Parameters must not repeat (RFC 6749 §3.1, §3.2); the derived
    // deserializers refuse duplicate fields.
    serde_urlencoded::from_bytes(&body)
        .map_err(|e| ServerError::invalid_request(format!("malformed form body: {e}")))
}

/// Parses a query string with the same rules.
pub fn read_query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ServerError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ServerError::invalid_request(format!("malformed query: {e}")))
}
