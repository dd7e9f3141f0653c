//! The time delivery decisions are made by (retry delays, parking, leases),
//! injectable so that a test can let an hour pass in a second.

use std::sync::Arc;

pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::time::now_ms()
    }
}

pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
