//! Persistence: SeaORM queries over the `entity` crate. Functions take any
//! connection or transaction; the service layer decides the transaction.

pub mod admins;
pub mod buffer_pool;
pub mod console_sessions;
pub mod counts;
pub mod error;
pub mod exec;
pub mod failover;
pub mod file_mode;
pub mod galera;
pub mod group_names;
pub mod groups;
pub mod memberships;
pub mod oauth;
pub mod pool_size;
pub mod positions;
pub mod query;
pub mod reindex;
pub mod request_log;
pub mod resources;
pub mod server;
pub mod tenants;
pub mod token_use;
pub mod tokens;
pub mod users;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Alias, Expr, IntoIden, SelectExpr};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IdenStatic, Iterable, QueryTrait, Select,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::DatabaseUrl;

/// Large sets (ids, and rows of up to 8 columns) are sent in chunks of this
/// many, well below every database's bind-parameter limit (SQLite 32,766,
/// MySQL 65,535), so that no statement's size grows with the input.
pub const CHUNK: usize = 500;

const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// How long a write may queue for SQLite's one writing connection; as long
/// as the 5 s busy timeout it replaces, with room for a burst.
const WRITE_QUEUE_TIMEOUT: Duration = Duration::from_secs(30);

/// The row a primary or unique key selects. Not `Select::one`: its bound
/// `LIMIT ?` is an input to SQLite's query planner, so SQLite recompiles
/// the cached statement every time it is executed.
pub async fn by_key<E: EntityTrait, C: ConnectionTrait>(
    c: &C,
    select: Select<E>,
) -> Result<Option<E::Model>, DbErr> {
    // Under the statement timeout: stored bearer tokens are looked up
    // here on every request.
    let rows = exec::bounded(c.get_database_backend(), select.all(c)).await?;
    Ok(rows.into_iter().next())
}

/// `select` with the columns no answer shows read as NULL: the password
/// hash, and the search document unless `keep_search` (a cursor over an
/// attribute inside it needs it). The search document is as large as the
/// resource, and decoding it showed in a filtered list's CPU profile.
pub fn shown_columns<E: EntityTrait>(mut select: Select<E>, keep_search: bool) -> Select<E> {
    let hidden = |name: &str| name == "password_hash" || (!keep_search && name == "doc_search");
    let hidden: Vec<(Expr, &str)> = E::Column::iter()
        .filter(|c| hidden(c.as_str()))
        .map(|c| (c.into_expr(), c.as_str()))
        .collect();
    // In place: selecting the columns again cost more than the decoding
    // it saves.
    QueryTrait::query(&mut select).exprs_mut_for_each(|e| {
        if let Some((_, name)) = hidden.iter().find(|(column, _)| *column == e.expr) {
            *e = SelectExpr {
                expr: Expr::cust("NULL"),
                alias: Some(Alias::new(*name).into_iden()),
                window: None,
            };
        }
    });
    select
}

pub async fn connect(
    url: &DatabaseUrl,
    max_connections: u32,
    timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, max_connections, timeout, timeout).await
}

/// A pool on `url` of `max_connections` (0: sized from the host's cores
/// and the server's limit, `pool_size`). `connect` bounds establishing
/// the first connection;
/// `acquire` how long a request waits for a pooled connection to a
/// server database (establishing a new one included), past which it is
/// answered 503. A URL naming several hosts starts on the first that
/// answers and moves on when the one in use stops answering.
pub async fn connect_with(
    url: &DatabaseUrl,
    max_connections: u32,
    connect: Duration,
    acquire: Duration,
) -> Result<DatabaseConnection, DbErr> {
    let hosts = failover::Hosts::of(url.expose());
    let (mut opts, start) = match &hosts {
        Some(hosts) => {
            let start = hosts.first_reachable(connect).await;
            (ConnectOptions::new(hosts.url(start).to_owned()), start)
        }
        None => (ConnectOptions::new(url.expose().to_owned()), 0),
    };
    opts.sqlx_logging_level(log::LevelFilter::Debug);
    if url.is_sqlite() {
        file_mode::prepare_sqlite_file(url)
            .map_err(|e| DbErr::Custom(format!("cannot create the database file: {e}")))?;
        opts.connect_timeout(connect).acquire_timeout(connect);
        // An embedded database cannot hang up; a ping would be one more
        // hand-off to the connection's thread before every statement.
        opts.test_before_acquire(false);
        // One writer at a time in SQLite: a small pool, WAL for concurrent
        // readers, and a busy timeout for the writers queueing behind it.
        let size = pool_size::choose(max_connections, pool_size::host_cores(), None).size;
        opts.max_connections(size.clamp(1, 4))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .create_if_missing(true)
            });
    } else {
        // The host chosen, for a URL naming several: one URL per host.
        let chosen = hosts
            .as_ref()
            .map(|h| DatabaseUrl::new(h.url(start).to_owned()));
        let server = first_connection(chosen.as_ref().unwrap_or(url), connect).await?;
        let server_max = server.max_connections;
        let chosen = pool_size::choose(max_connections, pool_size::host_cores(), server_max);
        if let Some(warning) = &chosen.warning {
            log::warn!("{warning}");
        }
        log::info!(
            "database pool: up to {} connections (the server accepts {})",
            chosen.size,
            server_max.map_or_else(|| "an unknown number".to_owned(), |m| m.to_string())
        );
        opts.acquire_timeout(acquire);
        // sqlx pings before every checkout by default: a round trip per
        // statement. Only a connection idle long enough for the server or
        // a proxy to have dropped it needs one.
        opts.max_connections(chosen.size.max(2))
            .test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
        if let Some(hosts) = &hosts {
            hosts.discard_stale(&mut opts);
        }
        if server.galera {
            log::info!("the database is a Galera node: reads wait for the cluster's commits");
            galera::causal_reads(&mut opts);
        }
    }
    let db = Database::connect(opts).await?;
    if let Some(hosts) = hosts {
        hosts.watch(&db, start);
    }
    Ok(db)
}

/// What the first connection to a server database learns of it.
#[derive(Default)]
struct FirstLook {
    /// How many connections the server accepts (`None` if it does not say).
    max_connections: Option<u32>,
    /// The server is a Galera node.
    galera: bool,
}

/// One connection, made and closed, to learn why a server database cannot
/// be reached (the pool retries a refused connection until its timeout
/// and then reports only that it timed out), and what the pool needs to
/// know of the server.
async fn first_connection(url: &DatabaseUrl, limit: Duration) -> Result<FirstLook, DbErr> {
    use sea_orm::sqlx::mysql::MySqlConnectOptions;
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    if url.kind() != "mysql" {
        return Ok(FirstLook::default());
    }
    let sqlx_err = |e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e)));
    let opts: MySqlConnectOptions = url.expose().parse().map_err(sqlx_err)?;
    match tokio::time::timeout(limit, opts.connect()).await {
        Ok(Ok(mut connection)) => {
            let look = FirstLook {
                max_connections: server_max_connections(&mut connection, limit).await,
                galera: galera::is_node(&mut connection, limit).await,
            };
            // Closing politely is a courtesy; the pool connects afresh.
            let _ = connection.close().await;
            Ok(look)
        }
        Ok(Err(e)) => Err(sqlx_err(e)),
        Err(_) => Err(DbErr::Conn(sea_orm::RuntimeErr::Internal(format!(
            "no answer within {} s",
            limit.as_secs()
        )))),
    }
}

/// The server's `@@max_connections`; `None` if it cannot be read in time.
async fn server_max_connections(
    connection: &mut sea_orm::sqlx::MySqlConnection,
    limit: Duration,
) -> Option<u32> {
    let read = sea_orm::sqlx::query_scalar::<_, u64>("SELECT @@max_connections")
        .fetch_one(&mut *connection);
    match tokio::time::timeout(limit, read).await {
        Ok(Ok(max)) => u32::try_from(max).ok(),
        Ok(Err(e)) => {
            log::warn!("cannot read the database server's max_connections: {e}");
            None
        }
        Err(_) => None,
    }
}

/// The pool write transactions run on. SQLite lets one connection write
/// at a time, and a writer that finds the lock taken sleeps in SQLite's
/// busy handler (milliseconds at a time) before it tries again; one
/// writing connection makes writers queue in the pool instead, each woken
/// as soon as the previous one commits. Other databases lock rows, so
/// writers share the main pool.
pub async fn connect_writer(
    url: &DatabaseUrl,
    db: &DatabaseConnection,
    timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    if url.is_sqlite() {
        connect(url, 1, timeout.max(WRITE_QUEUE_TIMEOUT)).await
    } else {
        Ok(db.clone())
    }
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// How many of this build's migrations the database has not applied.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(Migrator::get_pending_migrations_read_only(db).await?.len())
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

/// Errors that say "not now" rather than "never": answered 503.
pub fn is_unavailable(e: &DbErr) -> bool {
    matches!(
        error::classify(e),
        error::Fault::Unavailable | error::Fault::Busy
    ) || is_retryable(e)
}

/// A deadlock or write conflict, reported at once rather than after a
/// timeout: MySQL/MariaDB 1213 (a Galera certification failure too), TiDB
/// 9007.
pub fn is_conflict(e: &DbErr) -> bool {
    let text = e.to_string();
    ["1213", "9007", "Deadlock found"]
        .iter()
        .any(|needle| text.contains(needle))
}

/// Deadlocks, lock wait timeouts and write conflicts that a retry of the
/// whole transaction resolves (MySQL/MariaDB 1213 and 1205, TiDB 9007,
/// SQLite busy/locked).
pub fn is_retryable(e: &DbErr) -> bool {
    let text = e.to_string();
    is_conflict(e)
        || ["1205", "database is locked", "SQLITE_BUSY"]
            .iter()
            .any(|needle| text.contains(needle))
}

#[cfg(test)]
mod tests {
    use entity::{group, user};
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;

    #[test]
    fn unshown_columns_are_read_as_null() {
        let sql = |keep_search| {
            shown_columns(user::Entity::find(), keep_search)
                .build(DbBackend::Sqlite)
                .sql
        };
        let without = sql(false);
        assert!(without.contains(r#"NULL AS "password_hash""#), "{without}");
        assert!(without.contains(r#"NULL AS "doc_search""#), "{without}");
        assert!(without.contains(r#""users"."doc", "#), "{without}");
        let with = sql(true);
        assert!(with.contains(r#""users"."doc_search""#), "{with}");
        assert!(with.contains(r#"NULL AS "password_hash""#), "{with}");

        let groups = shown_columns(group::Entity::find(), false).build(DbBackend::MySql);
        assert!(
            groups.sql.contains("NULL AS `doc_search`"),
            "{}",
            groups.sql
        );
    }
}
