//! Rows whose search columns are not computed yet (written before those
//! columns existed), and writing the columns back. Not a resource change:
//! neither `version` nor `meta.lastModified` moves.

use entity::{group, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

pub async fn pending_users<C: ConnectionTrait>(
    c: &C,
    limit: u64,
) -> Result<Vec<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::DocSearch.is_null())
        .order_by_asc(user::Column::TenantId)
        .order_by_asc(user::Column::Id)
        .limit(limit)
        .all(c)
        .await
}

pub async fn set_user_search<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
    display_name_norm: Option<String>,
    doc_search: Value,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(
            user::Column::DisplayNameNorm,
            Expr::value(display_name_norm),
        )
        .col_expr(user::Column::DocSearch, Expr::value(doc_search))
        .filter(user::Column::TenantId.eq(tenant))
        .filter(user::Column::Id.eq(id))
        .exec(c)
        .await
        .map(|_| ())
}

pub async fn pending_groups<C: ConnectionTrait>(
    c: &C,
    limit: u64,
) -> Result<Vec<group::Model>, DbErr> {
    group::Entity::find()
        .filter(group::Column::DocSearch.is_null())
        .order_by_asc(group::Column::TenantId)
        .order_by_asc(group::Column::Id)
        .limit(limit)
        .all(c)
        .await
}

pub async fn set_group_search<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
    doc_search: Value,
) -> Result<(), DbErr> {
    group::Entity::update_many()
        .col_expr(group::Column::DocSearch, Expr::value(doc_search))
        .filter(group::Column::TenantId.eq(tenant))
        .filter(group::Column::Id.eq(id))
        .exec(c)
        .await
        .map(|_| ())
}
