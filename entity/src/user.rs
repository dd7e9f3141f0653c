use sea_orm::entity::prelude::*;

/// A SCIM User. `doc` holds the full resource as the client sent it (minus
/// server-owned and write-only attributes) so every attribute round-trips;
/// the other columns project what is filtered, sorted or unique.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_name: String,
    /// NFC + Unicode-lowercased `user_name`, unique per tenant: the database
    /// enforces SCIM's case-insensitive uniqueness.
    pub user_name_norm: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    /// `display_name` case-folded like `user_name_norm` (caseExact=false).
    pub display_name_norm: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub modified_at: i64,
    pub version: i64,
    #[sea_orm(column_type = "Json")]
    pub doc: Json,
    /// `doc` in comparison form, what JSON filters and sorts read; NULL
    /// until Roster has computed it (see the search-projections migration).
    #[sea_orm(column_type = "Json", nullable)]
    pub doc_search: Option<Json>,
    /// Argon2 PHC string; only present when password storage is enabled.
    pub password_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
