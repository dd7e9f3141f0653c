//! The request log's middleware. It copies the first `max_body_bytes` of
//! the request body as the handler reads it and of the response body as
//! it is sent (a streamed group is never held whole), and when the
//! response is done hands the entry to the writer's buffer. Redaction and
//! the summary happen in the writer, off the request's path.
//!
//! An entry is made on a request's thread and freed on the writer's, and
//! memory freed on another thread comes back cold: the entry holds what
//! it can without allocating (the method, the address, the principal)
//! and its headers as one text.

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::Method;
use actix_web::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{Error, HttpMessage, HttpRequest};
use futures_util::Stream;
use uuid::Uuid;

use super::Audit;
use super::changes::ChangeNote;
use super::ids::next_seq;
use super::redact::is_secret_header;
use crate::auth::Principal;
use crate::auth::rate_limit::FailureLimiter;
use crate::http::throttle::client_addr;
use crate::observe::request_id::RequestId;
use crate::service::DEFAULT_TENANT;
use crate::service::tenants::Tenant;
use crate::time::now_ms;

/// The first bytes of a body, and how many there were in all.
#[derive(Default)]
pub struct BodyCopy {
    pub bytes: Vec<u8>,
    pub total: usize,
}

impl BodyCopy {
    fn push(&mut self, chunk: &[u8], limit: usize) {
        self.total += chunk.len();
        let room = limit.saturating_sub(self.bytes.len());
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

/// One request as the middleware saw it, before redaction.
pub struct Captured {
    pub seq: i64,
    pub at_ms: i64,
    pub request_id: Arc<str>,
    pub client_addr: Option<IpAddr>,
    pub principal: Option<Principal>,
    /// The tenant the credential reached; `default` for refused requests.
    pub tenant: Uuid,
    pub method: Method,
    pub route: String,
    pub path: String,
    pub status: u16,
    pub latency_us: i64,
    pub request_content_type: Option<String>,
    /// The request body was compressed: its bytes are not kept.
    pub request_encoded: bool,
    /// The kept headers, a `name: value` line each.
    pub headers: String,
    pub request_body: BodyCopy,
    pub response_body: BodyCopy,
    pub notes: Vec<ChangeNote>,
}

impl Captured {
    /// The memory the entry holds, roughly: its bodies and its text.
    pub fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.request_body.bytes.capacity()
            + self.response_body.bytes.capacity()
            + self.path.len()
            + self.route.len()
            + self.headers.len()
    }

    /// The kept headers' names and values.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .lines()
            .filter_map(|line| line.split_once(": "))
    }
}

pub async fn record<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<TeeBody<B>, B>>, Error> {
    let audit = req
        .app_data::<web::Data<Audit>>()
        .filter(|a| a.records(req.path()))
        .cloned();
    let Some(audit) = audit else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_right_body);
    };
    let started = Instant::now();
    let at_ms = now_ms();
    let limit = audit.max_body_bytes();
    // A request without a body has nothing to copy.
    let request_body = match req.take_payload() {
        Payload::None => None,
        payload => {
            let copy = Arc::new(Mutex::new(BodyCopy::default()));
            req.set_payload(Payload::Stream {
                payload: Box::pin(TeeStream {
                    inner: payload,
                    copy: copy.clone(),
                    limit,
                }),
            });
            Some(copy)
        }
    };
    let headers = kept_headers(req.request());
    let res = next.call(req).await?;
    let entry = describe(res.request(), res.status().as_u16(), at_ms, headers);
    let pending = Pending {
        audit: audit.into_inner(),
        entry: Some(entry),
        request_body,
        response_body: BodyCopy::default(),
        started,
        limit,
    };
    Ok(res.map_body(|_, body| {
        EitherBody::left(TeeBody {
            body: Box::pin(body),
            pending,
        })
    }))
}

/// Headers other than credentials and cookies, a line each. A name has
/// no colon and a value no line break, so the lines read back as sent.
fn kept_headers(req: &HttpRequest) -> String {
    let kept = || {
        req.headers()
            .iter()
            .filter(|(name, _)| !is_secret_header(name.as_str()))
    };
    let size = kept().map(|(n, v)| n.as_str().len() + v.len() + 3).sum();
    let mut text = String::with_capacity(size);
    for (name, value) in kept() {
        text.push_str(name.as_str());
        text.push_str(": ");
        text.push_str(&String::from_utf8_lossy(value.as_bytes()));
        text.push('\n');
    }
    text
}

/// Everything but the bodies, read once the handler has answered (the
/// guard has named the principal by then).
fn describe(req: &HttpRequest, status: u16, at_ms: i64, headers: String) -> Captured {
    let extensions = req.extensions();
    let request_id = extensions
        .get::<RequestId>()
        .map_or_else(|| Arc::from(""), |id| id.0.clone());
    let principal = extensions.get::<Principal>().cloned();
    let tenant = extensions
        .get::<Arc<Tenant>>()
        .map_or(DEFAULT_TENANT, |t| t.id);
    let addr = req
        .app_data::<web::Data<FailureLimiter>>()
        .and_then(|limiter| client_addr(limiter, req))
        .or_else(|| req.peer_addr().map(|a| a.ip()));
    let path = match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    };
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Captured {
        seq: next_seq(),
        at_ms,
        request_id,
        client_addr: addr,
        principal,
        tenant,
        method: req.method().clone(),
        route: req
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned()),
        path,
        status,
        latency_us: 0,
        request_content_type: header(CONTENT_TYPE),
        request_encoded: header(CONTENT_ENCODING)
            .is_some_and(|e| !e.eq_ignore_ascii_case("identity")),
        headers,
        request_body: BodyCopy::default(),
        response_body: BodyCopy::default(),
        notes: Vec::new(),
    }
}

/// The request's payload, copied up to the limit as the handler reads it.
struct TeeStream {
    inner: Payload,
    copy: Arc<Mutex<BodyCopy>>,
    limit: usize,
}

impl Stream for TeeStream {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            let mut copy = self.copy.lock().unwrap_or_else(PoisonError::into_inner);
            copy.push(chunk, self.limit);
        }
        polled
    }
}

/// The entry of a request whose response is on its way; dropped with the
/// response body, once sent or abandoned, it goes to the buffer.
struct Pending {
    audit: Arc<Audit>,
    entry: Option<Captured>,
    request_body: Option<Arc<Mutex<BodyCopy>>>,
    response_body: BodyCopy,
    started: Instant,
    limit: usize,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(mut entry) = self.entry.take() else {
            return;
        };
        entry.latency_us = i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX);
        if let Some(copy) = &self.request_body {
            let mut request = copy.lock().unwrap_or_else(PoisonError::into_inner);
            entry.request_body = std::mem::take(&mut *request);
        }
        entry.response_body = std::mem::take(&mut self.response_body);
        self.audit.submit(entry);
    }
}

/// A response body that copies its first bytes for the log.
pub struct TeeBody<B> {
    body: Pin<Box<B>>,
    pending: Pending,
}

impl<B: MessageBody> MessageBody for TeeBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let polled = self.body.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            let limit = self.pending.limit;
            self.pending.response_body.push(chunk, limit);
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    /// Headers read back as sent, a value's own `: ` included; credentials
    /// and cookies are not kept.
    #[test]
    fn kept_headers_read_back_as_sent() {
        let req = TestRequest::get()
            .insert_header(("Accept", "application/scim+json"))
            .insert_header(("Authorization", "Bearer secret-token"))
            .insert_header(("Cookie", "roster_session=s"))
            .insert_header(("X-Note", "a: b"))
            .to_http_request();
        let entry = describe(&req, 200, 0, kept_headers(&req));
        let mut pairs: Vec<_> = entry.header_pairs().collect();
        pairs.sort_unstable();
        assert_eq!(
            pairs,
            [("accept", "application/scim+json"), ("x-note", "a: b")]
        );
        assert!(!entry.headers.contains("secret-token"));
        assert_eq!(entry.method, Method::GET);
    }
}
