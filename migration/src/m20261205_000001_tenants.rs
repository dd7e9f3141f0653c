//! The directory of tenants. Every other table already leads with
//! `tenant_id`; this names the ids. The tenant every existing row belongs
//! to is `default`, with the nil id, so a database written before tenants
//! existed needs nothing moved.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::prelude::Uuid;

use crate::util::{binary_string, create_index, create_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table(Tenants::Table)
            .col(ColumnDef::new(Tenants::Id).uuid().not_null().primary_key())
            .col(binary_string(manager, Tenants::Name, 63).not_null())
            .col(ColumnDef::new(Tenants::Profile).string_len(32).not_null())
            .col(ColumnDef::new(Tenants::Overrides).text().null())
            .col(ColumnDef::new(Tenants::CreatedAt).big_integer().not_null())
            .to_owned();
        create_table(manager, table).await?;
        let uniq = Index::create().col(Tenants::Name).unique().to_owned();
        create_index(manager, "tenants", "ux_tenants_name", uniq).await?;
        insert_default(manager).await
    }
}

/// Inserts `default` unless a run that stopped halfway already did.
async fn insert_default(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let select = Query::select()
        .expr(Expr::val(1))
        .from(Tenants::Table)
        .and_where(Expr::col(Tenants::Id).eq(Uuid::nil()))
        .to_owned();
    if db.query_one(&select).await?.is_some() {
        return Ok(());
    }
    let insert = Query::insert()
        .into_table(Tenants::Table)
        .columns([
            Tenants::Id,
            Tenants::Name,
            Tenants::Profile,
            Tenants::CreatedAt,
        ])
        .values([
            Uuid::nil().into(),
            "default".into(),
            "okta".into(),
            0i64.into(),
        ])
        .map_err(|e| DbErr::Migration(e.to_string()))?
        .to_owned();
    db.execute(&insert).await.map(|_| ())
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    Profile,
    Overrides,
    CreatedAt,
}
