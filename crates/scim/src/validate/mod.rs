//! Schema-driven checking of client-supplied resources (RFC 7643 §2, §7).
//!
//! Produces the document Roster stores: attribute names in their canonical
//! case, read-only attributes and nulls dropped, every value of the type its
//! schema declares. Unknown extension URNs are kept untouched, so attributes
//! of schemas the operator has not loaded still round-trip.

use serde_json::{Map, Value};

use super::ScimError;
use super::idp_dialect::Dialect;
use super::resource::ResourceKind;
use super::schema::{AttributeDef, Mutability, ResourceTypeDef, SchemaRegistry};

mod immutable;
mod schemas;
#[cfg(test)]
mod tests;
mod value;

pub use immutable::check_immutable;
pub use schemas::check_declared_schemas;
pub use value::check_attribute;

use value::coerce_string;

/// Checks `input` against the schemas of `kind` and returns the document
/// to store.
pub fn normalize_resource(
    registry: &SchemaRegistry,
    dialect: &Dialect,
    kind: ResourceKind,
    input: Value,
) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(input) = input else {
        return Err(ScimError::invalid_syntax(
            "the resource must be a JSON object",
        ));
    };
    let rt = registry.resource_type(kind.name()).ok_or_else(|| {
        ScimError::invalid_syntax(format!("unknown resource type {}", kind.name()))
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
        if !dialect.keep_unknown_extensions {
            return Err(ScimError::invalid_syntax(format!(
                "unknown attribute '{key}' for {}: no such schema extension",
                rt.name
            )));
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
