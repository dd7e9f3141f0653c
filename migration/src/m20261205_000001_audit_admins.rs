use sea_orm_migration::prelude::*;

use crate::util::{KEY_LEN, binary_string, create_table};

/// Accounts of the people who use the console: separate from the SCIM
/// credentials an IdP presents, and never accepted on the SCIM API.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AdminAccounts {
    Table,
    Name,
    PasswordHash,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AdminAccounts as A;
        let table = Table::create()
            .table(A::Table)
            .col(binary_string(manager, A::Name, KEY_LEN).not_null())
            .col(ColumnDef::new(A::PasswordHash).text().not_null())
            .col(ColumnDef::new(A::CreatedAt).big_integer().not_null())
            .primary_key(Index::create().col(A::Name))
            .to_owned();
        create_table(manager, table).await
    }
}
