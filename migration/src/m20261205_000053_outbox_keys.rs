use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, TryGetable};

/// On SQLite, rebuilds the event outbox without `AUTOINCREMENT`. Its
/// counter lives in `sqlite_sequence`, one more page every write with a
/// receiver commits; without it a new key is one more than the largest in
/// the table, which pruning always keeps (the newest event stays). Where
/// the outbox was pruned empty, a placeholder row of no tenant holds the
/// highest key given out, above which receivers' cursors point. MariaDB's
/// `AUTO_INCREMENT` has no such cost and stays.
#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "event_outbox";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let db = m.get_connection();
        let Some(create) = one::<String>(
            db,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'event_outbox'",
        )
        .await?
        else {
            return Ok(());
        };
        if !create.contains("AUTOINCREMENT") {
            return Ok(());
        }
        let given = one::<i64>(
            db,
            "SELECT seq FROM sqlite_sequence WHERE name = 'event_outbox'",
        )
        .await?;
        let kept = one::<i64>(db, "SELECT MAX(seq) FROM event_outbox").await?;
        let rebuilt = create
            .replacen(&format!("\"{TABLE}\""), "\"event_outbox_rebuilt\"", 1)
            .replace(" AUTOINCREMENT", "");
        let placeholder = match given.filter(|g| *g > kept.unwrap_or(0)) {
            Some(given) => format!(
                "INSERT INTO event_outbox_rebuilt (seq, tenant_id, id, resource_type, resource_id, \
                 event, version, created_at) VALUES ({given}, X'{none}', X'{none}', '', X'{none}', \
                 '', 0, {now});",
                none = "F".repeat(32),
                now = now_ms(),
            ),
            None => String::new(),
        };
        // One transaction on one connection: a failure leaves the table
        // as it was, to be rebuilt on the next start.
        db.execute_unprepared(&format!(
            "BEGIN IMMEDIATE;
             {rebuilt};
             INSERT INTO event_outbox_rebuilt SELECT * FROM event_outbox;
             {placeholder}
             DROP INDEX IF EXISTS \"idx_event_outbox_tenant_seq\";
             DROP TABLE event_outbox;
             ALTER TABLE event_outbox_rebuilt RENAME TO event_outbox;
             CREATE INDEX \"idx_event_outbox_tenant_seq\" ON \"event_outbox\" (\"tenant_id\", \"seq\");
             COMMIT;"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        // Keys given out stay above those kept (the newest event is never
        // pruned): the table works as it is.
        Ok(())
    }
}

/// The first column of the first row `sql` reads, if any.
async fn one<T: TryGetable>(
    db: &SchemaManagerConnection<'_>,
    sql: &str,
) -> Result<Option<T>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await?;
    row.map(|r| r.try_get_by_index::<Option<T>>(0))
        .transpose()
        .map(Option::flatten)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
