use sea_orm_migration::prelude::*;

use crate::util::{create_index, drop_index};

/// Drops two indexes every write paid for and only pruning read: the age
/// of a change record and of an outbox event. Change records are pruned
/// by their key (the time in microseconds), outbox events in key order.
#[derive(DeriveMigrationName)]
pub struct Migration;

const DROPPED: [(&str, &str, &str); 2] = [
    ("audit_changes", "audit_changes_at", "at"),
    ("event_outbox", "idx_event_outbox_created", "created_at"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, _) in DROPPED {
            drop_index(m, table, name).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, column) in DROPPED {
            let index = Index::create().col(Alias::new(column)).to_owned();
            create_index(m, table, name, index).await?;
        }
        Ok(())
    }
}
