use sea_orm::entity::prelude::*;

/// An authorization code: single use, short-lived, bound to its client,
/// redirect URI and PKCE challenge. Only the code's digest is stored.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lowercase hex SHA-256 of the code.
    pub code_hash: String,
    pub client_id: String,
    #[sea_orm(column_type = "Text")]
    pub redirect_uri: String,
    /// BASE64URL(SHA-256(code_verifier)), when the client used PKCE.
    pub code_challenge: Option<String>,
    pub scope: String,
    /// Who approved the request.
    pub subject: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
