//! An event as an RFC 8417 Security Event Token in RFC 9967's SCIM
//! profile: the subject as `sub_id` of format `scim`, one event URI in
//! `events`, `txn` shared by the events of one request (a Bulk request's
//! included), `toe` the time of the write; signed (ES256, `typ`
//! `secevent+jwt`) with the keys published at `/oauth2/jwks`.

use serde_json::{Map, Value, json};

use super::EventsError;
use super::URI_PREFIX;
use super::store::StoredEvent;
use crate::oauth::KeyRing;

pub const TYP: &str = "secevent+jwt";

/// The resource's path relative to the SCIM base, as `sub_id.uri` gives it.
pub fn resource_uri(event: &StoredEvent) -> String {
    format!("/{}s/{}", event.resource_type, event.resource_id)
}

/// The SET's claims for the receiver `audience`.
pub fn claims(event: &StoredEvent, issuer: &str, audience: &str, now_ms: i64) -> Value {
    let mut sub_id = Map::new();
    sub_id.insert("format".into(), json!("scim"));
    sub_id.insert("uri".into(), json!(resource_uri(event)));
    sub_id.insert("id".into(), json!(event.resource_id.to_string()));
    if let Some(external_id) = &event.external_id {
        sub_id.insert("externalId".into(), json!(external_id));
    }
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(audience));
    claims.insert("iat".into(), json!(now_ms / 1000));
    claims.insert("jti".into(), json!(event.id.simple().to_string()));
    claims.insert("toe".into(), json!(event.created_at / 1000));
    if let Some(txn) = &event.txn {
        claims.insert("txn".into(), json!(txn));
    }
    claims.insert("sub_id".into(), Value::Object(sub_id));
    let uri = format!("{URI_PREFIX}{}", event.event);
    claims.insert("events".into(), json!({ uri: payload(event) }));
    Value::Object(claims)
}

/// What the event says beyond its subject: the changed attributes of a
/// notice, the version the write made.
fn payload(event: &StoredEvent) -> Value {
    let mut body = Map::new();
    if event.event.ends_with(":notice") {
        let attributes: Value = event
            .attributes
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_else(|| json!([]));
        body.insert("attributes".into(), attributes);
    }
    if event.event != "prov:delete" {
        body.insert(
            "version".into(),
            json!(crate::scim::etag::etag(event.version)),
        );
    }
    Value::Object(body)
}

/// The signed SET.
pub async fn sign(
    keys: &KeyRing,
    event: &StoredEvent,
    issuer: &str,
    audience: &str,
    now_ms: i64,
) -> Result<String, EventsError> {
    let claims = claims(event, issuer, audience, now_ms);
    keys.sign_typed(&claims, TYP)
        .await
        .map_err(|e| EventsError::Sign(e.to_string()))
}
