//! Several MySQL-family hosts in one `DATABASE_URL`
//! (`mysql://u:p@h1:3306,h2:3306/db`), as for the nodes of a Galera
//! cluster: Roster connects to the first that answers, and when the host
//! in use stops answering, new connections go to the next that does.
//!
//! sqlx's pool opens every connection with one set of connect options, so
//! the pool stays one and its options are switched: a watcher keeps one
//! connection of its own to the host in use and pings it every
//! [`WATCH_INTERVAL`]; when the ping fails and the host does not take a new
//! connection either, it tries the other hosts in order and points the
//! pool at the first that does. Connections opened before the switch are
//! dropped as they come out of the pool instead of being handed out.

use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sea_orm::sqlx::{Connection, MySqlPool};
use sea_orm::{ConnectOptions, DatabaseConnection};

/// How often the host in use is pinged.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// The most a probe of one host may take: a host that does not answer
/// within it counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The hosts of a multi-host URL, one single-host URL each, in order.
#[derive(Clone)]
pub struct Hosts {
    urls: Vec<String>,
    /// When the pool last moved to another host: connections older than
    /// that lead to the host it left.
    switched: Arc<Mutex<Option<Instant>>>,
}

impl Hosts {
    /// `Some` for a `mysql://` URL naming more than one host.
    pub fn of(url: &str) -> Option<Self> {
        let urls = split_hosts(url)?;
        Some(Self {
            urls,
            switched: Arc::default(),
        })
    }

    pub fn url(&self, index: usize) -> &str {
        &self.urls[index.min(self.urls.len() - 1)]
    }

    /// The first host that takes a connection within `timeout` (capped at
    /// the probe timeout); the first host when none does, so that the
    /// connection error names it.
    pub async fn first_reachable(&self, timeout: Duration) -> usize {
        let timeout = timeout.min(PROBE_TIMEOUT);
        for (i, url) in self.urls.iter().enumerate() {
            if probe(url, timeout).await.is_some() {
                return i;
            }
            log::warn!("database host {} does not answer", host_of(url));
        }
        0
    }

    /// Makes the pool drop, rather than hand out, connections opened
    /// before its last move to another host.
    pub fn discard_stale(&self, opts: &mut ConnectOptions) {
        let switched = Arc::clone(&self.switched);
        opts.map_sqlx_mysql_before_acquire(move |_, meta| {
            let fresh = match *switched.lock().unwrap_or_else(PoisonError::into_inner) {
                Some(at) => meta.age < at.elapsed(),
                None => true,
            };
            Box::pin(async move { Ok(fresh) })
        });
    }

    /// Watches the host in use (`current`) for as long as the pool is open.
    pub fn watch(self, db: &DatabaseConnection, current: usize) {
        let pool = db.get_mysql_connection_pool().clone();
        tokio::spawn(self.run(pool, current));
    }

    async fn run(self, pool: MySqlPool, mut current: usize) {
        let mut probe_conn = probe(&self.urls[current], PROBE_TIMEOUT).await;
        while !pool.is_closed() {
            tokio::time::sleep(WATCH_INTERVAL).await;
            if let Some(conn) = probe_conn.as_mut()
                && matches!(
                    tokio::time::timeout(PROBE_TIMEOUT, conn.ping()).await,
                    Ok(Ok(()))
                )
            {
                continue;
            }
            probe_conn = None;
            let n = self.urls.len();
            for i in (0..n).map(|k| (current + k) % n) {
                if let Some(conn) = probe(&self.urls[i], PROBE_TIMEOUT).await {
                    probe_conn = Some(conn);
                    if i != current {
                        self.switch(&pool, current, i);
                        current = i;
                    }
                    break;
                }
            }
        }
    }

    fn switch(&self, pool: &MySqlPool, from: usize, to: usize) {
        let Ok(target) = MySqlConnectOptions::from_str(&self.urls[to]) else {
            return;
        };
        let options = (*pool.connect_options())
            .clone()
            .host(target.get_host())
            .port(target.get_port());
        pool.set_connect_options(options);
        *self.switched.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        log::warn!(
            "database host {} does not answer; new connections go to {}",
            host_of(&self.urls[from]),
            host_of(&self.urls[to])
        );
    }
}

/// A connection to `url` that answers a ping within `timeout`.
async fn probe(url: &str, timeout: Duration) -> Option<MySqlConnection> {
    let options = MySqlConnectOptions::from_str(url).ok()?;
    let attempt = async {
        let mut conn = MySqlConnection::connect_with(&options).await.ok()?;
        conn.ping().await.ok()?;
        Some(conn)
    };
    tokio::time::timeout(timeout, attempt).await.ok().flatten()
}

/// `host:port` of a single-host URL, for logs (no credentials).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// `mysql://u:p@h1:1,h2:2/db?x` → `mysql://u:p@h1:1/db?x`,
/// `mysql://u:p@h2:2/db?x`; `None` unless there are several hosts.
fn split_hosts(url: &str) -> Option<Vec<String>> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "mysql" | "mariadb") {
        return None;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((user, hosts)) => (format!("{user}@"), hosts),
        None => (String::new(), authority),
    };
    let hosts: Vec<&str> = hosts.split(',').map(str::trim).collect();
    if hosts.len() < 2 || hosts.iter().any(|h| h.is_empty()) {
        return None;
    }
    Some(
        hosts
            .iter()
            .map(|host| format!("{scheme}://{userinfo}{host}{tail}"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_with_several_hosts_becomes_one_url_per_host() {
        assert_eq!(
            split_hosts("mysql://u:p@h1:3306,h2:3307/db?ssl-mode=disabled"),
            Some(vec![
                "mysql://u:p@h1:3306/db?ssl-mode=disabled".to_owned(),
                "mysql://u:p@h2:3307/db?ssl-mode=disabled".to_owned(),
            ])
        );
        assert_eq!(
            split_hosts("mysql://h1,h2/db"),
            Some(vec!["mysql://h1/db".to_owned(), "mysql://h2/db".to_owned()])
        );
        assert_eq!(split_hosts("mysql://u:p@h1:3306/db"), None);
        assert_eq!(split_hosts("mysql://u:p@h1:3306,/db"), None);
        assert_eq!(split_hosts("sqlite://a,b.db"), None);
        assert_eq!(host_of("mysql://u:secret@h2:3307/db"), "h2:3307");
    }
}
