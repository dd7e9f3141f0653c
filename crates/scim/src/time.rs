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

/// An xsd:dateTime filter value as the millisecond it falls in, and
/// whether it lies strictly inside that millisecond (written with more
/// than three decimals, not all zero). Stored times are whole
/// milliseconds, so such a value equals none of them.
pub fn parse_datetime_within_ms(s: &str) -> Option<(i64, bool)> {
    let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
    let inside = t.timestamp_subsec_nanos() % 1_000_000 != 0;
    Some((t.timestamp_millis(), inside))
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
    fn tells_a_value_inside_a_millisecond() {
        let at = |s| parse_datetime_within_ms(s);
        assert_eq!(
            at("2025-11-24T16:00:00.123Z"),
            Some((1_764_000_000_123, false))
        );
        assert_eq!(
            at("2025-11-24T16:00:00.123000Z"),
            Some((1_764_000_000_123, false))
        );
        assert_eq!(
            at("2025-11-24T16:00:00.1234Z"),
            Some((1_764_000_000_123, true))
        );
        assert_eq!(at("2025-11-24T16:00:00Z"), Some((1_764_000_000_000, false)));
        assert_eq!(at("1969-12-31T23:59:59.9995Z"), Some((-1, true)));
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
