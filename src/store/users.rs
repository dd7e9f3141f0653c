use entity::{user, user_email};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Select,
};
use uuid::Uuid;

use crate::scim::user::EmailRow;

pub async fn find<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id((tenant, id)).one(c).await
}

/// Reads a user and locks its row until the transaction ends (MySQL); on
/// SQLite the IMMEDIATE transaction already serializes writers.
pub async fn find_for_update<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id((tenant, id))
        .lock_exclusive()
        .one(c)
        .await
}

pub async fn insert<C: ConnectionTrait>(c: &C, model: user::ActiveModel) -> Result<(), DbErr> {
    user::Entity::insert(model)
        .exec_without_returning(c)
        .await
        .map(|_| ())
}

/// Writes a new state of a user if its version is still `expected_version`;
/// returns whether a row was written.
pub async fn update<C: ConnectionTrait>(
    c: &C,
    model: user::ActiveModel,
    tenant: Uuid,
    id: Uuid,
    expected_version: i64,
) -> Result<bool, DbErr> {
    let res = user::Entity::update_many()
        .set(model)
        .filter(user::Column::TenantId.eq(tenant))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::Version.eq(expected_version))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete<C: ConnectionTrait>(c: &C, tenant: Uuid, id: Uuid) -> Result<bool, DbErr> {
    user_email::Entity::delete_many()
        .filter(user_email::Column::TenantId.eq(tenant))
        .filter(user_email::Column::UserId.eq(id))
        .exec(c)
        .await?;
    let res = user::Entity::delete_by_id((tenant, id)).exec(c).await?;
    Ok(res.rows_affected == 1)
}

pub async fn replace_emails<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    user_id: Uuid,
    rows: &[EmailRow],
) -> Result<(), DbErr> {
    user_email::Entity::delete_many()
        .filter(user_email::Column::TenantId.eq(tenant))
        .filter(user_email::Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let models = rows
        .iter()
        .enumerate()
        .map(|(i, r)| user_email::ActiveModel {
            tenant_id: Set(tenant),
            user_id: Set(user_id),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            value: Set(r.value.clone()),
            value_norm: Set(r.value_norm.clone()),
            email_type: Set(r.email_type.clone()),
            type_norm: Set(r.type_norm.clone()),
            is_primary: Set(r.primary),
        });
    user_email::Entity::insert_many(models)
        .exec_without_returning(c)
        .await
        .map(|_| ())
}

/// The rows of one tenant that satisfy `cond`, to be counted or paged
/// (see `query::page`).
pub fn matching(tenant: Uuid, cond: Condition) -> Select<user::Entity> {
    user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant))
        .filter(cond)
}

pub async fn existing_ids<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    let mut found = Vec::new();
    for chunk in ids.chunks(super::CHUNK) {
        let rows: Vec<Uuid> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::TenantId.eq(tenant))
            .filter(user::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(c)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}
