//! Use cases. Each public method is one request's work in one transaction;
//! a failure rolls everything back, so a rejected request changes nothing.

pub mod admins;
mod answer;
mod browse;
pub mod bulk;
pub mod change;
pub mod console_sessions;
mod counting;
mod error;
pub mod groups;
mod kinds;
mod list;
mod members;
mod page_ends;
pub mod reindex;
mod render;
mod resource;
mod retry;
mod search;
pub mod tenants;
pub mod tokens;
pub mod users;

use std::sync::Arc;

use uuid::Uuid;

pub use answer::{Answer, Written};
pub use browse::{Member, MemberPage};
pub use change::{Change, ChangeHook, ChangeHooks, Documents, MemberChange, WriteOperation};
pub use counting::with_counts;
pub use error::ServiceError;
pub use list::ResourcePage;
pub use members::{GroupMembers, MemberFeed};
pub use page_ends::PageEnds;
pub use render::{Encoded, PageItem, ResourceView};
pub use retry::backoff;

use crate::scim::cursor::CursorKey;
use crate::scim::etag::Precondition;
use crate::scim::idp_dialect::Dialect;
use crate::scim::list::PageLimits;
use crate::scim::profile::Profile;
use crate::scim::resource::ResourceKind;
use crate::scim::schema::SchemaRegistry;
use crate::store::exec::Db;
use crate::store::query::Resolver;

/// The tenant named `default`: what a credential not bound to another
/// tenant reaches, and what every row written before tenants existed
/// belongs to.
pub const DEFAULT_TENANT: Uuid = Uuid::nil();

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub page_limits: PageLimits,
    pub store_password_hashes: bool,
    pub cursor: CursorSettings,
    /// Group members read per statement (see `members`).
    pub member_batch: u64,
}

/// RFC 9865 cursors: the key that signs them and how long they stay valid.
#[derive(Debug, Clone, Copy)]
pub struct CursorSettings {
    pub key: CursorKey,
    pub timeout_secs: u32,
}

#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub registry: Arc<SchemaRegistry>,
    pub settings: Settings,
    /// What sees every committed write (see `change`).
    pub hooks: ChangeHooks,
    /// Where recent index-paged pages ended, to seek from (see `page_ends`).
    pub page_ends: Arc<PageEnds>,
}

impl Services {
    /// Attribute paths of `kind` as the database at hand stores them.
    fn resolver(&self, ctx: &Ctx, kind: ResourceKind) -> Resolver<'_> {
        Resolver {
            registry: &self.registry,
            kind,
            backend: self.db.backend(),
            tenant: ctx.tenant,
        }
    }
}

/// Who is asking, how resources are addressed in responses, and on what
/// condition a write may proceed.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The id of `tenant_info`: every key of every table leads with it.
    pub tenant: Uuid,
    /// The tenant the request's credential belongs to.
    pub tenant_info: Arc<tenants::Tenant>,
    /// e.g. `https://scim.example.com/scim/v2`, for `meta.location`.
    pub base_url: String,
    /// `If-Match`: checked under the row lock, so check and write are one
    /// atomic step and two writers can never both win on one version.
    pub if_match: Precondition,
    /// The name of the credential the request authenticated with.
    pub principal: Option<Arc<str>>,
    /// The request's `X-Request-Id`, when it sent one.
    pub request_id: Option<Arc<str>>,
    /// The tenant's profile and the dialect rules in force for it: how
    /// requests are read and what answers look like.
    pub profile: Profile,
    pub dialect: Dialect,
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
fn parse_id(kind: ResourceKind, id: &str) -> Result<Uuid, ServiceError> {
    Uuid::parse_str(id).map_err(|_| ServiceError::not_found(kind, id))
}
