//! Plain JSON webhooks: one JSON object per event, signed with
//! `Roster-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`
//! under the secret `roster receiver add` printed. A receiver recomputes
//! the HMAC over the raw body and compares in constant time; `t` lets it
//! refuse old replays.

use hmac::{KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use super::URI_PREFIX;
use super::store::StoredEvent;

pub const SIGNATURE_HEADER: &str = "Roster-Signature";

/// The event as the webhook's body.
pub fn body(event: &StoredEvent) -> String {
    let attributes: serde_json::Value = event
        .attributes
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_else(|| json!([]));
    json!({
        "eventId": event.id.simple().to_string(),
        "type": format!("{URI_PREFIX}{}", event.event),
        "resourceType": event.resource_type,
        "id": event.resource_id.to_string(),
        "externalId": event.external_id,
        "version": crate::scim::etag::etag(event.version),
        "attributes": attributes,
        "time": crate::time::format_ms(event.created_at),
        "txn": event.txn,
    })
    .to_string()
}

/// The `Roster-Signature` value of `body` sent at `unix_seconds`.
pub fn signature(secret: &str, unix_seconds: i64, body: &str) -> String {
    let mac = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map(|mut mac| {
        mac.update(format!("{unix_seconds}.").as_bytes());
        mac.update(body.as_bytes());
        mac.finalize().into_bytes()
    });
    let hex: String = match mac {
        Ok(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        // HMAC takes a key of any length.
        Err(_) => String::new(),
    };
    format!("t={unix_seconds},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_time_dot_body() {
        // RFC 4231 test case 2 is HMAC("Jefe", "what do ya want for nothing?").
        let sig = signature("Jefe", 0, "what do ya want for nothing?");
        assert_eq!(
            sig,
            "t=0,v1=".to_owned() + &signature_hex("Jefe", "0.what do ya want for nothing?")
        );
        let rfc = signature_hex("Jefe", "what do ya want for nothing?");
        assert_eq!(
            rfc,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    fn signature_hex(key: &str, message: &str) -> String {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(message.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
