//! Runs a transaction body again when the database reports a conflict that
//! retrying resolves (deadlock, write conflict, lock timeout, busy SQLite).
//!
//! The waits double and each is drawn at random from the upper half of its
//! bound, so writers that lost to the same commit do not come back
//! together to meet again. A conflict is reported at once, and on a Galera
//! cluster every commit through one node aborts the writers of the same
//! row on the others: a writer among many may lose several rounds running,
//! so conflicts get more attempts than waits that timed out, each of which
//! has already taken its timeout.

use std::future::Future;
use std::time::Duration;

use sea_orm::DbErr;

use super::ServiceError;
use crate::store::{is_conflict, is_retryable};

/// Attempts in all for a conflict: at most about half a second of waits.
const CONFLICT_ATTEMPTS: u32 = 10;
/// Attempts in all for a lock wait or SQLite busy that timed out.
const TIMEOUT_ATTEMPTS: u32 = 5;
const FIRST_WAIT: Duration = Duration::from_millis(5);
const LONGEST_WAIT: Duration = Duration::from_millis(100);

pub async fn with_retry<T, F, Fut>(mut body: F) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ServiceError>>,
{
    let mut attempt = 1;
    loop {
        match body().await {
            Err(ServiceError::Db(e)) if attempt < attempts(&e) => {
                log::debug!("retrying transaction after conflict (attempt {attempt}): {e}");
                tokio::time::sleep(backoff(FIRST_WAIT, LONGEST_WAIT, attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The attempts in all that an error allows (1: it is not retried).
fn attempts(e: &DbErr) -> u32 {
    if is_conflict(e) {
        CONFLICT_ATTEMPTS
    } else if is_retryable(e) {
        TIMEOUT_ATTEMPTS
    } else {
        1
    }
}

/// The wait after attempt `attempt` failed, for anything retried with
/// backoff (a transaction here, an event's delivery): its bound doubles
/// from `first` up to `longest`, and a random part of up to half of it is
/// taken off, so that what failed together does not come back together.
pub fn backoff(first: Duration, longest: Duration, attempt: u32) -> Duration {
    let mut bytes = [0u8; 8];
    let random = getrandom::fill(&mut bytes).map_or(0, |()| u64::from_le_bytes(bytes));
    backoff_drawn(first, longest, attempt, random)
}

/// `backoff` with its random draw given.
fn backoff_drawn(first: Duration, longest: Duration, attempt: u32, random: u64) -> Duration {
    let bound = first
        .saturating_mul(1 << attempt.saturating_sub(1).min(30))
        .min(longest);
    let half = u64::try_from(bound.as_micros() / 2).unwrap_or(1).max(1);
    bound.saturating_sub(Duration::from_micros(random % half))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(attempt: u32, random: u64) -> Duration {
        backoff_drawn(FIRST_WAIT, LONGEST_WAIT, attempt, random)
    }

    /// Bounds double up to the longest wait, and a draw stays in the
    /// upper half of its bound.
    #[test]
    fn waits_double_and_stay_in_the_upper_half() {
        let bounds: Vec<u64> = (1..=8).map(|a| wait(a, 0).as_millis() as u64).collect();
        assert_eq!(bounds, [5, 10, 20, 40, 80, 100, 100, 100]);
        for attempt in 1..=12 {
            let bound = wait(attempt, 0);
            for random in [1, 777, 123_456_789, u64::MAX] {
                let w = wait(attempt, random);
                assert!(w <= bound && w >= bound / 2, "{attempt}: {w:?}");
            }
        }
        let total: Duration = (1..CONFLICT_ATTEMPTS).map(|a| wait(a, 0)).sum();
        assert!(total <= Duration::from_millis(600), "{total:?}");
    }

    /// Conflicts, reported at once, get more attempts than timeouts;
    /// anything else gets none again.
    #[test]
    fn conflicts_get_more_attempts_than_timeouts() {
        let err = |text: &str| DbErr::Custom(text.to_owned());
        let deadlock = err("1213 (40001): Deadlock found when trying to get lock");
        let lock_wait = err("1205 (HY000): Lock wait timeout exceeded");
        let busy = err("sqlite: database is locked");
        let other = err("1062 (23000): Duplicate entry");
        assert_eq!(attempts(&deadlock), CONFLICT_ATTEMPTS);
        assert_eq!(attempts(&lock_wait), TIMEOUT_ATTEMPTS);
        assert_eq!(attempts(&busy), TIMEOUT_ATTEMPTS);
        assert_eq!(attempts(&other), 1);
    }
}
