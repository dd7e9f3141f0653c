use super::*;

#[test]
fn add_extension_registers_and_resolves() {
    let mut reg = registry();
    reg.add_extension("user", acme_extension(), true).unwrap();
    let urn = "urn:example:scim:schemas:extension:acme:1.0:User";
    assert_eq!(
        reg.schema_urns_for("User"),
        [USER_URN, ENTERPRISE_USER_URN, urn]
    );
    assert_eq!(reg.schema(&urn.to_uppercase()).unwrap().name, "AcmeUser");

    let badge = reg.resolve("User", None, "badgeNumber", None).unwrap();
    assert_eq!((badge.schema_urn, badge.is_core_schema), (urn, false));
    assert_eq!(badge.attr.attr_type, AttrType::Integer);
    let code = reg
        .resolve("User", Some(urn), "site", Some("code"))
        .unwrap();
    assert!(code.leaf().case_exact);
    assert_eq!(code.leaf().mutability, Mutability::ReadWrite);

    let rt = reg.resource_type_json(reg.resource_type("User").unwrap(), BASE);
    assert_eq!(
        rt["schemaExtensions"][1],
        json!({"schema": urn, "required": true})
    );
}

#[test]
fn add_extension_accepts_what_schema_json_serves() {
    let source = registry();
    let mut served = source.schema_json(source.schema(ENTERPRISE_USER_URN).unwrap(), BASE);
    served["id"] = json!("urn:example:scim:schemas:extension:copy:1.0:User");
    let mut reg = registry();
    reg.add_extension("User", served, false).unwrap();
    let copy = reg
        .schema("urn:example:scim:schemas:extension:copy:1.0:User")
        .unwrap();
    assert_eq!(
        copy.attributes,
        source.schema(ENTERPRISE_USER_URN).unwrap().attributes
    );
}

#[test]
fn add_extension_rejects_unknown_resource_type() {
    let mut reg = registry();
    let before = reg.clone();
    let err = reg
        .add_extension("Device", acme_extension(), false)
        .unwrap_err();
    assert_eq!(err, SchemaError::UnknownResourceType("Device".into()));
    assert!(err.to_string().contains("unknown resource type `Device`"));
    assert_eq!(reg, before);
}

#[test]
fn add_extension_rejects_clashing_urns() {
    let mut reg = registry();
    let mut clash = acme_extension();
    clash["id"] = json!(ENTERPRISE_USER_URN.to_lowercase());
    let err = reg.add_extension("User", clash, false).unwrap_err();
    assert!(matches!(err, SchemaError::DuplicateSchema(_)), "{err:?}");
    assert!(err.to_string().contains("already in use"));

    let mut message_urn = acme_extension();
    message_urn["id"] = json!(PATCH_OP_URN);
    let err = reg.add_extension("Group", message_urn, false).unwrap_err();
    assert!(matches!(err, SchemaError::DuplicateSchema(_)), "{err:?}");

    reg.add_extension("User", acme_extension(), false).unwrap();
    let err = reg
        .add_extension("Group", acme_extension(), false)
        .unwrap_err();
    assert!(matches!(err, SchemaError::DuplicateSchema(_)), "{err:?}");
    assert!(reg.schema_urns_for("Group").len() == 1);
}

#[test]
fn add_extension_rejects_malformed_json() {
    let mut reg = registry();
    let before = reg.clone();
    let cases = [
        json!("not an object"),
        json!({"name": "NoId", "attributes": []}),
        json!({"id": "urn:example:x"}),
        json!({"id": "urn:example:x", "attributes": [{"name": "a", "type": "str"}]}),
        json!({"id": "urn:example:x", "attributes": [{"type": "string"}]}),
        json!({"id": "urn:example:x", "attributes": [{"name": "a", "mutability": "sometimes"}]}),
    ];
    for case in cases {
        let err = reg.add_extension("User", case.clone(), false).unwrap_err();
        assert!(matches!(err, SchemaError::Malformed(_)), "{case}: {err:?}");
        assert!(
            err.to_string()
                .starts_with("schema extension is not a valid SCIM schema document")
        );
    }
    assert_eq!(reg, before);
}

#[test]
fn add_extension_rejects_rfc_violations() {
    let mut reg = registry();
    let with_attrs = |attrs: Value| json!({"id": "urn:example:x", "attributes": attrs});
    let reason = invalid_reason(&mut reg, json!({"id": "acme-user", "attributes": []}));
    assert!(reason.contains("must be a URN"));
    let reason = invalid_reason(&mut reg, with_attrs(json!([{"name": "2fa"}])));
    assert!(reason.contains("`2fa`") && reason.contains("ATTRNAME"));
    let reason = invalid_reason(&mut reg, with_attrs(json!([{"name": "$ref"}])));
    assert!(reason.contains("ATTRNAME"));
    let reason = invalid_reason(&mut reg, with_attrs(json!([{"name": "a"}, {"name": "A"}])));
    assert!(reason.contains("declared twice"));
    let nested = json!([{"name": "a", "type": "complex", "subAttributes": [
        {"name": "b", "type": "complex", "subAttributes": [{"name": "c"}]}
    ]}]);
    let reason = invalid_reason(&mut reg, with_attrs(nested));
    assert!(reason.contains("`a.b`") && reason.contains("cannot be complex"));
    let not_complex = json!([{"name": "a", "subAttributes": [{"name": "b"}]}]);
    let reason = invalid_reason(&mut reg, with_attrs(not_complex));
    assert!(reason.contains("only complex"));
    let err = reg
        .add_extension("User", json!({"id": "x", "attributes": []}), false)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("schema extension `x` is invalid: "),
        "{err}"
    );
}
