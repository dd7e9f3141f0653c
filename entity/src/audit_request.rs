use sea_orm::entity::prelude::*;

/// One request to the SCIM API or the OAuth endpoints, as the request log
/// keeps it: credentials never, secrets masked, bodies truncated.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_requests")]
pub struct Model {
    /// Time-ordered key: microseconds since the epoch, unique per server.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub tenant_id: Uuid,
    /// When the request arrived, in milliseconds.
    pub at: i64,
    pub request_id: String,
    pub client_addr: Option<String>,
    pub principal: Option<String>,
    pub method: String,
    /// The route template, e.g. `/scim/v2/Users/{id}`.
    pub route: String,
    /// The path and query string, secrets masked.
    pub path: String,
    pub status: i32,
    pub latency_us: i64,
    pub scim_type: Option<String>,
    /// `User`, `Group`, `Bulk`, `OAuth` or another endpoint's name.
    pub resource_kind: Option<String>,
    /// `create`, `replace`, `patch`, `delete`, `read`, `search`, ...
    pub operation: Option<String>,
    pub summary: String,
    /// JSON object of the request's headers, credentials left out.
    pub request_headers: String,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
