use sea_orm_migration::prelude::*;

use crate::util::{create_index, drop_index};

/// Drops the change records' two secondary indexes. Every write paid for
/// them inside its own transaction (on SQLite each is one more page the
/// commit writes), and neither served a read: a request's changes are
/// found by key range (the keys are the time in microseconds, and a
/// request's changes fall within the time it ran), and a resource's
/// history query names no tenant, the index's first column.
#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "audit_changes";
const DROPPED: [(&str, &[&str]); 2] = [
    ("audit_changes_request", &["request_id"]),
    (
        "audit_changes_resource",
        &["tenant_id", "resource_id", "seq"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in DROPPED {
            drop_index(m, TABLE, name).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, columns) in DROPPED {
            let mut index = Index::create();
            for column in columns {
                index.col(Alias::new(*column));
            }
            create_index(m, TABLE, name, index.to_owned()).await?;
        }
        Ok(())
    }
}
