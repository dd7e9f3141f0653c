//! Rows whose search columns are not computed yet (written before those
//! columns existed), and writing the columns back. Not a resource change:
//! neither `version` nor `meta.lastModified` moves.

use entity::{group, roster_state, user};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use super::query::sql_dialect::seek;

/// A row's primary key: where the next batch of pending rows starts.
pub type Key = (Uuid, Uuid);

/// Up to `limit` users without search columns, in key order, after
/// `after` (see `pending`).
pub async fn pending_users<C: ConnectionTrait>(
    c: &C,
    after: Option<Key>,
    limit: u64,
) -> Result<Vec<user::Model>, DbErr> {
    use user::Column as U;
    pending::<user::Entity, _>(c, U::DocSearch, (U::TenantId, U::Id), after, limit).await
}

pub async fn set_user_search<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
    display_name_norm: Option<String>,
    doc_search: Value,
) -> Result<(), DbErr> {
    super::positions::cover(c, Some(&doc_search)).await?;
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

/// As `pending_users`, for groups.
pub async fn pending_groups<C: ConnectionTrait>(
    c: &C,
    after: Option<Key>,
    limit: u64,
) -> Result<Vec<group::Model>, DbErr> {
    use group::Column as G;
    pending::<group::Entity, _>(c, G::DocSearch, (G::TenantId, G::Id), after, limit).await
}

/// Up to `limit` rows of `E` whose `search` column is NULL, in key order,
/// after `after`. Each batch starts where the last one ended: searching
/// from the start of the table every time re-read every row already
/// filled, which made a fill quadratic.
async fn pending<E: EntityTrait, C: ConnectionTrait>(
    c: &C,
    search: E::Column,
    keys: (E::Column, E::Column),
    after: Option<Key>,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr> {
    E::find()
        .filter(search.is_null())
        .filter(past(c.get_database_backend(), keys, after))
        .order_by_asc(keys.0)
        .order_by_asc(keys.1)
        .limit(limit)
        .all(c)
        .await
}

/// The rows after `after` in key order; all rows for the first batch.
fn past(
    backend: DbBackend,
    keys: (impl ColumnTrait, impl ColumnTrait),
    after: Option<Key>,
) -> Condition {
    let Some((tenant, id)) = after else {
        return Condition::all();
    };
    let (k, i) = (Expr::col(keys.0), Expr::col(keys.1));
    Condition::all().add(seek(backend, k, i, tenant.into(), id, false))
}

pub async fn set_group_search<C: ConnectionTrait>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
    doc_search: Value,
) -> Result<(), DbErr> {
    super::positions::cover(c, Some(&doc_search)).await?;
    group::Entity::update_many()
        .col_expr(group::Column::DocSearch, Expr::value(doc_search))
        .filter(group::Column::TenantId.eq(tenant))
        .filter(group::Column::Id.eq(id))
        .exec(c)
        .await
        .map(|_| ())
}

/// What the search columns were last computed for (a schema fingerprint).
const FINGERPRINT: &str = "search_schema";

pub async fn stored_fingerprint<C: ConnectionTrait>(c: &C) -> Result<Option<String>, DbErr> {
    Ok(
        super::by_key(c, roster_state::Entity::find_by_id(FINGERPRINT.to_owned()))
            .await?
            .map(|m| m.value),
    )
}

pub async fn save_fingerprint<C: ConnectionTrait>(c: &C, value: &str) -> Result<(), DbErr> {
    let row = roster_state::ActiveModel {
        name: Set(FINGERPRINT.to_owned()),
        value: Set(value.to_owned()),
    };
    roster_state::Entity::insert(row)
        .on_conflict(
            OnConflict::column(roster_state::Column::Name)
                .update_column(roster_state::Column::Value)
                .to_owned(),
        )
        .exec_without_returning(c)
        .await
        .map(|_| ())
}

/// Marks every row's search columns as out of date.
pub async fn reset_all<C: ConnectionTrait>(c: &C) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::DocSearch, Expr::value(Option::<Value>::None))
        .exec(c)
        .await?;
    group::Entity::update_many()
        .col_expr(group::Column::DocSearch, Expr::value(Option::<Value>::None))
        .exec(c)
        .await
        .map(|_| ())
}
