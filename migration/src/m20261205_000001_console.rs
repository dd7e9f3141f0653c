use sea_orm_migration::prelude::*;

use crate::util::{KEY_LEN, binary_string, create_index, create_table};

/// Console sign-in sessions. They live in the database, not in a process,
/// so that any Roster node behind one load balancer accepts a session
/// another node opened, and signing out ends it on all of them. Only the
/// session token's digest is stored.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsoleSessions {
    Table,
    TokenHash,
    TenantId,
    Admin,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ConsoleSessions as S;
        let table = Table::create()
            .table(S::Table)
            .col(binary_string(m, S::TokenHash, 64).not_null())
            .col(ColumnDef::new(S::TenantId).uuid().not_null())
            .col(binary_string(m, S::Admin, KEY_LEN).not_null())
            .col(binary_string(m, S::CsrfToken, 64).not_null())
            .col(ColumnDef::new(S::CreatedAt).big_integer().not_null())
            .col(ColumnDef::new(S::ExpiresAt).big_integer().not_null())
            .primary_key(Index::create().col(S::TokenHash))
            .to_owned();
        create_table(m, table).await?;
        let expiry = Index::create().col(S::ExpiresAt).to_owned();
        create_index(
            m,
            "console_sessions",
            "ix_console_sessions_expires_at",
            expiry,
        )
        .await
    }
}
