//! Where SQLite write transactions run: a thread of their own.
//!
//! SQLite lets one transaction write at a time, and the task that holds
//! the write lock must be polled again after each of its statements.
//! On an actix worker that poll waits behind every request queued there
//! (on SQLite, reads run on the workers themselves; see `inline`),
//! and every other writer waits with it. On a thread that does nothing
//! else, the holder is polled as soon as each statement returns.
//!
//! The lane's transactions also run their statements on this thread, on a
//! connection of its own (`write::LaneWriter`), rather than on
//! sqlx's connection thread; validation happens before a write is sent
//! here, so the lane does little but write.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

use sea_orm::DbErr;

use super::write::LaneWriter;

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

    /// Write transactions sent here and not finished: the one running and
    /// those queued behind it.
    pub fn depth(&self) -> usize {
        self.handle.metrics().num_alive_tasks()
    }

    pub fn writer(&self) -> Option<&LaneWriter> {
        self.writer.as_ref()
    }

    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<DbErr> + Send + 'static,
    {
        self.handle
            .spawn(work)
            .await
            .map_err(|e| E::from(DbErr::Custom(format!("a write stopped: {e}"))))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn work_runs_on_the_lane_thread_and_its_errors_come_back() {
        let lane = WriteLane::start(None).expect("thread");
        let name = lane
            .run(async { Ok::<_, DbErr>(std::thread::current().name().map(str::to_owned)) })
            .await
            .expect("ran");
        assert_eq!(name.as_deref(), Some("roster-writes"));
        let failed: Result<(), DbErr> = lane.run(async { Err(DbErr::Custom("no".into())) }).await;
        assert!(matches!(failed, Err(DbErr::Custom(m)) if m == "no"));
    }
}
