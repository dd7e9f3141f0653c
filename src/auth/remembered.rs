//! Credentials that verified recently, kept only as digests. The failure
//! limiter refuses unknown credentials once an address or a user name has
//! used up its allowance; a credential remembered here is known, so it goes
//! on to the verifier (cheap for it: cached) however many guesses shared
//! its address. A guess is never remembered, so guessing stays bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::credentials::Presented;
use crate::secrets::sha256;

/// Long enough to bridge a lockout episode of a busy connector, short
/// enough that a forgotten credential stops counting as known soon.
const TTL: Duration = Duration::from_secs(900);
/// Bounds the memory: a server sees a handful of real credentials.
const MAX: usize = 4096;

#[derive(Default)]
pub struct Remembered {
    until: Mutex<HashMap<[u8; 32], Instant>>,
}

impl Remembered {
    pub fn contains(&self, presented: &Presented) -> bool {
        let key = key(presented);
        let now = Instant::now();
        self.until
            .lock()
            .is_ok_and(|m| m.get(&key).is_some_and(|exp| *exp > now))
    }

    pub fn insert(&self, presented: &Presented) {
        let key = key(presented);
        let now = Instant::now();
        if let Ok(mut m) = self.until.lock() {
            if m.len() >= MAX && !m.contains_key(&key) {
                m.retain(|_, exp| *exp > now);
            }
            if m.len() < MAX || m.contains_key(&key) {
                m.insert(key, now + TTL);
            }
        }
    }
}

fn key(presented: &Presented) -> [u8; 32] {
    match presented {
        Presented::Bearer(token) => sha256(format!("bearer\u{0}{token}").as_bytes()),
        Presented::Basic { user, password } => {
            sha256(format!("basic\u{0}{user}\u{0}{password}").as_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inserted_credentials_are_remembered() {
        let r = Remembered::default();
        let good = Presented::Bearer("tok".to_owned());
        let basic = |p: &str| Presented::Basic {
            user: "u".to_owned(),
            password: p.to_owned(),
        };
        assert!(!r.contains(&good));
        r.insert(&good);
        r.insert(&basic("pw"));
        assert!(r.contains(&good));
        assert!(r.contains(&basic("pw")));
        assert!(!r.contains(&basic("other")));
        assert!(!r.contains(&Presented::Bearer("u\u{0}pw".to_owned())));
    }
}
