use sea_orm::entity::prelude::*;

/// A signing key of the built-in authorization server. The id is the JWK
/// `kid`. A rotated key is retired, not deleted, and stays published until
/// the tokens it signed have expired.
#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// JWS algorithm, e.g. "ES256".
    pub algorithm: String,
    /// PKCS#8 PEM of the private key.
    #[sea_orm(column_type = "Text")]
    pub private_key: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// Never prints the private key.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("oauth_signing_key::Model")
            .field("id", &self.id)
            .field("algorithm", &self.algorithm)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
