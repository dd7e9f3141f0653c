//! SQLite reads on the calling thread.
//!
//! sqlx runs each SQLite connection on a thread of its own: every
//! statement is sent there and its rows come back one by one, each
//! crossing threads. For a key lookup those hand-offs and the wake-ups
//! behind them cost far more than the lookup itself: profiles of GETs by
//! id found most of the process's CPU in the scheduler. Hot point reads
//! therefore run
//! the statement SeaORM builds on a connection owned by the worker thread
//! that serves the request. A lookup by key takes microseconds, so the
//! worker is not held up any longer than by rendering the answer.
//!
//! A statement that turns out expensive (a filter no index serves, a
//! sort over many rows) would hold up every other request on the worker,
//! so each one runs under a budget of SQLite VM instructions: past it,
//! SQLite interrupts it and the caller runs it on the pool instead (see
//! `source::Reads`). The wasted work is bounded by the budget.
//!
//! Writes and everything else stay on the sqlx pools. WAL lets these
//! readers see every committed write without blocking the writer.

use std::cell::RefCell;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value as Param, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, params_from_iter};
use sea_orm::sea_query::Value;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{DbErr, Statement};

use super::row::Cells;

use crate::config::DatabaseUrl;

/// Statements kept prepared per thread: the handful of hot reads.
const PREPARED: usize = 32;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page cache of each thread's connection, in KiB. SQLite's default
/// (2 MiB) holds little of a mid-sized database, and most GETs by id then
/// read a page from the file; a larger cache reads fewer. But on a large
/// database every thread's cache fills, so the process's memory grows
/// with the cache times the threads: this is the largest size that kept
/// the process within its memory target.
const CACHE_KIB: i64 = 8 * 1024;

/// How often (in VM instructions) SQLite checks the budget.
const CHECK_EVERY: i32 = 1_000;

/// Checks a statement may pass before it is interrupted (`CHECK_EVERY`
/// VM instructions each): far more than a lookup by key or by an indexed
/// attribute runs, and over in a few milliseconds even when every
/// instruction extracts JSON, so a worker is never held up for long.
const BUDGET_CHECKS: u32 = 10;

/// Opens one read-only connection per worker thread, on first use.
#[derive(Clone, Debug)]
pub struct InlineReads {
    /// Tells this database's connections from another's on the same
    /// thread (tests run many apps in one process).
    id: u64,
    path: PathBuf,
}

/// A thread's connection, the budget checks its current statement has
/// used and the checks it may use (both shared with SQLite's progress
/// handler).
struct Open {
    id: u64,
    connection: Connection,
    checks: Arc<AtomicU32>,
    budget: Arc<AtomicU32>,
}

thread_local! {
    static OPEN: RefCell<Option<Open>> = const { RefCell::new(None) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl InlineReads {
    /// `None` for databases other than a SQLite file.
    pub fn for_url(url: &DatabaseUrl) -> Option<Self> {
        Some(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            path: sqlite_file(url)?,
        })
    }

    /// Runs `stmt` and maps each row with `map`; `None` if it ran past
    /// its budget or binds a value this path does not handle, so that it
    /// should run elsewhere.
    pub fn all<T>(
        &self,
        stmt: &Statement,
        map: impl FnMut(&Cells<'_, '_>) -> rusqlite::Result<T>,
    ) -> Result<Option<Vec<T>>, DbErr> {
        self.all_within(BUDGET_CHECKS, stmt, map)
    }

    /// Like `all`, with no budget: for a thread that serves no requests,
    /// where a long read holds up only background work.
    pub fn all_unbudgeted<T>(
        &self,
        stmt: &Statement,
        map: impl FnMut(&Cells<'_, '_>) -> rusqlite::Result<T>,
    ) -> Result<Option<Vec<T>>, DbErr> {
        self.all_within(u32::MAX, stmt, map)
    }

    fn all_within<T>(
        &self,
        budget: u32,
        stmt: &Statement,
        map: impl FnMut(&Cells<'_, '_>) -> rusqlite::Result<T>,
    ) -> Result<Option<Vec<T>>, DbErr> {
        let Some(params) = params(stmt) else {
            return Ok(None);
        };
        let found = self.with_connection(budget, |c| read_all(c, &stmt.sql, params, map));
        match found {
            Ok(rows) => Ok(Some(rows)),
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted) => Ok(None),
            Err(e) => Err(db_err(e)),
        }
    }

    fn with_connection<T>(
        &self,
        budget: u32,
        run: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        OPEN.with(|open| {
            let mut open = open.borrow_mut();
            let current = match open.take() {
                Some(o) if o.id == self.id => o,
                _ => self.open()?,
            };
            current.checks.store(0, Ordering::Relaxed);
            current.budget.store(budget, Ordering::Relaxed);
            let result = run(&current.connection);
            *open = Some(current);
            result
        })
    }

    fn open(&self) -> rusqlite::Result<Open> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.set_prepared_statement_cache_capacity(PREPARED);
        connection.pragma_update(None, "cache_size", -CACHE_KIB)?;
        let checks = Arc::new(AtomicU32::new(0));
        let budget = Arc::new(AtomicU32::new(BUDGET_CHECKS));
        let (counted, allowed) = (Arc::clone(&checks), Arc::clone(&budget));
        let over_budget =
            move || counted.fetch_add(1, Ordering::Relaxed) >= allowed.load(Ordering::Relaxed);
        connection.progress_handler(CHECK_EVERY, Some(over_budget))?;
        Ok(Open {
            id: self.id,
            connection,
            checks,
            budget,
        })
    }
}

/// Every row `sql` returns, mapped by `map`.
pub(super) fn read_all<T>(
    c: &Connection,
    sql: &str,
    params: Vec<Param>,
    mut map: impl FnMut(&Cells<'_, '_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut prepared = c.prepare_cached(sql)?;
    let names: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let rows = prepared.query_map(params_from_iter(params), |row| {
        map(&Cells::new(row, &names))
    })?;
    rows.collect()
}

/// The file of a SQLite database; `None` for other databases, and for an
/// in-memory one, which is private to the connection that opened it.
pub(crate) fn sqlite_file(url: &DatabaseUrl) -> Option<PathBuf> {
    let text = url.expose();
    if !url.is_sqlite() || text.contains(":memory:") || text.contains("mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(text).ok()?;
    Some(options.get_filename().to_path_buf())
}

pub(in crate::store) fn db_err(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("sqlite: {e}"))
}

/// The statement's bound values as SQLite stores them: uuids as 16-byte
/// blobs, booleans as integers, JSON as text, as sqlx writes them. `None`
/// for a type no hot read binds.
pub(super) fn params(stmt: &Statement) -> Option<Vec<Param>> {
    let Some(values) = &stmt.values else {
        return Some(Vec::new());
    };
    values.0.iter().map(param).collect()
}

/// The same values bound in place: text and blobs by reference, where
/// [`params`] copies them. Writes bind whole documents and log bodies.
pub(super) fn borrowed_params(stmt: &Statement) -> Option<Vec<ToSqlOutput<'_>>> {
    let Some(values) = &stmt.values else {
        return Some(Vec::new());
    };
    values
        .0
        .iter()
        .map(|v| match v {
            Value::String(Some(s)) => Some(ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))),
            Value::Uuid(Some(u)) => Some(ToSqlOutput::Borrowed(ValueRef::Blob(u.as_bytes()))),
            v => param(v).map(ToSqlOutput::Owned),
        })
        .collect()
}

fn param(v: &Value) -> Option<Param> {
    Some(match v {
        Value::Uuid(Some(u)) => Param::Blob(u.as_bytes().to_vec()),
        Value::String(Some(s)) => Param::Text(s.clone()),
        Value::Bool(Some(b)) => Param::Integer(i64::from(*b)),
        Value::Int(Some(i)) => Param::Integer(i64::from(*i)),
        Value::BigInt(Some(i)) => Param::Integer(*i),
        Value::Unsigned(Some(i)) => Param::Integer(i64::from(*i)),
        Value::BigUnsigned(Some(i)) => Param::Integer(i64::try_from(*i).ok()?),
        Value::Double(Some(f)) => Param::Real(*f),
        Value::Json(Some(j)) => Param::Text(j.to_string()),
        Value::Uuid(None)
        | Value::String(None)
        | Value::Bool(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::Json(None) => Param::Null,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::exec::limit::written_out;
    use crate::store::exec::row::Row;
    use crate::store::exec::source::tests::counting_to;
    use sea_orm::{DbBackend, Statement};
    use uuid::Uuid;

    /// A SQLite file with `n` rows in `t(id BLOB PRIMARY KEY, doc TEXT)`.
    fn database(n: u32) -> (tempfile::TempDir, DatabaseUrl, Vec<Uuid>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let c = Connection::open(&path).expect("open");
        c.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (id BLOB PRIMARY KEY, doc TEXT)")
            .expect("schema");
        let ids: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
        for (i, id) in ids.iter().enumerate() {
            c.execute(
                "INSERT INTO t VALUES (?1, ?2)",
                (id.as_bytes().to_vec(), format!("{{\"n\":{i}}}")),
            )
            .expect("insert");
        }
        let url = DatabaseUrl::new(format!("sqlite://{}?mode=rwc", path.display()));
        (dir, url, ids)
    }

    fn stmt(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    fn doc(reads: &InlineReads, id: Uuid) -> Option<Vec<serde_json::Value>> {
        let by_id = stmt("SELECT id, doc FROM t WHERE id = ?", vec![id.into()]);
        reads
            .all(&by_id, |row| {
                assert_eq!(row.uuid("id")?, id);
                row.json("doc")
            })
            .expect("no error")
    }

    #[test]
    fn a_lookup_binds_uuids_as_blobs_and_reads_json() {
        let (_dir, url, ids) = database(3);
        let reads = InlineReads::for_url(&url).expect("a SQLite file");
        let found = doc(&reads, ids[1]).expect("within budget");
        assert_eq!(found, vec![serde_json::json!({"n": 1})]);
        assert_eq!(doc(&reads, Uuid::new_v4()), Some(Vec::new()));
    }

    #[test]
    fn a_statement_past_its_budget_is_handed_back_and_the_next_one_runs() {
        let (_dir, url, ids) = database(2);
        let reads = InlineReads::for_url(&url).expect("a SQLite file");
        let long = counting_to(1_000_000);
        let counted = reads.all(&long, |row| row.i64("c")).expect("no error");
        assert_eq!(counted, None, "a million-row scan must not finish inline");
        let short = counting_to(100);
        let counted = reads.all(&short, |row| row.i64("c"));
        assert_eq!(counted.expect("no error"), Some(vec![100]));
        assert!(doc(&reads, ids[0]).is_some(), "the budget starts afresh");
    }

    /// An unbudgeted read finishes what a budgeted one hands back, and
    /// leaves the next budgeted read its budget.
    #[test]
    fn an_unbudgeted_read_runs_to_its_end_and_the_budget_comes_back() {
        let (_dir, url, _) = database(1);
        let reads = InlineReads::for_url(&url).expect("a SQLite file");
        let long = counting_to(1_000_000);
        let counted = reads.all_unbudgeted(&long, |row| row.i64("c"));
        assert_eq!(counted.expect("no error"), Some(vec![1_000_000]));
        let counted = reads.all(&long, |row| row.i64("c")).expect("no error");
        assert_eq!(counted, None, "the budget applies again");
    }

    #[test]
    fn a_thread_connection_gets_the_larger_page_cache() {
        let (_dir, url, _) = database(1);
        let reads = InlineReads::for_url(&url).expect("a SQLite file");
        let size = stmt("PRAGMA cache_size", Vec::new());
        let found = reads
            .all(&size, |row| row.i64("cache_size"))
            .expect("no error");
        assert_eq!(found, Some(vec![-CACHE_KIB]));
    }

    /// `.cargo/config.toml` builds the bundled SQLite without the two
    /// process-wide mutexes every reader would take; a build that lost
    /// those flags (or a LIBSQLITE3_FLAGS in the environment replacing
    /// them) must not pass unnoticed.
    #[test]
    fn the_bundled_sqlite_takes_no_process_wide_lock_per_page_or_allocation() {
        let connection = Connection::open_in_memory().expect("in-memory SQLite");
        let mut stmt = connection
            .prepare("PRAGMA compile_options")
            .expect("pragma");
        let options: Vec<String> = stmt
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "memory statistics on: {options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "one page cache for all connections: {options:?}"
        );
    }

    #[test]
    fn two_databases_on_one_thread_each_read_their_own() {
        let (_a, url_a, ids_a) = database(1);
        let (_b, url_b, ids_b) = database(1);
        let (a, b) = (
            InlineReads::for_url(&url_a).expect("file"),
            InlineReads::for_url(&url_b).expect("file"),
        );
        for _ in 0..2 {
            assert_eq!(doc(&a, ids_a[0]).map(|d| d.len()), Some(1));
            assert_eq!(doc(&a, ids_b[0]).map(|d| d.len()), Some(0));
            assert_eq!(doc(&b, ids_b[0]).map(|d| d.len()), Some(1));
        }
    }

    #[test]
    fn a_page_reads_the_same_rows_with_its_limit_written_out() {
        let (_dir, url, ids) = database(5);
        let reads = InlineReads::for_url(&url).expect("a SQLite file");
        let mut sorted = ids.clone();
        sorted.sort();
        for (limit, offset) in [(2u64, 0u64), (2, 3), (10, 4)] {
            let page = stmt(
                "SELECT id FROM t ORDER BY id LIMIT ? OFFSET ?",
                vec![limit.into(), offset.into()],
            );
            let found = reads.all(&written_out(page), |row| row.uuid("id"));
            let expected: Vec<Uuid> = sorted
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .copied()
                .collect();
            assert_eq!(found.expect("no error"), Some(expected));
        }
    }

    #[test]
    fn only_sqlite_files_are_read_inline() {
        for url in ["mysql://u:p@localhost/db", "sqlite::memory:"] {
            assert!(
                InlineReads::for_url(&DatabaseUrl::new(url)).is_none(),
                "{url}"
            );
        }
    }

    #[test]
    fn a_failing_statement_is_an_error_not_a_fallback() {
        let (_dir, url, _) = database(1);
        let reads = InlineReads::for_url(&url).expect("file");
        let bad = stmt("SELECT nope FROM t", Vec::new());
        assert!(reads.all(&bad, |row| row.i64("nope")).is_err());
    }
}
