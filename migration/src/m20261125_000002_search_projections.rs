//! Projections for filtering and sorting on every schema attribute.
//!
//! * `users.display_name_norm`: case-folded `displayName`, so filters and
//!   `sortBy=displayName` follow `caseExact=false` and reach an index.
//! * `users.doc_search` / `groups.doc_search`: the stored document with each
//!   string in its comparison form (folded unless `caseExact`), dateTimes in
//!   one UTC format and the primary value of a list first; the JSON paths
//!   of filters and sorts compare against it byte for byte on every engine.
//! * `user_emails.type_norm`: case-folded `emails.type`.
//!
//! The values are computed by Roster, not SQL (SQL case folding differs per
//! engine), so the columns start NULL and Roster fills every row whose
//! `doc_search` is NULL when it starts (see `service::reindex`).
//!
//! `roster_state` remembers which schemas the search columns were computed
//! for, so that adding an extension schema (or a release that corrects a
//! schema rule) recomputes them.
//!
//! Sortable projected columns get `(tenant, column, id)` indexes: the id
//! tiebreak of every sorted page and the seek of cursor paging then read
//! the index in order, and the old `(tenant, column)` indexes, which they
//! prefix, are dropped.

use sea_orm_migration::prelude::*;

use crate::util::{KEY_LEN, add_column, binary_string, create_index, create_table, drop_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        columns(manager).await?;
        state_table(manager).await?;
        sort_indexes(
            manager,
            "users",
            &["display_name_norm", "external_id", "modified_at"],
        )
        .await?;
        sort_indexes(
            manager,
            "groups",
            &["display_name_norm", "external_id", "modified_at"],
        )
        .await?;
        for (table, old) in [
            ("users", "ix_users_external_id"),
            ("users", "ix_users_modified_at"),
            ("groups", "ix_groups_display_name_norm"),
            ("groups", "ix_groups_external_id"),
            ("groups", "ix_groups_modified_at"),
        ] {
            drop_index(manager, table, old).await?;
        }
        Ok(())
    }
}

async fn columns(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut display_name_norm = binary_string(m, Alias::new("display_name_norm"), KEY_LEN);
    display_name_norm.null();
    add_column(m, "users", "display_name_norm", display_name_norm).await?;
    for table in ["users", "groups"] {
        let mut doc_search = ColumnDef::new(Alias::new("doc_search"));
        doc_search.json().null();
        add_column(m, table, "doc_search", doc_search).await?;
    }
    let mut type_norm = binary_string(m, Alias::new("type_norm"), KEY_LEN);
    type_norm.null();
    add_column(m, "user_emails", "type_norm", type_norm).await
}

async fn state_table(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(Alias::new("roster_state"))
        .col(
            binary_string(m, Alias::new("name"), 64)
                .not_null()
                .primary_key(),
        )
        .col(
            ColumnDef::new(Alias::new("value"))
                .string_len(KEY_LEN)
                .not_null(),
        )
        .to_owned();
    create_table(m, table).await
}

async fn sort_indexes(m: &SchemaManager<'_>, table: &str, columns: &[&str]) -> Result<(), DbErr> {
    for column in columns {
        let ix = Index::create()
            .col(Alias::new("tenant_id"))
            .col(Alias::new(*column))
            .col(Alias::new("id"))
            .to_owned();
        create_index(m, table, &format!("ix_{table}_sort_{column}"), ix).await?;
    }
    Ok(())
}
