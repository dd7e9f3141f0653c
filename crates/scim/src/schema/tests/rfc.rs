use super::*;

#[test]
fn urn_constants_match_scim_v2() {
    use scim_v2::schema_urns as urns;
    let pairs = [
        (USER_URN, urns::USER),
        (GROUP_URN, urns::GROUP),
        (ENTERPRISE_USER_URN, urns::ENTERPRISE_USER),
        (LIST_RESPONSE_URN, urns::LIST_RESPONSE),
        (ERROR_URN, urns::ERROR),
        (PATCH_OP_URN, urns::PATCH_OP),
        (BULK_REQUEST_URN, urns::BULK_REQUEST),
        (BULK_RESPONSE_URN, urns::BULK_RESPONSE),
        (SEARCH_REQUEST_URN, urns::SEARCH_REQUEST),
        (SERVICE_PROVIDER_CONFIG_URN, urns::SERVICE_PROVIDER_CONFIG),
        (RESOURCE_TYPE_URN, urns::RESOURCE_TYPE),
        (SCHEMA_URN, urns::SCHEMA),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(ours, theirs);
    }
}

#[test]
fn rfc_has_the_three_schemas_with_rfc_attribute_counts() {
    let reg = registry();
    let ids: Vec<&str> = reg.schemas().iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [USER_URN, GROUP_URN, ENTERPRISE_USER_URN]);
    let count = |urn| reg.schema(urn).map(|s| s.attributes.len());
    assert_eq!(count(USER_URN), Some(21));
    assert_eq!(count(GROUP_URN), Some(2));
    assert_eq!(count(ENTERPRISE_USER_URN), Some(6));
    let user_schema = reg.schema(USER_URN).unwrap();
    assert_eq!(
        (user_schema.name.as_str(), user_schema.description.as_str()),
        ("User", "User Account")
    );
    assert!(reg.schema(&USER_URN.to_uppercase()).is_some());
    assert!(reg.schema("urn:example:nope").is_none());
}

#[test]
fn rfc_resource_types_link_enterprise_user_as_optional() {
    let reg = registry();
    assert_eq!(reg.resource_types().len(), 2);
    let user_rt = reg.resource_type("user").unwrap();
    assert_eq!(
        (user_rt.endpoint.as_str(), user_rt.schema.as_str()),
        ("/Users", USER_URN)
    );
    assert_eq!(
        user_rt.schema_extensions,
        [SchemaExtension {
            schema: ENTERPRISE_USER_URN.into(),
            required: false
        }]
    );
    assert_eq!(reg.resource_type("GROUP").unwrap().endpoint, "/Groups");
    assert_eq!(reg.schema_urns_for("User"), [USER_URN, ENTERPRISE_USER_URN]);
    assert_eq!(reg.schema_urns_for("Group"), [GROUP_URN]);
    assert!(reg.schema_urns_for("Device").is_empty());
    assert!(reg.resource_type("Device").is_none());
}

#[test]
fn rfc_descriptions_are_kept() {
    let user_name = user(&registry(), "userName", None).unwrap();
    assert!(
        user_name
            .description
            .starts_with("Unique identifier for the User")
    );
}

#[test]
fn rfc_corrections_follow_the_prose() {
    let reg = registry();
    let display_name = reg.resolve("Group", None, "displayName", None).unwrap();
    assert!(display_name.attr.required);

    let groups = user(&reg, "groups", None).unwrap();
    assert_eq!(groups.mutability, Mutability::ReadOnly);
    assert!(
        groups
            .sub_attributes
            .iter()
            .all(|s| s.mutability == Mutability::ReadOnly)
    );
    assert_eq!(
        groups.sub_attribute("$ref").unwrap().reference_types,
        ["Group"]
    );

    let password = user(&reg, "password", None).unwrap();
    assert_eq!(
        (password.mutability, password.returned),
        (Mutability::WriteOnly, Returned::Never)
    );

    let display = reg
        .resolve("Group", None, "members", Some("display"))
        .unwrap();
    assert_eq!(display.leaf().mutability, Mutability::ReadOnly);
    assert_eq!(display.leaf().returned, Returned::Default);
}

#[test]
fn rfc_references_binaries_and_id_values_are_case_exact() {
    let reg = registry();
    assert!(user(&reg, "profileUrl", None).unwrap().case_exact);
    assert!(
        user(&reg, "x509Certificates", Some("value"))
            .unwrap()
            .case_exact
    );
    assert!(user(&reg, "groups", Some("value")).unwrap().case_exact);
    assert!(
        reg.resolve("Group", None, "members", Some("$ref"))
            .unwrap()
            .leaf()
            .case_exact
    );
    assert!(!user(&reg, "emails", Some("value")).unwrap().case_exact);
}

#[test]
fn enterprise_manager_has_value_ref_and_display_name() {
    let reg = registry();
    let manager = reg
        .resolve("User", Some(ENTERPRISE_USER_URN), "manager", None)
        .unwrap();
    let names: Vec<&str> = manager
        .attr
        .sub_attributes
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["value", "$ref", "displayName"]);
    let display_name = manager.attr.sub_attribute("displayName").unwrap();
    assert_eq!(display_name.mutability, Mutability::ReadOnly);
}
