//! What operators see of a running server: health and readiness probes,
//! Prometheus metrics, request ids, the access log and the log format,
//! and the `healthcheck` command that probes another process.

pub mod health;
pub mod healthcheck;
pub mod logging;
pub mod metrics;
pub mod request;
pub mod request_id;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use actix_web::dev::ServiceRequest;
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::DatabaseConnection;

use self::health::Readiness;
use self::metrics::Metrics;
use crate::auth::Verifier;
use crate::config::Config;
use crate::http::admit;
use crate::http::error::scim_error_response;
use crate::scim::ScimError;

pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const METRICS: &str = "/metrics";

/// Shared by every worker, in the application's data.
pub struct Observe {
    pub metrics: Option<Arc<Metrics>>,
    readiness: Readiness,
    /// Who may read `/metrics` on the main listener.
    metrics_open: bool,
    metrics_allow: Vec<String>,
    /// The management listener's address once bound; `None` without one.
    management: Option<Arc<OnceLock<Vec<SocketAddr>>>>,
}

impl Observe {
    pub fn new(config: &Config, metrics: Option<Arc<Metrics>>, db: DatabaseConnection) -> Self {
        Self {
            metrics,
            readiness: Readiness::new(db, &config.database.url),
            metrics_open: config.metrics.open,
            metrics_allow: config.metrics.allow.clone(),
            management: config
                .server
                .management_bind
                .as_ref()
                .map(|_| Arc::default()),
        }
    }

    /// Where the management listener's bound address goes, when one is
    /// configured.
    pub fn management_slot(&self) -> Option<Arc<OnceLock<Vec<SocketAddr>>>> {
        self.management.clone()
    }

    /// `Err(reason)` when this node should not receive traffic, as
    /// `/readyz` reports it.
    pub async fn ready(&self) -> Result<(), String> {
        self.readiness.check().await
    }

    /// With a management listener, it serves nothing but the probes and
    /// the metrics, and the main listener no metrics.
    fn misrouted(&self, req: &ServiceRequest) -> bool {
        let Some(slot) = &self.management else {
            return false;
        };
        let local = req.app_config().local_addr();
        let on_management = slot.get().is_some_and(|addrs| addrs.contains(&local));
        let path = req.path();
        if on_management {
            ![HEALTHZ, READYZ, METRICS].contains(&path)
        } else {
            path == METRICS
        }
    }
}

/// The probes and `/metrics`, at the root whatever the SCIM base path.
/// Registered before every other route, so a base path of "/" cannot
/// claim them.
pub fn routes(cfg: &mut web::ServiceConfig, observe: Arc<Observe>) {
    if let Some(metrics) = &observe.metrics {
        cfg.app_data(web::Data::from(metrics.clone()));
    }
    cfg.app_data(web::Data::from(observe))
        .route(HEALTHZ, web::get().to(health::healthz))
        .route(READYZ, web::get().to(health::readyz))
        .route(METRICS, web::get().to(scrape));
}

async fn scrape(req: HttpRequest, observe: web::Data<Observe>) -> HttpResponse {
    let Some(metrics) = &observe.metrics else {
        return scim_error_response(&ScimError::not_found("metrics are disabled"));
    };
    if observe.management.is_none()
        && !observe.metrics_open
        && let Err(refused) = allowed(&req, &observe.metrics_allow).await
    {
        return refused;
    }
    match metrics.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type(metrics::CONTENT_TYPE)
            .body(text),
        Err(e) => {
            log::error!("cannot render the metrics: {e}");
            scim_error_response(&ScimError::internal("cannot render the metrics"))
        }
    }
}

/// On the main listener `/metrics` needs a credential named in
/// `[metrics] allow`, checked like any SCIM request's (failure limits
/// included).
async fn allowed(req: &HttpRequest, allow: &[String]) -> Result<(), HttpResponse> {
    if req.app_data::<web::Data<Verifier>>().is_none() {
        return Err(scim_error_response(&ScimError::forbidden(
            "metrics need a credential and none is configured",
        )));
    }
    let principal = admit(req).await?.principal;
    if allow.iter().any(|a| **a == *principal.name()) {
        Ok(())
    } else {
        Err(scim_error_response(&ScimError::forbidden(
            "this credential may not read the metrics; name it in [metrics] allow",
        )))
    }
}
