//! RFC 7643 §7 "immutable", checked between a resource's stored document
//! and its replacement.

use serde_json::{Map, Value};

use crate::ScimError;
use crate::resource::ResourceKind;
use crate::schema::{AttributeDef, Mutability, SchemaRegistry};

/// RFC 7643 §7 "immutable": such an attribute may be set when a resource
/// is created, or while it has no value, and never changed afterwards
/// (RFC 7644 §3.5.1: a different value is 400 `mutability`).
pub fn check_immutable(
    registry: &SchemaRegistry,
    kind: ResourceKind,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<(), ScimError> {
    let Some(rt) = registry.resource_type(kind.name()) else {
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
