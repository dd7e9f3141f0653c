//! `[events]`: RFC 9967 security events, delivered by push (RFC 8935) and
//! poll (RFC 8936), and plain signed webhooks.

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// Off: no event is recorded, delivered or served.
    pub enabled: bool,
    /// Where poll receivers fetch their events (outside the SCIM base path).
    pub poll_path: String,
    /// The longest a poll without `returnImmediately` waits for an event.
    pub poll_wait_max_secs: u64,
    /// The most events one poll answer carries, whatever `maxEvents` asks.
    pub poll_max_events: u32,
    /// The `iss` of the events; the built-in authorization server's issuer
    /// when unset.
    pub issuer: Option<String>,
    /// Events one push round reads per receiver.
    pub push_batch: u32,
    /// Requests in flight to one push receiver (different resources only:
    /// one resource's events go one after the other).
    pub push_concurrency: u32,
    /// After a write wakes the push worker, how long it lets more events
    /// gather before it sends them: one delivery round (and one progress
    /// write) for the writes of that moment rather than one per write.
    /// Not waited when the last round filled its batch.
    pub coalesce_ms: u64,
    /// Push a group's consecutive `prov:patch:notice` events of one round
    /// as one notice (all their attributes, the last version), as RFC 9967
    /// §5 advises for groups changed by streams of PATCHes.
    pub merge_group_notices: bool,
    /// The first retry's delay; each failure doubles it up to
    /// `retry_max_ms`, with jitter.
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    /// An event a receiver keeps refusing is parked once it is this old.
    pub park_after_secs: u64,
    /// How long a node's claim on a receiver lasts without renewal.
    pub lease_secs: u64,
    /// A sequence number missing this long belongs to a rolled-back write.
    pub gap_wait_ms: u64,
    /// How often a node looks for receivers added or removed elsewhere.
    pub refresh_ms: u64,
    /// Events, acknowledgements and parked events older than this are
    /// deleted.
    pub retention_secs: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_path: "/events/poll".to_owned(),
            poll_wait_max_secs: 30,
            poll_max_events: 1000,
            issuer: None,
            push_batch: 500,
            push_concurrency: 32,
            coalesce_ms: 50,
            merge_group_notices: true,
            retry_initial_ms: 1000,
            retry_max_ms: 600_000,
            park_after_secs: 86_400,
            lease_secs: 30,
            gap_wait_ms: 2000,
            refresh_ms: 1000,
            retention_secs: 7 * 86_400,
        }
    }
}

impl EventsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !self.poll_path.starts_with('/') || self.poll_path.len() < 2 {
            return Err(invalid(format!(
                "events.poll_path must start with '/' and name a path, got {:?}",
                self.poll_path
            )));
        }
        for (key, value) in [
            ("events.push_batch", u64::from(self.push_batch)),
            ("events.push_concurrency", u64::from(self.push_concurrency)),
            ("events.poll_max_events", u64::from(self.poll_max_events)),
            ("events.lease_secs", self.lease_secs),
            ("events.refresh_ms", self.refresh_ms),
            ("events.retry_initial_ms", self.retry_initial_ms),
        ] {
            if value == 0 {
                return Err(invalid(format!("{key} must be at least 1")));
            }
        }
        if self.retention_secs < self.park_after_secs {
            return Err(invalid(
                "events.retention_secs must be at least events.park_after_secs",
            ));
        }
        Ok(())
    }
}
