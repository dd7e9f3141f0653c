//! The HTTP side of the failure limiter (`auth::rate_limit`): which address
//! a request counts against, and the `Retry-After` of a refusal. Shared by
//! the SCIM guard and the authorization server's endpoints.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};

use crate::auth::rate_limit::FailureLimiter;

/// The address `req` is counted against (see `FailureLimiter::client_addr`).
pub fn client_addr(limiter: &FailureLimiter, req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    limiter.client_addr(peer, || forwarded_addr(req))
}

/// The last `X-Forwarded-For` entry: the one our own proxy appended. Earlier
/// entries come from the client and prove nothing.
fn forwarded_addr(req: &HttpRequest) -> Option<IpAddr> {
    let last = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()?
        .trim();
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

/// `Retry-After` in whole seconds, which Okta needs to back off sensibly.
pub fn retry_after(seconds: u64) -> (HeaderName, HeaderValue) {
    (RETRY_AFTER, HeaderValue::from(seconds.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RateLimitConfig;

    #[test]
    fn behind_a_proxy_the_last_forwarded_address_counts() {
        let limiter = |trust| {
            FailureLimiter::new(&RateLimitConfig {
                trust_forwarded_for: trust,
                ..RateLimitConfig::default()
            })
        };
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.1:1234".parse().unwrap())
            .insert_header(("X-Forwarded-For", "6.6.6.6, 203.0.113.7"))
            .to_http_request();
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(client_addr(&limiter(false), &req), Some(proxy));
        assert_eq!(client_addr(&limiter(true), &req), Some(client));
        let v6 = actix_web::test::TestRequest::default()
            .peer_addr("[2001:db8::1:2:3:4]:1".parse().unwrap())
            .to_http_request();
        assert_eq!(
            client_addr(&limiter(false), &v6),
            Some("2001:db8::".parse().unwrap()),
            "one IPv6 /64 is one address"
        );
    }
}
