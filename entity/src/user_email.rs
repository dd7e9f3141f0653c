use sea_orm::entity::prelude::*;

/// One value of a user's `emails`, kept beside the document so that
/// `emails.value` filters reach an index.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "user_emails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub value: String,
    pub value_norm: String,
    pub email_type: Option<String>,
    /// `email_type` case-folded (emails.type is caseExact=false).
    pub type_norm: Option<String>,
    pub is_primary: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
