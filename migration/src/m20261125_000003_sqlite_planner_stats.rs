//! SQLite only: planner statistics for Roster's indexes.
//!
//! Every index leads with `tenant_id`, and a deployment usually has one
//! tenant. Without statistics SQLite assumes an equality on an index's first
//! column matches about ten rows, so `tenant_id = ?` looks as selective as
//! `external_id = ?`, and it reads the creation-order index in order (to
//! avoid a sort) testing every row: an `externalId eq` lookup became a scan
//! of the whole table. These rows tell the planner the truth about the
//! shapes (one tenant holds everything; names, ids and emails are
//! near-unique), which is what `ANALYZE` would find on a real deployment.
//! Rows that `ANALYZE` already wrote are left alone, and a later `ANALYZE`
//! replaces these (SQLite documents this use of `sqlite_stat1`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// (table, index, "rows rows-per-tenant rows-per-(tenant, next column) …").
const STATS: [(&str, &str, &str); 15] = [
    ("users", "sqlite_autoindex_users_1", "1000000 1000000 1"),
    ("users", "ux_users_user_name_norm", "1000000 1000000 1"),
    ("users", "ix_users_created_at", "1000000 1000000 1 1"),
    (
        "users",
        "ix_users_sort_display_name_norm",
        "1000000 1000000 2 1",
    ),
    ("users", "ix_users_sort_external_id", "1000000 1000000 1 1"),
    ("users", "ix_users_sort_modified_at", "1000000 1000000 1 1"),
    (
        "user_emails",
        "sqlite_autoindex_user_emails_1",
        "2000000 2000000 2 1",
    ),
    (
        "user_emails",
        "ix_user_emails_value_norm",
        "2000000 2000000 1",
    ),
    ("groups", "sqlite_autoindex_groups_1", "100000 100000 1"),
    ("groups", "ix_groups_created_at", "100000 100000 1 1"),
    (
        "groups",
        "ix_groups_sort_display_name_norm",
        "100000 100000 1 1",
    ),
    ("groups", "ix_groups_sort_external_id", "100000 100000 1 1"),
    ("groups", "ix_groups_sort_modified_at", "100000 100000 1 1"),
    (
        "group_members",
        "sqlite_autoindex_group_members_1",
        "1000000 1000000 100 1",
    ),
    (
        "group_members",
        "ix_group_members_member",
        "1000000 1000000 10",
    ),
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let db = manager.get_connection();
        // Creates sqlite_stat1 if it does not exist yet; analysing only the
        // schema table costs nothing on a large database.
        db.execute_unprepared("ANALYZE sqlite_schema").await?;
        for (table, index, stat) in STATS {
            db.execute_unprepared(&format!(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) SELECT '{table}', '{index}', '{stat}' \
                 WHERE NOT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = '{table}' AND idx = '{index}')"
            ))
            .await?;
        }
        // Loads the statistics into this connection; new ones read them anyway.
        db.execute_unprepared("ANALYZE sqlite_schema").await?;
        Ok(())
    }
}
