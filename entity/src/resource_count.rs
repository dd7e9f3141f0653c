use sea_orm::entity::prelude::*;

/// How many resources of one kind a tenant holds, kept by every write that
/// creates or deletes one, so that an unfiltered list's `totalResults`
/// needs no count of the table. A tenant's count is spread over a few
/// stripes, summed when read: concurrent creates then rarely wait on (or,
/// on Galera, conflict over) the same row.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// `User` or `Group`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub stripe: i32,
    /// Resources created less resources deleted (one stripe's share).
    pub live: i64,
    /// Resources deleted, plus one per recount: it only grows, so two
    /// reads that see the same `live` and `removed` sums saw the same set
    /// of resources (positions remembered for paging rely on it).
    pub removed: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
