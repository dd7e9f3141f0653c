use sea_orm_migration::prelude::*;

use crate::util::{KEY_LEN, binary_string, create_index, create_table};

/// Tables of the built-in OAuth2 authorization server.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        signing_keys(manager).await?;
        clients(manager).await?;
        codes(manager).await?;
        refresh_tokens(manager).await
    }
}

fn text(col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.text().not_null();
    def
}

fn millis(col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.big_integer().not_null();
    def
}

fn millis_null(col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.big_integer().null();
    def
}

fn uuid(col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.uuid().not_null();
    def
}

#[derive(DeriveIden)]
enum OauthSigningKeys {
    Table,
    TenantId,
    Id,
    Algorithm,
    PrivateKey,
    CreatedAt,
    RetiredAt,
}

async fn signing_keys(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use OauthSigningKeys as K;
    let table = Table::create()
        .table(K::Table)
        .col(uuid(K::TenantId))
        .col(uuid(K::Id))
        .col(ColumnDef::new(K::Algorithm).string_len(16).not_null())
        .col(text(K::PrivateKey))
        .col(millis(K::CreatedAt))
        .col(millis_null(K::RetiredAt))
        .primary_key(Index::create().col(K::TenantId).col(K::Id))
        .to_owned();
    create_table(m, table).await
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    TenantId,
    Id,
    ClientId,
    SecretHash,
    RedirectUris,
    GrantTypes,
    Scopes,
    RequirePkce,
    CreatedAt,
}

async fn clients(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use OauthClients as C;
    let table = Table::create()
        .table(C::Table)
        .col(uuid(C::TenantId))
        .col(uuid(C::Id))
        .col(binary_string(m, C::ClientId, KEY_LEN).not_null())
        .col(ColumnDef::new(C::SecretHash).string_len(KEY_LEN).not_null())
        .col(text(C::RedirectUris))
        .col(ColumnDef::new(C::GrantTypes).string_len(KEY_LEN).not_null())
        .col(text(C::Scopes))
        .col(ColumnDef::new(C::RequirePkce).boolean().not_null())
        .col(millis(C::CreatedAt))
        .primary_key(Index::create().col(C::TenantId).col(C::Id))
        .to_owned();
    create_table(m, table).await?;
    let uniq = Index::create()
        .col(C::TenantId)
        .col(C::ClientId)
        .unique()
        .to_owned();
    create_index(m, "oauth_clients", "ux_oauth_clients_client_id", uniq).await
}

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    TenantId,
    Id,
    CodeHash,
    ClientId,
    RedirectUri,
    CodeChallenge,
    Scope,
    Subject,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

async fn codes(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use OauthCodes as C;
    let table = Table::create()
        .table(C::Table)
        .col(uuid(C::TenantId))
        .col(uuid(C::Id))
        .col(binary_string(m, C::CodeHash, 64).not_null())
        .col(binary_string(m, C::ClientId, KEY_LEN).not_null())
        .col(text(C::RedirectUri))
        .col(ColumnDef::new(C::CodeChallenge).string_len(128).null())
        .col(text(C::Scope))
        .col(ColumnDef::new(C::Subject).string_len(KEY_LEN).not_null())
        .col(millis(C::CreatedAt))
        .col(millis(C::ExpiresAt))
        .col(millis_null(C::UsedAt))
        .primary_key(Index::create().col(C::TenantId).col(C::Id))
        .to_owned();
    create_table(m, table).await?;
    let uniq = Index::create()
        .col(C::TenantId)
        .col(C::CodeHash)
        .unique()
        .to_owned();
    create_index(m, "oauth_codes", "ux_oauth_codes_code_hash", uniq).await?;
    let expiry = Index::create()
        .col(C::TenantId)
        .col(C::ExpiresAt)
        .to_owned();
    create_index(m, "oauth_codes", "ix_oauth_codes_expires_at", expiry).await
}

#[derive(DeriveIden)]
enum OauthRefreshTokens {
    Table,
    TenantId,
    Id,
    TokenHash,
    FamilyId,
    ClientId,
    Scope,
    Subject,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

async fn refresh_tokens(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use OauthRefreshTokens as R;
    let table = Table::create()
        .table(R::Table)
        .col(uuid(R::TenantId))
        .col(uuid(R::Id))
        .col(binary_string(m, R::TokenHash, 64).not_null())
        .col(uuid(R::FamilyId))
        .col(binary_string(m, R::ClientId, KEY_LEN).not_null())
        .col(text(R::Scope))
        .col(ColumnDef::new(R::Subject).string_len(KEY_LEN).not_null())
        .col(millis(R::CreatedAt))
        .col(millis(R::ExpiresAt))
        .col(millis_null(R::UsedAt))
        .col(millis_null(R::RevokedAt))
        .primary_key(Index::create().col(R::TenantId).col(R::Id))
        .to_owned();
    create_table(m, table).await?;
    let uniq = Index::create()
        .col(R::TenantId)
        .col(R::TokenHash)
        .unique()
        .to_owned();
    create_index(
        m,
        "oauth_refresh_tokens",
        "ux_oauth_refresh_tokens_hash",
        uniq,
    )
    .await?;
    let family = Index::create().col(R::TenantId).col(R::FamilyId).to_owned();
    create_index(
        m,
        "oauth_refresh_tokens",
        "ix_oauth_refresh_tokens_family",
        family,
    )
    .await?;
    let expiry = Index::create()
        .col(R::TenantId)
        .col(R::ExpiresAt)
        .to_owned();
    create_index(
        m,
        "oauth_refresh_tokens",
        "ix_oauth_refresh_tokens_expires_at",
        expiry,
    )
    .await
}
