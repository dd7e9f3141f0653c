//! The statement timeout on MySQL/MariaDB. sqlx has no read timeout: a
//! server that is paused, or a host that vanished without a TCP reset,
//! leaves a statement waiting for ever, and its request with it. Every
//! statement the request paths send is bounded here instead, and one that
//! runs past the limit fails as "unavailable" (503 with Retry-After).
//! The connection it leaves mid-statement is not reused: the pool tests
//! it on release and closes it when it does not answer.
//!
//! SQLite is left alone: an embedded database cannot stop answering, and
//! its locks already wait under a busy timeout.
//!
//! The limit is process-wide because statements run through a blanket
//! impl over any SeaORM connection or transaction, which has nowhere to
//! carry a setting; start-up sets it from `[database]`.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{DbBackend, DbErr};

use crate::store::error::timed_out;

static STATEMENT_TIMEOUT_MS: AtomicU64 = AtomicU64::new(1000);

pub fn set_statement_timeout(limit: Duration) {
    let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX).max(1);
    STATEMENT_TIMEOUT_MS.store(ms, Ordering::Relaxed);
}

pub(super) fn statement_timeout() -> Duration {
    Duration::from_millis(STATEMENT_TIMEOUT_MS.load(Ordering::Relaxed))
}

/// `work` (one statement, a begin or a commit) under the statement
/// timeout, on a server database.
pub async fn bounded<T>(
    backend: DbBackend,
    work: impl Future<Output = Result<T, DbErr>>,
) -> Result<T, DbErr> {
    if backend == DbBackend::Sqlite {
        return work.await;
    }
    let limit = statement_timeout();
    match tokio::time::timeout(limit, work).await {
        Ok(done) => done,
        Err(_) => Err(timed_out(limit)),
    }
}
