//! Causal reads on a Galera cluster. A node answers a commit once the
//! cluster has certified the write, but the other nodes apply it a moment
//! later: a read through another node (a Roster node that failed over, or
//! one given a different first host) could miss a user already answered
//! 201, and an IdP that creates and then reads through a load balancer
//! would see a 404. With `wsrep_sync_wait = 1` a node first applies every
//! write the cluster had committed when the read began.

use std::time::Duration;

use sea_orm::ConnectOptions;
use sea_orm::sqlx::{Executor as _, MySqlConnection};

/// Whether the server is a running Galera node (`@@wsrep_on`; MySQL and
/// TiDB have no such variable, a MariaDB without a cluster says 0).
pub async fn is_node(connection: &mut MySqlConnection, limit: Duration) -> bool {
    let read = sea_orm::sqlx::query_scalar::<_, i64>("SELECT CAST(@@wsrep_on AS SIGNED)")
        .fetch_one(&mut *connection);
    matches!(tokio::time::timeout(limit, read).await, Ok(Ok(1)))
}

/// Every connection the pool opens waits for the cluster before it reads.
pub fn causal_reads(opts: &mut ConnectOptions) {
    opts.map_sqlx_mysql_pool_opts(|pool| {
        pool.after_connect(|connection, _| {
            Box::pin(async move {
                connection
                    .execute("SET SESSION wsrep_sync_wait = 1")
                    .await
                    .map(|_| ())
            })
        })
    });
}
