//! Console sessions, looked up by their token's digest.

use entity::console_session;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

pub async fn insert<C: ConnectionTrait>(
    c: &C,
    model: console_session::ActiveModel,
) -> Result<(), DbErr> {
    console_session::Entity::insert(model)
        .exec_without_returning(c)
        .await
        .map(|_| ())
}

/// The session with this digest that has not expired at `now_ms`.
pub async fn find_live<C: ConnectionTrait>(
    c: &C,
    hash: &str,
    now_ms: i64,
) -> Result<Option<console_session::Model>, DbErr> {
    console_session::Entity::find_by_id(hash.to_owned())
        .filter(console_session::Column::ExpiresAt.gt(now_ms))
        .one(c)
        .await
}

pub async fn delete<C: ConnectionTrait>(c: &C, hash: &str) -> Result<(), DbErr> {
    console_session::Entity::delete_by_id(hash.to_owned())
        .exec(c)
        .await
        .map(|_| ())
}

/// Points the session with this digest at `tenant`.
pub async fn set_tenant<C: ConnectionTrait>(c: &C, hash: &str, tenant: Uuid) -> Result<(), DbErr> {
    console_session::Entity::update_many()
        .col_expr(console_session::Column::TenantId, Expr::value(tenant))
        .filter(console_session::Column::TokenHash.eq(hash))
        .exec(c)
        .await
        .map(|_| ())
}

/// Removes sessions that expired before `now_ms`.
pub async fn delete_expired<C: ConnectionTrait>(c: &C, now_ms: i64) -> Result<u64, DbErr> {
    let res = console_session::Entity::delete_many()
        .filter(console_session::Column::ExpiresAt.lte(now_ms))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}
