//! `POST …/.search` (RFC 7644 §3.4.3): a query with its parameters in a
//! SearchRequest body instead of the URL (long filters, or filters that
//! should not appear in access logs). Same semantics as the GET lists.

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::body::{ScimJson, page_response};
use super::error::{ApiError, method_not_allowed};
use crate::scim::list::ListParams;
use crate::scim::resource::ResourceKind;

/// Registered before the `{id}` routes, so `.search` is never taken for an id.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/Users/.search", web::post().to(users)),
        ("/Groups/.search", web::post().to(groups)),
        ("/.search", web::post().to(all)),
    ] {
        cfg.service(
            web::resource(path)
                .route(handler)
                .default_service(web::to(method_not_allowed)),
        );
    }
}

fn params(state: &AppState, body: &ScimJson) -> Result<ListParams, ApiError> {
    Ok(ListParams::from_search_request(
        &body.0,
        state.services.settings.page_limits,
    )?)
}

async fn users(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let params = params(&state, &body)?;
    let page = state
        .services
        .list(&state.ctx(&req), ResourceKind::User, &params)
        .await?;
    Ok(page_response(page))
}

async fn groups(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let params = params(&state, &body)?;
    let page = state
        .services
        .list(&state.ctx(&req), ResourceKind::Group, &params)
        .await?;
    Ok(page_response(page))
}

async fn all(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let params = params(&state, &body)?;
    let page = state.services.search_all(&state.ctx(&req), &params).await?;
    Ok(page_response(page))
}
