use sea_orm_migration::prelude::*;

use crate::util::create_table;

/// When each stored bearer token was last used, for the console's
/// credentials page. A table of its own, written at most once a minute
/// per token and node, so that the tokens table is never written on the
/// request path.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiTokenUse {
    Table,
    TenantId,
    TokenId,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ApiTokenUse as U;
        let table = Table::create()
            .table(U::Table)
            .col(ColumnDef::new(U::TenantId).uuid().not_null())
            .col(ColumnDef::new(U::TokenId).uuid().not_null())
            .col(ColumnDef::new(U::LastUsedAt).big_integer().not_null())
            .primary_key(Index::create().col(U::TenantId).col(U::TokenId))
            .to_owned();
        create_table(m, table).await
    }
}
