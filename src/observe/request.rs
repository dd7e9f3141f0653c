//! The middleware every request passes first: it gives the request its id
//! (kept from `X-Request-Id` when plausible, else made here), echoes it,
//! keeps it in a task-local while the request is handled so that every
//! log line and error body can name it, writes the access log line, and
//! records the HTTP metrics when they are on.

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};

use super::metrics::Metrics;
use super::request_id::{REQUEST_ID_HEADER, RequestId, request_id, scope};
use super::{HEALTHZ, METRICS, Observe, READYZ};
use crate::auth::Principal;
use crate::auth::rate_limit::FailureLimiter;
use crate::http::error::scim_error_response;
use crate::http::throttle::client_addr;
use crate::scim::ScimError;

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, Error> {
    let state = req.app_data::<web::Data<Observe>>().cloned();
    let id = request_id(req.headers());
    req.extensions_mut().insert(RequestId(id.clone()));
    if let Some(state) = &state
        && state.misrouted(&req)
    {
        let resp = scim_error_response(&ScimError::not_found(format!(
            "no such endpoint: {}",
            req.path()
        )));
        let mut res = req.into_response(resp).map_into_right_body();
        echo(&mut res, &id);
        return Ok(res);
    }
    let metrics = state.as_ref().and_then(|s| s.metrics.clone());
    let started = Instant::now();
    let in_flight = metrics.as_deref().map(Metrics::enter);
    // Not a clone of the request: routing needs the only reference.
    let result = scope(id.clone(), next.call(req)).await;
    drop(in_flight);
    match result {
        Ok(res) => {
            let status = res.status().as_u16();
            finish(res.request(), &id, status, started, metrics.as_deref());
            let mut res = res.map_into_left_body();
            echo(&mut res, &id);
            Ok(res)
        }
        Err(e) => {
            // Handlers turn their errors into responses; only a failing
            // middleware ends here, with no request left to describe.
            log::warn!(target: "roster::access", request_id = &*id; "request failed: {e}");
            Err(e)
        }
    }
}

fn echo<B>(res: &mut ServiceResponse<B>, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
}

/// The access log line and the request's metrics.
fn finish(req: &HttpRequest, id: &str, status: u16, started: Instant, metrics: Option<&Metrics>) {
    // Probes and scrapes come every few seconds: their lines would bury
    // the requests an operator looks for.
    let level = if [HEALTHZ, READYZ, METRICS].contains(&req.path()) {
        log::Level::Debug
    } else {
        log::Level::Info
    };
    let logged = log::log_enabled!(target: "roster::access", level);
    if metrics.is_none() && !logged {
        return;
    }
    let elapsed = started.elapsed();
    let route = req.match_pattern().unwrap_or_else(|| UNMATCHED.to_owned());
    let extensions = req.extensions();
    let principal = extensions.get::<Principal>();
    if logged {
        access_line(req, level, id, &route, status, elapsed, principal);
    }
    if let Some(metrics) = metrics {
        metrics.failed_write(req.method(), &route, status, principal);
        metrics.request(req.method(), route, status, elapsed);
    }
}

/// The route label of a request that matched no route.
const UNMATCHED: &str = "unmatched";

fn access_line(
    req: &HttpRequest,
    level: log::Level,
    id: &str,
    route: &str,
    status: u16,
    elapsed: std::time::Duration,
    principal: Option<&Principal>,
) {
    let principal = principal.map(Principal::name);
    let addr = req
        .app_data::<web::Data<FailureLimiter>>()
        .and_then(|limiter| client_addr(limiter, req))
        .or_else(|| req.peer_addr().map(|a| a.ip()))
        .map(|a| a.to_string());
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    log::log!(
        target: "roster::access",
        level,
        request_id = id,
        method = req.method().as_str(),
        route = route,
        status = status,
        latency_ms = latency_ms,
        principal = principal.as_deref().unwrap_or("-"),
        client_addr = addr.as_deref().unwrap_or("-");
        "{} {} {} {status} {latency_ms:.1}ms",
        addr.as_deref().unwrap_or("-"),
        req.method(),
        req.path(),
    );
}
