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
//! connection of its own (`lane_writer::LaneWriter`), rather than on
//! sqlx's connection thread; validation happens before a write is sent
//! here, so the lane does little but write.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::{Builder, Handle};
use tokio::sync::{Semaphore, oneshot};

use sea_orm::DbErr;

use super::lane_writer::LaneWriter;

/// Runs futures on the lane's thread. The thread ends when the last
/// clone is dropped (tests start many servers in one process).
#[derive(Clone)]
pub struct WriteLane {
    handle: Handle,
    /// The connection its transactions write on (SQLite files; an
    /// in-memory database is private to the pool's connection).
    writer: Option<LaneWriter>,
    /// One permit per write on the lane, so that `drain` can wait for
    /// them all.
    in_flight: Arc<Semaphore>,
    _stop: Arc<oneshot::Sender<()>>,
}

/// More writes than can be in flight at once.
const SLOTS: u32 = 1 << 20;

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
            in_flight: Arc::new(Semaphore::new(SLOTS as usize)),
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
        let permit = self.in_flight.clone().try_acquire_owned().ok();
        self.handle
            .spawn(async move {
                let _counted = permit;
                work.await
            })
            .await
            .map_err(|e| E::from(DbErr::Custom(format!("a write stopped: {e}"))))?
    }

    /// Waits until no write runs on the lane, or `timeout` passes.
    pub async fn drain(&self, timeout: std::time::Duration) {
        let idle = tokio::time::timeout(timeout, self.in_flight.acquire_many(SLOTS)).await;
        if idle.is_err() {
            log::warn!("writes still running after {timeout:?}; they roll back");
        }
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

    #[actix_web::test]
    async fn drain_waits_for_a_write_in_flight() {
        let lane = WriteLane::start(None).expect("thread");
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let running = lane.clone();
        actix_web::rt::spawn(async move {
            let _ = running
                .run(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    done_tx.send(()).ok();
                    Ok::<_, DbErr>(())
                })
                .await;
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        lane.drain(std::time::Duration::from_secs(5)).await;
        assert!(
            done_rx.try_recv().is_ok(),
            "the write finished before drain returned"
        );
    }
}
