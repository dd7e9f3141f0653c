//! The console's JSON API under `<console.path>/api/`, for admins only
//! (`admin_guard`). The HTML console calls the same query functions.

use std::sync::Arc;

use actix_web::{HttpResponse, middleware, web};
use serde_json::json;

use super::admin_guard::{Admin, require_admin};
use crate::auth::admins::AdminVerifier;

/// What the console's routes serve.
#[derive(Clone)]
pub struct ConsoleApi {
    /// `console.path`, e.g. `/console`.
    pub path: String,
    pub admins: Arc<AdminVerifier>,
}

pub fn routes(cfg: &mut web::ServiceConfig, api: ConsoleApi) {
    cfg.app_data(web::Data::new(api.admins.clone())).service(
        web::scope(&format!("{}/api", api.path))
            .wrap(middleware::from_fn(require_admin))
            .route("/me", web::get().to(me)),
    );
}

/// The signed-in admin.
async fn me(admin: Admin) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "name": admin.name }))
}
