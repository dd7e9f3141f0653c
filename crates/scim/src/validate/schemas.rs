//! RFC 7643 §3: a resource's `schemas` names its core schema and the
//! extensions it uses. Checked on what a client sends in a create or a
//! replace; a PATCH edits a stored document, whose schemas are the
//! server's own.

use serde_json::Value;

use crate::ScimError;
use crate::resource::ResourceKind;
use crate::schema::SchemaRegistry;

/// `input`'s `schemas` must be a list of URN strings that holds the core
/// schema of `kind`, and no schema this server knows for anything else
/// (the Group schema on a User, a User extension on a Group). URNs the
/// server does not know are kept: Entra adds its own to Groups.
pub fn check_declared_schemas(
    registry: &SchemaRegistry,
    kind: ResourceKind,
    input: &Value,
) -> Result<(), ScimError> {
    let (Value::Object(fields), Some(rt)) = (input, registry.resource_type(kind.name())) else {
        // Not an object: the resource check says so.
        return Ok(());
    };
    let listed = fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .map(|(_, v)| v);
    let urns: Option<Vec<&str>> = match listed {
        Some(Value::Array(items)) => items.iter().map(Value::as_str).collect(),
        _ => None,
    };
    let Some(urns) = urns.filter(|u| !u.is_empty()) else {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' is required: an array of URN strings holding \"{}\"",
            rt.schema
        )));
    };
    if !urns.iter().any(|u| u.eq_ignore_ascii_case(&rt.schema)) {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must hold \"{}\" for a {}",
            rt.schema, rt.name
        )));
    }
    let own = registry.schema_urns_for(kind.name());
    let foreign = urns
        .iter()
        .find(|u| registry.schema(u).is_some() && !own.iter().any(|o| o.eq_ignore_ascii_case(u)));
    if let Some(u) = foreign {
        return Err(ScimError::invalid_syntax(format!(
            "'{u}' is not a schema of a {}",
            rt.name
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ScimType;

    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn check(kind: ResourceKind, schemas: Option<serde_json::Value>) -> Result<(), ScimError> {
        let registry = SchemaRegistry::rfc().unwrap();
        let mut body = json!({"userName": "u", "displayName": "d"});
        if let Some(s) = schemas {
            body["schemas"] = s;
        }
        check_declared_schemas(&registry, kind, &body)
    }

    #[test]
    fn the_core_schema_must_be_listed_and_no_other_types() {
        let user = ResourceKind::User;
        for bad in [
            None,
            Some(json!([])),
            Some(json!(USER)),
            Some(json!([5])),
            Some(json!(["urn:example:other"])),
            Some(json!([GROUP])),
            Some(json!([USER, GROUP])),
        ] {
            let e = check(user, bad.clone()).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax), "{bad:?}");
        }
        assert!(check(ResourceKind::Group, Some(json!([GROUP, ENTERPRISE]))).is_err());
        assert!(check(user, Some(json!([USER]))).is_ok());
        assert!(
            check(
                user,
                Some(json!(["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"]))
            )
            .is_ok()
        );
        assert!(check(user, Some(json!([USER, ENTERPRISE, "urn:example:other"]))).is_ok());
    }
}
