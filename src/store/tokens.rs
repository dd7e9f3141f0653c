use entity::api_token;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

pub async fn insert<C: ConnectionTrait>(c: &C, model: api_token::ActiveModel) -> Result<(), DbErr> {
    api_token::Entity::insert(model)
        .exec_without_returning(c)
        .await
        .map(|_| ())
}

/// The live token with this digest, if any.
pub async fn find_active_by_hash<C: ConnectionTrait>(
    c: &C,
    hash: &str,
) -> Result<Option<api_token::Model>, DbErr> {
    super::by_key(
        c,
        api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(hash))
            .filter(api_token::Column::RevokedAt.is_null()),
    )
    .await
}

pub async fn count_active<C: ConnectionTrait>(c: &C) -> Result<u64, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::RevokedAt.is_null())
        .count(c)
        .await
}

pub async fn list<C: ConnectionTrait>(c: &C, tenant: Uuid) -> Result<Vec<api_token::Model>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::TenantId.eq(tenant))
        .order_by_asc(api_token::Column::CreatedAt)
        .all(c)
        .await
}

pub async fn revoke<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
    at_ms: i64,
) -> Result<bool, DbErr> {
    let res = api_token::Entity::update_many()
        .set(api_token::ActiveModel {
            revoked_at: Set(Some(at_ms)),
            ..Default::default()
        })
        .filter(api_token::Column::TenantId.eq(tenant))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}
