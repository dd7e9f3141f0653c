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
    for kind in [ResourceKind::User, ResourceKind::Group] {
        cfg.service(
            web::resource(format!("/{}/.search", kind.endpoint()))
                .route(web::post().to(move |s, r, b| of_kind(kind, s, r, b)))
                .default_service(web::to(method_not_allowed)),
        );
    }
    cfg.service(
        web::resource("/.search")
            .route(web::post().to(all))
            .default_service(web::to(method_not_allowed)),
    );
}

fn params(state: &AppState, body: &ScimJson) -> Result<ListParams, ApiError> {
    Ok(ListParams::from_search_request(
        &body.0,
        state.services.settings.page_limits,
    )?)
}

async fn of_kind(
    kind: ResourceKind,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ScimJson,
) -> Result<HttpResponse, ApiError> {
    let params = params(&state, &body)?;
    let page = state.services.list(&state.ctx(&req), kind, &params).await?;
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
