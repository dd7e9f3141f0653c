use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::body::{
    ScimJson, page_response, projected, projection, query_pairs, read_streamed, resource_response,
    streamed_response,
};
use super::error::{ApiError, method_not_allowed};
use crate::scim::list::ListParams;
use crate::scim::resource::ResourceKind;

use crate::service::groups::{Answer, GroupWrite};

const KIND: ResourceKind = ResourceKind::Group;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Groups")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/Groups/{id}")
            .route(web::get().to(get))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete))
            .default_service(web::to(method_not_allowed)),
    );
}

fn params(state: &AppState, req: &HttpRequest) -> Result<ListParams, ApiError> {
    Ok(ListParams::from_pairs(
        &query_pairs(req)?,
        state.services.settings.page_limits,
    )?)
}

async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = params(&state, &req)?;
    let page = state
        .services
        .list_groups(&state.ctx(&req), &params)
        .await?;
    Ok(page_response(page))
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .create_group(&state.ctx(&req), body.0)
        .await?;
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
    // Entra reads groups with excludedAttributes=members: the projection
    // decides whether members are loaded at all.
    let projection = projection(&state, &req, KIND)?;
    let (view, members) = state
        .services
        .read_group(&state.ctx(&req), &id, &projection)
        .await?;
    Ok(read_streamed(&req, view, members))
}

async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let projection = projection(&state, &req, KIND)?;
    let written = state
        .services
        .replace_group(&state.ctx(&req), &id, body.0, Answer::Shaped(&projection))
        .await?;
    Ok(write_response(written))
}

async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let projection = projection(&state, &req, KIND)?;
    let answer = if state.group_patch_no_content {
        Answer::Nothing
    } else {
        Answer::Shaped(&projection)
    };
    let written = state
        .services
        .patch_group(&state.ctx(&req), &id, body.0, answer)
        .await?;
    Ok(write_response(written))
}

fn write_response(written: GroupWrite) -> HttpResponse {
    match written {
        GroupWrite::View(view, members) => {
            streamed_response(StatusCode::OK, view, members.map(|m| *m))
        }
        GroupWrite::Done => HttpResponse::NoContent().finish(),
    }
}

async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.services.delete_group(&state.ctx(&req), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
