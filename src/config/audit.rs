//! `[audit]`: what Roster records of the requests it answers and the
//! changes it makes.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Off: no request or change is recorded.
    pub enabled: bool,
    /// Days a request stays in the request log.
    pub request_days: u32,
    /// Days a change record is kept.
    pub change_days: u32,
    /// Most requests kept, whatever their age; 0 for no limit.
    pub max_request_rows: u64,
    /// Bytes of each request and response body kept.
    pub max_body_bytes: usize,
    /// Requests held in memory before they are written; beyond, new ones
    /// are dropped and counted rather than slowing requests down.
    pub buffer_entries: usize,
    /// Bytes those requests may hold (their bodies and text), whatever
    /// their number: each may carry two bodies of `max_body_bytes`.
    pub buffer_bytes: usize,
    /// How often buffered requests are written: often, so that shaping and
    /// inserting them is spread beside requests, not done in bursts.
    pub flush_interval_ms: u64,
    /// How often rows past their retention are deleted; 0 for every minute.
    pub prune_interval_secs: u64,
    /// A SQLite file for the request log. Unset: beside a SQLite database
    /// file, else a table of the database, which every server sharing it
    /// reads. Set beside MariaDB/MySQL, the log's rows leave the database
    /// (each cost it more than the write it records, see BENCHMARKS.md),
    /// and each server shows only the requests it answered.
    pub request_log_file: Option<PathBuf>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            request_days: 14,
            change_days: 365,
            max_request_rows: 0,
            max_body_bytes: 65536,
            buffer_entries: 100_000,
            buffer_bytes: 64 << 20,
            flush_interval_ms: 50,
            prune_interval_secs: 0,
            request_log_file: None,
        }
    }
}

impl AuditConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.buffer_entries == 0 || self.buffer_bytes == 0 || self.flush_interval_ms == 0 {
            return Err(invalid(
                "audit.buffer_entries, audit.buffer_bytes and audit.flush_interval_ms must be \
                 positive",
            ));
        }
        if self
            .request_log_file
            .as_ref()
            .is_some_and(|f| f.as_os_str().is_empty())
        {
            return Err(invalid("audit.request_log_file must not be empty"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_request_log_file_is_refused() {
        let mut c = AuditConfig::default();
        assert!(c.validate().is_ok());
        c.request_log_file = Some(PathBuf::new());
        assert!(c.validate().is_err());
        c.request_log_file = Some(PathBuf::from("requests.db"));
        assert!(c.validate().is_ok());
    }
}
