use super::*;

// --- PATCH paths ------------------------------------------------------

fn patch(input: &str) -> PatchPath {
    parse_patch_path(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
}

#[test]
fn patch_paths() {
    assert_eq!(patch("members"), PatchPath::Attr(attr("members")));
    assert_eq!(
        patch("name.givenName"),
        PatchPath::Attr(sub("name", "givenName"))
    );
    assert_eq!(
        patch(&format!("{ENTERPRISE}:manager")),
        PatchPath::Attr(urn(ENTERPRISE, "manager", None))
    );
    assert_eq!(
        patch(&format!("{ENTERPRISE}:manager.value")),
        PatchPath::Attr(urn(ENTERPRISE, "manager", Some("value")))
    );
    assert_eq!(
        patch(r#"members[value eq "2819c223"]"#),
        PatchPath::ValuePath {
            attr: attr("members"),
            filter: eq(attr("value"), "2819c223"),
            sub_attr: None,
        }
    );
    assert_eq!(
        patch(r#"emails[type eq "work"].value"#),
        PatchPath::ValuePath {
            attr: attr("emails"),
            filter: eq(attr("type"), "work"),
            sub_attr: Some("value".into()),
        }
    );
    assert_eq!(
        patch(r#"addresses[type eq "work"].streetAddress"#),
        PatchPath::ValuePath {
            attr: attr("addresses"),
            filter: eq(attr("type"), "work"),
            sub_attr: Some("streetAddress".into()),
        }
    );
    assert_eq!(
        patch(r#"members[not(value eq "x")]"#).to_string(),
        r#"members[not (value eq "x")]"#
    );
}

#[test]
fn patch_path_errors() {
    assert_eq!(path_detail("  "), "invalid path: empty");
    assert_eq!(
        path_detail(r#"emails[type eq "work"].value eq "x""#),
        "invalid path: unexpected 'eq' at position 29 (expected end of input)"
    );
    assert_eq!(
        path_detail(r#"emails[type eq "work""#),
        "invalid path: missing ']' to close '[' at position 6"
    );
    assert_eq!(
        path_detail(r#"emails[type eq "work"] value"#),
        "invalid path: unexpected 'value' at position 23 (expected one of: '.', end of input)"
    );
}

// --- attribute paths for sortBy / attributes ----------------------------

#[test]
fn attr_paths() {
    let parsed = |s: &str| parse_attr_path(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(parsed("userName"), attr("userName"));
    assert_eq!(parsed(" name.givenName "), sub("name", "givenName"));
    assert_eq!(
        parsed(&format!("{ENTERPRISE}:manager.value")),
        urn(ENTERPRISE, "manager", Some("value"))
    );
    assert_eq!(parsed(r#"emails[type eq "work"]"#), attr("emails"));
    assert_eq!(
        parsed(r#"emails[type eq "work"].value"#),
        sub("emails", "value")
    );
    assert_eq!(
        parse_attr_path(r#"name.x[type eq "work"].value"#)
            .unwrap_err()
            .detail,
        "invalid attribute path: 'name.x' already names a sub-attribute, \
         so '.value' cannot follow its filter"
    );
    assert_eq!(
        parse_attr_path(r#"userName eq "x""#).unwrap_err().detail,
        "invalid attribute path: unexpected 'eq' at position 9 (expected one of: '[', end of input)"
    );
    assert_eq!(
        parse_attr_path("").unwrap_err().detail,
        "invalid attribute path: empty"
    );
}
