//! MariaDB/MySQL point reads on connections kept between them.
//!
//! Taking a connection from sqlx's pool and giving it back is dearer than
//! the lookup it serves. sqlx returns every connection through a task it
//! spawns, and that task pings the server before the connection may be
//! used again: one more round trip, and work in mysqld, for each request.
//! The futures of both ends embed the pool's connect and ping states, and
//! moving them (into the task, through the runtime) copied several
//! kilobytes per request; profiles of a GET by id found nearly half of
//! Roster's instructions in `memcpy`.
//!
//! So a read that finished cleanly leaves its connection here, checked
//! out of the pool, for the next read to take without a wait or a ping.
//! A connection comes back only after its statement ran to the end, so
//! nothing of it is left on the wire; one whose statement failed, or
//! that was cancelled (a timeout, a client gone), goes back through the
//! pool, which tests it. Only reads use these connections, and at most
//! `limit` reads run at once on this path, waiting their turn in order
//! (a read that waited in the pool instead could be passed for ever by
//! reads finding a kept connection). So reads hold at most `limit`
//! connections, kept or in use, and the rest of the pool stays free for
//! writes and consistent reads; one of those that finds the pool full
//! and none of its connections idle has a kept one given back first
//! (`give_back`), so idle kept connections never hold up other work.
//! Nothing read is kept: each read asks the server, so another Roster
//! node's writes are seen as soon as they commit.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use sea_orm::sea_query::Value;
use sea_orm::sqlx::mysql::{MySql, MySqlArguments, MySqlPool};
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, Arguments as _};
use sea_orm::{
    ConnAcquireErr, DatabaseConnection, DbBackend, DbErr, QueryResult, RuntimeErr, Statement,
};

use super::row::Decode;

/// A connection idle this long is handed back to the pool, which pings
/// it before its next use: the server or a proxy may have dropped it.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

pub struct KeptConnections {
    pool: MySqlPool,
    idle: Mutex<Vec<Kept>>,
    /// Reads running on this path; as many permits as `limit`.
    turns: Semaphore,
    limit: usize,
}

struct Kept {
    conn: Option<PoolConnection<MySql>>,
    since: Instant,
}

impl KeptConnections {
    /// For a pool on one MySQL/MariaDB host. Not for a URL naming several:
    /// after a move to another host, connections to the old one must not
    /// serve reads (the pool's own check drops them on acquire).
    pub fn for_pool(db: &DatabaseConnection, one_host: bool) -> Option<Arc<Self>> {
        if db.get_database_backend() != DbBackend::MySql || !one_host {
            return None;
        }
        let pool = db.get_mysql_connection_pool().clone();
        let limit = kept_limit(pool.options().get_max_connections());
        Some(Arc::new(Self {
            pool,
            idle: Mutex::new(Vec::with_capacity(limit)),
            turns: Semaphore::new(limit),
            limit,
        }))
    }

    /// Connections waiting here for the next read.
    pub fn idle(&self) -> usize {
        self.lock().len()
    }

    /// Every row `stmt` returns; `None` if it binds a value this path does
    /// not handle, so that it should run through SeaORM.
    pub async fn all<T: Decode>(&self, stmt: &Statement) -> Result<Option<Vec<T>>, DbErr> {
        let Some(args) = arguments(stmt) else {
            return Ok(None);
        };
        // Never closed; a read past the statement timeout stops waiting.
        let _turn = self
            .turns
            .acquire()
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?;
        let mut conn = match self.take() {
            Some(conn) => conn,
            // Boxed: the pool's acquire future embeds its connect and ping
            // states, kilobytes that every enclosing future would otherwise
            // carry and copy whether or not a read ever waits here.
            None => Box::pin(self.pool.acquire()).await.map_err(acquire_err)?,
        };
        let query = sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), args);
        let rows = query.fetch_all(&mut *conn).await.map_err(query_err)?;
        self.keep(conn);
        rows.into_iter()
            .map(|row| T::decode(&QueryResult::from(row)))
            .collect::<Result<Vec<T>, DbErr>>()
            .map(Some)
    }

    /// Hands a kept connection back to the pool if the pool has none
    /// idle and may open no more, for work other than point reads that is
    /// about to ask it for one.
    pub fn give_back(&self) {
        let full = self.pool.size() >= self.pool.options().get_max_connections();
        if !full || self.pool.num_idle() > 0 {
            return;
        }
        let kept = self.lock().pop();
        drop(kept);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Kept>> {
        // The list is whole whatever a panicking holder was doing.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self) -> Option<PoolConnection<MySql>> {
        loop {
            let mut kept = self.lock().pop()?;
            let fresh = kept.since.elapsed() < IDLE_BEFORE_PING;
            match kept.conn.take() {
                Some(conn) if fresh => return Some(conn),
                // Back to the pool, which tests it before its next use.
                _ => continue,
            }
        }
    }

    fn keep(&self, conn: PoolConnection<MySql>) {
        let refused = {
            let mut idle = self.lock();
            if idle.len() < self.limit {
                idle.push(Kept {
                    conn: Some(conn),
                    since: Instant::now(),
                });
                None
            } else {
                Some(conn)
            }
        };
        drop(refused);
    }
}

/// How many connections of a pool of `max` may wait here: most of it,
/// leaving writes and consistent reads a quarter (at least one).
pub(crate) fn kept_limit(max: u32) -> usize {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    max.saturating_sub((max / 4).max(1)).max(1)
}

impl Drop for Kept {
    /// sqlx gives a connection back through a task on the current runtime;
    /// where there is none (a thread or runtime already gone), it is
    /// closed here instead, and its place in the pool freed.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && tokio::runtime::Handle::try_current().is_err()
        {
            drop(conn.detach());
        }
    }
}

/// As SeaORM reports a query that failed.
pub(super) fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

/// As SeaORM reports a connection that could not be taken.
pub(super) fn acquire_err(e: sqlx::Error) -> DbErr {
    match e {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        e => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))),
    }
}

/// The statement's values bound as SeaORM binds them for MySQL; `None`
/// for a type no hot read binds.
fn arguments(stmt: &Statement) -> Option<MySqlArguments> {
    let mut args = MySqlArguments::default();
    let Some(values) = &stmt.values else {
        return Some(args);
    };
    for value in &values.0 {
        let added = match value {
            Value::Uuid(u) => args.add(*u),
            Value::String(s) => args.add(s.as_deref()),
            Value::Bool(b) => args.add(*b),
            Value::Int(i) => args.add(*i),
            Value::BigInt(i) => args.add(*i),
            Value::Unsigned(i) => args.add(*i),
            Value::BigUnsigned(i) => args.add(*i),
            Value::Double(f) => args.add(*f),
            _ => return None,
        };
        added.ok()?;
    }
    Some(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_of_the_pool_is_left_to_writes() {
        assert_eq!(kept_limit(2), 1);
        assert_eq!(kept_limit(4), 3);
        assert_eq!(kept_limit(8), 6);
        assert_eq!(kept_limit(64), 48);
        assert_eq!(kept_limit(1), 1);
    }

    #[test]
    fn values_hot_reads_bind_are_bound_and_others_are_not() {
        let bound = Statement::from_sql_and_values(
            DbBackend::MySql,
            "SELECT ? , ?, ?, ?",
            [
                Value::from(uuid::Uuid::nil()),
                Value::from("x"),
                Value::from(true),
                Value::from(7i64),
            ],
        );
        assert!(arguments(&bound).is_some());
        let tiny =
            Statement::from_sql_and_values(DbBackend::MySql, "SELECT ?", [Value::TinyInt(Some(1))]);
        assert!(arguments(&tiny).is_none());
    }
}
