//! Persistence: SeaORM queries over the `entity` crate. Functions take any
//! connection or transaction; the service layer decides the transaction.

pub mod groups;
pub mod oauth;
pub mod query;
pub mod reindex;
pub mod tokens;
pub mod users;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::DatabaseUrl;

/// Ids of large sets are sent in chunks to stay below bind-parameter limits.
pub const CHUNK: usize = 500;

pub async fn connect(
    url: &DatabaseUrl,
    max_connections: u32,
    timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.expose().to_owned());
    opts.sqlx_logging_level(log::LevelFilter::Debug)
        .connect_timeout(timeout)
        .acquire_timeout(timeout);
    if url.is_sqlite() {
        // One writer at a time in SQLite: a small pool, WAL for concurrent
        // readers, and a busy timeout for the writers queueing behind it.
        opts.max_connections(max_connections.clamp(1, 4))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .create_if_missing(true)
            });
    } else {
        opts.max_connections(max_connections.max(2));
    }
    Database::connect(opts).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// A write transaction. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a read-then-write transaction that upgrades later
/// fails with "database is locked" under concurrency, whatever the busy
/// timeout. MySQL ignores the option; writers there lock rows instead.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Deadlocks, lock wait timeouts and write conflicts that a retry of the
/// whole transaction resolves (MySQL/MariaDB 1213 and 1205, TiDB 9007,
/// SQLite busy/locked).
pub fn is_retryable(e: &DbErr) -> bool {
    let text = e.to_string();
    [
        "1213",
        "1205",
        "9007",
        "database is locked",
        "SQLITE_BUSY",
        "Deadlock found",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}
