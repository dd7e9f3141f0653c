//! What a change record says a write changed: the attributes whose values
//! differ before and after (old and new values, secrets masked), the
//! members a group write added or removed, and whether a password was set.

use serde_json::{Map, Value, json};

use super::redact::{MASK, is_secret_key};
use crate::service::change::{Change, Documents, WriteOperation};

/// The change record's `detail`: `{"attributes": [{"path", "old", "new"}],
/// "members": {"added", "removed", "cleared"}, "passwordSet"}`.
pub fn detail(change: &Change) -> Value {
    let mut out = Map::new();
    let Some(docs) = change.documents.as_deref() else {
        return Value::Object(out);
    };
    let mut attributes = Vec::new();
    let empty = Map::new();
    diff_objects(
        "",
        docs.before.as_ref().unwrap_or(&empty),
        docs.after.as_ref().unwrap_or(&empty),
        &mut attributes,
    );
    out.insert("attributes".to_owned(), Value::Array(attributes));
    if let Some(members) = &docs.members {
        out.insert(
            "members".to_owned(),
            json!({
                "added": members.added,
                "removed": members.removed,
                "cleared": members.cleared,
            }),
        );
    }
    if docs.password_set {
        out.insert("passwordSet".to_owned(), Value::Bool(true));
    }
    Value::Object(out)
}

/// Attributes that differ, one entry per leaf of nested objects (an
/// extension's or `name`'s sub-attributes); lists compare whole.
fn diff_objects(
    prefix: &str,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    out: &mut Vec<Value>,
) {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let path = join(prefix, key);
        match (before.get(key), after.get(key)) {
            (Some(Value::Object(b)), Some(Value::Object(a))) => diff_objects(&path, b, a, out),
            (old, new) if old != new => out.push(json!({
                "path": path,
                "old": masked(key, old),
                "new": masked(key, new),
            })),
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

fn masked(key: &str, value: Option<&Value>) -> Value {
    match value {
        None => Value::Null,
        Some(_) if is_secret_key(key) => Value::String(MASK.to_owned()),
        Some(v) => v.clone(),
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
        .map(|s| s.chars().take(255).collect())
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
