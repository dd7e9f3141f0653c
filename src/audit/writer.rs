//! Writes the request log in batches and prunes both audit tables.
//!
//! Beside a SQLite file the log has a file of its own
//! (`store::request_log`), written by its own connection, so a batch
//! never takes the writer SCIM writes queue for; elsewhere (MariaDB/MySQL,
//! an in-memory SQLite) it is a table of the main database, written on the
//! pool. Either way a batch is one transaction: one commit, and on a
//! server database one flush of its log, for hundreds of rows (on the own
//! file a prepared insert a row, elsewhere statements of up to
//! `rows::MAX_ROWS` rows). Pruning the change records,
//! which live in the main database, waits on SQLite until no SCIM write
//! is queued (`Db::write_queue_depth`), at most `IDLE_WAIT`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use entity::{audit_change, audit_request};
use prometheus_client::metrics::counter::Counter;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Statement,
};
use tokio::sync::{Notify, broadcast, mpsc};

use super::capture::Captured;
use super::query::Activity;
use super::rows;
use crate::config::AuditConfig;
use crate::store::error::log_background_failure;
use crate::store::exec::{Db, is_unique_violation};
use crate::store::is_conflict;
use crate::store::request_log::RequestLogStore;
use crate::time::now_ms;

/// Entries per batch, whatever the interval.
const BATCH: usize = 500;
/// Longest a batch waits for the SQLite writer to be idle.
const IDLE_WAIT: Duration = Duration::from_millis(250);
const IDLE_POLL: Duration = Duration::from_millis(2);
/// How often old rows are pruned, and how many one statement deletes.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
const PRUNE_BATCH: u64 = 500;
const DAY_MS: i64 = 86_400_000;

pub(super) struct Writer {
    pub settings: AuditConfig,
    pub db: Db,
    pub log: RequestLogStore,
    /// What the buffered entries weigh; taken off as they are received.
    pub buffered: Arc<AtomicUsize>,
    pub events: broadcast::Sender<Arc<Activity>>,
    pub written: Counter,
    pub stopping: Arc<AtomicBool>,
    pub flushed: Arc<Notify>,
    pub wake: Arc<Notify>,
}

impl Writer {
    pub async fn run(self, mut receiver: mpsc::Receiver<Captured>) {
        let interval = Duration::from_millis(self.settings.flush_interval_ms);
        let mut next_prune = Instant::now() + prune_every(&self.settings);
        let mut backlog = false;
        loop {
            // Behind: write the next batch at once.
            let woken = !backlog
                && tokio::select! {
                    () = tokio::time::sleep(interval) => false,
                    () = self.wake.notified() => true,
                };
            let mut batch = Vec::new();
            while batch.len() < BATCH {
                match self.next(&mut receiver) {
                    Some(entry) => batch.push(entry),
                    None => break,
                }
            }
            backlog = batch.len() == BATCH;
            if !batch.is_empty() {
                self.write(batch).await;
            }
            if Instant::now() >= next_prune {
                self.prune().await;
                next_prune = Instant::now() + prune_every(&self.settings);
            }
            if woken || self.stopping.load(Ordering::Acquire) {
                // Anything still buffered goes before the caller hears.
                while let Some(entry) = self.next(&mut receiver) {
                    self.write(vec![entry]).await;
                }
                self.flushed.notify_waiters();
            }
            if self.stopping.load(Ordering::Acquire) || receiver.is_closed() {
                self.flushed.notify_waiters();
                return;
            }
        }
    }

    /// The next buffered entry, if any, its weight no longer counted as
    /// buffered.
    fn next(&self, receiver: &mut mpsc::Receiver<Captured>) -> Option<Captured> {
        let entry = receiver.try_recv().ok()?;
        self.buffered.fetch_sub(entry.weight(), Ordering::AcqRel);
        Some(entry)
    }

    /// Writes `batch` in one transaction.
    async fn write(&self, batch: Vec<Captured>) {
        let limit = self.settings.max_body_bytes;
        let watched = self.events.receiver_count() > 0;
        let count = batch.len();
        // A batch is written whole or not at all.
        let live = match self.log_insert(batch, limit, watched).await {
            Ok(live) => live,
            Err(e) => {
                log_background_failure(&format!("{count} request log entries not written"), &e);
                return;
            }
        };
        self.written.inc_by(count as u64);
        for activity in live.into_iter().flatten() {
            // Err: nobody is listening any more.
            let _ = self.events.send(activity);
        }
    }

    /// Inserts the rows of `batch` into the request log, in one
    /// transaction; the live view's entries when `watched`.
    async fn log_insert(
        &self,
        batch: Vec<Captured>,
        limit: usize,
        watched: bool,
    ) -> Result<Vec<Option<Arc<Activity>>>, DbErr> {
        let make = move |c: Captured| c.into_row(limit, watched);
        match self.log.own_file() {
            Some(file) => {
                let made = file.insert_made(batch, make).await?;
                Ok(made.into_iter().map(|(_, live)| live).collect())
            }
            None => {
                let (models, live) = batch.into_iter().map(make).unzip();
                self.shared_insert(rows::inserts(self.db.backend(), models), live)
                    .await
            }
        }
    }

    /// Inserts a batch into the main database's table, which other
    /// servers on the database write too: where one of them took a key of
    /// the batch, or (on a Galera cluster) a node's commit aborted it, the
    /// batch goes again under new keys rather than be lost.
    async fn shared_insert(
        &self,
        mut statements: Vec<Statement>,
        mut live: Vec<Option<Arc<Activity>>>,
    ) -> Result<Vec<Option<Arc<Activity>>>, DbErr> {
        let mut tries = 1;
        loop {
            let db = self.db.clone();
            let run = self.db.writing(one_transaction(db, statements)).await;
            match run {
                Ok(_) => return Ok(live),
                Err(failed) if tries < INSERT_TRIES && goes_again(&failed.error) => {
                    if is_unique_violation(&failed.error) {
                        // New keys past every key taken, not only past
                        // the one met: another server may be ahead.
                        if let Ok(Some(newest)) = newest_request(self.log.reads()).await {
                            super::ids::skip_past(newest);
                        }
                    }
                    statements = failed.statements;
                    let keys = rows::rekey(&mut statements);
                    for (entry, key) in live.iter_mut().zip(keys) {
                        if let Some(activity) = entry.as_mut().and_then(Arc::get_mut) {
                            activity.seq = key;
                        }
                    }
                    tries += 1;
                }
                Err(failed) => return Err(failed.error),
            }
        }
    }

    /// Runs statements on the request log, in one transaction; the rows
    /// they changed.
    async fn log_write(&self, statements: Vec<Statement>) -> Result<u64, DbErr> {
        match self.log.own_file() {
            Some(file) => file.write(statements).await,
            None => self.idle_write(statements, Instant::now()).await,
        }
    }

    /// Runs `statements` in one transaction where writes run, on SQLite
    /// once no SCIM write waits (or `until` has passed); the rows they
    /// changed. A failure leaves none of them.
    async fn idle_write(&self, statements: Vec<Statement>, until: Instant) -> Result<u64, DbErr> {
        if let Some(mut depth) = self.db.write_queue_depth() {
            while depth > 0 && Instant::now() < until {
                tokio::time::sleep(IDLE_POLL).await;
                depth = self.db.write_queue_depth().unwrap_or(0);
            }
        }
        let db = self.db.clone();
        let run = self.db.writing(one_transaction(db, statements));
        run.await.map_err(|failed| failed.error)
    }

    /// Deletes requests and changes past their retention, a batch per
    /// transaction.
    async fn prune(&self) {
        let now = now_ms();
        let s = &self.settings;
        let request_cutoff = now - i64::from(s.request_days) * DAY_MS;
        let change_cutoff = now - i64::from(s.change_days) * DAY_MS;
        if let Err(e) = self.prune_all(request_cutoff, change_cutoff).await {
            log_background_failure("audit trail pruning stopped", &e);
        }
    }

    async fn prune_all(&self, request_cutoff: i64, change_cutoff: i64) -> Result<(), DbErr> {
        let log = self.log.reads();
        let bound = row_limit_bound(log, self.settings.max_request_rows).await?;
        loop {
            let stmt = old_requests(log, request_cutoff, bound).await?;
            let Some(stmt) = stmt else { break };
            if self.log_write(vec![stmt]).await? < PRUNE_BATCH {
                break;
            }
        }
        loop {
            let seqs: Vec<i64> = audit_change::Entity::find()
                .select_only()
                .column(audit_change::Column::Seq)
                // Keys are microseconds since the epoch: no index on `at`.
                .filter(audit_change::Column::Seq.lt(change_cutoff.saturating_mul(1000)))
                .order_by_asc(audit_change::Column::Seq)
                .limit(PRUNE_BATCH)
                .into_tuple()
                .all(self.db.scans())
                .await?;
            if seqs.is_empty() {
                break;
            }
            let delete = audit_change::Entity::delete_many()
                .filter(audit_change::Column::Seq.is_in(seqs))
                .build(self.db.backend());
            if self
                .idle_write(vec![delete], Instant::now() + IDLE_WAIT)
                .await?
                < PRUNE_BATCH
            {
                break;
            }
        }
        Ok(())
    }
}

/// Runs `statements` in one transaction; the rows they changed, or the
/// error with the statements, to go again.
async fn one_transaction(db: Db, statements: Vec<Statement>) -> Result<u64, Failed> {
    let run = async {
        let txn = db.begin_write().await?;
        let mut changed = 0;
        for stmt in &statements {
            changed += txn.exec_kept(stmt).await?;
        }
        txn.commit().await?;
        Ok(changed)
    };
    run.await.map_err(|error| Failed { error, statements })
}

/// A transaction that failed, and its statements.
struct Failed {
    error: DbErr,
    statements: Vec<Statement>,
}

impl From<DbErr> for Failed {
    fn from(error: DbErr) -> Self {
        Self {
            error,
            statements: Vec::new(),
        }
    }
}

/// Attempts in all at a batch whose keys others took or whose
/// transaction another node's commit aborted.
const INSERT_TRIES: u32 = 5;

fn goes_again(e: &DbErr) -> bool {
    is_unique_violation(e) || is_conflict(e)
}

fn prune_every(settings: &AuditConfig) -> Duration {
    match settings.prune_interval_secs {
        0 => PRUNE_EVERY,
        secs => Duration::from_secs(secs),
    }
}

/// The newest request's key.
async fn newest_request(reads: &DatabaseConnection) -> Result<Option<i64>, DbErr> {
    audit_request::Entity::find()
        .select_only()
        .column(audit_request::Column::Seq)
        .order_by_desc(audit_request::Column::Seq)
        .limit(1)
        .into_tuple::<i64>()
        .one(reads)
        .await
}

/// The key at and below which requests are beyond the newest `max_rows`
/// (0: no limit).
async fn row_limit_bound(reads: &DatabaseConnection, max_rows: u64) -> Result<Option<i64>, DbErr> {
    if max_rows == 0 {
        return Ok(None);
    }
    audit_request::Entity::find()
        .select_only()
        .column(audit_request::Column::Seq)
        .order_by_desc(audit_request::Column::Seq)
        .offset(max_rows)
        .limit(1)
        .into_tuple::<i64>()
        .one(reads)
        .await
}

/// The next batch of requests to delete: older than `cutoff`, or at or
/// below `bound`. `None` when there is none.
async fn old_requests(
    reads: &DatabaseConnection,
    cutoff: i64,
    bound: Option<i64>,
) -> Result<Option<Statement>, DbErr> {
    use audit_request::Column as C;
    // Keys are microseconds since the epoch: no index on `at` is needed.
    let mut old = Condition::any().add(C::Seq.lt(cutoff.saturating_mul(1000)));
    if let Some(seq) = bound {
        old = old.add(C::Seq.lte(seq));
    }
    let seqs: Vec<i64> = audit_request::Entity::find()
        .select_only()
        .column(C::Seq)
        .filter(old)
        .order_by_asc(C::Seq)
        .limit(PRUNE_BATCH)
        .into_tuple()
        .all(reads)
        .await?;
    if seqs.is_empty() {
        return Ok(None);
    }
    let delete = audit_request::Entity::delete_many()
        .filter(C::Seq.is_in(seqs))
        .build(reads.get_database_backend());
    Ok(Some(delete))
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DbBackend, Value};

    use super::*;
    use crate::config::DatabaseUrl;

    /// A writer on a fresh SQLite file holding `t(n)`, which refuses 3.
    async fn writer() -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::new(format!("sqlite://{}", dir.path().join("t.db").display()));
        let timeout = Duration::from_secs(5);
        let pool = crate::store::connect(&url, 1, timeout).await.expect("pool");
        pool.execute_unprepared("CREATE TABLE t (n INTEGER CHECK (n <> 3))")
            .await
            .expect("table");
        let log = RequestLogStore::in_main(&pool);
        let db = Db::open(&url, pool, timeout).await.expect("db");
        let writer = Writer {
            settings: AuditConfig::default(),
            db,
            log,
            buffered: Arc::default(),
            events: broadcast::channel(1).0,
            written: Counter::default(),
            stopping: Arc::default(),
            flushed: Arc::default(),
            wake: Arc::default(),
        };
        (dir, writer)
    }

    fn inserts() -> Vec<Statement> {
        (1..=4)
            .map(|n| {
                let sql = "INSERT INTO t (n) VALUES (?)";
                Statement::from_sql_and_values(DbBackend::Sqlite, sql, [Value::from(n)])
            })
            .collect()
    }

    async fn stored(w: &Writer) -> Vec<i64> {
        let read = Statement::from_string(DbBackend::Sqlite, "SELECT n FROM t ORDER BY n");
        let rows = w.db.scans().query_all_raw(read).await.expect("read");
        rows.iter()
            .map(|r| r.try_get::<i64>("", "n").expect("n"))
            .collect()
    }

    /// The statements are one transaction: a failing one leaves none of
    /// them.
    #[actix_web::test]
    async fn a_batch_commits_whole_or_not_at_all() {
        let (_dir, w) = writer().await;
        assert!(w.idle_write(inserts(), Instant::now()).await.is_err());
        assert_eq!(stored(&w).await, Vec::<i64>::new());
    }
}
