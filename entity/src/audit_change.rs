use sea_orm::entity::prelude::*;

/// One committed write to one resource, recorded in the write's own
/// transaction.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_changes")]
pub struct Model {
    /// Time-ordered key: microseconds since the epoch, unique per server.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub tenant_id: Uuid,
    pub at: i64,
    pub request_id: Option<String>,
    pub principal: Option<String>,
    /// `User` or `Group`.
    pub kind: String,
    pub resource_id: Uuid,
    /// `create`, `replace`, `patch` or `delete`.
    pub operation: String,
    pub version_before: Option<i64>,
    pub version_after: Option<i64>,
    /// The user's `userName` or the group's `displayName`.
    pub label: Option<String>,
    /// JSON: the attributes changed (old and new values, secrets masked)
    /// and the members added or removed.
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
