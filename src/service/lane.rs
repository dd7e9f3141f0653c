//! Where SQLite write transactions run: a thread of their own.
//!
//! SQLite lets one transaction write at a time, and a write transaction
//! here is several statements, each a round trip to sqlx's connection
//! thread. Between two of them, the task that holds the write lock waits
//! to be polled again by its actix worker. When the workers are busy with
//! reads (which, on SQLite, run on the worker threads themselves; see
//! `store::inline`), that wait is behind every request queued there, and
//! every writer waits with it: with GETs and POSTs together (16
//! connections each, 10,000 users), 236-288 POST/s beside 11,500-13,400
//! GET/s, where it was 639 beside 5,993 before inline reads. On a thread
//! that does nothing else, the holder is polled as soon as each statement
//! returns: 1,288-1,351 POST/s beside 7,600-10,600 GET/s. POSTs alone
//! are unchanged (1,142-1,313 vs 1,271-1,328 POST/s, A/B twice).
//!
//! The lane's transactions also run their statements on this thread, on a
//! connection of its own (`store::write::LaneWriter`), rather than on
//! sqlx's connection thread; validation happens before a write is sent
//! here, so the lane does little but write.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

use super::ServiceError;
use crate::store::write::LaneWriter;

/// Runs futures on the lane's thread. The thread ends when the last
/// clone is dropped (tests start many servers in one process).
#[derive(Clone)]
pub struct WriteLane {
    handle: Handle,
    /// The connection its transactions write on (SQLite files; an
    /// in-memory database is private to the pool's connection).
    writer: Option<LaneWriter>,
    _stop: Arc<oneshot::Sender<()>>,
}

impl WriteLane {
    pub fn start(writer: Option<LaneWriter>) -> std::io::Result<Self> {
        let runtime = Builder::new_current_thread().enable_all().build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("roster-writes".into())
            .spawn(move || {
                // Err when the sender is dropped: the lane's owners are gone.
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Self {
            handle,
            writer,
            _stop: Arc::new(stop),
        })
    }

    pub fn writer(&self) -> Option<&LaneWriter> {
        self.writer.as_ref()
    }

    pub async fn run<T, F>(&self, work: F) -> Result<T, ServiceError>
    where
        F: Future<Output = Result<T, ServiceError>> + Send + 'static,
        T: Send + 'static,
    {
        self.handle
            .spawn(work)
            .await
            .map_err(|e| ServiceError::Internal(format!("a write stopped: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn work_runs_on_the_lane_thread_and_its_errors_come_back() {
        let lane = WriteLane::start(None).expect("thread");
        let name = lane
            .run(async { Ok(std::thread::current().name().map(str::to_owned)) })
            .await
            .expect("ran");
        assert_eq!(name.as_deref(), Some("roster-writes"));
        let failed: Result<(), _> = lane
            .run(async { Err(ServiceError::Internal("no".into())) })
            .await;
        assert!(matches!(failed, Err(ServiceError::Internal(m)) if m == "no"));
    }
}
