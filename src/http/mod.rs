//! HTTP: routes, extractors, and the one place errors become SCIM error
//! responses. Handlers only translate between HTTP and the service layer.

pub mod admin_guard;
mod body;
pub mod body_limit;
mod bulk;
pub mod connection;
pub mod console_api;
pub mod console_session;
mod content_type;
mod discovery;
pub mod error;
mod guard;
mod params;
mod resources;
mod search;
mod stream;
mod tenant;
pub mod throttle;

use std::sync::Arc;

use actix_web::http::header::IF_MATCH;
use actix_web::{HttpMessage, HttpRequest, middleware, web};

use self::guard::require_auth;
use crate::auth::rate_limit::FailureLimiter;
use crate::auth::{Principal, Verifier};
use crate::observe::request_id::{self, RequestId};
use crate::scim::etag::Precondition;
use crate::scim::idp_dialect::Dialect;
use crate::scim::profile::Profile;
use crate::scim::schema::Capabilities;
use crate::service::tenants::{Tenant, TenantDirectory};
use crate::service::{Ctx, Services};

pub use content_type::SCIM_CONTENT_TYPE;
pub(crate) use guard::admit;

/// Whether a tenant's writes are recording security events (it has a
/// receiver): ServiceProviderConfig advertises only events it emits.
pub type EmitsEvents = Arc<dyn Fn(uuid::Uuid) -> bool + Send + Sync>;

/// Everything a handler needs, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub base_path: String,
    /// The externally visible base URL, when configured.
    pub public_url: Option<String>,
    pub capabilities: Arc<Capabilities>,
    pub max_body_bytes: usize,
    pub bulk: crate::config::BulkConfig,
    pub group_patch_no_content: bool,
    /// Tenants by id, kept in memory (see `service::tenants`).
    pub tenants: Arc<TenantDirectory>,
    /// `None` when events are off.
    pub emits_events: Option<EmitsEvents>,
    /// The default tenant's profile and rules, for its requests' `Ctx`.
    pub profile: Profile,
    pub dialect: Dialect,
}

impl AppState {
    /// The base URL resources are addressed by: the configured public URL,
    /// or what the client used to reach us.
    pub fn ctx(&self, req: &HttpRequest) -> Ctx {
        let base_url = match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let info = req.connection_info();
                format!("{}://{}{}", info.scheme(), info.host(), self.base_path)
            }
        };
        let tenant = req
            .extensions()
            .get::<Arc<Tenant>>()
            .cloned()
            .unwrap_or_else(|| Arc::new(Tenant::default_tenant()));
        let base_url = match tenant::named_in_url(req) {
            Some(named) => tenant::tenant_base_url(&base_url, &self.base_path, named),
            None => base_url,
        };
        let if_match = req.headers().get(IF_MATCH).and_then(|h| h.to_str().ok());
        Ctx {
            tenant: tenant.id,
            tenant_info: tenant.clone(),
            base_url,
            if_match: Precondition::parse(if_match),
            principal: req.extensions().get::<Principal>().map(Principal::name),
            request_id: request_id(req),
            // The default tenant follows the configuration file; the
            // others their own row.
            profile: if tenant.is_default() {
                self.profile
            } else {
                tenant.profile
            },
            dialect: if tenant.is_default() {
                self.dialect
            } else {
                tenant.dialect
            },
        }
    }
}

/// The id the request middleware gave the request (see
/// `observe::request_id`): the client's plausible `X-Request-Id`, else a new
/// one; read from the header where the middleware is not installed.
fn request_id(req: &HttpRequest) -> Option<Arc<str>> {
    match req.extensions().get::<RequestId>() {
        Some(RequestId(id)) => Some(id.clone()),
        None => Some(request_id::request_id(req.headers())),
    }
}

/// Registers the SCIM API behind the guard. The authorization server's
/// endpoints, when on, are registered before this (see `startup`).
pub fn configure(
    cfg: &mut web::ServiceConfig,
    state: AppState,
    verifier: Arc<Verifier>,
    limiter: Arc<FailureLimiter>,
) {
    let bulk_limit = state.bulk.max_payload_bytes;
    let base = if state.base_path == "/" {
        String::new()
    } else {
        state.base_path.clone()
    };
    cfg.app_data(web::PayloadConfig::new(state.max_body_bytes))
        .app_data(body::BodyLimit(state.max_body_bytes))
        .app_data(web::Data::new(state))
        .app_data(web::Data::from(verifier))
        .app_data(web::Data::from(limiter))
        .configure(|cfg| api_scope(cfg, &tenant::scope_path(&base), bulk_limit))
        .configure(|cfg| api_scope(cfg, &base, bulk_limit));
}

/// The SCIM API under `path`, behind the guard: once at the base path and
/// once under the form that names the tenant.
fn api_scope(cfg: &mut web::ServiceConfig, path: &str, bulk_limit: usize) {
    cfg.service(
        web::scope(path)
            .wrap(middleware::from_fn(require_auth))
            .configure(search::routes)
            .configure(resources::routes)
            .configure(discovery::routes)
            .configure(|cfg| bulk::routes(cfg, bulk_limit))
            .default_service(web::to(error::unknown_route)),
    );
}
