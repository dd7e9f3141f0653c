//! How one attribute's value is trimmed by the selectors that name it, and
//! the `returned` rules for its sub-attributes.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Selector;
use crate::filter::Filter;
use crate::schema::{AttrType, AttributeDef, Returned};
use crate::validate::find;
use crate::value_filter;

/// Trims an attribute returned `default` or on `request` by the selectors
/// naming it; whether anything of it is left to return.
pub(super) fn trim(only: bool, def: &AttributeDef, named: &[&Selector], value: &mut Value) -> bool {
    if only {
        if named.is_empty() {
            return false;
        }
        if !named.iter().any(|s| s.is_whole()) {
            keep_selected(def, value, named);
        }
    } else {
        if def.returned == Returned::Request || named.iter().any(|s| s.is_whole()) {
            return false;
        }
        drop_selected(def, value, named);
    }
    let requested: Vec<&str> = if only {
        named.iter().filter_map(|s| s.sub.as_deref()).collect()
    } else {
        Vec::new()
    };
    strip_unrequested_subs(def, value, &requested);
    !is_empty(value)
}

/// `attributes`: keep what some selector names (selectors here name a
/// sub-attribute, a value filter, or both).
fn keep_selected(def: &AttributeDef, value: &mut Value, selectors: &[&Selector]) {
    match value {
        Value::Array(items) if def.multi_valued => {
            items.retain_mut(|item| {
                let wanted: Vec<&&Selector> = selectors
                    .iter()
                    .filter(|s| element_matches(def, item, s.filter.as_ref()))
                    .collect();
                if wanted.is_empty() {
                    return false;
                }
                if !wanted.iter().any(|s| s.sub.is_none()) {
                    keep_subs(item, wanted.iter().filter_map(|s| s.sub.as_deref()));
                }
                !is_empty(item)
            });
        }
        Value::Object(_) => {
            if selectors.iter().any(|s| s.sub.is_none()) {
                return;
            }
            keep_subs(value, selectors.iter().filter_map(|s| s.sub.as_deref()));
        }
        _ => {}
    }
}

/// `excludedAttributes`: drop what the selectors name.
fn drop_selected(def: &AttributeDef, value: &mut Value, selectors: &[&Selector]) {
    for s in selectors {
        match value {
            Value::Array(items) if def.multi_valued => items.retain_mut(|item| {
                if !element_matches(def, item, s.filter.as_ref()) {
                    return true;
                }
                match (&s.sub, item) {
                    (Some(sub), Value::Object(fields)) => {
                        fields.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                        !fields.is_empty()
                    }
                    // A filter alone drops the matching values.
                    _ => false,
                }
            }),
            Value::Object(fields) => {
                if let Some(sub) = &s.sub {
                    fields.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                }
            }
            _ => {}
        }
    }
}

fn element_matches(def: &AttributeDef, item: &Value, filter: Option<&Filter>) -> bool {
    filter.is_none_or(|f| value_filter::matches(item, f, &def.sub_attributes))
}

fn keep_subs<'a>(value: &mut Value, subs: impl Iterator<Item = &'a str>) {
    let subs: Vec<&str> = subs.collect();
    if let Value::Object(fields) = value {
        fields.retain(|k, _| subs.iter().any(|s| s.eq_ignore_ascii_case(k)));
    }
}

/// Drops sub-attributes returned `never`, and those returned on `request`
/// that `requested` does not name.
fn strip_unrequested_subs(def: &AttributeDef, value: &mut Value, requested: &[&str]) {
    if def.attr_type != AttrType::Complex {
        return;
    }
    // Most complex attributes hide no sub-attribute: their fields need no
    // lookup each.
    let hides_some = hides_some(def);
    let keep = |name: &str| {
        find(&def.sub_attributes, name).is_none_or(|d| match d.returned {
            Returned::Never => false,
            Returned::Request => requested.iter().any(|r| r.eq_ignore_ascii_case(name)),
            Returned::Always | Returned::Default => true,
        })
    };
    match value {
        Value::Array(items) => {
            if hides_some {
                for item in items.iter_mut() {
                    if let Value::Object(fields) = item {
                        fields.retain(|k, _| keep(k));
                    }
                }
            }
            items.retain(|i| !is_empty(i));
        }
        Value::Object(fields) if hides_some => fields.retain(|k, _| keep(k)),
        _ => {}
    }
}

/// Whether a complex attribute has sub-attributes a response leaves out
/// unless asked for.
pub(super) fn hides_some(def: &AttributeDef) -> bool {
    def.sub_attributes
        .iter()
        .any(|d| matches!(d.returned, Returned::Never | Returned::Request))
}

/// `is_empty` read from JSON text: `null`, `[]` or `{}`.
pub(super) fn raw_is_empty(text: &str) -> bool {
    let text = text.trim();
    if text == "null" {
        return true;
    }
    let inner = |open: char, close: char| {
        text.strip_prefix(open)
            .and_then(|t| t.strip_suffix(close))
            .is_some_and(|t| t.trim().is_empty())
    };
    inner('[', ']') || inner('{', '}')
}

/// Whether the JSON array `raw` holds no empty value; `false` when it
/// cannot be read as an array.
pub(super) fn no_empty_items(raw: &RawValue) -> bool {
    serde_json::from_str::<Vec<&RawValue>>(raw.get())
        .is_ok_and(|items| !items.iter().any(|i| raw_is_empty(i.get())))
}

pub(super) fn strip_never(defs: &[AttributeDef], fields: &mut Map<String, Value>) {
    fields.retain(|k, _| find(defs, k).is_none_or(|d| d.returned != Returned::Never));
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}
