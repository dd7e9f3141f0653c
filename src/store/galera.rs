//! Galera cluster nodes: how Roster tells one, and causal reads on it.
//!
//! A node answers a commit once the
//! cluster has certified the write, but the other nodes apply it a moment
//! later: a read through another node (a Roster node that failed over, or
//! one given a different first host) could miss a user already answered
//! 201, and an IdP that creates and then reads through a load balancer
//! would see a 404. With `wsrep_sync_wait = 1` a node first applies every
//! write the cluster had committed when the read began.

use std::time::Duration;

use sea_orm::sqlx::{Executor as _, MySqlConnection};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// Lists the server's `wsrep_on`: `ON` on a running Galera node, `OFF` on
/// a MariaDB without a cluster, no row on MySQL and TiDB, which have no
/// such variable (and refuse `@@wsrep_on`).
const WSREP_ON: &str = "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'";

/// Whether the server is a running Galera node.
pub async fn is_node(connection: &mut MySqlConnection, limit: Duration) -> bool {
    let read =
        sea_orm::sqlx::query_as::<_, (String, String)>(WSREP_ON).fetch_optional(&mut *connection);
    matches!(
        tokio::time::timeout(limit, read).await,
        Ok(Ok(Some((_, value)))) if value.eq_ignore_ascii_case("ON")
    )
}

/// Whether the pool's server is a running Galera node.
pub async fn serves_cluster(db: &DatabaseConnection) -> Result<bool, DbErr> {
    if db.get_database_backend() != DbBackend::MySql {
        return Ok(false);
    }
    let show = Statement::from_string(DbBackend::MySql, WSREP_ON);
    let Some(row) = db.query_one_raw(show).await? else {
        return Ok(false);
    };
    let value: String = row.try_get_by_index(1)?;
    Ok(value.eq_ignore_ascii_case("ON"))
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
