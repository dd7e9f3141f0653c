use sea_orm::entity::prelude::*;

/// A SCIM Group. Members live in `group_members`, never in `doc`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    pub display_name_norm: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub modified_at: i64,
    pub version: i64,
    #[sea_orm(column_type = "Json")]
    pub doc: Json,
    /// `doc` in comparison form, as for users.
    #[sea_orm(column_type = "Json", nullable)]
    pub doc_search: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
