//! The console's admin accounts (`admin_accounts`).

use entity::admin_account;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

pub async fn insert<C: ConnectionTrait>(
    c: &C,
    model: admin_account::ActiveModel,
) -> Result<(), DbErr> {
    admin_account::Entity::insert(model)
        .exec_without_returning(c)
        .await
        .map(|_| ())
}

pub async fn find<C: ConnectionTrait>(
    c: &C,
    name: &str,
) -> Result<Option<admin_account::Model>, DbErr> {
    admin_account::Entity::find_by_id(name.to_owned())
        .one(c)
        .await
}

pub async fn list<C: ConnectionTrait>(c: &C) -> Result<Vec<admin_account::Model>, DbErr> {
    admin_account::Entity::find()
        .order_by_asc(admin_account::Column::Name)
        .all(c)
        .await
}

pub async fn remove<C: ConnectionTrait>(c: &C, name: &str) -> Result<bool, DbErr> {
    let res = admin_account::Entity::delete_many()
        .filter(admin_account::Column::Name.eq(name))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}
