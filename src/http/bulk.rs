use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::body::{BodyLimit, ScimJson, json_response};
use super::error::{ApiError, method_not_allowed};
use crate::scim::bulk;
use crate::scim::etag::etag;

/// `/Bulk` takes larger bodies than single-resource routes.
pub fn routes(cfg: &mut web::ServiceConfig, max_payload_bytes: usize) {
    cfg.service(
        web::resource("/Bulk")
            .app_data(web::PayloadConfig::new(max_payload_bytes))
            .app_data(BodyLimit(max_payload_bytes))
            .route(web::post().to(run))
            .default_service(web::to(method_not_allowed)),
    );
}

async fn run(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let request = bulk::parse_request(body.0, state.bulk.max_operations)?;
    let outcomes = state.services.bulk(&state.ctx(&req), request).await;
    let entries: Vec<Value> = outcomes
        .into_iter()
        .map(|o| match o.result {
            Ok(done) => {
                let version = done.version.map(etag);
                bulk::response_entry(
                    o.method,
                    o.bulk_id.as_deref(),
                    Some(&done.location),
                    version.as_deref(),
                    done.status,
                    None,
                )
            }
            Err(e) => {
                let e = ApiError::from(e).0;
                bulk::response_entry(
                    o.method,
                    o.bulk_id.as_deref(),
                    None,
                    None,
                    e.status,
                    Some(e.to_json()),
                )
            }
        })
        .collect();
    Ok(json_response(StatusCode::OK, &bulk::response(entries)))
}
