use sea_orm::entity::prelude::*;

/// A client of the built-in authorization server added with
/// `roster oauth-client add` (clients can also come from the config file).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: String,
    /// Argon2 PHC string of the client secret.
    pub secret_hash: String,
    /// JSON array of exact redirect URIs.
    #[sea_orm(column_type = "Text")]
    pub redirect_uris: String,
    /// Space-separated grant types.
    pub grant_types: String,
    /// Space-separated scopes the client may ask for.
    pub scopes: String,
    pub require_pkce: bool,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
