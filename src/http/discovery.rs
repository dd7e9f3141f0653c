//! /ServiceProviderConfig, /ResourceTypes and /Schemas, generated from the
//! same registry and capabilities the server runs on, so they cannot drift.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::body::json_response;
use super::error::{ApiError, method_not_allowed};
use crate::scim::ScimError;
use crate::scim::list::{PageInfo, list_response};
use crate::scim::profile::documentation_uri;
use crate::scim::schema::service_provider_config_json;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        (
            "/ServiceProviderConfig",
            web::get().to(service_provider_config),
        ),
        ("/ResourceTypes", web::get().to(resource_types)),
        ("/ResourceTypes/{name}", web::get().to(resource_type)),
        ("/Schemas", web::get().to(schemas)),
        ("/Schemas/{id}", web::get().to(schema)),
    ] {
        cfg.service(
            web::resource(path)
                .route(handler)
                .default_service(web::to(method_not_allowed)),
        );
    }
}

async fn service_provider_config(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let ctx = state.ctx(&req);
    let mut spc = service_provider_config_json(&state.capabilities, &ctx.base_url);
    if let (Some(uri), Value::Object(obj)) = (documentation_uri(ctx.profile), &mut spc) {
        obj.entry("documentationUri").or_insert_with(|| uri.into());
    }
    let emits = state.emits_events.as_ref().is_some_and(|f| f(ctx.tenant));
    if let (false, Value::Object(obj)) = (emits, &mut spc) {
        obj.remove("securityEvents");
    }
    json_response(StatusCode::OK, &spc)
}

async fn resource_types(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let ctx = state.ctx(&req);
    let registry = &state.services.registry;
    let all: Vec<Value> = registry
        .resource_types()
        .iter()
        .map(|rt| registry.resource_type_json(rt, &ctx.base_url))
        .collect();
    json_response(
        StatusCode::OK,
        &list_response(all.len() as u64, &PageInfo::first(), all),
    )
}

async fn resource_type(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<super::params::Name>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.ctx(&req);
    let registry = &state.services.registry;
    let rt = registry
        .resource_type(&name)
        .ok_or_else(|| ScimError::not_found(format!("no resource type {name}")))?;
    Ok(json_response(
        StatusCode::OK,
        &registry.resource_type_json(rt, &ctx.base_url),
    ))
}

async fn schemas(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let ctx = state.ctx(&req);
    let registry = &state.services.registry;
    let all: Vec<Value> = registry
        .schemas()
        .iter()
        .map(|s| registry.schema_json(s, &ctx.base_url))
        .collect();
    json_response(
        StatusCode::OK,
        &list_response(all.len() as u64, &PageInfo::first(), all),
    )
}

async fn schema(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<super::params::Id>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.ctx(&req);
    let registry = &state.services.registry;
    let s = registry
        .schema(&id)
        .ok_or_else(|| ScimError::not_found(format!("no schema {id}")))?;
    Ok(json_response(
        StatusCode::OK,
        &registry.schema_json(s, &ctx.base_url),
    ))
}
