//! The tenant of a request: the one its credential belongs to. A request
//! may also name it in the URL (`/t/{tenant}/<base path>/…`); then the two
//! must agree, and where they do not the answer is the 404 of a path that
//! names nothing, so that a credential learns nothing of other tenants.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse};

use super::error::scim_error_response;
use crate::auth::Authenticated;
use crate::scim::ScimError;
use crate::service::tenants::{Tenant, TenantDirectory};
use crate::store::error::{self as store_error, Fault};

/// The path prefix of the URL form that names the tenant.
pub const PREFIX: &str = "/t";
/// The name of the tenant segment in the route.
const SEGMENT: &str = "tenant";

/// The tenant `admitted` belongs to, checked against the one the URL names.
pub async fn resolve(
    req: &HttpRequest,
    directory: &TenantDirectory,
    admitted: &Authenticated,
) -> Result<Arc<Tenant>, HttpResponse> {
    let tenant = match directory.cached(admitted.tenant) {
        Some(t) => t,
        None => looked_up(directory, admitted).await?,
    };
    match named_in_url(req) {
        Some(named) if named != &*tenant.name => Err(scim_error_response(&ScimError::not_found(
            format!("no such endpoint: {}", req.path()),
        ))),
        _ => Ok(tenant),
    }
}

/// A tenant added after start-up (read once), or one since removed.
async fn looked_up(
    directory: &TenantDirectory,
    admitted: &Authenticated,
) -> Result<Arc<Tenant>, HttpResponse> {
    match directory.get(admitted.tenant).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(scim_error_response(&ScimError::unauthorized(
            "authentication required: the credential's tenant does not exist",
        ))),
        Err(e) => {
            if store_error::classify(&e) == Fault::Unavailable {
                store_error::log_unavailable(&e);
            } else {
                log::error!("tenant lookup failed: {e}");
            }
            Err(scim_error_response(&ScimError::unavailable(
                "credentials could not be checked; try again",
            )))
        }
    }
}

/// The tenant the URL names, when the request used the `/t/{tenant}` form.
pub fn named_in_url(req: &HttpRequest) -> Option<&str> {
    req.match_info().get(SEGMENT)
}

/// The route prefix of the tenant-naming form of `base` (a base path
/// without its trailing slash, empty for `/`).
pub fn scope_path(base: &str) -> String {
    format!("{PREFIX}/{{{SEGMENT}}}{base}")
}

/// The base URL of a request that named `tenant` in its URL: the segment
/// goes between the origin and the base path.
pub fn tenant_base_url(base_url: &str, base_path: &str, tenant: &str) -> String {
    let base_path = base_path.trim_end_matches('/');
    let origin = base_url.strip_suffix(base_path).unwrap_or(base_url);
    format!("{origin}{PREFIX}/{tenant}{base_path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_segment_precedes_the_base_path() {
        assert_eq!(
            tenant_base_url("https://h/scim/v2", "/scim/v2", "acme"),
            "https://h/t/acme/scim/v2"
        );
        assert_eq!(
            tenant_base_url("https://h", "/", "acme"),
            "https://h/t/acme"
        );
        assert_eq!(scope_path("/scim/v2"), "/t/{tenant}/scim/v2");
    }
}
