use super::*;
use serde_json::json;

fn user(v: Value) -> Result<Map<String, Value>, ScimError> {
    normalize_resource(
        &SchemaRegistry::rfc().unwrap(),
        &Dialect::lenient(),
        ResourceKind::User,
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
    assert_eq!(e.scim_type, Some(crate::ScimType::InvalidSyntax));
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
            ResourceKind::User,
            json!({"userName": "a", "urn:example:hr:1.0:User": v}),
        )
    };
    assert!(hr(json!({"site": "x", "desk": {"floor": 2}})).is_ok());
    let e = hr(json!({"desk": {"floor": 2}})).unwrap_err();
    assert!(e.detail.contains("site"), "{}", e.detail);
    let e = hr(json!({"site": "x", "desk": {"tag": "t"}})).unwrap_err();
    assert!(e.detail.contains("desk.floor"), "{}", e.detail);
    let e = normalize_resource(
        &reg,
        &Dialect::lenient(),
        ResourceKind::User,
        json!({"userName": "a"}),
    )
    .unwrap_err();
    assert!(e.detail.contains("required"), "{}", e.detail);
    let e = user(json!({"displayName": "no userName"})).unwrap_err();
    assert_eq!(e.scim_type, Some(crate::ScimType::InvalidValue));
}

#[test]
fn immutable_values_are_set_once() {
    let reg = with_hr();
    let doc = |v: Value| {
        normalize_resource(
            &reg,
            &Dialect::lenient(),
            ResourceKind::User,
            json!({"userName": "a", "urn:example:hr:1.0:User": v}),
        )
        .unwrap()
    };
    let set = doc(json!({"site": "x", "badge": "B1", "desk": {"floor": 1, "tag": "T"}}));
    let unset = doc(json!({"site": "x"}));
    assert!(check_immutable(&reg, ResourceKind::User, &unset, &set).is_ok());
    assert!(check_immutable(&reg, ResourceKind::User, &set, &set).is_ok());
    let moved = doc(json!({"site": "y", "badge": "B1", "desk": {"floor": 2, "tag": "T"}}));
    assert!(check_immutable(&reg, ResourceKind::User, &set, &moved).is_ok());
    for changed in [
        json!({"site": "x", "badge": "B2", "desk": {"floor": 1, "tag": "T"}}),
        json!({"site": "x", "desk": {"floor": 1, "tag": "T"}}),
        json!({"site": "x", "badge": "B1", "desk": {"floor": 1, "tag": "U"}}),
    ] {
        let e = check_immutable(&reg, ResourceKind::User, &set, &doc(changed)).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::ScimType::Mutability));
    }
}

#[test]
fn canonical_values_are_enforced_unless_switched_off() {
    let doc = |ty: &str| json!({"userName": "u", "emails": [{"value": "a@b.c", "type": ty}]});
    assert!(user(doc("work")).is_ok());
    // emails.type is caseExact=false
    assert!(user(doc("Work")).is_ok());
    let err = user(doc("personal")).unwrap_err();
    assert_eq!(err.scim_type, Some(crate::ScimType::InvalidValue));
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
    assert!(normalize_resource(&reg, &free, ResourceKind::User, doc("personal")).is_ok());
}

#[test]
fn a_multi_valued_attribute_needs_an_array() {
    let err = user(json!({"userName": "a", "emails": {"value": "a@x"}})).unwrap_err();
    assert_eq!(err.scim_type, Some(crate::ScimType::InvalidValue));
    assert!(
        err.detail.contains("'emails' must be an array"),
        "{}",
        err.detail
    );
    let doc = user(json!({"userName": "a", "emails": [{"value": "a@x"}]})).unwrap();
    assert_eq!(doc["emails"][0]["value"], "a@x");
}
