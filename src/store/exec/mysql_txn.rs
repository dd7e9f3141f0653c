//! MariaDB/MySQL write transactions on a pool connection, run through
//! sqlx directly.
//!
//! The change hooks' statements (the change record, the event outbox)
//! come last in every write. Here they go to the server with the COMMIT,
//! in one query of several statements, where SeaORM's transaction would
//! send each and then the COMMIT, one round trip apiece. Where writes
//! queue on one row lock (members added to one group) every round trip
//! inside the transaction is paid by all the writers waiting behind it.
//! On a Galera node the COMMIT goes alone (`Db::at_commit` says why).
//!
//! Statements bind values as SeaORM binds them (`sea-query-sqlx`), rows
//! decode as SeaORM's, and errors are SeaORM's error types, so callers
//! and the error mapping see no difference. A transaction dropped before
//! its commit is rolled back on its connection by a task, as sqlx rolls
//! back a dropped transaction, under the statement timeout; a connection
//! that does not answer in time is closed, which rolls back too.

use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use sea_orm::sqlx::mysql::{MySql, MySqlPool};
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, AssertSqlSafe};
use sea_orm::{DbBackend, DbErr, QueryResult, RuntimeErr, Statement, Values};
use sea_query_sqlx::SqlxValues;

use super::deadline::{bounded, statement_timeout};
use super::kept::{acquire_err, query_err};
use super::lane_writer::lock;
use super::literal::inlined;
use super::row::Decode;
use super::write::{Rekey, another_key};
use crate::store::error::timed_out;

/// The most text the commit's query carries besides the COMMIT: well
/// under the smallest `max_allowed_packet` a MySQL-family server ships
/// with (16 MiB on MariaDB, 64 MiB on MySQL), whose excess fails the
/// query. Past it, statements run when given, their values bound.
const AT_COMMIT_BYTES: usize = 4 << 20;

pub struct MySqlTxn {
    conn: tokio::sync::Mutex<Option<PoolConnection<MySql>>>,
    /// `None`: statements run when given (a server that refuses queries
    /// of several statements).
    at_commit: Option<Mutex<Vec<AtCommit>>>,
}

/// A statement that waits for the commit, its text with its values in.
struct AtCommit {
    stmt: Statement,
    sql: String,
    rekey: Option<Rekey>,
}

impl MySqlTxn {
    pub async fn begin(pool: &MySqlPool, at_commit: bool) -> Result<Self, DbErr> {
        // Boxed: the acquire future embeds the pool's connect and ping
        // states, which every enclosing future would otherwise carry.
        let acquire = async { Box::pin(pool.acquire()).await.map_err(acquire_err) };
        let mut conn = bounded(DbBackend::MySql, acquire).await?;
        let begin = sqlx::raw_sql(AssertSqlSafe("BEGIN")).execute(&mut *conn);
        bounded(DbBackend::MySql, async { begin.await.map_err(exec_err) }).await?;
        Ok(Self {
            conn: tokio::sync::Mutex::new(Some(conn)),
            at_commit: at_commit.then(|| Mutex::new(Vec::new())),
        })
    }

    pub async fn exec(&self, stmt: &Statement) -> Result<u64, DbErr> {
        let mut guard = self.conn.lock().await;
        let conn = guard.as_mut().ok_or_else(finished)?;
        let query = sqlx::query_with(AssertSqlSafe(stmt.sql.as_str()), values(stmt));
        let run = async { query.execute(&mut **conn).await.map_err(exec_err) };
        Ok(bounded(DbBackend::MySql, run).await?.rows_affected())
    }

    pub async fn rows<T: Decode>(&self, stmt: &Statement) -> Result<Vec<T>, DbErr> {
        let mut guard = self.conn.lock().await;
        let conn = guard.as_mut().ok_or_else(finished)?;
        let query = sqlx::query_with(AssertSqlSafe(stmt.sql.as_str()), values(stmt));
        let run = async { query.fetch_all(&mut **conn).await.map_err(query_err) };
        bounded(DbBackend::MySql, run)
            .await?
            .into_iter()
            .map(|row| T::decode(&QueryResult::from(row)))
            .collect()
    }

    /// Keeps `stmt` for the commit; gives it back to run now instead if
    /// its values cannot be written into its text, or the commit's query
    /// would grow past `AT_COMMIT_BYTES`.
    pub fn defer(&self, stmt: Statement, rekey: Option<Rekey>) -> Result<(), Statement> {
        let Some(pending) = &self.at_commit else {
            return Err(stmt);
        };
        let Some(sql) = inlined(&stmt) else {
            return Err(stmt);
        };
        let mut pending = lock(pending);
        let kept: usize = pending.iter().map(|p| p.sql.len()).sum();
        if kept + sql.len() > AT_COMMIT_BYTES {
            return Err(stmt);
        }
        pending.push(AtCommit { stmt, sql, rekey });
        Ok(())
    }

    /// Runs the kept statements and commits, in one round trip. A kept
    /// statement that fails stops the rest and the commit; one whose key
    /// another server took (a duplicate) is sent again with a new key.
    pub async fn commit(self) -> Result<(), DbErr> {
        let mut pending = self
            .at_commit
            .as_ref()
            .map(|p| std::mem::take(&mut *lock(p)))
            .unwrap_or_default();
        let mut conn = self.conn.lock().await.take().ok_or_else(finished)?;
        let mut tries = 1;
        loop {
            let mut sql = String::new();
            for kept in &pending {
                sql.push_str(&kept.sql);
                sql.push_str(";\n");
            }
            sql.push_str("COMMIT");
            let Err((ran, e)) = run_counted(&mut conn, sql).await else {
                return Ok(());
            };
            let again = pending.get_mut(ran).filter(|_| another_key(&e, tries));
            if again.and_then(AtCommit::rekeyed).is_none() {
                roll_back(conn);
                return Err(e);
            }
            // The statements before it stay done.
            pending.drain(..ran);
            tries += 1;
        }
    }
}

impl AtCommit {
    /// Gives the statement a new key; `None` if it has no way to.
    fn rekeyed(&mut self) -> Option<()> {
        let rekey = self.rekey?;
        rekey(&mut self.stmt);
        self.sql = inlined(&self.stmt)?;
        Some(())
    }
}

/// Runs a query of several statements under the statement timeout; on
/// failure, how many of them had succeeded, and the error.
async fn run_counted(conn: &mut PoolConnection<MySql>, sql: String) -> Result<(), (usize, DbErr)> {
    let mut ran = 0;
    let run = async {
        let mut results = sqlx::raw_sql(AssertSqlSafe(sql)).execute_many(&mut **conn);
        while let Some(done) = results.next().await {
            done.map_err(|e| (ran, exec_err(e)))?;
            ran += 1;
        }
        Ok(())
    };
    let limit = statement_timeout();
    match tokio::time::timeout(limit, run).await {
        Ok(done) => done,
        // Past every statement: none is sent again.
        Err(_) => Err((usize::MAX, timed_out(limit))),
    }
}

impl Drop for MySqlTxn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.get_mut().take() {
            roll_back(conn);
        }
    }
}

/// Rolls back what `conn` has open and gives it back to the pool, on a
/// task; closes it instead where there is no runtime, or the server does
/// not answer within the statement timeout.
fn roll_back(conn: PoolConnection<MySql>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        drop(conn.detach());
        return;
    };
    runtime.spawn(async move {
        let mut conn = conn;
        let rollback = sqlx::raw_sql(AssertSqlSafe("ROLLBACK")).execute(&mut *conn);
        if !matches!(
            tokio::time::timeout(statement_timeout(), rollback).await,
            Ok(Ok(_))
        ) {
            conn.close_on_drop();
        }
    });
}

fn values(stmt: &Statement) -> SqlxValues {
    SqlxValues(stmt.values.clone().unwrap_or(Values(Vec::new())))
}

fn finished() -> DbErr {
    DbErr::Custom("the transaction has already finished".into())
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}
