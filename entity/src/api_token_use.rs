use sea_orm::entity::prelude::*;

/// When a stored credential was last used, to the minute: a bearer token
/// presented to the API, or an OAuth client authenticated at the token
/// endpoint.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token_use")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// The `api_tokens` or `oauth_clients` row's id (both random UUIDs).
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_id: Uuid,
    pub last_used_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
