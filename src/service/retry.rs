//! Runs a transaction body again when the database reports a conflict that
//! retrying resolves (deadlock, lock timeout, busy SQLite).

use std::future::Future;
use std::time::Duration;

use super::ServiceError;
use crate::store::is_retryable;

const ATTEMPTS: u32 = 5;

pub async fn with_retry<T, F, Fut>(mut body: F) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ServiceError>>,
{
    let mut attempt = 1;
    loop {
        match body().await {
            Err(ServiceError::Db(e)) if attempt < ATTEMPTS && is_retryable(&e) => {
                log::debug!("retrying transaction after conflict (attempt {attempt}): {e}");
                tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}
