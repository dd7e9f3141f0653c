//! Schema-driven checking of client-supplied resources (RFC 7643 §2, §7).
//!
//! Produces the document Roster stores: attribute names in their canonical
//! case, read-only attributes and nulls dropped, every value of the type its
//! schema declares. Unknown extension URNs are kept untouched, so attributes
//! of schemas the operator has not loaded still round-trip.

use serde_json::{Map, Value};

use super::ScimError;
use super::idp_dialect::{Dialect, applied};
use super::schema::{AttrType, AttributeDef, Mutability, ResourceTypeDef, SchemaRegistry};

/// Checks `input` against the schemas of `resource_type` and returns the
/// document to store.
pub fn normalize_resource(
    registry: &SchemaRegistry,
    dialect: &Dialect,
    resource_type: &str,
    input: Value,
) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(input) = input else {
        return Err(ScimError::invalid_syntax(
            "the resource must be a JSON object",
        ));
    };
    let rt = registry.resource_type(resource_type).ok_or_else(|| {
        ScimError::invalid_syntax(format!("unknown resource type {resource_type}"))
    })?;
    let mut doc = Map::new();
    for (key, value) in input {
        if value.is_null() {
            continue;
        }
        put_top_level(registry, dialect, rt, &mut doc, &key, value)?;
    }
    check_required(registry, rt, &doc)?;
    Ok(doc)
}

/// RFC 7643 §2.2 "required": the core schema's required attributes, those
/// of every extension present, and every extension the resource type marks
/// required. (Required sub-attributes are checked with their value.)
fn check_required(
    registry: &SchemaRegistry,
    rt: &ResourceTypeDef,
    doc: &Map<String, Value>,
) -> Result<(), ScimError> {
    let missing = |defs: &[AttributeDef], obj: &Map<String, Value>, prefix: &str| {
        defs.iter()
            .find(|d| {
                d.required && d.mutability != Mutability::ReadOnly && !obj.contains_key(&d.name)
            })
            .map(|d| ScimError::invalid_value(format!("'{prefix}{}' is required", d.name)))
    };
    if let Some(core) = registry.schema(&rt.schema)
        && let Some(e) = missing(&core.attributes, doc, "")
    {
        return Err(e);
    }
    for ext in &rt.schema_extensions {
        let Some(schema) = registry.schema(&ext.schema) else {
            continue;
        };
        match doc.get(&schema.id) {
            Some(Value::Object(obj)) => {
                if let Some(e) = missing(&schema.attributes, obj, &format!("{}:", schema.id)) {
                    return Err(e);
                }
            }
            _ if ext.required => {
                return Err(ScimError::invalid_value(format!(
                    "the extension '{}' is required for {}",
                    schema.id, rt.name
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// RFC 7643 §7 "immutable": such an attribute may be set when a resource
/// is created, or while it has no value, and never changed afterwards
/// (RFC 7644 §3.5.1: a different value is 400 `mutability`).
pub fn check_immutable(
    registry: &SchemaRegistry,
    resource_type: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<(), ScimError> {
    let Some(rt) = registry.resource_type(resource_type) else {
        return Ok(());
    };
    let schemas = std::iter::once(rt.schema.as_str())
        .chain(rt.schema_extensions.iter().map(|e| e.schema.as_str()))
        .filter_map(|urn| registry.schema(urn));
    for schema in schemas {
        let in_doc = |doc: &Map<String, Value>| {
            if schema.id == rt.schema {
                Some(doc.clone())
            } else {
                doc.get(&schema.id).and_then(Value::as_object).cloned()
            }
        };
        let (old, new) = (
            in_doc(old).unwrap_or_default(),
            in_doc(new).unwrap_or_default(),
        );
        for def in &schema.attributes {
            check_immutable_attribute(def, old.get(&def.name), new.get(&def.name), &def.name)?;
        }
    }
    Ok(())
}

fn check_immutable_attribute(
    def: &AttributeDef,
    old: Option<&Value>,
    new: Option<&Value>,
    path: &str,
) -> Result<(), ScimError> {
    let Some(old) = old else {
        return Ok(());
    };
    if def.mutability == Mutability::Immutable && new != Some(old) {
        return Err(ScimError::mutability(format!(
            "'{path}' is immutable: it was set and cannot change"
        )));
    }
    // Immutable parts of a single complex value; elements of a list have
    // no identity to compare by, so lists are checked only as a whole.
    if let (false, Value::Object(old)) = (def.multi_valued, old) {
        let new = new.and_then(Value::as_object);
        for sub in &def.sub_attributes {
            let sub_path = format!("{path}.{}", sub.name);
            check_immutable_attribute(
                sub,
                old.get(&sub.name),
                new.and_then(|n| n.get(&sub.name)),
                &sub_path,
            )?;
        }
    }
    Ok(())
}

fn put_top_level(
    registry: &SchemaRegistry,
    dialect: &Dialect,
    rt: &ResourceTypeDef,
    doc: &mut Map<String, Value>,
    key: &str,
    value: Value,
) -> Result<(), ScimError> {
    if key.eq_ignore_ascii_case("schemas") {
        return check_schemas_list(&value);
    }
    if key.eq_ignore_ascii_case("id") || key.eq_ignore_ascii_case("meta") {
        return Ok(()); // readOnly: RFC 7644 §3.5.1 says such values SHALL be ignored
    }
    if key.eq_ignore_ascii_case("externalId") {
        let value = coerce_string(value, "externalId")?;
        doc.insert("externalId".to_owned(), value);
        return Ok(());
    }
    if key.contains(':') {
        return put_extension(registry, dialect, rt, doc, key, value);
    }
    let core = registry
        .schema(&rt.schema)
        .ok_or_else(|| ScimError::invalid_syntax("resource type without a core schema"))?;
    let Some(def) = find(&core.attributes, key) else {
        return Err(ScimError::invalid_syntax(format!(
            "unknown attribute '{key}' for {}",
            rt.name
        )));
    };
    if let Some(v) = check_attribute(dialect, def, value, &def.name)? {
        doc.insert(def.name.clone(), v);
    }
    Ok(())
}

fn check_schemas_list(value: &Value) -> Result<(), ScimError> {
    match value {
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(()),
        _ => Err(ScimError::invalid_syntax(
            "'schemas' must be an array of URN strings",
        )),
    }
}

/// An extension object (`"urn:…:enterprise:2.0:User": {…}`), or a
/// URN-qualified attribute written as a top-level key.
fn put_extension(
    registry: &SchemaRegistry,
    dialect: &Dialect,
    rt: &ResourceTypeDef,
    doc: &mut Map<String, Value>,
    key: &str,
    value: Value,
) -> Result<(), ScimError> {
    let known = rt
        .schema_extensions
        .iter()
        .find(|e| e.schema.eq_ignore_ascii_case(key))
        .and_then(|e| registry.schema(&e.schema));
    let Some(schema) = known else {
        if key.eq_ignore_ascii_case(&rt.schema) {
            return merge_core_object(registry, dialect, rt, doc, value);
        }
        // An extension this server does not know: kept as sent, lossless.
        if !value.is_object() {
            return Err(ScimError::invalid_syntax(format!(
                "extension '{key}' must be a JSON object"
            )));
        }
        doc.insert(key.to_owned(), value);
        return Ok(());
    };
    let Value::Object(fields) = value else {
        return Err(ScimError::invalid_syntax(format!(
            "extension '{}' must be a JSON object",
            schema.id
        )));
    };
    let mut out = match doc.remove(&schema.id) {
        Some(Value::Object(existing)) => existing,
        _ => Map::new(),
    };
    for (name, v) in fields {
        if v.is_null() {
            continue;
        }
        let def = find(&schema.attributes, &name).ok_or_else(|| {
            ScimError::invalid_syntax(format!("unknown attribute '{name}' in {}", schema.id))
        })?;
        if let Some(v) = check_attribute(dialect, def, v, &def.name)? {
            out.insert(def.name.clone(), v);
        }
    }
    if !out.is_empty() {
        doc.insert(schema.id.clone(), Value::Object(out));
    }
    Ok(())
}

/// Some clients nest core attributes under the core schema URN.
fn merge_core_object(
    registry: &SchemaRegistry,
    dialect: &Dialect,
    rt: &ResourceTypeDef,
    doc: &mut Map<String, Value>,
    value: Value,
) -> Result<(), ScimError> {
    let Value::Object(fields) = value else {
        return Err(ScimError::invalid_syntax(
            "core schema object must be a JSON object",
        ));
    };
    for (k, v) in fields {
        if !v.is_null() && !k.contains(':') {
            put_top_level(registry, dialect, rt, doc, &k, v)?;
        }
    }
    Ok(())
}

pub fn find<'a>(defs: &'a [AttributeDef], name: &str) -> Option<&'a AttributeDef> {
    defs.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

/// Checks one attribute's value. `Ok(None)` means "store nothing": the value
/// was empty, or the attribute is read-only and so ignored.
pub fn check_attribute(
    dialect: &Dialect,
    def: &AttributeDef,
    value: Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() || def.mutability == Mutability::ReadOnly {
        return Ok(None);
    }
    if !def.multi_valued {
        return check_single(dialect, def, value, path);
    }
    // A lone value where a list belongs is accepted as a list of one.
    let items = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(v) = check_single(dialect, def, item, path)? {
            out.push(v);
        }
    }
    check_single_primary(&out, path)?;
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more
/// than once."
fn check_single_primary(values: &[Value], path: &str) -> Result<(), ScimError> {
    let primaries = values
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "at most one value of '{path}' may be primary"
        )));
    }
    Ok(())
}

fn check_single(
    dialect: &Dialect,
    def: &AttributeDef,
    value: Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    match def.attr_type {
        AttrType::Complex => check_complex(dialect, def, value, path),
        AttrType::String if dialect.enforce_canonical_values => {
            let value = coerce_string(value, path)?;
            check_canonical(def, &value, path)?;
            Ok(Some(value))
        }
        AttrType::String | AttrType::Reference | AttrType::Binary => {
            coerce_string(value, path).map(Some)
        }
        AttrType::Boolean => coerce_bool(dialect, value, path).map(Some),
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(Value::Number(n))),
            _ => Err(type_error(path, "an integer")),
        },
        AttrType::Decimal => match value {
            Value::Number(n) => Ok(Some(Value::Number(n))),
            _ => Err(type_error(path, "a number")),
        },
        AttrType::DateTime => match value {
            Value::String(s) if crate::time::parse_datetime_ms(&s).is_some() => {
                Ok(Some(Value::String(s)))
            }
            _ => Err(type_error(path, "an xsd:dateTime string")),
        },
    }
}

fn check_complex(
    dialect: &Dialect,
    def: &AttributeDef,
    value: Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    let fields = match value {
        Value::Object(fields) => fields,
        // For multi-valued attributes a bare string is a client error.
        Value::String(s)
            if dialect.bare_string_complex
                && !def.multi_valued
                && find(&def.sub_attributes, "value").is_some() =>
        {
            applied("bare_string_complex", path);
            let mut m = Map::new();
            m.insert("value".to_owned(), Value::String(s));
            m
        }
        _ => return Err(type_error(path, "a JSON object")),
    };
    let mut out = Map::new();
    let mut had_read_only = false;
    for (name, v) in fields {
        let Some(sub) = find(&def.sub_attributes, &name) else {
            return Err(ScimError::invalid_syntax(format!(
                "unknown sub-attribute '{name}' of '{path}'"
            )));
        };
        had_read_only |= sub.mutability == Mutability::ReadOnly && !v.is_null();
        let sub_path = format!("{path}.{}", sub.name);
        if let Some(v) = check_attribute(dialect, sub, v, &sub_path)? {
            out.insert(sub.name.clone(), v);
        }
    }
    if let Some(sub) = def
        .sub_attributes
        .iter()
        .find(|d| d.required && d.mutability != Mutability::ReadOnly && !out.contains_key(&d.name))
    {
        return Err(ScimError::invalid_value(format!(
            "'{path}.{}' is required",
            sub.name
        )));
    }
    // A value that carried only read-only parts stays, empty, so that rules
    // about it still apply (a member without a `value` is an error, not
    // silently nothing).
    Ok((!out.is_empty() || had_read_only).then_some(Value::Object(out)))
}

/// A value outside the attribute's `canonicalValues`, when it lists any.
fn check_canonical(def: &AttributeDef, value: &Value, path: &str) -> Result<(), ScimError> {
    let (allowed, Some(s)) = (&def.canonical_values, value.as_str()) else {
        return Ok(());
    };
    let same = |c: &String| match def.case_exact {
        true => c == s,
        false => c.to_lowercase() == s.to_lowercase(),
    };
    if allowed.is_empty() || allowed.iter().any(same) {
        return Ok(());
    }
    Err(ScimError::invalid_value(format!(
        "'{path}' must be one of {}; got \"{s}\"",
        allowed
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

fn coerce_string(value: Value, path: &str) -> Result<Value, ScimError> {
    match value {
        Value::String(s) => Ok(Value::String(s)),
        _ => Err(type_error(path, "a string")),
    }
}

fn coerce_bool(dialect: &Dialect, value: Value, path: &str) -> Result<Value, ScimError> {
    let parsed = match &value {
        Value::Bool(b) => return Ok(Value::Bool(*b)),
        Value::String(s) if dialect.string_booleans => parse_bool(s),
        _ => None,
    };
    let b = parsed.ok_or_else(|| type_error(path, "a boolean"))?;
    applied("string_booleans", path);
    Ok(Value::Bool(b))
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn type_error(path: &str, expected: &str) -> ScimError {
    ScimError::invalid_value(format!("'{path}' must be {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(v: Value) -> Result<Map<String, Value>, ScimError> {
        normalize_resource(
            &SchemaRegistry::rfc().unwrap(),
            &Dialect::lenient(),
            "User",
            v,
        )
    }

    #[test]
    fn canonicalizes_names_and_drops_read_only_and_nulls() {
        let doc = user(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "client-chosen", "meta": {"resourceType": "User"},
            "UserName": "bjensen", "NAME": {"GIVENNAME": "Barbara"},
            "addresses": null, "groups": [{"value": "g1"}],
            "active": "False", "externalid": "x1"
        }))
        .unwrap();
        assert_eq!(doc["userName"], "bjensen");
        assert_eq!(doc["name"]["givenName"], "Barbara");
        assert_eq!(doc["active"], false);
        assert_eq!(doc["externalId"], "x1");
        for gone in ["id", "meta", "addresses", "groups", "schemas"] {
            assert!(!doc.contains_key(gone), "{gone} should be dropped");
        }
    }

    #[test]
    fn rejects_unknown_attributes_and_wrong_types() {
        let e = user(json!({"userName": "a", "shoeSize": 9})).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::scim::ScimType::InvalidSyntax));
        assert!(e.detail.contains("shoeSize"));
        let e = user(json!({"userName": "a", "active": "maybe"})).unwrap_err();
        assert!(e.detail.contains("active"));
        let e = user(json!({"userName": 42})).unwrap_err();
        assert!(e.detail.contains("userName"));
        let e = user(json!({"userName": "a", "name": "Barbara"})).unwrap_err();
        assert!(e.detail.contains("name"));
        let e = user(json!({"userName": "a", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]})).unwrap_err();
        assert!(e.detail.contains("primary"));
        assert!(user(json!(["not", "an", "object"])).is_err());
    }

    #[test]
    fn keeps_extensions_known_and_unknown() {
        let doc = user(json!({
            "userName": "a",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "42", "manager": "m-1"},
            "urn:example:custom:2.0:User": {"shoe": {"size": 9}}
        }))
        .unwrap();
        let ent = &doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
        assert_eq!(ent["employeeNumber"], "42");
        assert_eq!(ent["manager"]["value"], "m-1");
        assert_eq!(doc["urn:example:custom:2.0:User"]["shoe"]["size"], 9);
    }

    fn with_hr() -> SchemaRegistry {
        let mut reg = SchemaRegistry::rfc().unwrap();
        reg.add_extension(
            "User",
            json!({"id": "urn:example:hr:1.0:User", "attributes": [
                {"name": "badge", "type": "string", "mutability": "immutable"},
                {"name": "site", "type": "string", "required": true},
                {"name": "desk", "type": "complex", "subAttributes": [
                    {"name": "floor", "type": "integer", "required": true},
                    {"name": "tag", "type": "string", "mutability": "immutable"}
                ]}
            ]}),
            true,
        )
        .unwrap();
        reg
    }

    #[test]
    fn required_attributes_sub_attributes_and_extensions() {
        let reg = with_hr();
        let hr = |v: Value| {
            normalize_resource(
                &reg,
                &Dialect::lenient(),
                "User",
                json!({"userName": "a", "urn:example:hr:1.0:User": v}),
            )
        };
        assert!(hr(json!({"site": "x", "desk": {"floor": 2}})).is_ok());
        let e = hr(json!({"desk": {"floor": 2}})).unwrap_err();
        assert!(e.detail.contains("site"), "{}", e.detail);
        let e = hr(json!({"site": "x", "desk": {"tag": "t"}})).unwrap_err();
        assert!(e.detail.contains("desk.floor"), "{}", e.detail);
        let e = normalize_resource(&reg, &Dialect::lenient(), "User", json!({"userName": "a"}))
            .unwrap_err();
        assert!(e.detail.contains("required"), "{}", e.detail);
        let e = user(json!({"displayName": "no userName"})).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::scim::ScimType::InvalidValue));
    }

    #[test]
    fn immutable_values_are_set_once() {
        let reg = with_hr();
        let doc = |v: Value| {
            normalize_resource(
                &reg,
                &Dialect::lenient(),
                "User",
                json!({"userName": "a", "urn:example:hr:1.0:User": v}),
            )
            .unwrap()
        };
        let set = doc(json!({"site": "x", "badge": "B1", "desk": {"floor": 1, "tag": "T"}}));
        let unset = doc(json!({"site": "x"}));
        assert!(check_immutable(&reg, "User", &unset, &set).is_ok());
        assert!(check_immutable(&reg, "User", &set, &set).is_ok());
        let moved = doc(json!({"site": "y", "badge": "B1", "desk": {"floor": 2, "tag": "T"}}));
        assert!(check_immutable(&reg, "User", &set, &moved).is_ok());
        for changed in [
            json!({"site": "x", "badge": "B2", "desk": {"floor": 1, "tag": "T"}}),
            json!({"site": "x", "desk": {"floor": 1, "tag": "T"}}),
            json!({"site": "x", "badge": "B1", "desk": {"floor": 1, "tag": "U"}}),
        ] {
            let e = check_immutable(&reg, "User", &set, &doc(changed)).unwrap_err();
            assert_eq!(e.scim_type, Some(crate::scim::ScimType::Mutability));
        }
    }

    #[test]
    fn canonical_values_are_enforced_unless_switched_off() {
        let doc = |ty: &str| json!({"userName": "u", "emails": [{"value": "a@b.c", "type": ty}]});
        assert!(user(doc("work")).is_ok());
        // emails.type is caseExact=false
        assert!(user(doc("Work")).is_ok());
        let err = user(doc("personal")).unwrap_err();
        assert_eq!(err.scim_type, Some(crate::scim::ScimType::InvalidValue));
        assert!(err.detail.contains("emails.type"), "{}", err.detail);
        assert!(
            err.detail.contains("\"work\", \"home\", \"other\""),
            "{}",
            err.detail
        );
        let free = Dialect {
            enforce_canonical_values: false,
            ..Dialect::lenient()
        };
        let reg = SchemaRegistry::rfc().unwrap();
        assert!(normalize_resource(&reg, &free, "User", doc("personal")).is_ok());
    }

    #[test]
    fn wraps_a_lone_value_of_a_multi_valued_attribute() {
        let doc = user(json!({"userName": "a", "emails": {"value": "a@x"}})).unwrap();
        assert_eq!(doc["emails"][0]["value"], "a@x");
    }
}
