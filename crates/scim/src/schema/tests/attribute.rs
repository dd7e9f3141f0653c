use std::error::Error;

use super::*;
use crate::schema::rfc::simple_attribute;

#[test]
fn attribute_def_deserialization_applies_rfc_defaults() {
    let attr: AttributeDef = serde_json::from_value(json!({"name": "nickname"})).unwrap();
    assert_eq!(attr, simple_attribute("nickname", AttrType::String));
    assert_eq!(attr.mutability, Mutability::ReadWrite);
    assert_eq!(attr.returned, Returned::Default);
    assert_eq!(attr.uniqueness, Uniqueness::None);
    assert!(!attr.required && !attr.case_exact && !attr.multi_valued);

    let nulls = json!({"name": "n", "type": null, "description": null, "canonicalValues": null,
                       "mutability": null, "subAttributes": null});
    let attr: AttributeDef = serde_json::from_value(nulls).unwrap();
    assert_eq!(attr, simple_attribute("n", AttrType::String));
}

#[test]
fn attribute_def_round_trips_in_camel_case() {
    let wire = json!({
        "name": "start", "type": "dateTime", "multiValued": true, "required": true,
        "caseExact": true, "mutability": "writeOnly", "returned": "request",
        "uniqueness": "global", "canonicalValues": ["a"], "referenceTypes": ["uri"]
    });
    let attr: AttributeDef = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(attr.attr_type, AttrType::DateTime);
    assert_eq!(attr.returned, Returned::Request);
    assert_eq!(serde_json::to_value(&attr).unwrap(), wire);
}

#[test]
fn enum_wire_names_match_serde() {
    let wire = |v: Value| v.as_str().unwrap().to_owned();
    for t in [
        AttrType::String,
        AttrType::Boolean,
        AttrType::Decimal,
        AttrType::Integer,
        AttrType::DateTime,
        AttrType::Binary,
        AttrType::Reference,
        AttrType::Complex,
    ] {
        assert_eq!(t.as_str(), wire(serde_json::to_value(t).unwrap()));
    }
    for m in [
        Mutability::ReadOnly,
        Mutability::ReadWrite,
        Mutability::Immutable,
        Mutability::WriteOnly,
    ] {
        assert_eq!(m.as_str(), wire(serde_json::to_value(m).unwrap()));
    }
    for r in [
        Returned::Always,
        Returned::Never,
        Returned::Default,
        Returned::Request,
    ] {
        assert_eq!(r.as_str(), wire(serde_json::to_value(r).unwrap()));
    }
    for u in [Uniqueness::None, Uniqueness::Server, Uniqueness::Global] {
        assert_eq!(u.as_str(), wire(serde_json::to_value(u).unwrap()));
    }
}

#[test]
fn schema_error_is_a_std_error() {
    let err: Box<dyn Error> = Box::new(SchemaError::Malformed("missing field `id`".into()));
    assert_eq!(
        err.to_string(),
        "schema extension is not a valid SCIM schema document: missing field `id`"
    );
}
