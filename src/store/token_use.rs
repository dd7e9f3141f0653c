//! When stored bearer tokens were last used.

use entity::api_token_use;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Records a use at `at_ms`, replacing the one before.
pub async fn record<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    token: Uuid,
    at_ms: i64,
) -> Result<(), DbErr> {
    let row = api_token_use::ActiveModel {
        tenant_id: Set(tenant),
        token_id: Set(token),
        last_used_at: Set(at_ms),
    };
    let upsert = OnConflict::columns([
        api_token_use::Column::TenantId,
        api_token_use::Column::TokenId,
    ])
    .update_column(api_token_use::Column::LastUsedAt)
    .to_owned();
    api_token_use::Entity::insert(row)
        .on_conflict(upsert)
        .exec_without_returning(c)
        .await
        .map(|_| ())
}

/// Every recorded use of the tenant's tokens.
pub async fn of_tenant<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
) -> Result<Vec<api_token_use::Model>, DbErr> {
    api_token_use::Entity::find()
        .filter(api_token_use::Column::TenantId.eq(tenant))
        .all(c)
        .await
}
