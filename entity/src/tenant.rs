use sea_orm::entity::prelude::*;

/// A directory served by this server. Every other table's `tenant_id`
/// names one of these; `default` (the nil id) holds what was written
/// before tenants existed.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// The IdP profile whose rules apply (`okta`, `entra`, `strict`).
    pub profile: String,
    /// JSON object of per-rule overrides of the profile, if any.
    #[sea_orm(column_type = "Text", nullable)]
    pub overrides: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
