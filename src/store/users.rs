use entity::{user, user_email};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, Iterable,
    QueryFilter, QuerySelect, Select,
};
use uuid::Uuid;

use crate::scim::user::EmailRow;

/// A user as answers show it: the search copy of the document and the
/// password hash are left NULL, since no answer contains them and decoding
/// the search copy costs as much as the document.
pub async fn find<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<user::Model>, DbErr> {
    use user::Column as K;
    let shown = K::iter().filter(|k| !matches!(k, K::DocSearch | K::PasswordHash));
    let select = user::Entity::find_by_id((tenant, id))
        .select_only()
        .columns(shown)
        .column_as(Expr::cust("NULL"), "doc_search")
        .column_as(Expr::cust("NULL"), "password_hash");
    super::by_key(c, select).await
}

/// Reads a user and locks its row until the transaction ends (MySQL); on
/// SQLite the IMMEDIATE transaction already serializes writers.
pub async fn find_for_update<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<user::Model>, DbErr> {
    super::by_key(c, user::Entity::find_by_id((tenant, id)).lock_exclusive()).await
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
    insert_emails(c, tenant, user_id, rows).await
}

/// The email rows of a user that has none yet.
pub async fn insert_emails<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    user_id: Uuid,
    rows: &[EmailRow],
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let models = email_rows(tenant, user_id, rows);
    user_email::Entity::insert_many(models)
        .exec_without_returning(c)
        .await
        .map(|_| ())
}

/// The `user_emails` rows of a user's emails, in their order.
pub fn email_rows(tenant: Uuid, user_id: Uuid, rows: &[EmailRow]) -> Vec<user_email::ActiveModel> {
    rows.iter()
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
        })
        .collect()
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
