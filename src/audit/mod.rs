//! The audit trail: what the IdP sent, what Roster answered, and what
//! changed.
//!
//! - Changes (`changes`): a change hook writes one record per committed
//!   write inside the write's transaction.
//! - Requests (`capture`, `writer`): a middleware copies the first bytes
//!   of each request and response under the SCIM base path and the OAuth
//!   endpoints as they stream past, and hands the entry to a bounded
//!   buffer; a task redacts and describes the entries (`redact`,
//!   `summary`) and writes them in batches, beside a SQLite file in a
//!   file of its own (`store::request_log`), and prunes old rows. A full
//!   buffer drops entries and counts them; a crash loses the batch not
//!   yet written.
//! - Queries (`query`): what the console's JSON API and pages show.

pub mod capture;
pub mod changes;
mod diff;
mod entry;
pub mod ids;
pub mod query;
pub mod redact;
mod rows;
mod scan;
pub mod summary;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use tokio::sync::{Notify, broadcast, mpsc};

use self::capture::Captured;
use self::changes::{AuditHook, ChangeNotes};
use self::query::Activity;
use crate::config::AuditConfig;
use crate::oauth::METADATA_PATH;
use crate::store::exec::Db;
use crate::store::request_log::RequestLogStore;

/// New entries the console's live view may fall behind by before it
/// misses some.
const BROADCAST_CAPACITY: usize = 256;

/// The request log of one server: its buffer, its writer and the feed of
/// new entries.
pub struct Audit {
    settings: AuditConfig,
    base_path: String,
    console_path: String,
    sender: mpsc::Sender<Captured>,
    notes: Arc<ChangeNotes>,
    events: broadcast::Sender<Arc<Activity>>,
    dropped: Counter,
    stopping: Arc<AtomicBool>,
    flushed: Arc<Notify>,
    wake: Arc<Notify>,
    /// Where the request log is read.
    log_reads: sea_orm::DatabaseConnection,
    /// What the buffered entries weigh (`Captured::weight`), against
    /// `buffer_bytes`.
    buffered: Arc<AtomicUsize>,
}

/// What start-up makes before the database: the hook, whose notes the
/// request log reads later.
#[derive(Clone, Default)]
pub struct AuditNotes(Arc<ChangeNotes>);

impl AuditNotes {
    pub fn hook(&self) -> Arc<AuditHook> {
        Arc::new(AuditHook {
            notes: self.0.clone(),
        })
    }
}

/// The counters the request log keeps, shared with `/metrics` when on.
#[derive(Clone, Default)]
pub struct AuditCounters {
    pub dropped: Counter,
    pub written: Counter,
}

impl Audit {
    /// Starts the writer on the current runtime.
    pub fn start(
        settings: &AuditConfig,
        (base_path, console_path): (&str, &str),
        notes: AuditNotes,
        (db, log): (Db, RequestLogStore),
        counters: AuditCounters,
    ) -> Arc<Self> {
        let (sender, receiver) = mpsc::channel(settings.buffer_entries);
        let (events, _) = broadcast::channel(BROADCAST_CAPACITY);
        let audit = Arc::new(Self {
            settings: settings.clone(),
            base_path: base_path.to_owned(),
            console_path: console_path.to_owned(),
            sender,
            notes: notes.0,
            events: events.clone(),
            dropped: counters.dropped.clone(),
            stopping: Arc::new(AtomicBool::new(false)),
            flushed: Arc::new(Notify::new()),
            wake: Arc::new(Notify::new()),
            log_reads: log.reads().clone(),
            buffered: Arc::default(),
        });
        let run = writer::Writer {
            settings: settings.clone(),
            db,
            log,
            buffered: audit.buffered.clone(),
            events,
            written: counters.written,
            stopping: audit.stopping.clone(),
            flushed: audit.flushed.clone(),
            wake: audit.wake.clone(),
        };
        tokio::spawn(run.run(receiver));
        audit
    }

    /// Whether requests to `path` are recorded: the SCIM API and the
    /// authorization server's endpoints.
    pub fn records(&self, path: &str) -> bool {
        if path.starts_with("/oauth2/") || path == METADATA_PATH {
            return true;
        }
        if self.base_path == "/" {
            let console = path == self.console_path
                || path
                    .strip_prefix(&self.console_path)
                    .is_some_and(|rest| rest.starts_with('/'));
            let probes = ["/healthz", "/readyz", "/metrics"].contains(&path);
            return !console && !probes;
        }
        path.strip_prefix(&self.base_path)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// Where the request log is read.
    pub fn log_reads(&self) -> &sea_orm::DatabaseConnection {
        &self.log_reads
    }

    pub fn max_body_bytes(&self) -> usize {
        self.settings.max_body_bytes
    }

    /// Hands an entry to the writer; a full buffer, by entries or by
    /// bytes, drops it and counts it.
    fn submit(&self, mut entry: Captured) {
        entry.notes = self.notes.take(&entry.request_id);
        let weight = entry.weight();
        let held = self.buffered.fetch_add(weight, Ordering::AcqRel);
        if held + weight > self.settings.buffer_bytes || self.sender.try_send(entry).is_err() {
            self.buffered.fetch_sub(weight, Ordering::AcqRel);
            self.dropped.inc();
        }
    }

    /// New entries as they are written, for a live view.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Activity>> {
        self.events.subscribe()
    }

    /// Writes what the buffer holds now, then returns (tests; a graceful
    /// stop uses `finish`).
    pub async fn flush(&self) {
        // Twice: a write under way when asked may have collected its batch
        // before the latest entries.
        for _ in 0..2 {
            let flushed = self.flushed.notified();
            self.wake.notify_one();
            let _ = tokio::time::timeout(Duration::from_secs(10), flushed).await;
        }
    }

    /// Writes what the buffer holds and stops the writer, waiting at most
    /// `timeout`.
    pub async fn finish(&self, timeout: Duration) {
        let flushed = self.flushed.notified();
        self.stopping.store(true, Ordering::Release);
        self.wake.notify_one();
        if tokio::time::timeout(timeout, flushed).await.is_err() {
            log::warn!("the request log's last entries were not written within {timeout:?}");
        }
    }
}
