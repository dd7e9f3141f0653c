//! Use cases. Each public method is one request's work in one transaction;
//! a failure rolls everything back, so a rejected request changes nothing.

pub mod bulk;
mod error;
pub mod groups;
mod render;
mod retry;
pub mod tokens;
pub mod users;

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

pub use error::ServiceError;
pub use render::ResourceView;

use crate::scim::dialect::Dialect;
use crate::scim::etag::Precondition;
use crate::scim::list::PageLimits;
use crate::scim::schema::SchemaRegistry;

/// Every table is keyed by tenant; until tenants are configurable, all data
/// belongs to this one.
pub const DEFAULT_TENANT: Uuid = Uuid::nil();

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub page_limits: PageLimits,
    pub dialect: Dialect,
    pub store_password_hashes: bool,
}

#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub registry: Arc<SchemaRegistry>,
    pub settings: Settings,
}

/// Who is asking, how resources are addressed in responses, and on what
/// condition a write may proceed.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub tenant: Uuid,
    /// e.g. `https://scim.example.com/scim/v2`, for `meta.location`.
    pub base_url: String,
    /// `If-Match`: checked under the row lock, so check and write are one
    /// atomic step and two writers can never both win on one version.
    pub if_match: Precondition,
}

impl Ctx {
    fn check_version(&self, version: i64) -> Result<(), ServiceError> {
        if self.if_match.matches(version) {
            Ok(())
        } else {
            Err(ServiceError::PreconditionFailed)
        }
    }
}

/// Resource ids are UUIDs; anything else names nothing, and is a 404 rather
/// than a 400 (Okta probes with ids like `00919288221112222`).
fn parse_id(kind: crate::scim::resource::ResourceKind, id: &str) -> Result<Uuid, ServiceError> {
    Uuid::parse_str(id).map_err(|_| ServiceError::not_found(kind, id))
}
