//! The write lane's SQLite connection and its transactions (`lane` runs
//! them on its thread).
//!
//! sqlx runs each SQLite connection on a thread of its own, so every
//! statement of a write transaction is two thread hand-offs, and SQLite
//! lets one transaction write at a time: every writer waits for those
//! hand-offs. A POST (begin, user, emails, commit) spent most of its time
//! in them, and answered far more often with the statements run by the
//! lane's thread itself.
//!
//! Tried and left out: committing the writes that queue up together, in
//! one transaction with a savepoint each. It answered fewer POSTs, and
//! took more CPU per POST: the batch's writes all wait for its commit, then
//! their clients all send again at once, and the lane idles in between.

use std::path::PathBuf;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, params_from_iter};
use sea_orm::{DbErr, Statement};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::inline::{db_err, params, sqlite_file};
use super::row::Decode;
use super::write::{Rekey, another_key};
use crate::config::DatabaseUrl;

/// Statements kept prepared: every write use case's statements.
const PREPARED: usize = 64;

/// As long as sqlx's, which the rare writes outside the lane (tokens,
/// OAuth) still use.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL pages past which a lane commit also checkpoints (SQLite's default
/// is 1,000). The checkpoint thread copies pages back within moments of a
/// commit, but the WAL file starts over only when a write begins with
/// every frame copied back; under a steady stream of commits that happens
/// after a checkpoint by the committing connection itself, so the WAL
/// grows to this size (about 40 MB) first.
const LANE_CHECKPOINT_PAGES: u32 = 10_000;

/// The checkpoint thread's rest between two checkpoints: one checkpoint
/// copies the pages of a few milliseconds of commits (a page written by
/// several is copied once), and the thread stays close behind the writes.
/// Under a steady stream of commits the WAL starts over only after the
/// committing write's own checkpoint at `LANE_CHECKPOINT_PAGES`, which
/// holds up every write while it copies what the thread has not yet: the
/// longer the rest, the longer that pause, and the writes' p99 rose with
/// it.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(5);

/// How a unique-constraint failure on the lane reads (`is_unique_violation`).
pub(super) const UNIQUE_VIOLATION: &str = "sqlite unique violation: ";

/// The write lane's SQLite connection, opened on first use. One
/// transaction holds it at a time; the others wait for their turn
/// without holding up the thread.
#[derive(Clone)]
pub struct LaneWriter {
    path: PathBuf,
    connection: Arc<Mutex<Option<Connection>>>,
    turn: Arc<Semaphore>,
    /// Wakes the checkpoint thread after a commit (see `checkpoints`).
    committed: Arc<Mutex<Option<SyncSender<()>>>>,
}

impl LaneWriter {
    /// `None` for databases other than a SQLite file: an in-memory one
    /// is private to the pool's connection.
    pub fn for_url(url: &DatabaseUrl) -> Option<Self> {
        Some(Self {
            path: sqlite_file(url)?,
            connection: Arc::new(Mutex::new(None)),
            turn: Arc::new(Semaphore::new(1)),
            committed: Arc::new(Mutex::new(None)),
        })
    }

    /// Takes the write lock up front (`BEGIN IMMEDIATE`), as
    /// `store::begin_write` does on the pool.
    pub async fn begin(&self) -> Result<LaneTxn, DbErr> {
        let turn = Arc::clone(&self.turn)
            .acquire_owned()
            .await
            .map_err(|e| DbErr::Custom(format!("write lane closed: {e}")))?;
        let txn = LaneTxn {
            writer: self.clone(),
            _turn: turn,
            finished: false,
        };
        txn.with(|c| c.execute_batch("BEGIN IMMEDIATE"))?;
        Ok(txn)
    }

    fn connection(&self) -> Result<MutexGuard<'_, Option<Connection>>, DbErr> {
        // A panic mid-statement leaves SQLite consistent; the guard's
        // data is only the connection.
        let mut guard = lock(&self.connection);
        if guard.is_none() {
            *guard = Some(self.open().map_err(lane_err)?);
        }
        Ok(guard)
    }

    /// The settings sqlx gives its connections (`store::connect`), and a
    /// checkpoint thread to copy its commits back into the database.
    fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open(&self.path)?;
        c.busy_timeout(BUSY_TIMEOUT)?;
        c.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )?;
        c.set_prepared_statement_cache_capacity(PREPARED);
        match checkpoints(self.path.clone()) {
            Ok(wake) => {
                c.pragma_update(None, "wal_autocheckpoint", LANE_CHECKPOINT_PAGES)?;
                *lock(&self.committed) = Some(wake);
            }
            Err(e) => log::warn!("no checkpoint thread, the writes checkpoint: {e}"),
        }
        Ok(c)
    }

    fn after_commit(&self) {
        if let Some(wake) = lock(&self.committed).as_ref() {
            // Full: the thread is already due to run.
            let _ = wake.try_send(());
        }
    }
}

/// Copies committed pages from the WAL into the database on a thread of
/// its own. SQLite does it inside a commit once the WAL holds 1,000
/// pages: the write and the fsyncs that follow took a large share of the
/// lane's time under POSTs, and every writer waited for them. A PASSIVE
/// checkpoint runs beside the writer and the readers. The thread ends
/// when the sender is dropped.
fn checkpoints(path: PathBuf) -> std::io::Result<SyncSender<()>> {
    let (wake, woken) = sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("roster-checkpoint".into())
        .spawn(move || {
            let mut connection = None;
            while woken.recv().is_ok() {
                if connection.is_none() {
                    connection = Connection::open(&path)
                        .inspect_err(|e| log::error!("checkpoint thread: {e}"))
                        .ok();
                }
                if let Some(c) = &connection
                    && let Err(e) = c.execute_batch("PRAGMA wal_checkpoint(PASSIVE)")
                {
                    crate::store::error::log_background_failure(
                        "its WAL cannot be copied back",
                        &db_err(e),
                    );
                }
                std::thread::sleep(CHECKPOINT_PAUSE);
            }
        })?;
    Ok(wake)
}

pub(in crate::store) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A transaction on the lane's connection. Its statements run on the
/// calling thread: the lane's, where nothing else waits on them.
pub struct LaneTxn {
    writer: LaneWriter,
    _turn: OwnedSemaphorePermit,
    finished: bool,
}

impl LaneTxn {
    pub(super) fn exec(&self, stmt: &Statement) -> Result<u64, DbErr> {
        self.on_connection(|c| execute(c, stmt))
    }

    /// `exec_rekeyed` on the lane's own thread: nothing to wait for.
    pub(super) fn exec_rekeyed(
        &self,
        mut stmt: Statement,
        rekey: Option<Rekey>,
    ) -> Result<(), DbErr> {
        let mut tries = 1;
        loop {
            match (self.exec(&stmt), rekey) {
                (Err(e), Some(rekey)) if another_key(&e, tries) => {
                    rekey(&mut stmt);
                    tries += 1;
                }
                (done, _) => return done.map(|_| ()),
            }
        }
    }

    pub(super) fn rows<T: Decode>(&self, stmt: &Statement) -> Result<Vec<T>, DbErr> {
        let values = bound(stmt)?;
        self.with(|c| super::inline::read_all(c, &stmt.sql, values, |row| T::decode(row)))
    }

    pub(super) fn commit(mut self) -> Result<(), DbErr> {
        self.finished = true;
        self.with(|c| c.execute_batch("COMMIT"))
            .inspect_err(|_| self.roll_back())?;
        self.writer.after_commit();
        Ok(())
    }

    fn roll_back(&self) {
        let result = self.with(|c| {
            if c.is_autocommit() {
                return Ok(());
            }
            c.execute_batch("ROLLBACK")
        });
        if let Err(e) = result {
            log::error!("write lane: rollback failed: {e}");
        }
    }

    fn with<T>(&self, run: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, DbErr> {
        self.on_connection(|c| run(c).map_err(lane_err))
    }

    fn on_connection<T>(
        &self,
        run: impl FnOnce(&Connection) -> Result<T, DbErr>,
    ) -> Result<T, DbErr> {
        let guard = self.writer.connection()?;
        let connection = guard
            .as_ref()
            .ok_or_else(|| DbErr::Custom("write lane: no connection".into()))?;
        run(connection)
    }
}

impl Drop for LaneTxn {
    fn drop(&mut self) {
        if !self.finished {
            self.roll_back();
        }
    }
}

/// Runs `stmt` on `c`, its values bound in place (prepared once per
/// connection); the rows it changed.
pub(in crate::store) fn execute(c: &Connection, stmt: &Statement) -> Result<u64, DbErr> {
    let values = super::inline::borrowed_params(stmt).ok_or_else(|| unhandled(stmt))?;
    let changed = c
        .prepare_cached(&stmt.sql)
        .and_then(|mut prepared| prepared.execute(params_from_iter(values)))
        .map_err(lane_err)?;
    Ok(u64::try_from(changed).unwrap_or(u64::MAX))
}

fn bound(stmt: &Statement) -> Result<Vec<rusqlite::types::Value>, DbErr> {
    params(stmt).ok_or_else(|| unhandled(stmt))
}

fn unhandled(stmt: &Statement) -> DbErr {
    DbErr::Custom(format!(
        "sqlite: a bound value of a type this path does not handle: {}",
        stmt.sql
    ))
}

/// Errors as the pool reports them where callers tell them apart: busy
/// ("database is locked", retried) and duplicate keys.
fn lane_err(e: rusqlite::Error) -> DbErr {
    let unique = matches!(
        &e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == ErrorCode::ConstraintViolation
                && matches!(
                    f.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                )
    );
    if unique {
        DbErr::Custom(format!("{UNIQUE_VIOLATION}{e}"))
    } else {
        db_err(e)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::{DbBackend, Statement, Value};

    use super::*;
    use crate::store::exec::row::Row;
    use crate::store::exec::source::Source;
    use crate::store::exec::write::{Write, WriteTxn, is_unique_violation};

    #[derive(Debug, PartialEq)]
    struct Named {
        name: String,
    }

    impl Decode for Named {
        fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
            Ok(Self {
                name: row.string("name")?,
            })
        }
    }

    /// A SQLite file with an empty `t(name TEXT PRIMARY KEY)`.
    fn database() -> (tempfile::TempDir, DatabaseUrl) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let c = Connection::open(&path).expect("open");
        c.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (name TEXT PRIMARY KEY)")
            .expect("schema");
        let url = DatabaseUrl::new(format!("sqlite://{}", path.display()));
        (dir, url)
    }

    fn insert(name: &str) -> Statement {
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (name) VALUES (?)",
            [Value::from(name)],
        )
    }

    fn names() -> Statement {
        Statement::from_string(DbBackend::Sqlite, "SELECT name FROM t ORDER BY name")
    }

    async fn committed(writer: &LaneWriter) -> Vec<String> {
        let txn = writer.begin().await.expect("begin");
        let rows: Vec<Named> = txn.rows(&names()).expect("read");
        rows.into_iter().map(|r| r.name).collect()
    }

    #[actix_web::test]
    async fn a_lane_transaction_commits_or_leaves_nothing() {
        let (_dir, url) = database();
        let writer = LaneWriter::for_url(&url).expect("a SQLite file");

        let kept = WriteTxn::Lane(writer.begin().await.expect("begin"));
        assert_eq!(kept.exec(insert("kept")).await.expect("insert"), 1);
        kept.commit().await.expect("commit");

        let dropped = WriteTxn::Lane(writer.begin().await.expect("begin"));
        dropped.exec(insert("dropped")).await.expect("insert");
        drop(dropped);

        // The pool, a connection of its own, sees the commit alone.
        let pool = crate::store::connect(&url, 1, Duration::from_secs(5))
            .await
            .expect("pool");
        let seen: Vec<Named> = pool.rows(names()).await.expect("read");
        assert_eq!(
            seen,
            vec![Named {
                name: "kept".into()
            }]
        );
        assert_eq!(committed(&writer).await, ["kept"]);
    }

    #[actix_web::test]
    async fn a_duplicate_key_on_the_lane_reads_as_a_unique_violation() {
        let (_dir, url) = database();
        let writer = LaneWriter::for_url(&url).expect("a SQLite file");
        let txn = WriteTxn::Lane(writer.begin().await.expect("begin"));
        txn.exec(insert("a")).await.expect("insert");
        let duplicate = txn.exec(insert("a")).await.expect_err("duplicate");
        assert!(is_unique_violation(&duplicate), "{duplicate}");
        let other = txn
            .exec(Statement::from_string(
                DbBackend::Sqlite,
                "INSERT INTO nope VALUES (1)",
            ))
            .await
            .expect_err("no such table");
        assert!(!is_unique_violation(&other), "{other}");
    }

    #[actix_web::test]
    async fn one_lane_transaction_at_a_time() {
        let (_dir, url) = database();
        let writer = LaneWriter::for_url(&url).expect("a SQLite file");
        let first = writer.begin().await.expect("begin");
        let waiting = tokio::time::timeout(Duration::from_millis(50), writer.begin()).await;
        assert!(
            waiting.is_err(),
            "a second transaction began beside the first"
        );
        first.commit().expect("commit");
        let second = tokio::time::timeout(Duration::from_secs(5), writer.begin()).await;
        assert!(matches!(second, Ok(Ok(_))), "the second waited in vain");
    }

    #[actix_web::test]
    async fn the_checkpoint_thread_copies_lane_commits_into_the_database_file() {
        let (dir, url) = database();
        let file = dir.path().join("t.db");
        let size = || std::fs::metadata(&file).expect("database file").len();
        let before = size();
        let writer = LaneWriter::for_url(&url).expect("a SQLite file");
        let txn = WriteTxn::Lane(writer.begin().await.expect("begin"));
        for i in 0..200 {
            txn.exec(insert(&format!("{i:0>1000}")))
                .await
                .expect("insert");
        }
        txn.commit().await.expect("commit");
        // Far below the lane's own checkpoint threshold: only the thread
        // moves these pages out of the WAL.
        let grew = (0..250).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            size() > before
        });
        assert!(grew, "the database file stayed at {before} bytes");
    }

    #[test]
    fn only_sqlite_files_get_a_lane_writer() {
        for url in [
            "sqlite::memory:",
            "sqlite://x.db?mode=memory",
            "mysql://u:p@h/d",
        ] {
            assert!(
                LaneWriter::for_url(&DatabaseUrl::new(url)).is_none(),
                "{url}"
            );
        }
        assert!(LaneWriter::for_url(&DatabaseUrl::new("sqlite://x.db?mode=rwc")).is_some());
    }
}
