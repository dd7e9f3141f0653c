//! The console's sign-in, as the console's JSON API accepts it: the session
//! cookie the pages set stands for its admin, as Basic credentials would.
//! A request that changes state with it must also carry the session's CSRF
//! token in `X-CSRF-Token` and come from this origin.

use actix_web::http::Method;
use actix_web::http::header::COOKIE;
use actix_web::{HttpRequest, HttpResponse, web};
use subtle::ConstantTimeEq;

use super::AppState;
use super::admin_guard::Admin;
use super::error::scim_error_response;
use crate::scim::ScimError;
use crate::service::console_sessions;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "roster_console";

/// The admin whose live session the request's cookie names; `None` when it
/// carries none (other credentials decide), the refusal when it carries one
/// but fails the checks.
pub async fn session_admin(req: &HttpRequest) -> Option<Result<Admin, HttpResponse>> {
    let token = cookie(req, SESSION_COOKIE)?;
    let state = req.app_data::<web::Data<AppState>>()?;
    let session = match console_sessions::find(state.services.db.scans(), &token).await {
        Ok(found) => found?,
        Err(e) => {
            log::warn!("cannot read console sessions: {e}");
            let refused =
                ScimError::unavailable("console sessions could not be checked; try again");
            return Some(Err(scim_error_response(&refused)));
        }
    };
    let reads_only = [Method::GET, Method::HEAD, Method::OPTIONS].contains(req.method());
    if !reads_only {
        let presented = req.headers().get("x-csrf-token").map(|v| v.as_bytes());
        let token_ok =
            presented.is_some_and(|p| bool::from(p.ct_eq(session.csrf_token.as_bytes())));
        if !token_ok || !same_origin(req) {
            let refused = ScimError::forbidden(
                "a change made with the console's session needs its X-CSRF-Token, from its own origin",
            );
            return Some(Err(scim_error_response(&refused)));
        }
    }
    Some(Ok(Admin {
        name: session.admin,
    }))
}

/// The value of cookie `name`, when the request carries it.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

/// What browsers say about where a request came from: `Sec-Fetch-Site`
/// (every current browser) and `Origin` (sent with every cross-origin
/// POST). Clients that send neither are judged by the CSRF token alone.
pub fn same_origin(req: &HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && site != "same-origin"
    {
        return false;
    }
    match header("origin") {
        None => true,
        Some(origin) => {
            let host = req.connection_info().host().to_owned();
            // The scheme is left out: behind a proxy that ends TLS the
            // request may look like plain HTTP while its origin is HTTPS.
            let authority = origin.split_once("://").map_or(origin, |(_, a)| a);
            authority.eq_ignore_ascii_case(&host)
        }
    }
}
