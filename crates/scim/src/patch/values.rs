//! Edits of one attribute's value in its container object (RFC 7644
//! §3.5.2.1–§3.5.2.3).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::ScimError;
use crate::schema::{AttrType, AttributeDef};
use crate::value_filter::get_ci;

pub(super) fn remove_sub(obj: &mut Map<String, Value>, name: &str, sub: &str) {
    match obj.get_mut(name) {
        Some(Value::Object(o)) => {
            o.remove(sub);
        }
        Some(Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.remove(sub);
            }
        }
        _ => {}
    }
}

pub(super) fn set_sub(
    obj: &mut Map<String, Value>,
    attr: &AttributeDef,
    sub: &str,
    v: Value,
) -> Result<(), ScimError> {
    if attr.multi_valued {
        return Err(ScimError::invalid_path(format!(
            "select the values of '{}' to change with a filter, e.g. {}[type eq \"work\"].{sub}",
            attr.name, attr.name
        )));
    }
    let slot = obj
        .entry(attr.name.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Some(o) = slot.as_object_mut() {
        o.insert(sub.to_owned(), v);
    }
    Ok(())
}

/// RFC 7644 §3.5.2.1: add appends to multi-valued attributes (skipping values
/// already there), merges into complex ones, and sets simple ones.
pub(super) fn add_value(obj: &mut Map<String, Value>, attr: &AttributeDef, v: Value) {
    if !attr.multi_valued {
        return replace_value(obj, attr, v);
    }
    let new_items = match v {
        Value::Array(items) => items,
        single => vec![single],
    };
    let slot = obj
        .entry(attr.name.clone())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    if let Some(items) = slot.as_array_mut() {
        if new_items.iter().any(is_primary) {
            demote_primaries(items);
        }
        append_new(items, new_items);
    }
}

/// Appends each of `new_items` not already in `items`. Values are bucketed
/// by their `value` sub-attribute (equal values have equal ones), so adding
/// thousands of emails stays linear.
fn append_new(items: &mut Vec<Value>, new_items: Vec<Value>) {
    let mut seen: HashMap<String, Vec<usize>> = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        seen.entry(bucket(item)).or_default().push(i);
    }
    for item in new_items {
        let slot = seen.entry(bucket(&item)).or_default();
        if slot.iter().any(|&i| items[i] == item) {
            continue;
        }
        slot.push(items.len());
        items.push(item);
    }
}

fn bucket(v: &Value) -> String {
    match v {
        Value::Object(o) => o.get("value").map(Value::to_string).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// RFC 7644 §3.5.2.3: replace merges into a complex attribute (unnamed
/// sub-attributes stay) and overwrites anything else.
pub(super) fn replace_value(obj: &mut Map<String, Value>, attr: &AttributeDef, v: Value) {
    let merge = attr.attr_type == AttrType::Complex && !attr.multi_valued;
    match (merge, obj.get_mut(&attr.name), v) {
        (true, Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, val) in new {
                existing.insert(k, val);
            }
        }
        (_, _, v) => {
            obj.insert(attr.name.clone(), v);
        }
    }
}

fn is_primary(v: &Value) -> bool {
    get_ci(v, "primary").is_some_and(|p| {
        p == &Value::Bool(true) || p.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
    })
}

/// Only one value may be primary; a newly added primary value wins.
fn demote_primaries(items: &mut [Value]) {
    for item in items.iter_mut().filter_map(Value::as_object_mut) {
        if item.get("primary") == Some(&Value::Bool(true)) {
            item.insert("primary".to_owned(), Value::Bool(false));
        }
    }
}
