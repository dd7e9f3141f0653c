//! Notes when stored credentials are used (a bearer token presented to the
//! API, an OAuth client's secret presented at the token endpoint), for the
//! console's credentials page: at most once a minute per credential on
//! each node, off the request's path, so that a busy one costs one small
//! write a minute.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::store::token_use;
use crate::time::now_ms;

/// How stale a recorded use may get.
const EVERY: Duration = Duration::from_secs(60);
/// Beyond this many remembered credentials, old entries are swept out.
const SWEEP_AT: usize = 10_000;

pub struct CredentialUse {
    db: DatabaseConnection,
    written: Mutex<HashMap<Uuid, Instant>>,
}

impl CredentialUse {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            written: Mutex::new(HashMap::new()),
        }
    }

    /// The credential stored as `id` (a token's or a client's) of `tenant`
    /// was just used.
    pub fn used(&self, tenant: Uuid, id: Uuid) {
        let now = Instant::now();
        {
            let Ok(mut written) = self.written.lock() else {
                return;
            };
            if written
                .get(&id)
                .is_some_and(|at| now.duration_since(*at) < EVERY)
            {
                return;
            }
            if written.len() > SWEEP_AT {
                written.retain(|_, at| now.duration_since(*at) < EVERY);
            }
            written.insert(id, now);
        }
        let db = self.db.clone();
        tokio::spawn(async move {
            if let Err(e) = token_use::record(&db, tenant, id, now_ms()).await {
                log::debug!("cannot record the use of credential {id}: {e}");
            }
        });
    }
}
