//! Each tenant's number of users and of groups (`resource_counts`), kept
//! in the transaction of every write that creates or deletes one, so that
//! an unfiltered list reads its `totalResults` from a few rows instead of
//! counting the table (a count costs time in proportion to the rows).
//!
//! A tenant's count is spread over `STRIPES` rows, summed when read: a
//! write updates one row, picked by the resource's id, and holds its lock
//! until it commits. With one row, every create of a tenant on MariaDB
//! would wait for the one before it to commit, and concurrent creates on
//! two Galera nodes would fail certification against each other.

use entity::resource_count::{self, Column};
use entity::{group, user};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, QueryTrait, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::exec::{Decode, Row, Source, Write};
use crate::scim::resource::ResourceKind;

/// Rows one tenant's count of one kind is spread over.
pub const STRIPES: u8 = 16;

/// A tenant's count of one kind as one read saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Resources that exist.
    pub live: u64,
    /// Resources ever deleted (and recounts). With `live`, it tells two
    /// reads apart: equal tallies mean that no resource of the kind was
    /// created or deleted between them, since both `removed` and
    /// `live + removed` only grow.
    pub removed: u64,
}

/// Adds `live` and `removed` to the count of `kind`, on the stripe `id`
/// picks. In the write's transaction: it commits or rolls back with it.
pub async fn adjust<C: Write>(
    c: &C,
    tenant: Uuid,
    kind: ResourceKind,
    id: Uuid,
    live: i64,
    removed: i64,
) -> Result<(), DbErr> {
    let stripe = i32::from(id.as_bytes()[0] % STRIPES);
    let add = |col: Column, n: i64| Expr::col(col).add(n);
    let update = resource_count::Entity::update_many()
        .col_expr(Column::Live, add(Column::Live, live))
        .col_expr(Column::Removed, add(Column::Removed, removed))
        .filter(Column::TenantId.eq(tenant))
        .filter(Column::Kind.eq(kind.name()))
        .filter(Column::Stripe.eq(stripe));
    if c.exec(update.build(c.backend())).await? == 1 {
        return Ok(());
    }
    // The stripe's first write; a concurrent first write may insert it
    // between the two statements, hence the upsert.
    let row = resource_count::ActiveModel {
        tenant_id: Set(tenant),
        kind: Set(kind.name().to_owned()),
        stripe: Set(stripe),
        live: Set(live),
        removed: Set(removed),
    };
    let on_conflict = OnConflict::columns([Column::TenantId, Column::Kind, Column::Stripe])
        .value(Column::Live, add(Column::Live, live))
        .value(Column::Removed, add(Column::Removed, removed))
        .to_owned();
    let insert = resource_count::Entity::insert(row).on_conflict(on_conflict);
    c.exec(insert.build(c.backend())).await.map(|_| ())
}

/// The count of `kind` in `tenant`, as the read's transaction sees it.
pub async fn tally<S: Source>(c: &S, tenant: Uuid, kind: ResourceKind) -> Result<Tally, DbErr> {
    let select = resource_count::Entity::find()
        .select_only()
        .column(Column::Live)
        .column(Column::Removed)
        .filter(Column::TenantId.eq(tenant))
        .filter(Column::Kind.eq(kind.name()));
    let stripes: Vec<Stripe> = c.rows(select.build(c.backend())).await?;
    let (live, removed) = stripes
        .iter()
        .fold((0i64, 0i64), |(l, r), s| (l + s.live, r + s.removed));
    Ok(Tally {
        live: u64::try_from(live).unwrap_or(0),
        removed: u64::try_from(removed).unwrap_or(0),
    })
}

/// One stripe's share.
struct Stripe {
    live: i64,
    removed: i64,
}

impl Decode for Stripe {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            live: row.i64("live")?,
            removed: row.i64("removed")?,
        })
    }
}

/// Sets `tenant`'s counts from its rows, for what writes rows without
/// the write path (the benchmark seeder). Not for a tenant that a server
/// is writing to at the same time: a create committed between the count
/// and the commit would be lost from it.
pub async fn recount<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    tenant: Uuid,
) -> Result<(), DbErr> {
    let txn = conn.begin().await?;
    let users = user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant))
        .count(&txn)
        .await?;
    let groups = group::Entity::find()
        .filter(group::Column::TenantId.eq(tenant))
        .count(&txn)
        .await?;
    for (kind, n) in [(ResourceKind::User, users), (ResourceKind::Group, groups)] {
        let before = tally(&txn, tenant, kind).await?;
        resource_count::Entity::delete_many()
            .filter(resource_count::Column::TenantId.eq(tenant))
            .filter(resource_count::Column::Kind.eq(kind.name()))
            .exec(&txn)
            .await?;
        // `removed` grows, so that no position remembered before the
        // recount is taken for one after it.
        let row = resource_count::ActiveModel {
            tenant_id: Set(tenant),
            kind: Set(kind.name().to_owned()),
            stripe: Set(0),
            live: Set(i64::try_from(n).unwrap_or(i64::MAX)),
            removed: Set(i64::try_from(before.removed).unwrap_or(0) + 1),
        };
        resource_count::Entity::insert(row).exec(&txn).await?;
    }
    txn.commit().await
}
