//! Where the request log is kept.
//!
//! On a SQLite file it is a database file of its own beside the main one
//! (`roster.db` → `roster-requests.db`), with 64 KiB pages and a rollback
//! journal, written on a connection of its own. In the main file every
//! log row went through the WAL and then again through the checkpoint, a
//! write and a copy for each 4 KiB page, and every batch took the one
//! writer that SCIM writes wait for. Pages appended under a rollback
//! journal are written once, large pages take fewer system calls, and the
//! log's commits neither wait for a SCIM write nor hold one up.
//!
//! Its table is the one the migrations made in the main database, which
//! stays empty there: the definition is copied when the file is made, and
//! rows found in the main database (written before the log had a file)
//! move over at start.
//!
//! Elsewhere (MariaDB/MySQL, an in-memory SQLite) the log is a table of
//! the main database, written where writes run.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use entity::audit_request;
use rusqlite::Connection;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sea_orm::{
    DatabaseConnection, DbBackend, DbErr, IdenStatic, Iterable, SqlxSqliteConnector, Statement,
};

use super::exec::{db_err, execute, insert_sql, lock, sqlite_file};
use crate::config::DatabaseUrl;

const TABLE: &str = "audit_requests";
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The console's reads and the pruning's.
const READ_CONNECTIONS: u32 = 2;
/// Bytes the persisted journal keeps between commits; a pruning batch
/// that journaled more leaves it cut back to this.
const JOURNAL_LIMIT: u32 = 4 << 20;

/// The request log's database: where it is read, and, on a SQLite file,
/// the connection that writes it.
#[derive(Clone)]
pub struct RequestLogStore {
    reads: DatabaseConnection,
    own: Option<OwnFile>,
}

impl RequestLogStore {
    /// The log of the database at `url`, whose pool is `main`: in `file`
    /// when given, else in its own file beside a SQLite file (either made
    /// or brought up to date here), else in the main database.
    pub async fn open(
        url: &DatabaseUrl,
        main: &DatabaseConnection,
        file: Option<&Path>,
    ) -> Result<Self, DbErr> {
        let Some(path) = own_file_path(url, file) else {
            return Ok(Self::in_main(main));
        };
        let main_file = sqlite_file(url);
        let opened = path.clone();
        let connection =
            tokio::task::spawn_blocking(move || open_file(main_file.as_deref(), &opened))
                .await
                .map_err(|e| DbErr::Custom(format!("request log: {e}")))?
                .map_err(|e| DbErr::Custom(format!("request log {}: {e}", path.display())))?;
        Ok(Self {
            reads: read_pool(&path).await?,
            own: Some(OwnFile {
                connection: Arc::new(Mutex::new(connection)),
            }),
        })
    }

    /// The log as a table of the main database.
    pub fn in_main(main: &DatabaseConnection) -> Self {
        Self {
            reads: main.clone(),
            own: None,
        }
    }

    /// Where the log is read.
    pub fn reads(&self) -> &DatabaseConnection {
        &self.reads
    }

    /// The connection that writes the log's own file; `None` where the
    /// log is a table of the main database.
    pub fn own_file(&self) -> Option<&OwnFile> {
        self.own.as_ref()
    }
}

/// Where the log has a file of its own: `configured` when given, else
/// beside a SQLite database file; `None` where it is a table of the main
/// database.
pub fn own_file_path(url: &DatabaseUrl, configured: Option<&Path>) -> Option<PathBuf> {
    match configured {
        Some(file) => Some(file.to_owned()),
        None => sqlite_file(url).map(|main| file_beside(&main)),
    }
}

/// The log's file for the main database file `main`.
pub fn file_beside(main: &Path) -> PathBuf {
    let stem = main
        .file_stem()
        .map_or_else(|| "roster".into(), |s| s.to_string_lossy().into_owned());
    let name = match main.extension() {
        Some(ext) => format!("{stem}-requests.{}", ext.to_string_lossy()),
        None => format!("{stem}-requests"),
    };
    main.with_file_name(name)
}

/// Opens the log's file at `path`, making its table as the SQLite
/// database `main` has it and moving that table's rows over, or, beside a
/// server database, as the migrations would make it on SQLite.
fn open_file(main: Option<&Path>, path: &Path) -> rusqlite::Result<Connection> {
    super::file_mode::prepare_file(path)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let c = Connection::open(path)?;
    c.busy_timeout(BUSY_TIMEOUT)?;
    // The page size before the first table: a file keeps the one it was
    // made with. NORMAL syncs the journal before the pages it protects
    // are overwritten; a power cut may lose the last batch, as a crash
    // may, but leaves the file whole. A persisted journal is overwritten
    // in place by the next batch: cutting it to nothing and growing it
    // again took the file system's block bookkeeping twice a commit
    // (a fifth of the log's system time per row).
    c.execute_batch(&format!(
        "PRAGMA page_size = 65536; PRAGMA journal_mode = PERSIST; \
         PRAGMA journal_size_limit = {JOURNAL_LIMIT}; PRAGMA synchronous = NORMAL;"
    ))?;
    let Some(main) = main else {
        for definition in migration::request_log_sqlite() {
            c.execute_batch(&definition)?;
        }
        return Ok(c);
    };
    c.execute(
        "ATTACH DATABASE ?1 AS roster_main",
        [main.to_string_lossy()],
    )?;
    let made = copy_definition(&c).and_then(|()| move_rows(&c));
    c.execute_batch("DETACH DATABASE roster_main")?;
    made?;
    Ok(c)
}

/// Makes the log's table and indexes as the main database has them.
fn copy_definition(c: &Connection) -> rusqlite::Result<()> {
    let mut definitions = c.prepare(
        "SELECT sql FROM roster_main.sqlite_master \
         WHERE tbl_name = ?1 AND sql IS NOT NULL ORDER BY type = 'index'",
    )?;
    let texts: Vec<String> = definitions
        .query_map([TABLE], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for text in texts {
        // Unqualified names land in the log's own file, the connection's
        // `main`.
        let text = text
            .replacen("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1)
            .replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
            .replacen(
                "CREATE UNIQUE INDEX ",
                "CREATE UNIQUE INDEX IF NOT EXISTS ",
                1,
            );
        c.execute_batch(&text)?;
    }
    Ok(())
}

/// Moves rows the main database holds into the log's file. Moved again
/// after a crash between the copy and the delete, they are skipped by
/// key.
fn move_rows(c: &Connection) -> rusqlite::Result<()> {
    let any: Option<i64> = c
        .query_row(
            &format!("SELECT 1 FROM roster_main.{TABLE} LIMIT 1"),
            [],
            |r| r.get(0),
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    if any.is_none() {
        return Ok(());
    }
    // `WHERE true`: without it SQLite would read `ON CONFLICT` as part
    // of the SELECT's join.
    c.execute_batch(&format!(
        "INSERT INTO main.{TABLE} SELECT * FROM roster_main.{TABLE} WHERE true \
         ON CONFLICT DO NOTHING; DELETE FROM roster_main.{TABLE};"
    ))
}

async fn read_pool(path: &Path) -> Result<DatabaseConnection, DbErr> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Persist)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(READ_CONNECTIONS)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| DbErr::Custom(format!("request log: {e}")))?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// The connection that writes the log's own file.
#[derive(Clone)]
pub struct OwnFile {
    connection: Arc<Mutex<Connection>>,
}

impl OwnFile {
    /// Runs `statements` in one transaction on a blocking thread; the
    /// rows they changed. A failure leaves none of them.
    pub async fn write(&self, statements: Vec<Statement>) -> Result<u64, DbErr> {
        self.transaction(move |c| {
            statements
                .iter()
                .try_fold(0, |changed, stmt| Ok(changed + execute(c, stmt)?))
        })
        .await
    }

    /// Makes a row of each item and inserts it, all in one transaction
    /// on a blocking thread, skipping a key already there; for each item
    /// whether its row was new, and what `make` gave besides. A row is
    /// made, written and freed before the next is made: made on another
    /// thread and freed on this one, a batch's text came back to its
    /// maker's allocator cold, and that cost the maker more than the
    /// making. Each row's fields are bound where they lie: made into
    /// query values they were each copied and boxed, at a cost near the
    /// insert's own.
    pub async fn insert_made<T, R>(
        &self,
        items: Vec<T>,
        make: impl Fn(T) -> (audit_request::Model, R) + Send + 'static,
    ) -> Result<Vec<(bool, R)>, DbErr>
    where
        T: Send + 'static,
        R: Send + 'static,
    {
        self.transaction(move |c| {
            let mut insert = c.prepare_cached(&INSERT_SQL).map_err(db_err)?;
            items
                .into_iter()
                .map(|item| {
                    let (row, said) = make(item);
                    let added = insert_row(&mut insert, &row).map_err(db_err)?;
                    Ok((added, said))
                })
                .collect()
        })
        .await
    }

    async fn transaction<F, R>(&self, work: F) -> Result<R, DbErr>
    where
        F: FnOnce(&Connection) -> Result<R, DbErr> + Send + 'static,
        R: Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || in_transaction(&lock(&connection), work))
            .await
            .unwrap_or_else(|e| Err(DbErr::Custom(format!("request log: {e}"))))
    }
}

fn in_transaction<R>(
    c: &Connection,
    work: impl FnOnce(&Connection) -> Result<R, DbErr>,
) -> Result<R, DbErr> {
    c.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
    let ran = work(c).and_then(|done| c.execute_batch("COMMIT").map(|()| done).map_err(db_err));
    if ran.is_err() && !c.is_autocommit() {
        // Some failures (a full disk) have ended the transaction already.
        c.execute_batch("ROLLBACK").ok();
    }
    ran
}

/// One statement, prepared once, per row.
static INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    let columns: Vec<&str> = audit_request::Column::iter().map(|c| c.as_str()).collect();
    let insert = insert_sql(DbBackend::Sqlite, TABLE, &columns, 1);
    format!("{insert} ON CONFLICT DO NOTHING")
});

/// Binds `row` field by field; whether it was new.
fn insert_row(
    insert: &mut rusqlite::CachedStatement<'_>,
    row: &audit_request::Model,
) -> rusqlite::Result<bool> {
    // The entity's fields in their order, which `Column::iter` gives (a
    // field added to one and not here fails the count of values).
    let added = insert.execute(rusqlite::params![
        row.seq,
        row.tenant_id.as_bytes().as_slice(),
        row.at,
        row.request_id,
        row.client_addr,
        row.principal,
        row.method,
        row.route,
        row.path,
        row.status,
        row.latency_us,
        row.scim_type,
        row.resource_kind,
        row.operation,
        row.summary,
        row.request_headers,
        row.request_body,
        row.response_body,
    ])?;
    Ok(added > 0)
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Value};

    use super::*;

    /// A main database file holding a log table with `rows` rows, as the
    /// migrations make it, and its URL.
    fn main_with_rows(dir: &Path, rows: i64) -> (PathBuf, DatabaseUrl) {
        let path = dir.join("r.db");
        let c = Connection::open(&path).expect("main");
        c.execute_batch(
            "PRAGMA journal_mode = WAL; \
             CREATE TABLE audit_requests (seq INTEGER PRIMARY KEY, note TEXT CHECK (note <> 'refused')); \
             CREATE INDEX audit_requests_note ON audit_requests (note);",
        )
        .expect("schema");
        for seq in 1..=rows {
            c.execute("INSERT INTO audit_requests VALUES (?1, 'old')", [seq])
                .expect("row");
        }
        let url = DatabaseUrl::new(format!("sqlite://{}?mode=rwc", path.display()));
        (path, url)
    }

    async fn opened(url: &DatabaseUrl) -> RequestLogStore {
        let main = crate::store::connect(url, 1, Duration::from_secs(5))
            .await
            .expect("pool");
        RequestLogStore::open(url, &main, None).await.expect("log")
    }

    fn count(path: &Path) -> i64 {
        Connection::open(path)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM audit_requests", [], |r| r.get(0)))
            .expect("count")
    }

    fn insert(note: &str) -> Statement {
        let sql = "INSERT INTO audit_requests (note) VALUES (?)";
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, [Value::from(note)])
    }

    #[test]
    fn the_file_sits_beside_the_database() {
        let beside = |p: &str| file_beside(Path::new(p)).display().to_string();
        assert_eq!(
            beside("/var/lib/roster/roster.db"),
            "/var/lib/roster/roster-requests.db"
        );
        assert_eq!(beside("data/roster"), "data/roster-requests");
        assert_eq!(beside("a.b.sqlite"), "a.b-requests.sqlite");
    }

    /// The log's file gets the main table's definition, large pages and a
    /// rollback journal kept between commits, and the rows written before
    /// it had a file; they move once.
    #[actix_web::test]
    async fn a_sqlite_log_gets_its_own_file_and_the_rows_from_before() {
        let dir = tempfile::tempdir().expect("dir");
        let (main, url) = main_with_rows(dir.path(), 3);
        let log = opened(&url).await;
        assert!(log.own_file().is_some());
        let file = file_beside(&main);
        assert_eq!((count(&file), count(&main)), (3, 0));
        let c = Connection::open(&file).expect("log file");
        let pragma = |name: &str| -> String {
            c.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, Value2>(0))
                .expect(name)
                .0
        };
        assert_eq!(pragma("page_size"), "65536");
        assert_ne!(pragma("journal_mode"), "wal");
        // A rollback journal's mode and limit belong to the connection:
        // the writing one's.
        {
            let own = log.own_file().expect("own file");
            let writer = own.connection.lock().expect("connection");
            let setting = |name: &str| -> String {
                writer
                    .query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, Value2>(0))
                    .expect(name)
                    .0
            };
            assert_eq!(setting("journal_mode"), "persist");
            assert_eq!(setting("journal_size_limit"), JOURNAL_LIMIT.to_string());
        }
        let index: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'audit_requests_note'",
                [],
                |r| r.get(0),
            )
            .expect("index");
        assert_eq!(index, 1);
        drop(log);
        opened(&url).await;
        assert_eq!((count(&file), count(&main)), (3, 0));
    }

    /// A batch is one transaction: a failing statement leaves none of it.
    #[actix_web::test]
    async fn a_batch_commits_whole_or_not_at_all() {
        let dir = tempfile::tempdir().expect("dir");
        let (main, url) = main_with_rows(dir.path(), 0);
        let log = opened(&url).await;
        let file = log.own_file().expect("own file");
        let done = file.write(vec![insert("a"), insert("b")]).await;
        assert_eq!(done.expect("written"), 2);
        let batch = vec![insert("c"), insert("refused"), insert("d")];
        assert!(file.write(batch).await.is_err());
        assert_eq!(count(&file_beside(&main)), 2);
        // The connection is usable after the failure.
        assert_eq!(file.write(vec![insert("e")]).await.expect("written"), 1);
        let read = Statement::from_string(
            DbBackend::Sqlite,
            "SELECT COUNT(*) AS n FROM audit_requests",
        );
        let row = log
            .reads()
            .query_one_raw(read)
            .await
            .expect("read")
            .expect("row");
        assert_eq!(row.try_get::<i64>("", "n").expect("n"), 3);
    }

    /// Rows bound field by field read back as they were given, through
    /// the entity the console reads with; a key already there is skipped.
    #[actix_web::test]
    async fn inserted_rows_read_back_through_the_entity() {
        use sea_orm::{EntityTrait, QueryOrder};
        let dir = tempfile::tempdir().expect("dir");
        let url = DatabaseUrl::new(format!("sqlite://{}/m.db?mode=rwc", dir.path().display()));
        let main = crate::store::connect(&url, 1, Duration::from_secs(5))
            .await
            .expect("pool");
        crate::store::migrate(&main).await.expect("migrations");
        let log = RequestLogStore::open(&url, &main, None).await.expect("log");
        let row = |seq: i64, client_addr: Option<&str>| audit_request::Model {
            seq,
            tenant_id: uuid::Uuid::from_u128(0x0123_4567_89ab),
            at: 1_765_000_000_123,
            request_id: format!("req-{seq}"),
            client_addr: client_addr.map(str::to_owned),
            principal: Some("okta ✓".to_owned()),
            method: "PATCH".to_owned(),
            route: "/scim/v2/Groups/{id}".to_owned(),
            path: "/scim/v2/Groups/g?x=1".to_owned(),
            status: 204,
            latency_us: 1234,
            scim_type: None,
            resource_kind: Some("Group".to_owned()),
            operation: Some("patch".to_owned()),
            summary: "added 1 member to Engineering".to_owned(),
            request_headers: r#"{"accept":"application/scim+json"}"#.to_owned(),
            request_body: Some(r#"{"Operations":[]}"#.to_owned()),
            response_body: None,
        };
        let rows = vec![row(1, Some("192.0.2.7")), row(2, None)];
        let file = log.own_file().expect("own file");
        let same = |row| (row, ());
        let added = file.insert_made(rows.clone(), same).await;
        assert_eq!(added.expect("inserted"), [(true, ()), (true, ())]);
        let again = file.insert_made(vec![row(2, Some("x"))], same).await;
        assert_eq!(again.expect("ran"), [(false, ())]);
        let read = audit_request::Entity::find()
            .order_by_asc(audit_request::Column::Seq)
            .all(log.reads())
            .await
            .expect("read");
        assert_eq!(read, rows);
    }

    /// The log's table and index in the text SQLite keeps for them.
    fn definitions(path: &Path) -> Vec<String> {
        let c = Connection::open(path).expect("open");
        let mut q = c
            .prepare("SELECT sql FROM sqlite_master WHERE tbl_name = ?1 ORDER BY name")
            .expect("prepare");
        q.query_map([TABLE], |r| r.get(0))
            .and_then(Iterator::collect)
            .expect("definitions")
    }

    /// Beside a server database the log's file gets the table the
    /// migrations give a SQLite database, whose definition it cannot copy.
    #[actix_web::test]
    async fn a_file_apart_gets_the_migrations_table() {
        let dir = tempfile::tempdir().expect("temp dir");
        let migrated = dir.path().join("m.db");
        let url = DatabaseUrl::new(format!("sqlite://{}?mode=rwc", migrated.display()));
        let main = crate::store::connect(&url, 1, Duration::from_secs(5))
            .await
            .expect("pool");
        crate::store::migrate(&main).await.expect("migrations");
        let apart = dir.path().join("apart.db");
        open_file(None, &apart).expect("log file");
        let made = definitions(&apart);
        assert_eq!(made.len(), 2, "{made:?}");
        assert_eq!(made, definitions(&migrated));
        // Opened again, it is left as it is.
        open_file(None, &apart).expect("log file again");
        assert_eq!(definitions(&apart), made);
    }

    /// Elsewhere the log is the main database's table.
    #[actix_web::test]
    async fn an_in_memory_log_stays_in_the_main_database() {
        let url = DatabaseUrl::new("sqlite::memory:".to_owned());
        assert!(opened(&url).await.own_file().is_none());
    }

    /// A pragma's value as text, whatever its type.
    struct Value2(String);

    impl rusqlite::types::FromSql for Value2 {
        fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
            Ok(Self(match v {
                rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                _ => String::new(),
            }))
        }
    }
}
