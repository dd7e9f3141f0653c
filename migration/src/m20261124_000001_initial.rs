use sea_orm_migration::prelude::*;

use crate::util::{KEY_LEN, binary_string, create_index, create_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        users(manager).await?;
        user_emails(manager).await?;
        groups(manager).await?;
        group_members(manager).await?;
        api_tokens(manager).await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    TenantId,
    Id,
    UserName,
    UserNameNorm,
    ExternalId,
    DisplayName,
    Active,
    CreatedAt,
    ModifiedAt,
    Version,
    Doc,
    PasswordHash,
}

async fn users(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(Users::Table)
        .col(ColumnDef::new(Users::TenantId).uuid().not_null())
        .col(ColumnDef::new(Users::Id).uuid().not_null())
        .col(
            ColumnDef::new(Users::UserName)
                .string_len(KEY_LEN)
                .not_null(),
        )
        .col(binary_string(m, Users::UserNameNorm, KEY_LEN).not_null())
        .col(binary_string(m, Users::ExternalId, KEY_LEN).null())
        .col(
            ColumnDef::new(Users::DisplayName)
                .string_len(KEY_LEN)
                .null(),
        )
        .col(ColumnDef::new(Users::Active).boolean().not_null())
        .col(ColumnDef::new(Users::CreatedAt).big_integer().not_null())
        .col(ColumnDef::new(Users::ModifiedAt).big_integer().not_null())
        .col(ColumnDef::new(Users::Version).big_integer().not_null())
        .col(ColumnDef::new(Users::Doc).json().not_null())
        .col(
            ColumnDef::new(Users::PasswordHash)
                .string_len(KEY_LEN)
                .null(),
        )
        .primary_key(Index::create().col(Users::TenantId).col(Users::Id))
        .to_owned();
    create_table(m, table).await?;
    let uniq = Index::create()
        .col(Users::TenantId)
        .col(Users::UserNameNorm)
        .unique()
        .to_owned();
    create_index(m, "users", "ux_users_user_name_norm", uniq).await?;
    for (name, col) in [
        ("ix_users_external_id", Users::ExternalId),
        ("ix_users_modified_at", Users::ModifiedAt),
    ] {
        let ix = Index::create().col(Users::TenantId).col(col).to_owned();
        create_index(m, "users", name, ix).await?;
    }
    // Default list order: creation time with the id as tiebreak, so pages
    // neither overlap nor skip and new users land on the last page.
    let order = Index::create()
        .col(Users::TenantId)
        .col(Users::CreatedAt)
        .col(Users::Id)
        .to_owned();
    create_index(m, "users", "ix_users_created_at", order).await
}

#[derive(DeriveIden)]
enum UserEmails {
    Table,
    TenantId,
    UserId,
    Position,
    Value,
    ValueNorm,
    EmailType,
    IsPrimary,
}

async fn user_emails(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(UserEmails::Table)
        .col(ColumnDef::new(UserEmails::TenantId).uuid().not_null())
        .col(ColumnDef::new(UserEmails::UserId).uuid().not_null())
        .col(ColumnDef::new(UserEmails::Position).integer().not_null())
        .col(
            ColumnDef::new(UserEmails::Value)
                .string_len(KEY_LEN)
                .not_null(),
        )
        .col(binary_string(m, UserEmails::ValueNorm, KEY_LEN).not_null())
        .col(
            ColumnDef::new(UserEmails::EmailType)
                .string_len(KEY_LEN)
                .null(),
        )
        .col(ColumnDef::new(UserEmails::IsPrimary).boolean().not_null())
        .primary_key(
            Index::create()
                .col(UserEmails::TenantId)
                .col(UserEmails::UserId)
                .col(UserEmails::Position),
        )
        .to_owned();
    create_table(m, table).await?;
    let ix = Index::create()
        .col(UserEmails::TenantId)
        .col(UserEmails::ValueNorm)
        .to_owned();
    create_index(m, "user_emails", "ix_user_emails_value_norm", ix).await
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    TenantId,
    Id,
    DisplayName,
    DisplayNameNorm,
    ExternalId,
    CreatedAt,
    ModifiedAt,
    Version,
    Doc,
}

async fn groups(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(Groups::Table)
        .col(ColumnDef::new(Groups::TenantId).uuid().not_null())
        .col(ColumnDef::new(Groups::Id).uuid().not_null())
        .col(
            ColumnDef::new(Groups::DisplayName)
                .string_len(KEY_LEN)
                .not_null(),
        )
        .col(binary_string(m, Groups::DisplayNameNorm, KEY_LEN).not_null())
        .col(binary_string(m, Groups::ExternalId, KEY_LEN).null())
        .col(ColumnDef::new(Groups::CreatedAt).big_integer().not_null())
        .col(ColumnDef::new(Groups::ModifiedAt).big_integer().not_null())
        .col(ColumnDef::new(Groups::Version).big_integer().not_null())
        .col(ColumnDef::new(Groups::Doc).json().not_null())
        .primary_key(Index::create().col(Groups::TenantId).col(Groups::Id))
        .to_owned();
    create_table(m, table).await?;
    for (name, col) in [
        ("ix_groups_display_name_norm", Groups::DisplayNameNorm),
        ("ix_groups_external_id", Groups::ExternalId),
        ("ix_groups_modified_at", Groups::ModifiedAt),
    ] {
        let ix = Index::create().col(Groups::TenantId).col(col).to_owned();
        create_index(m, "groups", name, ix).await?;
    }
    let order = Index::create()
        .col(Groups::TenantId)
        .col(Groups::CreatedAt)
        .col(Groups::Id)
        .to_owned();
    create_index(m, "groups", "ix_groups_created_at", order).await
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    TenantId,
    GroupId,
    MemberId,
    MemberType,
}

async fn group_members(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(GroupMembers::Table)
        .col(ColumnDef::new(GroupMembers::TenantId).uuid().not_null())
        .col(ColumnDef::new(GroupMembers::GroupId).uuid().not_null())
        .col(ColumnDef::new(GroupMembers::MemberId).uuid().not_null())
        .col(
            ColumnDef::new(GroupMembers::MemberType)
                .string_len(16)
                .not_null(),
        )
        .primary_key(
            Index::create()
                .col(GroupMembers::TenantId)
                .col(GroupMembers::GroupId)
                .col(GroupMembers::MemberId),
        )
        .to_owned();
    create_table(m, table).await?;
    let reverse = Index::create()
        .col(GroupMembers::TenantId)
        .col(GroupMembers::MemberId)
        .to_owned();
    create_index(m, "group_members", "ix_group_members_member", reverse).await
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    TenantId,
    Id,
    Name,
    TokenHash,
    CreatedAt,
    RevokedAt,
}

async fn api_tokens(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(ApiTokens::Table)
        .col(ColumnDef::new(ApiTokens::TenantId).uuid().not_null())
        .col(ColumnDef::new(ApiTokens::Id).uuid().not_null())
        .col(
            ColumnDef::new(ApiTokens::Name)
                .string_len(KEY_LEN)
                .not_null(),
        )
        .col(binary_string(m, ApiTokens::TokenHash, 64).not_null())
        .col(
            ColumnDef::new(ApiTokens::CreatedAt)
                .big_integer()
                .not_null(),
        )
        .col(ColumnDef::new(ApiTokens::RevokedAt).big_integer().null())
        .primary_key(Index::create().col(ApiTokens::TenantId).col(ApiTokens::Id))
        .to_owned();
    create_table(m, table).await?;
    let uniq = Index::create()
        .col(ApiTokens::TokenHash)
        .unique()
        .to_owned();
    create_index(m, "api_tokens", "ux_api_tokens_token_hash", uniq).await
}
