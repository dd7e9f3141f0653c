use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::body::{
    ScimJson, page_response, projected, projection, query_pairs, read_encoded, resource_response,
};
use super::error::{ApiError, method_not_allowed};
use crate::scim::list::ListParams;
use crate::scim::resource::ResourceKind;

const KIND: ResourceKind = ResourceKind::User;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Users")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/Users/{id}")
            .route(web::get().to(get))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete))
            .default_service(web::to(method_not_allowed)),
    );
}

async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = ListParams::from_pairs(&query_pairs(&req)?, state.services.settings.page_limits)?;
    let page = state.services.list_users(&state.ctx(&req), &params).await?;
    Ok(page_response(page))
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let view = state.services.create_user(&state.ctx(&req), body.0).await?;
    Ok(resource_response(
        StatusCode::CREATED,
        projected(&state, &req, KIND, view)?,
    ))
}

async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let projection = projection(&state, &req, KIND)?;
    let answer = state
        .services
        .get_user(&state.ctx(&req), &id, &projection)
        .await?;
    Ok(read_encoded(&req, answer))
}

async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .replace_user(&state.ctx(&req), &id, body.0)
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        projected(&state, &req, KIND, view)?,
    ))
}

async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .patch_user(&state.ctx(&req), &id, body.0)
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        projected(&state, &req, KIND, view)?,
    ))
}

async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.services.delete_user(&state.ctx(&req), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
