//! Per-tenant resource counts (`resource_counts`), kept by the write path,
//! so that an unfiltered list's `totalResults` is read from a few rows
//! instead of counted over the whole table.
//!
//! The table starts with every tenant's count of the rows already there.
//! The step first empties it, so that running it again after a failure
//! (MariaDB's DDL commits as it goes) counts once.

use sea_orm_migration::prelude::*;

use crate::util::{binary_string, create_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        table(manager).await?;
        let empty = Query::delete().from_table(ResourceCounts::Table).to_owned();
        manager.exec_stmt(empty).await?;
        for (table, kind) in [("users", "User"), ("groups", "Group")] {
            manager.exec_stmt(count_into(table, kind)?).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ResourceCounts {
    Table,
    TenantId,
    Kind,
    Stripe,
    Live,
    Removed,
}

async fn table(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(ResourceCounts::Table)
        .col(ColumnDef::new(ResourceCounts::TenantId).uuid().not_null())
        .col(binary_string(m, ResourceCounts::Kind, 16).not_null())
        .col(ColumnDef::new(ResourceCounts::Stripe).integer().not_null())
        .col(
            ColumnDef::new(ResourceCounts::Live)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(ResourceCounts::Removed)
                .big_integer()
                .not_null(),
        )
        .primary_key(
            Index::create()
                .col(ResourceCounts::TenantId)
                .col(ResourceCounts::Kind)
                .col(ResourceCounts::Stripe),
        )
        .to_owned();
    create_table(m, table).await
}

/// `INSERT … SELECT` of each tenant's number of rows in `table`, into
/// stripe 0.
fn count_into(table: &str, kind: &str) -> Result<InsertStatement, DbErr> {
    let tenant = Alias::new("tenant_id");
    let counted = Query::select()
        .column(tenant.clone())
        .expr(Expr::val(kind))
        .expr(Expr::val(0))
        .expr(Expr::cust("COUNT(*)"))
        .expr(Expr::val(0))
        .from(Alias::new(table))
        .group_by_col(tenant)
        .to_owned();
    Query::insert()
        .into_table(ResourceCounts::Table)
        .columns([
            ResourceCounts::TenantId,
            ResourceCounts::Kind,
            ResourceCounts::Stripe,
            ResourceCounts::Live,
            ResourceCounts::Removed,
        ])
        .select_from(counted)
        .map(|q| q.to_owned())
        .map_err(|e| DbErr::Migration(e.to_string()))
}
