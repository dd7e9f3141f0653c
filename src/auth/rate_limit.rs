//! Failed authentications per client address and per Basic user name.
//! governor's GCRA counts the failures; once an address or a name has used
//! up its allowance, credentials the verifier does not already know are
//! refused before anything checks them, until the allowance would admit
//! another attempt, so that guessing stays bounded and learns nothing from
//! a 429. Known credentials are not refused here (see `auth::remembered`):
//! a valid credential is never locked out by its neighbours' failures.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::RateLimitConfig;

/// Beyond this many tracked keys, forgotten ones are swept out.
const SWEEP_AT: usize = 10_000;

/// One allowance per key.
struct Budget<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    refused_until: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> Budget<K> {
    fn new(quota: Quota) -> Self {
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            refused_until: Mutex::new(HashMap::new()),
        }
    }

    fn refused(&self, key: &K) -> Option<u64> {
        let until = *self.refused_until.lock().ok()?.get(key)?;
        let left = until.checked_duration_since(Instant::now())?;
        Some(whole_seconds(left))
    }

    fn failed(&self, key: &K, clock: &DefaultClock) -> Option<u64> {
        if self.limiter.len() > SWEEP_AT {
            self.limiter.retain_recent();
        }
        let wait = self
            .limiter
            .check_key(key)
            .err()?
            .wait_time_from(clock.now());
        if let Ok(mut refused) = self.refused_until.lock() {
            let now = Instant::now();
            if refused.len() > SWEEP_AT {
                refused.retain(|_, until| *until > now);
            }
            refused.insert(key.clone(), now + wait);
        }
        Some(whole_seconds(wait))
    }
}

pub struct FailureLimiter {
    addresses: Budget<IpAddr>,
    names: Budget<String>,
    clock: DefaultClock,
    trust_forwarded_for: bool,
}

impl FailureLimiter {
    pub fn new(c: &RateLimitConfig) -> Self {
        let per_minute = NonZeroU32::new(c.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(c.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Self {
            addresses: Budget::new(quota),
            names: Budget::new(quota),
            clock: DefaultClock::default(),
            trust_forwarded_for: c.trust_forwarded_for,
        }
    }

    /// Whole seconds to wait when unknown credentials from `addr` are
    /// refused right now.
    pub fn refused(&self, addr: IpAddr) -> Option<u64> {
        self.addresses.refused(&addr)
    }

    /// Counts a failure from `addr`; whole seconds to wait when that used up
    /// its allowance.
    pub fn failed(&self, addr: IpAddr) -> Option<u64> {
        self.addresses.failed(&addr, &self.clock)
    }

    /// Whole seconds to wait when unknown passwords for the user `name` are
    /// refused right now, from whatever address.
    pub fn name_refused(&self, name: &str) -> Option<u64> {
        self.names.refused(&name.to_owned())
    }

    /// Counts a failed password for `name`, from whatever address.
    pub fn name_failed(&self, name: &str) -> Option<u64> {
        self.names.failed(&name.to_owned(), &self.clock)
    }

    /// The address a request is counted against: its peer, or behind a
    /// trusted proxy the address the proxy forwarded for. IPv6 clients
    /// usually own a whole /64, so that is one address here.
    pub fn client_addr(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl FnOnce() -> Option<IpAddr>,
    ) -> Option<IpAddr> {
        let addr = if self.trust_forwarded_for {
            forwarded_for().or(peer)
        } else {
            peer
        }?;
        Some(match addr {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into())
            }
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            IpAddr::V4(_) => addr,
        })
    }
}

fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_burst_until_the_allowance_returns() {
        let limiter = FailureLimiter::new(&RateLimitConfig {
            burst: 2,
            per_minute: 1,
            trust_forwarded_for: false,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(limiter.failed(a), None);
        assert_eq!(limiter.failed(a), None);
        assert_eq!(limiter.refused(a), None);
        let wait = limiter.failed(a).expect("third failure is over the burst");
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(limiter.refused(a).is_some());
        assert_eq!(limiter.refused(b), None, "other addresses are unaffected");
    }

    #[test]
    fn names_have_their_own_allowance() {
        let limiter = FailureLimiter::new(&RateLimitConfig {
            burst: 1,
            per_minute: 1,
            trust_forwarded_for: false,
        });
        assert_eq!(limiter.name_failed("alice"), None);
        assert!(limiter.name_failed("alice").is_some());
        assert!(limiter.name_refused("alice").is_some());
        assert_eq!(limiter.name_refused("bob"), None);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(limiter.refused(a), None, "names do not spend addresses");
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let limiter = |trust| {
            FailureLimiter::new(&RateLimitConfig {
                trust_forwarded_for: trust,
                ..RateLimitConfig::default()
            })
        };
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(
            limiter(false).client_addr(Some(proxy), || Some(client)),
            Some(proxy)
        );
        assert_eq!(
            limiter(true).client_addr(Some(proxy), || Some(client)),
            Some(client)
        );
        assert_eq!(limiter(true).client_addr(Some(proxy), || None), Some(proxy));
        let v6: IpAddr = "2001:db8::1:2:3:4".parse().unwrap();
        assert_eq!(
            limiter(false).client_addr(Some(v6), || None),
            Some("2001:db8::".parse().unwrap()),
            "one IPv6 /64 is one address"
        );
    }
}
