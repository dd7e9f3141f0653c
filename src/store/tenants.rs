//! The tenants table, and removing everything a tenant owns.

use entity::tenant;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

/// Every table whose rows belong to one tenant, in the order a removal
/// deletes them (members before what they point at). A new tenant-keyed
/// table is one more line here.
pub const TENANT_TABLES: &[&str] = &[
    "group_members",
    "user_emails",
    "users",
    "groups",
    "api_tokens",
    "api_token_use",
    "oauth_refresh_tokens",
    "oauth_codes",
    "oauth_clients",
    "resource_counts",
];

pub async fn insert<C: ConnectionTrait>(c: &C, model: tenant::ActiveModel) -> Result<(), DbErr> {
    tenant::Entity::insert(model)
        .exec_without_returning(c)
        .await
        .map(|_| ())
}

pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<tenant::Model>, DbErr> {
    tenant::Entity::find()
        .order_by_asc(tenant::Column::Name)
        .all(c)
        .await
}

pub async fn find_by_name<C: ConnectionTrait>(
    c: &C,
    name: &str,
) -> Result<Option<tenant::Model>, DbErr> {
    super::by_key(
        c,
        tenant::Entity::find().filter(tenant::Column::Name.eq(name)),
    )
    .await
}

pub async fn find_by_id<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
) -> Result<Option<tenant::Model>, DbErr> {
    super::by_key(c, tenant::Entity::find().filter(tenant::Column::Id.eq(id))).await
}

/// Deletes the tenant and every row of [`TENANT_TABLES`] it owns, in one
/// transaction: rows deleted per table, or `None` when there was no such
/// tenant.
pub async fn remove(
    db: &DatabaseConnection,
    id: Uuid,
) -> Result<Option<Vec<(&'static str, u64)>>, DbErr> {
    let txn = super::begin_write(db).await?;
    let mut deleted = Vec::with_capacity(TENANT_TABLES.len());
    for table in TENANT_TABLES {
        let stmt = Query::delete()
            .from_table(Alias::new(*table))
            .and_where(Expr::col(Alias::new("tenant_id")).eq(id))
            .to_owned();
        deleted.push((*table, txn.execute(&stmt).await?.rows_affected()));
    }
    let gone = tenant::Entity::delete_many()
        .filter(tenant::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if gone.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(None);
    }
    txn.commit().await?;
    Ok(Some(deleted))
}
