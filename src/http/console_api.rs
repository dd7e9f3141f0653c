//! The console's JSON API under `<console.path>/api/`, for admins only
//! (`admin_guard`). The HTML console calls the same query functions
//! (`audit::query`).
//!
//! - `GET api/me`: the signed-in admin.
//! - `GET api/activity?limit=&before=&status=&principal=&resource=&operation=&since=&until=&tenant=`:
//!   requests, newest first, with the changes each made; `next_before`
//!   pages on.
//! - `GET api/activity/stream`: new entries as server-sent events, one
//!   `activity` event (the entry as JSON) each.
//! - `GET api/activity/{request_id}`: one request with its redacted
//!   headers and bodies and its changes' diffs.
//! - `GET api/resources/{id}/history?before=`: the changes to one
//!   resource, newest first; `next_before` pages on.

use std::sync::Arc;

use actix_web::{HttpResponse, middleware, web};
use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio::sync::broadcast;

use super::admin_guard::{Admin, require_admin};
use super::error::scim_error_response;
use crate::audit::Audit;
use crate::audit::query::{self, ActivityFilter, AuditDbs, QueryError};
use crate::auth::admins::AdminVerifier;
use crate::scim::ScimError;

/// What the console's routes serve.
#[derive(Clone)]
pub struct ConsoleApi {
    /// `console.path`, e.g. `/console`.
    pub path: String,
    pub admins: Arc<AdminVerifier>,
    /// The request log, when `[audit] enabled`.
    pub audit: Option<Arc<Audit>>,
    pub db: DatabaseConnection,
}

pub fn routes(cfg: &mut web::ServiceConfig, api: ConsoleApi) {
    if let Some(audit) = &api.audit {
        cfg.app_data(web::Data::from(audit.clone()));
    }
    cfg.app_data(web::Data::new(api.admins.clone())).service(
        web::scope(&format!("{}/api", api.path))
            .app_data(web::Data::new(AuditDbs::new(&api.db, api.audit.as_deref())))
            .wrap(middleware::from_fn(require_admin))
            .route("/me", web::get().to(me))
            .route("/activity", web::get().to(activity))
            .route("/activity/stream", web::get().to(activity_stream))
            .route("/activity/{request_id}", web::get().to(activity_detail))
            .route("/resources/{id}/history", web::get().to(history)),
    );
}

/// The signed-in admin.
async fn me(admin: Admin) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "name": admin.name }))
}

async fn activity(dbs: web::Data<AuditDbs>, filter: web::Query<ActivityFilter>) -> HttpResponse {
    match query::activity(&dbs, &filter).await {
        Ok(page) => HttpResponse::Ok().json(page),
        Err(e) => query_error(&e),
    }
}

async fn activity_detail(dbs: web::Data<AuditDbs>, id: web::Path<String>) -> HttpResponse {
    match query::activity_detail(&dbs, &id).await {
        Ok(Some(detail)) => HttpResponse::Ok().json(detail),
        Ok(None) => scim_error_response(&ScimError::not_found(format!(
            "no request {id:?} in the log"
        ))),
        Err(e) => query_error(&e),
    }
}

#[derive(serde::Deserialize)]
struct HistoryQuery {
    before: Option<i64>,
}

async fn history(
    dbs: web::Data<AuditDbs>,
    id: web::Path<String>,
    page: web::Query<HistoryQuery>,
) -> HttpResponse {
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return scim_error_response(&ScimError::not_found(format!("no resource {id:?}")));
    };
    match query::resource_history(&dbs.main, id, page.before, query::MAX_LIMIT).await {
        Ok(history) => HttpResponse::Ok().json(history),
        Err(e) => query_error(&QueryError::Db(e)),
    }
}

/// New entries as they are written, as server-sent events. A reader that
/// falls behind misses entries (a `lagged` event says how many) rather
/// than holding the writer up.
async fn activity_stream(audit: Option<web::Data<Audit>>) -> HttpResponse {
    let Some(audit) = audit else {
        return scim_error_response(&ScimError::not_found("the audit trail is off"));
    };
    let receiver = audit.subscribe();
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(entry) => {
                let json = serde_json::to_string(&*entry).unwrap_or_default();
                format!("event: activity\ndata: {json}\n\n")
            }
            Err(broadcast::error::RecvError::Lagged(n)) => format!("event: lagged\ndata: {n}\n\n"),
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(event)), receiver))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(events)
}

fn query_error(e: &QueryError) -> HttpResponse {
    match e {
        QueryError::BadFilter(m) => scim_error_response(&ScimError::invalid_value(m.clone())),
        QueryError::Db(e) => {
            log::warn!("console: cannot read the audit trail: {e}");
            scim_error_response(&ScimError::unavailable(
                "the audit trail cannot be read now",
            ))
        }
    }
}
