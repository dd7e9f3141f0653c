//! How far the outbox can be read without skipping an event still being
//! committed. Sequence numbers are given out at insert time, so on
//! MariaDB a write can commit after a later one: its number is then
//! missing for a moment. A missing number is waited for until the event
//! after it is `gap_wait` old; by then the write that took it has rolled
//! back (events are recorded last, just before the commit).
//!
//! On SQLite one transaction writes at a time and takes its number (one
//! more than the largest) inside it, so numbers become visible in order:
//! the largest committed is the horizon, read without visiting the events.

use std::sync::Mutex;

use sea_orm::{DbBackend, DbErr};

use super::store;
use crate::store::exec::Source;

/// Sequence numbers read per statement.
const STEP: u64 = 1000;

pub struct Horizon {
    reached: Mutex<i64>,
    gap_wait_ms: i64,
}

impl Horizon {
    pub fn new(start: i64, gap_wait_ms: i64) -> Self {
        Self {
            reached: Mutex::new(start),
            gap_wait_ms,
        }
    }

    fn get(&self) -> i64 {
        self.reached.lock().map_or(0, |h| *h)
    }

    /// The highest sequence number such that every event up to it that
    /// will ever commit has committed.
    pub async fn advance<S: Source>(&self, s: &S) -> Result<i64, DbErr> {
        // SQLite: numbers commit in order, no gap is ever waited for.
        let reached = if s.backend() == DbBackend::Sqlite {
            store::max_seq(s).await?
        } else {
            self.first_gap(s).await?
        };
        if let Ok(mut h) = self.reached.lock()
            && reached > *h
        {
            *h = reached;
        }
        Ok(self.get())
    }

    /// The number before the first gap still young enough to be a write
    /// under way, reading on from the horizon reached so far.
    async fn first_gap<S: Source>(&self, s: &S) -> Result<i64, DbErr> {
        let old_enough = crate::time::now_ms() - self.gap_wait_ms;
        let mut reached = self.get();
        'read: loop {
            let rows = store::seqs_after(s, reached, STEP).await?;
            for row in &rows {
                if row.seq != reached + 1 && row.created_at > old_enough {
                    break 'read;
                }
                reached = row.seq;
            }
            if (rows.len() as u64) < STEP {
                break;
            }
        }
        Ok(reached)
    }
}
