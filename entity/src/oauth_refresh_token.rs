use sea_orm::entity::prelude::*;

/// A refresh token. Each use replaces it with a new one of the same family;
/// presenting a used one again revokes the whole family. Only the token's
/// digest is stored.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lowercase hex SHA-256 of the token.
    pub token_hash: String,
    /// The authorization code the chain started from.
    pub family_id: Uuid,
    pub client_id: String,
    pub scope: String,
    pub subject: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
