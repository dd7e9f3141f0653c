//! Use cases. Each public method is one request's work in one transaction;
//! a failure rolls everything back, so a rejected request changes nothing.

pub mod bulk;
mod error;
pub mod groups;
pub mod lane;
mod list;
mod members;
pub mod reindex;
mod render;
mod retry;
mod search;
pub mod tokens;
pub mod users;

use std::future::Future;
use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

pub use error::ServiceError;
pub use list::ResourcePage;
pub use members::{GroupMembers, MemberFeed};
pub use render::{Encoded, PageItem, ResourceView};

use crate::scim::cursor::CursorKey;
use crate::scim::etag::Precondition;
use crate::scim::idp_dialect::Dialect;
use crate::scim::list::PageLimits;
use crate::scim::resource::ResourceKind;
use crate::scim::schema::SchemaRegistry;
use crate::store::query::Resolver;
use crate::store::source::Reads;
use crate::store::write::WriteTxn;

/// Every table is keyed by tenant; until tenants are configurable, all data
/// belongs to this one.
pub const DEFAULT_TENANT: Uuid = Uuid::nil();

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub page_limits: PageLimits,
    pub dialect: Dialect,
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
    pub db: DatabaseConnection,
    /// Where write transactions run (see `store::connect_writer`).
    pub writer: DatabaseConnection,
    /// Point reads on the request's own thread (SQLite files only).
    pub inline: Option<crate::store::inline::InlineReads>,
    /// Where writes run (SQLite only; see `lane`).
    pub lane: Option<lane::WriteLane>,
    pub registry: Arc<SchemaRegistry>,
    pub settings: Settings,
}

impl Services {
    /// Runs a write on the write lane, if there is one, else here.
    async fn on_lane<T, F, Fut>(&self, ctx: &Ctx, work: F) -> Result<T, ServiceError>
    where
        F: FnOnce(Services, Ctx) -> Fut,
        Fut: Future<Output = Result<T, ServiceError>> + Send + 'static,
        T: Send + 'static,
    {
        let work = work(self.clone(), ctx.clone());
        match &self.lane {
            Some(lane) => lane.run(work).await,
            None => work.await,
        }
    }

    /// A write transaction: on the lane's own SQLite connection where
    /// there is one (see `store::write`), else on the writer pool.
    async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        match self.lane.as_ref().and_then(lane::WriteLane::writer) {
            Some(writer) => writer.begin().await.map(WriteTxn::Lane),
            None => crate::store::begin_write(&self.writer)
                .await
                .map(WriteTxn::Pool),
        }
    }

    /// Where reads outside a transaction run.
    fn reads(&self) -> Reads<'_> {
        Reads {
            pool: &self.db,
            inline: self.inline.as_ref(),
        }
    }

    /// Attribute paths of `kind` as the database at hand stores them.
    fn resolver(&self, ctx: &Ctx, kind: ResourceKind) -> Resolver<'_> {
        Resolver {
            registry: &self.registry,
            kind,
            backend: self.db.get_database_backend(),
            tenant: ctx.tenant,
        }
    }
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
fn parse_id(kind: ResourceKind, id: &str) -> Result<Uuid, ServiceError> {
    Uuid::parse_str(id).map_err(|_| ServiceError::not_found(kind, id))
}
