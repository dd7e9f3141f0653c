//! The operator console: server-rendered HTML pages over the service layer,
//! for people rather than IdPs. Signed-in admins follow what the IdPs sent
//! (the audit trail), browse users and groups, manage credentials and read
//! the server's status. It sits outside the
//! SCIM base path (`[console] path`), answers in HTML, and keeps its
//! sessions in the database (`service::console_sessions`).

mod activity;
mod assets;
mod browse;
mod credentials;
mod csrf;
mod error;
mod history;
mod layout;
mod login;
mod request;
mod session;
mod status;
mod tenant;

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;

use crate::audit::Audit;
use crate::auth::admins::AdminVerifier;

pub use error::ConsoleError;
pub use session::Signed;
pub use status::StatusFacts;

/// What every console handler shares.
pub struct Console {
    /// Where the console is served, e.g. `/console`.
    pub path: String,
    pub ttl_ms: i64,
    pub db: DatabaseConnection,
    pub admins: Arc<AdminVerifier>,
    /// The request log, when `[audit] enabled`: the live feed's source.
    pub audit: Option<Arc<Audit>>,
    pub facts: StatusFacts,
    /// Whether cookies are marked `Secure`: the listener serves TLS or the
    /// public URL is HTTPS (TLS ended at a proxy).
    pub secure_cookies: bool,
}

impl Console {
    /// `suffix` under the console's path.
    pub fn at(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.path)
    }

    /// Where the activity pages read.
    pub fn audit_dbs(&self) -> crate::audit::query::AuditDbs {
        crate::audit::query::AuditDbs::new(&self.db, self.audit.as_deref())
    }
}

/// Registers the console's pages. Before the SCIM API, so that a base path
/// of "/" cannot claim them.
pub fn routes(cfg: &mut web::ServiceConfig, console: Arc<Console>) {
    let path = console.path.clone();
    layout::remember_path(&path);
    cfg.service(
        web::scope(&path)
            .app_data(web::Data::from(console))
            .app_data(web::FormConfig::default().limit(login::MAX_FORM_BYTES))
            .route("", web::get().to(home))
            .route("/", web::get().to(home))
            .route("/assets/{name}", web::get().to(assets::serve))
            .route("/login", web::get().to(login::show))
            .route("/login", web::post().to(login::submit))
            .route("/logout", web::post().to(login::sign_out))
            .configure(activity::routes)
            .configure(request::routes)
            .configure(browse::routes)
            .configure(credentials::routes)
            .configure(tenant::routes)
            .route("/status", web::get().to(status::show))
            .default_service(web::to(not_found)),
    );
}

async fn home(console: web::Data<Console>) -> HttpResponse {
    layout::see_other(&console.at("/activity"))
}

async fn not_found() -> Result<HttpResponse, ConsoleError> {
    Err(ConsoleError::NotFound("No such page.".to_owned()))
}
