//! Where write transactions run: on a MariaDB/MySQL pool connection
//! through sqlx (`mysql_txn`), on the write lane's own SQLite connection
//! (`lane_writer`, run by `lane`), or else on a SeaORM pool. Store
//! functions that write take any `Write`, so one query builder serves
//! every path.

use std::future::Future;

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement};

use super::deadline::bounded;
use super::lane_writer::{LaneTxn, UNIQUE_VIOLATION};
use super::limit::written_out;
use super::mysql_txn::MySqlTxn;
use super::row::Decode;
use super::source::Source;

pub trait Write: Source {
    /// Runs `stmt`; the number of rows it changed.
    fn exec(&self, stmt: Statement) -> impl Future<Output = Result<u64, DbErr>>;

    /// Runs `stmt` as its transaction's last work: a MariaDB/MySQL write
    /// transaction sends it with the commit (`mysql_txn`), elsewhere it
    /// runs now. `rekey`, for a statement keyed by time, gives it a new key
    /// when another server took its key (a duplicate fails the statement,
    /// not the transaction), up to `KEY_TRIES` keys.
    fn exec_at_commit(
        &self,
        stmt: Statement,
        rekey: Option<Rekey>,
    ) -> impl Future<Output = Result<(), DbErr>> {
        exec_rekeyed(self, stmt, rekey)
    }
}

/// Gives a statement a new key, in place.
pub type Rekey = fn(&mut Statement);

/// Keys a statement given a `Rekey` tries before it fails.
const KEY_TRIES: u32 = 5;

/// Whether a statement that failed with `e` on its `tries`-th key goes
/// again with a new one: another server took the key, and keys are left.
pub(super) fn another_key(e: &DbErr, tries: u32) -> bool {
    tries < KEY_TRIES && is_unique_violation(e)
}

async fn exec_rekeyed<W: Write + ?Sized>(
    w: &W,
    mut stmt: Statement,
    rekey: Option<Rekey>,
) -> Result<(), DbErr> {
    let mut tries = 1;
    loop {
        match (w.exec(stmt.clone()).await, rekey) {
            (Err(e), Some(rekey)) if another_key(&e, tries) => {
                rekey(&mut stmt);
                tries += 1;
            }
            (done, _) => return done.map(|_| ()),
        }
    }
}

impl<C: ConnectionTrait> Write for C {
    async fn exec(&self, stmt: Statement) -> Result<u64, DbErr> {
        let run = self.execute_raw(stmt);
        Ok(bounded(self.get_database_backend(), run)
            .await?
            .rows_affected())
    }
}

/// Whether `e` reports a duplicate key, from either kind of transaction.
pub fn is_unique_violation(e: &DbErr) -> bool {
    use sea_orm::SqlErr;
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
        || matches!(e, DbErr::Custom(m) if m.starts_with(UNIQUE_VIOLATION))
}

/// A write transaction of either kind. Dropped without `commit`, it rolls
/// back.
pub enum WriteTxn {
    Pool(DatabaseTransaction),
    MySql(MySqlTxn),
    Lane(LaneTxn),
}

impl WriteTxn {
    /// Runs `stmt` without taking it, for a caller that may run it again.
    pub async fn exec_kept(&self, stmt: &Statement) -> Result<u64, DbErr> {
        match self {
            Self::Pool(t) => t.exec(stmt.clone()).await,
            Self::MySql(t) => Box::pin(t.exec(stmt)).await,
            Self::Lane(t) => t.exec(stmt),
        }
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Pool(t) => bounded(t.get_database_backend(), t.commit()).await,
            Self::MySql(t) => Box::pin(t.commit()).await,
            Self::Lane(t) => t.commit(),
        }?;
        crate::store::error::answered();
        Ok(())
    }
}

impl Source for WriteTxn {
    fn backend(&self) -> DbBackend {
        match self {
            Self::Pool(t) => t.get_database_backend(),
            Self::MySql(_) => DbBackend::MySql,
            Self::Lane(_) => DbBackend::Sqlite,
        }
    }

    async fn rows<T: Decode>(&self, stmt: Statement) -> Result<Vec<T>, DbErr> {
        match self {
            Self::Pool(t) => t.rows(stmt).await,
            Self::MySql(t) => Box::pin(t.rows(&stmt)).await,
            Self::Lane(t) => t.rows(&written_out(stmt)),
        }
    }
}

impl Write for WriteTxn {
    async fn exec(&self, stmt: Statement) -> Result<u64, DbErr> {
        match self {
            Self::Pool(t) => t.exec(stmt).await,
            Self::MySql(t) => Box::pin(t.exec(&stmt)).await,
            Self::Lane(t) => t.exec(&stmt),
        }
    }

    async fn exec_at_commit(&self, stmt: Statement, rekey: Option<Rekey>) -> Result<(), DbErr> {
        match self {
            Self::Lane(t) => t.exec_rekeyed(stmt, rekey),
            Self::MySql(t) => match t.defer(stmt, rekey) {
                Ok(()) => Ok(()),
                Err(stmt) => Box::pin(exec_rekeyed(self, stmt, rekey)).await,
            },
            Self::Pool(_) => Box::pin(exec_rekeyed(self, stmt, rekey)).await,
        }
    }
}
