//! How the main listener holds up under load and stops: the open-files
//! limit, a cap on connections below it, deadlines for slow clients, and
//! a graceful stop on SIGTERM or SIGINT.
//!
//! Every connection costs a file descriptor. Past the open-files limit,
//! accepting fails and the accept loop pauses, so every client waits, and
//! the database can no longer open its files either. The cap keeps the
//! connections below the limit with room to spare; the header and body
//! deadlines and the short keep-alive give the connections of clients
//! that send nothing (or trickle) back within seconds, and a connection
//! that fails to authenticate is closed after its answer
//! (`http::connection`), so that a flood of them does not keep
//! authenticated clients out for long.

use std::time::Duration;

use actix_web::dev::ServerHandle;

use crate::config::Config;

/// Descriptors kept for everything but client connections: the database
/// (a SQLite file takes three per connection with its WAL), logs, the
/// listener, the runtime.
const RESERVED_FILES: usize = 64;

/// The listener's settings, derived from the configuration and the
/// process's limits.
#[derive(Debug, Clone)]
pub struct Transport {
    pub workers: usize,
    /// Connections each worker accepts before the accept loop waits.
    pub connections_per_worker: usize,
    pub backlog: u32,
    pub header_timeout: Duration,
    pub keep_alive: Duration,
    pub shutdown_timeout_secs: u64,
}

impl Transport {
    /// Raises the open-files limit and sizes the connection cap under it.
    pub fn new(config: &Config, workers: Option<usize>) -> Self {
        let server = &config.server;
        let configured = Some(server.workers).filter(|&n| n > 0);
        let workers = workers
            .or(configured)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        let open_files = raise_open_files_limit();
        let total = if server.max_connections > 0 {
            server.max_connections
        } else {
            let pool = crate::store::pool_size::configured_or_host(config.database.max_connections);
            connection_budget(open_files, pool as usize)
        };
        Self {
            workers,
            connections_per_worker: total.div_ceil(workers).max(1),
            backlog: server.backlog,
            header_timeout: Duration::from_millis(server.header_timeout_ms),
            keep_alive: Duration::from_millis(server.keep_alive_ms),
            shutdown_timeout_secs: server.shutdown_timeout_secs,
        }
    }
}

/// Connections that fit under `open_files` beside the database's pool and
/// the reserve.
fn connection_budget(open_files: usize, pool: usize) -> usize {
    let reserve = RESERVED_FILES + 3 * pool + open_files / 8;
    open_files.saturating_sub(reserve).max(16)
}

/// Lifts the soft open-files limit to the hard one, and returns the soft
/// limit in force.
fn raise_open_files_limit() -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            log::warn!("cannot raise the open-files limit: {e}");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    };
    usize::try_from(limit).unwrap_or(usize::MAX)
}

/// Stops the server gracefully on SIGTERM or SIGINT: it stops accepting,
/// lets in-flight requests finish within the shutdown timeout, and
/// returns. A second signal stops it at once.
pub fn stop_on_signals(handle: ServerHandle) {
    actix_web::rt::spawn(async move {
        let Some(name) = termination().await else {
            return;
        };
        log::info!("{name} received; finishing in-flight requests");
        let graceful = handle.clone();
        actix_web::rt::spawn(async move { graceful.stop(true).await });
        if let Some(name) = termination().await {
            log::warn!("{name} received again; stopping now");
            handle.stop(false).await;
        }
    });
}

/// The first termination signal; `None` when none can be waited for.
#[cfg(unix)]
async fn termination() -> Option<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())
        .inspect_err(|e| log::warn!("SIGTERM will not stop the server gracefully: {e}"))
        .ok()?;
    let mut int = signal(SignalKind::interrupt()).ok()?;
    tokio::select! {
        _ = term.recv() => Some("SIGTERM"),
        _ = int.recv() => Some("SIGINT"),
    }
}

#[cfg(not(unix))]
async fn termination() -> Option<&'static str> {
    tokio::signal::ctrl_c().await.ok().map(|()| "Ctrl-C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_leaves_room_under_the_open_files_limit() {
        assert_eq!(connection_budget(1024, 8), 1024 - 64 - 24 - 128);
        assert!(connection_budget(256, 4) < 256 - 64);
        assert_eq!(connection_budget(32, 8), 16);
    }
}
