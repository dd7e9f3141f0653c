//! What a change record says a write changed: the attributes whose values
//! differ before and after (old and new values, secrets masked), the
//! members a group write added or removed, and whether a password was set.

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::redact::{MASK, clipped, is_secret_key};
use crate::service::change::{Change, Documents, WriteOperation};

/// The change record's `detail`: `{"attributes": [{"path", "old", "new"}],
/// "members": {"added", "removed", "cleared"}, "passwordSet"}`, written
/// straight from the documents (the record is made inside every write).
pub fn detail(change: &Change) -> String {
    let Some(docs) = change.documents.as_deref() else {
        return "{}".to_owned();
    };
    let mut attributes = Vec::new();
    let empty = Map::new();
    diff_objects(
        String::new(),
        docs.before.as_ref().unwrap_or(&empty),
        docs.after.as_ref().unwrap_or(&empty),
        &mut attributes,
    );
    let detail = Detail {
        attributes,
        members: docs.members.as_ref().map(|m| Members {
            added: &m.added,
            removed: &m.removed,
            cleared: m.cleared,
        }),
        password_set: docs.password_set.then_some(true),
    };
    // Serializing borrowed JSON values into a string cannot fail.
    serde_json::to_string(&detail).unwrap_or_else(|_| "{}".to_owned())
}

#[derive(Serialize)]
struct Detail<'a> {
    attributes: Vec<Difference<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Members<'a>>,
    #[serde(rename = "passwordSet", skip_serializing_if = "Option::is_none")]
    password_set: Option<bool>,
}

#[derive(Serialize)]
struct Members<'a> {
    added: &'a [Uuid],
    removed: &'a [Uuid],
    cleared: bool,
}

/// One attribute's old and new values (`null` where absent).
#[derive(Serialize)]
struct Difference<'a> {
    path: String,
    old: Masked<'a>,
    new: Masked<'a>,
}

/// A value as the record shows it: a secret-named attribute's as `***`.
struct Masked<'a> {
    secret: bool,
    value: Option<&'a Value>,
}

impl Serialize for Masked<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value {
            None => s.serialize_unit(),
            Some(_) if self.secret => s.serialize_str(MASK),
            Some(v) => v.serialize(s),
        }
    }
}

/// Attributes that differ, one entry per leaf of nested objects (an
/// extension's or `name`'s sub-attributes); lists compare whole.
fn diff_objects<'a>(
    prefix: String,
    before: &'a Map<String, Value>,
    after: &'a Map<String, Value>,
    out: &mut Vec<Difference<'a>>,
) {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        match (before.get(key), after.get(key)) {
            (Some(Value::Object(b)), Some(Value::Object(a))) => {
                diff_objects(join(&prefix, key), b, a, out);
            }
            (old, new) if old != new => {
                let secret = is_secret_key(key);
                out.push(Difference {
                    path: join(&prefix, key),
                    old: Masked { secret, value: old },
                    new: Masked { secret, value: new },
                });
            }
            _ => {}
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    match prefix {
        "" => key.to_owned(),
        p if p.starts_with("urn:") && !p.contains('.') => format!("{p}:{key}"),
        p => format!("{p}.{key}"),
    }
}

/// The resource's name in an IdP's terms: a user's `userName`, a group's
/// `displayName`.
pub fn label(docs: Option<&Documents>) -> Option<String> {
    let docs = docs?;
    let doc = docs.after.as_ref().or(docs.before.as_ref())?;
    ["userName", "displayName"]
        .iter()
        .find_map(|k| doc.get(*k).and_then(Value::as_str))
        .map(|s| clipped(s, 255).to_owned())
}

/// Whether the write switched `active`: `Some(false)` for a deactivation.
pub fn active_switched(change: &Change) -> Option<bool> {
    let docs = change.documents.as_deref()?;
    let get = |d: &Option<Map<String, Value>>| d.as_ref()?.get("active")?.as_bool();
    let (before, after) = (get(&docs.before), get(&docs.after));
    match change.operation {
        WriteOperation::Replace | WriteOperation::Patch if before != after => after,
        _ => None,
    }
}

pub fn operation_name(op: WriteOperation) -> &'static str {
    match op {
        WriteOperation::Create => "create",
        WriteOperation::Replace => "replace",
        WriteOperation::Patch => "patch",
        WriteOperation::Delete => "delete",
    }
}
