//! Queries of the built-in authorization server: signing keys, clients,
//! authorization codes and refresh tokens.

use entity::{oauth_client, oauth_code, oauth_refresh_token, oauth_signing_key};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

pub async fn insert<C, A>(c: &C, model: A) -> Result<(), DbErr>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + Send,
{
    A::Entity::insert(model)
        .exec_without_returning(c)
        .await
        .map(|_| ())
}

/// Keys still published: active ones, and retired ones whose tokens may not
/// have expired yet. Newest first; the first active one signs.
pub async fn published_keys<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    retired_after_ms: i64,
) -> Result<Vec<oauth_signing_key::Model>, DbErr> {
    use oauth_signing_key::Column as K;
    oauth_signing_key::Entity::find()
        .filter(K::TenantId.eq(tenant))
        .filter(
            Condition::any()
                .add(K::RetiredAt.is_null())
                .add(K::RetiredAt.gt(retired_after_ms)),
        )
        .order_by_desc(K::CreatedAt)
        .order_by_desc(K::Id)
        .all(c)
        .await
}

pub async fn all_keys<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
) -> Result<Vec<oauth_signing_key::Model>, DbErr> {
    use oauth_signing_key::Column as K;
    oauth_signing_key::Entity::find()
        .filter(K::TenantId.eq(tenant))
        .order_by_asc(K::CreatedAt)
        .all(c)
        .await
}

/// Replaces a key's stored private part (to seal a plain one).
pub async fn set_private_key<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
    private_key: &str,
) -> Result<u64, DbErr> {
    use oauth_signing_key::Column as K;
    let res = oauth_signing_key::Entity::update_many()
        .set(oauth_signing_key::ActiveModel {
            private_key: Set(private_key.to_owned()),
            ..Default::default()
        })
        .filter(K::TenantId.eq(tenant))
        .filter(K::Id.eq(id))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}

/// Retires every active key but `keep`.
pub async fn retire_keys_except<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    keep: Uuid,
    at_ms: i64,
) -> Result<u64, DbErr> {
    use oauth_signing_key::Column as K;
    let res = oauth_signing_key::Entity::update_many()
        .set(oauth_signing_key::ActiveModel {
            retired_at: Set(Some(at_ms)),
            ..Default::default()
        })
        .filter(K::TenantId.eq(tenant))
        .filter(K::Id.ne(keep))
        .filter(K::RetiredAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}

pub async fn delete_keys_retired_before<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    before_ms: i64,
) -> Result<u64, DbErr> {
    use oauth_signing_key::Column as K;
    let res = oauth_signing_key::Entity::delete_many()
        .filter(K::TenantId.eq(tenant))
        .filter(K::RetiredAt.lt(before_ms))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}

pub async fn find_client<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    client_id: &str,
) -> Result<Option<oauth_client::Model>, DbErr> {
    use oauth_client::Column as K;
    super::by_key(
        c,
        oauth_client::Entity::find()
            .filter(K::TenantId.eq(tenant))
            .filter(K::ClientId.eq(client_id)),
    )
    .await
}

/// The client with this id in whichever tenant holds it: the token
/// endpoint learns the tenant from the client.
pub async fn find_client_in_any_tenant<C: ConnectionTrait>(
    c: &C,
    client_id: &str,
) -> Result<Option<oauth_client::Model>, DbErr> {
    use oauth_client::Column as K;
    super::by_key(
        c,
        oauth_client::Entity::find().filter(K::ClientId.eq(client_id)),
    )
    .await
}

pub async fn count_all_clients<C: ConnectionTrait>(c: &C) -> Result<u64, DbErr> {
    oauth_client::Entity::find().count(c).await
}

pub async fn list_clients<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
) -> Result<Vec<oauth_client::Model>, DbErr> {
    use oauth_client::Column as K;
    oauth_client::Entity::find()
        .filter(K::TenantId.eq(tenant))
        .order_by_asc(K::CreatedAt)
        .all(c)
        .await
}

pub async fn count_clients<C: ConnectionTrait>(c: &C, tenant: Uuid) -> Result<u64, DbErr> {
    oauth_client::Entity::find()
        .filter(oauth_client::Column::TenantId.eq(tenant))
        .count(c)
        .await
}

pub async fn delete_client<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    client_id: &str,
) -> Result<bool, DbErr> {
    use oauth_client::Column as K;
    let res = oauth_client::Entity::delete_many()
        .filter(K::TenantId.eq(tenant))
        .filter(K::ClientId.eq(client_id))
        .exec(c)
        .await?;
    Ok(res.rows_affected > 0)
}

pub async fn find_code<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    code_hash: &str,
) -> Result<Option<oauth_code::Model>, DbErr> {
    use oauth_code::Column as K;
    super::by_key(
        c,
        oauth_code::Entity::find()
            .filter(K::TenantId.eq(tenant))
            .filter(K::CodeHash.eq(code_hash)),
    )
    .await
}

/// Marks a code used; false when another request used it first.
pub async fn use_code<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
    at_ms: i64,
) -> Result<bool, DbErr> {
    use oauth_code::Column as K;
    let res = oauth_code::Entity::update_many()
        .set(oauth_code::ActiveModel {
            used_at: Set(Some(at_ms)),
            ..Default::default()
        })
        .filter(K::TenantId.eq(tenant))
        .filter(K::Id.eq(id))
        .filter(K::UsedAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete_codes_expired_before<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    before_ms: i64,
) -> Result<u64, DbErr> {
    use oauth_code::Column as K;
    let res = oauth_code::Entity::delete_many()
        .filter(K::TenantId.eq(tenant))
        .filter(K::ExpiresAt.lt(before_ms))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}

pub async fn find_refresh<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    token_hash: &str,
) -> Result<Option<oauth_refresh_token::Model>, DbErr> {
    use oauth_refresh_token::Column as K;
    super::by_key(
        c,
        oauth_refresh_token::Entity::find()
            .filter(K::TenantId.eq(tenant))
            .filter(K::TokenHash.eq(token_hash)),
    )
    .await
}

/// Marks a live refresh token used; false when it was used or revoked
/// meanwhile.
pub async fn use_refresh<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
    at_ms: i64,
) -> Result<bool, DbErr> {
    use oauth_refresh_token::Column as K;
    let res = oauth_refresh_token::Entity::update_many()
        .set(oauth_refresh_token::ActiveModel {
            used_at: Set(Some(at_ms)),
            ..Default::default()
        })
        .filter(K::TenantId.eq(tenant))
        .filter(K::Id.eq(id))
        .filter(K::UsedAt.is_null())
        .filter(K::RevokedAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Revokes refresh tokens matching `which` (a family, or a client's).
pub async fn revoke_refresh<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    which: Condition,
    at_ms: i64,
) -> Result<u64, DbErr> {
    use oauth_refresh_token::Column as K;
    let res = oauth_refresh_token::Entity::update_many()
        .set(oauth_refresh_token::ActiveModel {
            revoked_at: Set(Some(at_ms)),
            ..Default::default()
        })
        .filter(K::TenantId.eq(tenant))
        .filter(which)
        .filter(K::RevokedAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}

pub async fn delete_refresh_expired_before<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    before_ms: i64,
) -> Result<u64, DbErr> {
    use oauth_refresh_token::Column as K;
    let res = oauth_refresh_token::Entity::delete_many()
        .filter(K::TenantId.eq(tenant))
        .filter(K::ExpiresAt.lt(before_ms))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}
