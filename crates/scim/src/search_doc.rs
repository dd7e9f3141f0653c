//! The search form of a stored resource: what filters and sorts on
//! attributes without their own column compare against (`doc_search`).
//!
//! SQL cannot apply SCIM's comparison rules itself: SQLite's `lower()`
//! folds ASCII only, MariaDB's collations also ignore accents and trailing
//! spaces, and a dateTime written with an offset does not order as text.
//! So the rules are applied once, here, when a resource is written, and the
//! database compares bytes:
//!
//! * strings of `caseExact=false` attributes are case-folded
//!   ([`fold_case`]); `caseExact` ones are kept as they are;
//! * dateTimes are rewritten to one UTC format
//!   ([`crate::time::format_ms`]), which orders as text in time order;
//! * the primary value of a multi-valued attribute is moved first, so that
//!   "sort by the primary value, else the first" (RFC 7644 §3.4.2.3) is
//!   simply element 0;
//! * empty strings, and objects and lists left empty, are dropped: `pr`
//!   means present and non-empty, so they are absent for every operator;
//! * attributes of schemas the server does not know are dropped: they
//!   cannot be filtered on (`invalidFilter`), so they would only take space.

use serde_json::{Map, Value};

use super::normalize::fold_case;
use super::resource::ResourceKind;
use super::schema::{AttrType, AttributeDef, SchemaRegistry};
use super::validate::find;
use crate::time::{format_ms, parse_datetime_ms};

/// The search form of `doc`, a resource of `kind` as stored.
pub fn search_document(
    registry: &SchemaRegistry,
    kind: ResourceKind,
    doc: &Map<String, Value>,
) -> Value {
    let mut out = Map::new();
    for (key, value) in doc {
        let projected = if key.contains(':') {
            extension(registry, kind, key, value)
        } else {
            registry
                .resolve(kind.name(), None, key, None)
                .and_then(|r| attribute(r.attr, value))
        };
        if let Some(v) = projected {
            out.insert(key.clone(), v);
        }
    }
    Value::Object(out)
}

fn extension(
    registry: &SchemaRegistry,
    kind: ResourceKind,
    urn: &str,
    value: &Value,
) -> Option<Value> {
    let known = registry
        .schema_urns_for(kind.name())
        .into_iter()
        .skip(1)
        .any(|u| u.eq_ignore_ascii_case(urn));
    let schema = registry.schema(urn).filter(|_| known)?;
    object(&schema.attributes, value)
}

fn attribute(def: &AttributeDef, value: &Value) -> Option<Value> {
    if !def.multi_valued {
        return single(def, value);
    }
    let items: Vec<Value> = match value {
        Value::Array(items) => items.iter().filter_map(|v| single(def, v)).collect(),
        other => single(def, other).into_iter().collect(),
    };
    let mut items = items;
    if let Some(primary) = items.iter().position(is_primary) {
        let first = items.remove(primary);
        items.insert(0, first);
    }
    (!items.is_empty()).then_some(Value::Array(items))
}

fn is_primary(v: &Value) -> bool {
    v.get("primary") == Some(&Value::Bool(true))
}

fn single(def: &AttributeDef, value: &Value) -> Option<Value> {
    match (def.attr_type, value) {
        (AttrType::Complex, v) => object(&def.sub_attributes, v),
        (_, Value::String(s)) if s.is_empty() => None,
        (AttrType::DateTime, Value::String(s)) => Some(Value::String(
            parse_datetime_ms(s).map_or_else(|| s.clone(), format_ms),
        )),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(s)) => {
            Some(Value::String(if def.case_exact {
                s.clone()
            } else {
                fold_case(s)
            }))
        }
        (_, Value::Null | Value::Object(_) | Value::Array(_)) => None,
        (_, v) => Some(v.clone()),
    }
}

fn object(subs: &[AttributeDef], value: &Value) -> Option<Value> {
    let Value::Object(fields) = value else {
        return None;
    };
    let out: Map<String, Value> = fields
        .iter()
        .filter_map(|(k, v)| {
            let def = find(subs, k)?;
            attribute(def, v).map(|v| (def.name.clone(), v))
        })
        .collect();
    (!out.is_empty()).then_some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ENTERPRISE_USER_URN;
    use serde_json::json;

    fn user(doc: Value) -> Value {
        let Value::Object(doc) = doc else {
            panic!("an object")
        };
        search_document(&SchemaRegistry::rfc().unwrap(), ResourceKind::User, &doc)
    }

    #[test]
    fn folds_by_case_exactness_and_normalizes_times() {
        let s = user(json!({
            "userName": "JOSÉ@Example.com",
            "externalId": "AbC",
            "name": {"familyName": "ÑÚÑEZ", "givenName": ""},
            "x509Certificates": [{"value": "QUJD"}],
            ENTERPRISE_USER_URN: {"manager": {"value": "M-1", "displayName": "Boss"}},
        }));
        assert_eq!(s["userName"], "josé@example.com");
        assert_eq!(s["externalId"], "AbC");
        assert_eq!(s["name"], json!({"familyName": "ñúñez"}));
        assert_eq!(s["x509Certificates"][0]["value"], "QUJD");
        assert_eq!(s[ENTERPRISE_USER_URN]["manager"]["value"], "M-1");
        assert_eq!(s[ENTERPRISE_USER_URN]["manager"]["displayName"], "boss");
    }

    #[test]
    fn primary_value_comes_first_and_empties_go() {
        let s = user(json!({
            "userName": "a",
            "emails": [{"value": "B@x", "type": "Home"}, {"value": "a@x", "primary": true}, {"value": ""}],
            "phoneNumbers": [{"value": ""}],
            "urn:example:unknown:1.0:User": {"shoe": 9},
        }));
        assert_eq!(
            s["emails"],
            json!([{"value": "a@x", "primary": true}, {"value": "b@x", "type": "home"}])
        );
        assert!(s.get("phoneNumbers").is_none());
        assert!(s.get("urn:example:unknown:1.0:User").is_none());
    }

    #[test]
    fn datetimes_become_utc_text() {
        let mut reg = SchemaRegistry::rfc().unwrap();
        reg.add_extension(
            "User",
            json!({"id": "urn:example:hr:1.0:User", "attributes": [
                {"name": "hired", "type": "dateTime"}, {"name": "level", "type": "integer"}
            ]}),
            false,
        )
        .unwrap();
        let Value::Object(doc) = json!({"urn:example:hr:1.0:User": {
            "hired": "2025-11-24T17:00:00.123+01:00", "level": 3
        }}) else {
            unreachable!()
        };
        let s = search_document(&reg, ResourceKind::User, &doc);
        assert_eq!(
            s["urn:example:hr:1.0:User"],
            json!({"hired": "2025-11-24T16:00:00.123Z", "level": 3})
        );
    }
}
