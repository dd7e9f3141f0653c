//! `/Users` and `/Groups`: one set of handlers for every resource kind.
//! Each translates between HTTP and the service layer and nothing else;
//! what a write answers with is decided here, once for every kind.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::body::{
    ScimJson, page_response, projection, query_pairs, read_encoded, read_streamed,
    streamed_response,
};
use super::error::{ApiError, method_not_allowed};
use crate::scim::list::ListParams;
use crate::scim::projection::Projection;
use crate::scim::resource::ResourceKind;
use crate::service::{Answer, Written};

pub fn routes(cfg: &mut web::ServiceConfig) {
    for kind in [ResourceKind::User, ResourceKind::Group] {
        let endpoint = kind.endpoint();
        cfg.service(
            web::resource(format!("/{endpoint}"))
                .route(web::get().to(move |s, r| list(kind, s, r)))
                .route(web::post().to(move |s, r, b| create(kind, s, r, b)))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource(format!("/{endpoint}/{{id}}"))
                .route(web::get().to(move |s, r, i| get(kind, s, r, i)))
                .route(web::put().to(move |s, r, i, b| edit(kind, Edit::Replace, s, r, i, b)))
                .route(web::patch().to(move |s, r, i, b| edit(kind, Edit::Patch, s, r, i, b)))
                .route(web::delete().to(move |s, r, i| delete(kind, s, r, i)))
                .default_service(web::to(method_not_allowed)),
        );
    }
}

async fn list(
    kind: ResourceKind,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let limits = state.services.settings.page_limits;
    let params = ListParams::from_pairs(&query_pairs(&req)?, limits)?;
    let page = state.services.list(&state.ctx(&req), kind, &params).await?;
    Ok(page_response(page))
}

async fn get(
    kind: ResourceKind,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<super::params::Id>,
) -> Result<HttpResponse, ApiError> {
    // Entra reads groups with excludedAttributes=members: the projection
    // decides whether members are loaded at all.
    let projection = projection(&state, &req, kind)?;
    let (ctx, services) = (state.ctx(&req), &state.services);
    Ok(match kind {
        ResourceKind::User => read_encoded(&req, services.get_user(&ctx, &id, &projection).await?),
        ResourceKind::Group => {
            let (view, members) = services.read_group(&ctx, &id, &projection).await?;
            read_streamed(&req, view, members)
        }
    })
}

async fn create(
    kind: ResourceKind,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    write(kind, Verb::Create, &state, &req, body).await
}

/// PUT and PATCH of one resource.
#[derive(Clone, Copy)]
enum Edit {
    Replace,
    Patch,
}

async fn edit(
    kind: ResourceKind,
    edit: Edit,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<super::params::Id>,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let verb = match edit {
        Edit::Replace => Verb::Replace(&id),
        Edit::Patch => Verb::Patch(&id),
    };
    write(kind, verb, &state, &req, body).await
}

/// Which write a request asks for, and of which resource.
enum Verb<'a> {
    Create,
    Replace(&'a str),
    Patch(&'a str),
}

async fn write(
    kind: ResourceKind,
    verb: Verb<'_>,
    state: &AppState,
    req: &HttpRequest,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let projection = projection(state, req, kind)?;
    let shaped = Answer::Shaped(&projection);
    let (ctx, services) = (state.ctx(req), &state.services);
    let (status, written) = match verb {
        Verb::Create => (
            StatusCode::CREATED,
            services.create(&ctx, kind, body.0, shaped).await?,
        ),
        Verb::Replace(id) => (
            StatusCode::OK,
            services.replace(&ctx, kind, id, body.0, shaped).await?,
        ),
        Verb::Patch(id) => {
            let answer = patch_answer(state, kind, &projection);
            let written = services.patch(&ctx, kind, id, body.0, answer).await?;
            (StatusCode::OK, written)
        }
    };
    Ok(write_response(status, written))
}

/// A group PATCH may be configured to answer 204: IdPs that change large
/// groups do not read the answer, and rendering it would read every member.
fn patch_answer<'p>(
    state: &AppState,
    kind: ResourceKind,
    projection: &'p Projection<'p>,
) -> Answer<'p> {
    if kind == ResourceKind::Group && state.group_patch_no_content {
        Answer::Nothing
    } else {
        Answer::Shaped(projection)
    }
}

async fn delete(
    kind: ResourceKind,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<super::params::Id>,
) -> Result<HttpResponse, ApiError> {
    state.services.delete(&state.ctx(&req), kind, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The one answer rule for writes: the resource as the request shaped it
/// (its members streamed when many), or 204 when no body was asked for.
fn write_response(status: StatusCode, written: Written) -> HttpResponse {
    match written {
        Written::Shown(view, members) => streamed_response(status, view, members.map(|m| *m)),
        Written::Done { .. } => HttpResponse::NoContent().finish(),
    }
}
