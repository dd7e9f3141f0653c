//! Extension validation: the RFC 7643 rules an operator's schema document
//! can break even when it has the right shape.

use super::SchemaError;
use super::attribute::{AttrType, AttributeDef, SchemaDef, find_attribute};

/// Shape errors are serde's; these are the RFC 7643 rules a well-shaped
/// document can still break, each of which would make some attribute
/// unaddressable by filters or PATCH paths.
pub(super) fn validate_extension(schema: &SchemaDef) -> Result<(), SchemaError> {
    let invalid = |reason: String| SchemaError::Invalid {
        schema: schema.id.clone(),
        reason,
    };
    if !is_urn(&schema.id) {
        return Err(invalid(
            "`id` must be a URN (e.g. `urn:example:scim:schemas:extension:acme:1.0:User`), \
             because it prefixes attribute paths in filters and PATCH"
                .into(),
        ));
    }
    check_attributes(&schema.attributes, None).map_err(invalid)
}

fn is_urn(id: &str) -> bool {
    id.len() > "urn:".len()
        && id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        && !id.ends_with(':')
        && !id.contains(char::is_whitespace)
}

fn check_attributes(attributes: &[AttributeDef], parent: Option<&str>) -> Result<(), String> {
    for (index, attr) in attributes.iter().enumerate() {
        let path = match parent {
            Some(parent) => format!("{parent}.{}", attr.name),
            None => attr.name.clone(),
        };
        check_attribute(attr, parent.is_some())
            .map_err(|reason| format!("attribute `{path}`: {reason}"))?;
        let earlier = &attributes[..index];
        if find_attribute(earlier, &attr.name).is_some() {
            return Err(format!(
                "attribute `{path}` is declared twice (names are case-insensitive)"
            ));
        }
        check_attributes(&attr.sub_attributes, Some(&path))?;
    }
    Ok(())
}

fn check_attribute(attr: &AttributeDef, is_sub: bool) -> Result<(), &'static str> {
    if !is_valid_attribute_name(&attr.name, is_sub) {
        return Err(
            "name must match RFC 7643 §2.1 ATTRNAME (a letter, then letters, digits, '-' or '_')",
        );
    }
    if is_sub && attr.attr_type == AttrType::Complex {
        return Err("a sub-attribute cannot be complex (RFC 7643 §2.3.8)");
    }
    if attr.attr_type != AttrType::Complex && !attr.sub_attributes.is_empty() {
        return Err("only complex attributes may have subAttributes");
    }
    Ok(())
}

/// `$ref` breaks the ATTRNAME grammar but is the RFC's own sub-attribute name.
fn is_valid_attribute_name(name: &str, is_sub: bool) -> bool {
    if is_sub && name == "$ref" {
        return true;
    }
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
