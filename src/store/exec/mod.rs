//! The execution engine: where and how statements run. The service layer
//! reaches the database only through `Db`, naming the kind of work (a
//! point read, a scan, a consistent read, a write); `Db` picks the
//! connection and the thread. Store functions take a `Source` to read and
//! a `Write` to write, so one query builder serves every path.
//!
//! On MariaDB/MySQL every kind runs on one sqlx pool; point reads keep
//! the connections they used for the next ones (`kept`), rather than
//! hand them back to the pool after each statement, and a write sends
//! its change hooks' statements with its COMMIT (`mysql_txn`), except on
//! a Galera node (`Db::at_commit` says why). On a SQLite file:
//! - point reads run on the request's own worker thread through rusqlite
//!   (`inline`), under a budget of VM instructions past which the pool
//!   runs them instead (`source::Reads`);
//! - writes run on a thread of their own (`lane`) over a connection of its
//!   own (`lane_writer::LaneWriter`), one transaction at a time, while another
//!   thread copies their commits from the WAL into the database;
//! - scans and consistent multi-statement reads run on the sqlx pool;
//! - reads of background work that serves no request (the event delivery
//!   worker) run on its own thread too, without a budget
//!   (`Db::background_reads`).
//!
//! Either way a row comes back as a rusqlite row or a SeaORM
//! `QueryResult`; each row type decodes both with one function written
//! against `row::Row`. Two caches keep statement building off the hot
//! paths: `template` builds a key lookup's SQL once per backend and number
//! of keys, and `select_list` writes a page's column list once per
//! backend.
//!
//! BENCHMARKS.md ("Where SQLite statements run") has the measurements
//! behind each choice.

mod deadline;
mod inline;
mod insert;
mod kept;
mod lane;
mod lane_writer;
mod limit;
mod literal;
mod mysql_txn;
mod row;
pub mod select_list;
mod source;
mod template;
mod write;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};

use self::inline::InlineReads;
use self::kept::KeptConnections;
use self::lane::WriteLane;
use self::lane_writer::LaneWriter;
use self::mysql_txn::MySqlTxn;
use super::server::Flavour;
use crate::config::DatabaseUrl;

pub(crate) use self::deadline::bounded;
pub use self::deadline::set_statement_timeout;
pub(in crate::store) use self::inline::db_err;
pub(crate) use self::inline::sqlite_file;
pub use self::insert::{InsertSql, insert_sql};
pub(in crate::store) use self::lane_writer::{execute, lock};
pub use self::row::{Decode, Row};
pub use self::source::{Reads, Source};
pub use self::template::Template;
pub use self::write::{Rekey, Write, WriteTxn, is_unique_violation};

/// The database as the service layer sees it. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: DatabaseConnection,
    /// Where write transactions run when there is no lane writer
    /// (`store::connect_writer`).
    writer: DatabaseConnection,
    inline: Option<InlineReads>,
    kept: Option<Arc<KeptConnections>>,
    lane: Option<WriteLane>,
    /// Whether MariaDB/MySQL writes send their hooks' statements with
    /// the COMMIT. Not on TiDB, which refuses queries of several
    /// statements unless told otherwise. Not on a Galera node: when
    /// another node's commit aborts the transaction while such a query
    /// runs, the rest of the query can still run, outside the transaction,
    /// and its COMMIT answers OK. Member adds racing through two nodes
    /// lost about one in a hundred so, answered 200, and change records
    /// came apart from their changes both ways. Sent alone, a statement
    /// or the COMMIT is answered with the abort, as a deadlock, which the
    /// write path retries.
    at_commit: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("cannot start the write thread: {0}")]
    WriteLane(std::io::Error),
}

impl Db {
    /// The execution paths for `url` over its already connected `pool`.
    pub async fn open(
        url: &DatabaseUrl,
        pool: DatabaseConnection,
        timeout: Duration,
    ) -> Result<Self, OpenError> {
        let writer = super::connect_writer(url, &pool, timeout).await?;
        let lane = if url.is_sqlite() {
            let lane = WriteLane::start(LaneWriter::for_url(url)).map_err(OpenError::WriteLane)?;
            Some(lane)
        } else {
            None
        };
        let one_host = super::failover::Hosts::of(url.expose()).is_none();
        let at_commit = super::server::flavour(&pool).await? != Some(Flavour::TiDb)
            && !super::galera::serves_cluster(&pool).await?;
        Ok(Self {
            kept: KeptConnections::for_pool(&pool, one_host),
            pool,
            writer,
            inline: InlineReads::for_url(url),
            lane,
            at_commit,
        })
    }

    /// Pool connections (idle, in use), for the metrics.
    pub fn pool_connections(&self) -> (u32, u32) {
        let (size, idle) = match self.backend() {
            DbBackend::Sqlite => {
                let pool = self.pool.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
            DbBackend::MySql => {
                let pool = self.pool.get_mysql_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => (0, 0),
        };
        // Connections kept for reads are idle too, though the pool counts
        // them as in use.
        let kept = self.kept.as_ref().map_or(0, |k| k.idle());
        let idle = u32::try_from(idle + kept).unwrap_or(u32::MAX).min(size);
        (idle, size.saturating_sub(idle))
    }

    /// SQLite writes queued or running on the write thread; `None` where
    /// writes have no thread of their own.
    pub fn write_queue_depth(&self) -> Option<usize> {
        self.lane.as_ref().map(WriteLane::depth)
    }

    pub fn backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    /// Point reads outside a transaction: by key, or a page a filter
    /// bounds.
    pub fn reads(&self) -> Reads<'_> {
        Reads {
            pool: &self.pool,
            inline: self.inline.as_ref(),
            kept: self.kept.as_deref(),
            budgeted: true,
        }
    }

    /// Reads on a thread that serves no requests (the event delivery
    /// worker): on SQLite inline with no budget, sparing each row's
    /// hand-off from sqlx's connection thread; elsewhere on the pool.
    pub fn background_reads(&self) -> Reads<'_> {
        self.give_back_kept();
        Reads {
            pool: &self.pool,
            inline: self.inline.as_ref(),
            kept: None,
            budgeted: false,
        }
    }

    /// Reads that may visit many rows or outlive the request's handler
    /// (streamed group members); never on the request's thread.
    pub fn scans(&self) -> &DatabaseConnection {
        self.give_back_kept();
        &self.pool
    }

    /// Several reads that must agree with each other (a count and its
    /// page, a group and its members).
    pub async fn snapshot(&self) -> Result<DatabaseTransaction, DbErr> {
        self.give_back_kept();
        // Boxed, as every begin here: SeaORM's begin embeds sqlx's acquire
        // future (its connect and ping states, kilobytes), which each
        // enclosing future would otherwise carry and copy.
        deadline::bounded(self.backend(), Box::pin(self.pool.begin())).await
    }

    /// Runs `work` where writes run: on the write thread where there is
    /// one, else here. `work` begins its transactions with `begin_write`.
    pub async fn writing<T, E, Fut>(&self, work: Fut) -> Result<T, E>
    where
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<DbErr> + Send + 'static,
    {
        match &self.lane {
            Some(lane) => lane.run(work).await,
            None => work.await,
        }
    }

    /// Waits, at most `timeout`, for the writes already handed to the write
    /// thread to finish, so that a stopping process completes them rather
    /// than cutting them off. Elsewhere writes run inside their requests,
    /// which the server's graceful stop already waits for.
    pub async fn finish_writes(&self, timeout: Duration) {
        if let Some(lane) = &self.lane {
            lane.drain(timeout).await;
        }
    }

    /// A write transaction: on the lane's own SQLite connection where
    /// there is one, else on the writer pool. Dropped without commit, it
    /// rolls back.
    pub async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        match self.lane.as_ref().and_then(WriteLane::writer) {
            Some(writer) => writer.begin().await.map(WriteTxn::Lane),
            None if self.backend() == DbBackend::MySql => {
                self.give_back_kept();
                let pool = self.writer.get_mysql_connection_pool();
                let begin = MySqlTxn::begin(pool, self.at_commit);
                Box::pin(begin).await.map(WriteTxn::MySql)
            }
            None => {
                self.give_back_kept();
                let begin = Box::pin(super::begin_write(&self.writer));
                deadline::bounded(self.backend(), begin)
                    .await
                    .map(WriteTxn::Pool)
            }
        }
    }

    /// Work about to take a pool connection must not wait for one that
    /// point reads keep idle (`kept`).
    fn give_back_kept(&self) {
        if let Some(kept) = &self.kept {
            kept.give_back();
        }
    }
}
