//! RFC 9967 SCIM events: every committed write records its events in its
//! own transaction (`outbox`), and receivers take them by push (RFC 8935,
//! `push`), poll (RFC 8936, `poll`) or as HMAC-signed JSON webhooks
//! (`webhook`). Events are Security Event Tokens (RFC 8417, `set`) signed
//! with the keys the built-in authorization server publishes.
//!
//! Layering: this module sits beside `http` and `oauth`: it sees the
//! service layer's changes, the store, the signing keys and the outgoing
//! HTTP client.

mod aggregate;
pub mod clock;
mod horizon;
pub mod outbox;
mod poll;
mod push;
pub mod receivers;
mod routes;
mod set;
pub mod store;
mod webhook;
pub mod webhook_secret;

pub use clock::{Clock, SystemClock};
pub use outbox::Outbox;
pub use routes::{EventsState, routes};

/// RFC 9967 event URIs share this prefix, in lower case as registered
/// (drafts before it wrote `SCIM`).
pub const URI_PREFIX: &str = "urn:ietf:params:scim:event:";

/// The events Roster emits, by their short names (the URI after
/// [`URI_PREFIX`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    CreateNotice,
    PutNotice,
    PatchNotice,
    Delete,
    Activate,
    Deactivate,
}

impl EventType {
    pub const ALL: [Self; 6] = [
        Self::CreateNotice,
        Self::PutNotice,
        Self::PatchNotice,
        Self::Delete,
        Self::Activate,
        Self::Deactivate,
    ];

    pub fn short(self) -> &'static str {
        match self {
            Self::CreateNotice => "prov:create:notice",
            Self::PutNotice => "prov:put:notice",
            Self::PatchNotice => "prov:patch:notice",
            Self::Delete => "prov:delete",
            Self::Activate => "prov:activate",
            Self::Deactivate => "prov:deactivate",
        }
    }

    pub fn uri(self) -> String {
        format!("{URI_PREFIX}{}", self.short())
    }

    /// A short name or a full URI, the prefix in either case (the drafts'
    /// `SCIM` too).
    pub fn parse(name: &str) -> Option<Self> {
        let short = name
            .get(..URI_PREFIX.len())
            .filter(|head| head.eq_ignore_ascii_case(URI_PREFIX))
            .and_then(|_| name.get(URI_PREFIX.len()..))
            .unwrap_or(name);
        Self::ALL.into_iter().find(|t| t.short() == short)
    }
}

/// Every event URI Roster emits, for ServiceProviderConfig.
pub fn emitted_uris() -> Vec<String> {
    EventType::ALL.iter().map(|t| t.uri()).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot sign an event: {0}")]
    Sign(String),
}

#[cfg(test)]
mod tests {
    use super::EventType;

    #[test]
    fn event_names_parse_short_or_as_uris_of_either_case() {
        for name in [
            "prov:delete",
            "urn:ietf:params:scim:event:prov:delete",
            "urn:ietf:params:SCIM:event:prov:delete",
        ] {
            assert_eq!(EventType::parse(name), Some(EventType::Delete), "{name}");
        }
        assert_eq!(EventType::parse("prov:unknown"), None);
        assert_eq!(EventType::parse("urn:ietf:params:scim:event:"), None);
        assert_eq!(
            EventType::Delete.uri(),
            "urn:ietf:params:scim:event:prov:delete",
            "emitted as registered"
        );
    }
}
