//! What every rendered resource shares: `schemas`, `id` and `meta`.

use serde_json::{Map, Value, json};

use super::etag::etag;
use crate::time::format_ms;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::User => "Users",
            Self::Group => "Groups",
        }
    }
    pub fn core_urn(self) -> &'static str {
        match self {
            Self::User => super::schema::USER_URN,
            Self::Group => super::schema::GROUP_URN,
        }
    }
}

/// Server-owned facts about a stored resource.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub version: i64,
}

pub fn location(base_url: &str, kind: ResourceKind, id: &str) -> String {
    format!("{base_url}/{}/{id}", kind.endpoint())
}

/// Builds the response body: `schemas` (core plus every extension present),
/// `id`, then the stored attributes, then `meta`.
pub fn render(
    kind: ResourceKind,
    doc: &Map<String, Value>,
    stored: &Stored,
    base_url: &str,
) -> Map<String, Value> {
    let mut out = Map::with_capacity(doc.len() + 3);
    out.insert(
        "schemas".to_owned(),
        schemas(kind, doc.keys().map(String::as_str)),
    );
    out.insert("id".to_owned(), Value::String(stored.id.clone()));
    for (k, v) in doc {
        out.insert(k.clone(), v.clone());
    }
    out.insert("meta".to_owned(), meta(kind, stored, base_url));
    out
}

/// The core schema, then each extension the document has a field for.
pub fn schemas<'k>(kind: ResourceKind, doc_keys: impl Iterator<Item = &'k str>) -> Value {
    let mut schemas = vec![Value::String(kind.core_urn().to_owned())];
    schemas.extend(
        doc_keys
            .filter(|k| k.contains(':'))
            .map(|k| Value::String(k.to_owned())),
    );
    Value::Array(schemas)
}

pub fn meta(kind: ResourceKind, stored: &Stored, base_url: &str) -> Value {
    json!({
        "resourceType": kind.name(),
        "created": format_ms(stored.created_ms),
        "lastModified": format_ms(stored.modified_ms),
        "location": location(base_url, kind, &stored.id),
        "version": etag(stored.version),
    })
}
