use scim_v2::filter::PatchPath;

use super::*;

#[test]
fn resolve_core_attributes_case_insensitively() {
    let reg = registry();
    for spelling in ["userName", "USERNAME", "username"] {
        let resolved = reg.resolve("User", None, spelling, None).unwrap();
        assert_eq!(resolved.attr.name, "userName");
        assert_eq!(resolved.schema_urn, USER_URN);
        assert!(resolved.is_core_schema && resolved.sub.is_none());
        assert!(resolved.attr.required);
        assert_eq!(resolved.attr.uniqueness, Uniqueness::Server);
    }
}

#[test]
fn resolve_sub_attributes() {
    let reg = registry();
    let given = reg
        .resolve("User", None, "name", Some("givenName"))
        .unwrap();
    assert_eq!(
        (given.attr.name.as_str(), given.leaf().name.as_str()),
        ("name", "givenName")
    );
    let email = reg.resolve("User", None, "Emails", Some("VALUE")).unwrap();
    assert_eq!(email.leaf().name, "value");
    assert_eq!(email.leaf().attr_type, AttrType::String);
    assert!(email.attr.multi_valued);
}

#[test]
fn resolve_urn_qualified_paths_parsed_by_scim_v2() {
    let reg = registry();
    let resolve_text = |text: &str| {
        let Ok(PatchPath::Attr(path)) = text.parse::<PatchPath>() else {
            panic!("scim_v2 did not parse {text}");
        };
        reg.resolve(
            "User",
            path.uri.as_deref(),
            &path.name,
            path.sub_attr.as_deref(),
        )
    };
    let manager_value =
        resolve_text("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")
            .unwrap();
    assert_eq!(manager_value.schema_urn, ENTERPRISE_USER_URN);
    assert!(!manager_value.is_core_schema);
    assert_eq!(manager_value.leaf().name, "value");
    assert!(manager_value.leaf().case_exact);

    let user_name = resolve_text("urn:ietf:params:scim:schemas:core:2.0:User:userName").unwrap();
    assert_eq!(
        (user_name.schema_urn, user_name.is_core_schema),
        (USER_URN, true)
    );

    let shouted = resolve_text("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME").unwrap();
    assert_eq!(shouted.attr.name, "userName");
}

#[test]
fn resolve_finds_extension_attributes_without_urn() {
    let reg = registry();
    let resolved = reg.resolve("User", None, "employeeNumber", None).unwrap();
    assert_eq!(resolved.schema_urn, ENTERPRISE_USER_URN);
    assert!(!resolved.is_core_schema);
}

#[test]
fn resolve_common_attributes() {
    let reg = registry();
    let id = reg.resolve("User", None, "id", None).unwrap();
    assert_eq!((id.schema_urn, id.is_core_schema), (USER_URN, true));
    assert_eq!(
        (id.attr.mutability, id.attr.returned),
        (Mutability::ReadOnly, Returned::Always)
    );
    assert!(id.attr.case_exact);

    let external_id = reg.resolve("Group", None, "externalId", None).unwrap();
    assert_eq!(external_id.schema_urn, GROUP_URN);
    assert_eq!(external_id.attr.mutability, Mutability::ReadWrite);
    assert!(external_id.attr.case_exact);

    let last_modified = reg
        .resolve("User", None, "meta", Some("lastModified"))
        .unwrap();
    assert_eq!(last_modified.leaf().attr_type, AttrType::DateTime);
    assert_eq!(last_modified.attr.attr_type, AttrType::Complex);
    assert_eq!(last_modified.leaf().mutability, Mutability::ReadOnly);

    let qualified = reg
        .resolve("User", Some(USER_URN), "meta", Some("version"))
        .unwrap();
    assert!(qualified.leaf().case_exact);
}

#[test]
fn resolve_group_members_value() {
    let reg = registry();
    let resolved = reg
        .resolve("Group", None, "members", Some("value"))
        .unwrap();
    assert_eq!(resolved.schema_urn, GROUP_URN);
    assert_eq!(resolved.leaf().mutability, Mutability::Immutable);
    assert!(resolved.attr.multi_valued);
}

#[test]
fn resolve_rejects_unknown_references() {
    let reg = registry();
    let none = |rt, uri, name, sub| reg.resolve(rt, uri, name, sub).is_none();
    assert!(none("User", None, "nickname2", None));
    assert!(none("User", None, "name", Some("nope")));
    assert!(
        none("User", None, "userName", Some("value")),
        "simple attrs have no subs"
    );
    assert!(none("User", Some(ENTERPRISE_USER_URN), "userName", None));
    assert!(none("User", Some(ENTERPRISE_USER_URN), "id", None));
    assert!(none("User", Some("urn:example:unknown"), "userName", None));
    assert!(none("User", Some(GROUP_URN), "displayName", None));
    assert!(none("Group", None, "userName", None));
    assert!(none("Group", None, "employeeNumber", None));
    assert!(none("Device", None, "id", None));
    assert!(none("User", None, "", None));
}
