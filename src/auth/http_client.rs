//! Outgoing HTTP (JWKS fetches, token introspection) on actix's own client,
//! so no second HTTP stack is linked.

use std::time::Duration;

use awc::http::Method;
use awc::http::header::{HeaderName, HeaderValue};
use serde::de::DeserializeOwned;

const TIMEOUT: Duration = Duration::from_secs(10);
/// Key sets and introspection answers are small; anything bigger is refused.
const MAX_BODY: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("invalid request: {0}")]
    Request(String),
    #[error("request to {url} failed: {reason}")]
    Send { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("cannot read the answer of {url}: {reason}")]
    Body { url: String, reason: String },
}

/// Redirects are not followed: a redirect could lead from https to http, or
/// away from the host the operator configured.
pub fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(TIMEOUT)
        .disable_redirects()
        .finish()
}

/// GETs `url` and parses a JSON answer (which must come with status 200).
pub async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, HttpError> {
    let mut resp = client()
        .get(url)
        .insert_header(("Accept", "application/json"))
        .send()
        .await
        .map_err(|e| send_error(url, e))?;
    if resp.status().as_u16() != 200 {
        return Err(HttpError::Status {
            url: url.to_owned(),
            status: resp.status().as_u16(),
        });
    }
    let body = resp
        .body()
        .limit(MAX_BODY)
        .await
        .map_err(|e| body_error(url, e))?;
    serde_json::from_slice(&body).map_err(|e| body_error(url, e))
}

/// POSTs `body` to `url` on `client` (kept by the caller, so that its
/// connections are reused); the status and up to 64 KiB of the answer.
pub async fn post(
    client: &awc::Client,
    url: &str,
    headers: &[(&'static str, String)],
    body: String,
) -> Result<(u16, Vec<u8>), HttpError> {
    let mut request = client.post(url);
    for (name, value) in headers {
        request = request.insert_header((*name, value.as_str()));
    }
    let mut resp = request
        .send_body(body)
        .await
        .map_err(|e| send_error(url, e))?;
    let status = resp.status().as_u16();
    let answer = resp.body().limit(64 * 1024).await.unwrap_or_default();
    Ok((status, answer.to_vec()))
}

/// The transport for the `oauth2` crate's clients (introspection here, the
/// IdP role in tests): its `http` 1.x request, sent with awc.
pub async fn oauth2_send(req: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, HttpError> {
    let (parts, body) = req.into_parts();
    let url = parts.uri.to_string();
    let method = Method::from_bytes(parts.method.as_str().as_bytes())
        .map_err(|e| HttpError::Request(e.to_string()))?;
    let mut request = client().request(method, &url);
    for (name, value) in &parts.headers {
        let name = HeaderName::from_bytes(name.as_str().as_bytes())
            .map_err(|e| HttpError::Request(e.to_string()))?;
        let value = HeaderValue::from_bytes(value.as_bytes())
            .map_err(|e| HttpError::Request(e.to_string()))?;
        request = request.append_header((name, value));
    }
    let mut resp = request
        .send_body(body)
        .await
        .map_err(|e| send_error(&url, e))?;
    let bytes = resp
        .body()
        .limit(MAX_BODY)
        .await
        .map_err(|e| body_error(&url, e))?;
    let mut out = oauth2::http::Response::builder().status(resp.status().as_u16());
    for (name, value) in resp.headers() {
        out = out.header(name.as_str(), value.as_bytes());
    }
    out.body(bytes.to_vec())
        .map_err(|e| HttpError::Request(e.to_string()))
}

fn send_error(url: &str, e: impl std::fmt::Display) -> HttpError {
    HttpError::Send {
        url: url.to_owned(),
        reason: e.to_string(),
    }
}

fn body_error(url: &str, e: impl std::fmt::Display) -> HttpError {
    HttpError::Body {
        url: url.to_owned(),
        reason: e.to_string(),
    }
}
