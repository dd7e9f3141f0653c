//! Request ids: kept from the client's `X-Request-Id` when plausible,
//! else made here, and known to everything that runs while the request is
//! handled through a task-local.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::header::{HeaderMap, HeaderName};

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being handled, in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

tokio::task_local! {
    static CURRENT_ID: Arc<str>;
}

/// Runs `handling` with `id` as the current request's id.
pub fn scope<F: Future>(id: Arc<str>, handling: F) -> impl Future<Output = F::Output> {
    CURRENT_ID.scope(id, handling)
}

/// The id of the request whose handling is running on this task, if any.
pub fn current_id() -> Option<Arc<str>> {
    CURRENT_ID.try_with(Arc::clone).ok()
}

/// The client's `X-Request-Id` when it is plausible (1 to 128 characters
/// from `A-Za-z0-9._:-`), else a new one.
pub fn request_id(headers: &HeaderMap) -> Arc<str> {
    let sent = headers
        .get(&REQUEST_ID_HEADER)
        .and_then(|h| h.to_str().ok())
        .filter(|id| plausible(id));
    match sent {
        Some(id) => id.into(),
        None => new_id().into(),
    }
}

fn plausible(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

/// A random prefix drawn once per process and a counter: unique across
/// restarts and replicas without a random draw per request. The counter
/// has a fixed width so that one process's ids sort in the order they
/// were made: the request log's index on them then grows at one end,
/// where unpadded counters scattered every batch's entries over the
/// whole index, a page written to the database for each.
fn new_id() -> String {
    static PREFIX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 8];
        // Without randomness the clock still separates processes.
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            bytes = (nanos as u64).to_le_bytes();
        }
        u64::from_le_bytes(bytes)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:016x}-{n:012x}")
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    #[test]
    fn only_plausible_ids_are_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("okta-1.2:3_x"));
        assert_eq!(&*request_id(&headers), "okta-1.2:3_x");
        for bad in ["", "a b", "x\"y", &"a".repeat(129)] {
            headers.insert(
                REQUEST_ID_HEADER,
                HeaderValue::from_str(bad).expect("header"),
            );
            assert_ne!(&*request_id(&headers), bad);
        }
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(plausible(&a));
    }

    #[test]
    fn new_ids_sort_in_the_order_they_were_made() {
        // Past a change in the counter's digit count (0xff to 0x100).
        let ids: Vec<String> = (0..300).map(|_| new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    }
}
