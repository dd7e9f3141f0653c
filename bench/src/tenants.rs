//! `seed --tenants N`: the same users in N tenants, to measure that a
//! request of one tenant costs what it cost with one tenant only.

use std::path::Path;

use roster::config::Config;
use roster::scim::profile::Profile;
use roster::service::tenants;
use roster::service::tokens;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::seed::{Args, insert_users};

/// Adds tenants `bench-0001` … `bench-{n-1}` with `args.users` users each;
/// the last tenant's id and first user's id, when there is one.
pub async fn seed_more(
    conn: &DatabaseConnection,
    config: &Config,
    args: &Args,
    n: usize,
) -> Result<Option<(Uuid, Uuid)>, String> {
    let mut last = None;
    for i in 1..n {
        let name = format!("bench-{i:04}");
        let tenant = tenants::add(conn, &name, Profile::Okta, None)
            .await
            .map_err(|e| format!("tenant {name}: {e}"))?;
        let ids = insert_users(conn, config, tenant.id, args.users, args.shape).await?;
        last = ids.first().map(|first| (tenant.id, *first));
        if i % 100 == 0 {
            eprintln!("seed: {i} tenants");
        }
    }
    Ok(last)
}

/// Mints a token of `tenant` and writes `token<TAB>tenant<TAB>user`.
pub async fn write_token(
    conn: &DatabaseConnection,
    tenant: Uuid,
    user: Uuid,
    path: &Path,
) -> Result<(), String> {
    let minted = tokens::create(conn, tenant, "bench")
        .await
        .map_err(|e| format!("token: {e}"))?;
    let line = format!("{}\t{}\t{user}\n", minted.token, tenant.simple());
    std::fs::write(path, line).map_err(|e| format!("{}: {e}", path.display()))
}
