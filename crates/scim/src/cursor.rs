//! Cursors for RFC 9865 cursor paging: opaque to clients, tamper-evident,
//! and self-contained. A cursor carries the position it continues from
//! (the sort key and id of a row), which way to go, which query it belongs
//! to and when it was issued, signed with HMAC-SHA-256. The server keeps no
//! cursor state, so any number of cursors cost nothing and every instance
//! sharing the key accepts them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ScimError;

/// Bytes of the HMAC kept in a cursor: 128 bits is ample against forgery
/// and keeps cursors short.
const TAG_BYTES: usize = 16;
/// Longer input is refused before any decoding work.
const MAX_CURSOR_CHARS: usize = 4096;

/// The signing key. Either configured (so that several instances, or a
/// restarted one, accept each other's cursors) or random per process.
#[derive(Clone, Copy)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(***)")
    }
}

impl CursorKey {
    /// A key derived from configured secret text of any length.
    pub fn from_secret(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn random() -> Result<Self, String> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| format!("no randomness available: {e}"))?;
        Ok(Self(key))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this cannot fail.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts 32-byte keys"))
    }
}

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// [`query_fingerprint`] of the query the cursor belongs to.
    #[serde(rename = "q")]
    pub query: String,
    /// The sort key of the row to continue from (`null` when it has none).
    #[serde(rename = "k")]
    pub key: Value,
    /// The id of that row: the tiebreak, so pages never overlap.
    #[serde(rename = "i")]
    pub id: String,
    /// Rows before the position (a `previousCursor`) instead of after it.
    #[serde(rename = "b", default, skip_serializing_if = "std::ops::Not::not")]
    pub backwards: bool,
    /// totalResults as counted for the first page (see `service::list`).
    #[serde(rename = "n")]
    pub total: u64,
    /// Unix seconds when it was issued.
    #[serde(rename = "t")]
    pub issued: i64,
}

impl Cursor {
    /// `payload.tag`, both base64url without padding: only RFC 3986
    /// unreserved characters, as RFC 9865 requires of cursor values.
    pub fn encode(&self, key: &CursorKey) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default());
        let mut mac = key.mac();
        mac.update(payload.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES]))
    }

    /// Checks the signature first (nothing unsigned is parsed), then that
    /// the cursor belongs to `query` and is at most `timeout_secs` old.
    pub fn decode(
        key: &CursorKey,
        text: &str,
        query: &str,
        now: i64,
        timeout_secs: u32,
    ) -> Result<Self, ScimError> {
        let invalid = || {
            ScimError::invalid_cursor(
                "the cursor is not one this server issued; send an empty cursor to start over",
            )
        };
        if text.len() > MAX_CURSOR_CHARS {
            return Err(invalid());
        }
        let (payload, tag) = text.split_once('.').ok_or_else(invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        let mut mac = key.mac();
        mac.update(payload.as_bytes());
        mac.verify_truncated_left(&tag).map_err(|_| invalid())?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.query != query {
            return Err(ScimError::invalid_cursor(
                "the cursor belongs to a different query: keep filter, sortBy and sortOrder \
                 as they were when it was issued",
            ));
        }
        if now.saturating_sub(cursor.issued) > i64::from(timeout_secs) {
            return Err(ScimError::expired_cursor(format!(
                "the cursor is older than {timeout_secs} seconds (cursorTimeout); \
                 send an empty cursor to start over"
            )));
        }
        Ok(cursor)
    }
}

/// Identifies a query's result order: the endpoint, filter and sort. Count
/// and attributes may change from page to page; these may not.
pub fn query_fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimType;
    use serde_json::json;

    fn cursor() -> Cursor {
        Cursor {
            query: query_fingerprint(&["Users", "userName sw \"a\""]),
            key: json!("alice"),
            id: "2819c223-7f76-453a-919d-413861904646".into(),
            backwards: false,
            total: 3,
            issued: 1_000,
        }
    }

    #[test]
    fn round_trips_with_unreserved_characters_only() {
        let key = CursorKey::from_secret("s3cret");
        let text = cursor().encode(&key);
        assert!(
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)),
            "{text}"
        );
        let back = Cursor::decode(&key, &text, &cursor().query, 1_010, 60);
        assert_eq!(back, Ok(cursor()));
    }

    #[test]
    fn tampering_another_key_and_another_query_are_invalid() {
        let key = CursorKey::from_secret("s3cret");
        let text = cursor().encode(&key);
        let (payload, tag) = text.split_once('.').unwrap();
        let forged = Cursor {
            key: json!("zzz"),
            ..cursor()
        }
        .encode(&CursorKey::from_secret("other"));
        let (forged_payload, _) = forged.split_once('.').unwrap();
        for bad in [
            format!("{forged_payload}.{tag}"),
            forged.clone(),
            format!("{payload}x.{tag}"),
            payload.to_owned(),
            String::new(),
            "!!!.???".to_owned(),
            "a".repeat(5000),
        ] {
            let e = Cursor::decode(&key, &bad, &cursor().query, 1_000, 60).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidCursor), "{bad}");
            assert_eq!(e.status, 400);
        }
        let e = Cursor::decode(&key, &text, "another", 1_000, 60).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidCursor));
    }

    #[test]
    fn old_cursors_expire() {
        let key = CursorKey::random().unwrap();
        let text = cursor().encode(&key);
        let e = Cursor::decode(&key, &text, &cursor().query, 1_061, 60).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::ExpiredCursor));
    }
}
