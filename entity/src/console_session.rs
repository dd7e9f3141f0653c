use sea_orm::entity::prelude::*;

/// A signed-in console session. Only the SHA-256 digest of the cookie's
/// token is kept, so reading this table does not give a usable session.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "console_sessions")]
pub struct Model {
    /// Lowercase hex SHA-256 of the session token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub tenant_id: Uuid,
    /// The admin account that signed in.
    pub admin: String,
    /// The per-session token every state-changing form must carry.
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
