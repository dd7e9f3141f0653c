//! Rows whose search columns are not computed yet (written before those
//! columns existed), and writing the columns back. Not a resource change:
//! neither `version` nor `meta.lastModified` moves.

use entity::{group, roster_state, user};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
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
