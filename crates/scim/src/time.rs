//! Wall-clock helpers. Timestamps are stored as milliseconds since the epoch
//! (see the entity crate for why).

use chrono::{DateTime, SecondsFormat, Utc};

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// RFC 3339 / xsd:dateTime with millisecond precision, as SCIM's `meta` uses.
pub fn format_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an xsd:dateTime filter value into milliseconds.
pub fn parse_datetime_ms(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_milliseconds() {
        let ms = 1_764_000_000_123;
        assert_eq!(format_ms(ms), "2025-11-24T16:00:00.123Z");
        assert_eq!(parse_datetime_ms(&format_ms(ms)), Some(ms));
    }

    #[test]
    fn parses_offsets_and_rejects_garbage() {
        assert_eq!(
            parse_datetime_ms("2025-11-24T17:00:00.123+01:00"),
            Some(1_764_000_000_123)
        );
        assert_eq!(parse_datetime_ms("yesterday"), None);
    }
}
