//! Keys of the audit tables: microseconds since the epoch, made strictly
//! increasing within the process, so that the newest rows come first by
//! key and a key is a stable paging cursor.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static LAST: AtomicI64 = AtomicI64::new(0);

pub fn next_seq() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// Makes the keys this process gives from now on come after `seq`, as
/// when another server sharing the database has just taken it (a test
/// stands in for that server with it).
pub fn skip_past(seq: i64) {
    LAST.fetch_max(seq, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_increase() {
        let a = super::next_seq();
        let b = super::next_seq();
        assert!(b > a);
    }
}
