use super::*;
use crate::schema::{ENTERPRISE_USER_URN, USER_URN};
use serde_json::json;

fn user() -> Map<String, Value> {
    let v = json!({
        "schemas": [USER_URN, ENTERPRISE_USER_URN],
        "id": "u1",
        "externalId": "x",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "b@work", "type": "work", "primary": true},
            {"value": "b@home", "type": "home"}
        ],
        ENTERPRISE_USER_URN: {"employeeNumber": "7", "manager": {"value": "m1", "displayName": "Boss"}},
        "meta": {"resourceType": "User"}
    });
    let Value::Object(m) = v else { unreachable!() };
    m
}

fn project(attributes: &[&str], excluded: &[&str]) -> Value {
    let reg = SchemaRegistry::rfc().unwrap();
    let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let p = Projection::new(
        &reg,
        ResourceKind::User,
        &owned(attributes),
        &owned(excluded),
    )
    .unwrap();
    let mut body = user();
    p.apply(&mut body);
    Value::Object(body)
}

#[test]
fn attributes_keep_only_what_is_named_plus_always() {
    assert_eq!(
        project(&["userName"], &[]),
        json!({"schemas": [USER_URN], "id": "u1", "userName": "bjensen"})
    );
    assert_eq!(
        project(
            &[
                "NAME.givenName",
                "urn:ietf:params:scim:schemas:core:2.0:User:externalId"
            ],
            &[]
        ),
        json!({"schemas": [USER_URN], "id": "u1", "externalId": "x", "name": {"givenName": "Barbara"}})
    );
}

#[test]
fn value_paths_select_values() {
    assert_eq!(
        project(&[r#"emails[type eq "work"]"#], &[])["emails"],
        json!([{"value": "b@work", "type": "work", "primary": true}])
    );
    assert_eq!(
        project(&[r#"emails[type eq "HOME"].value"#], &[])["emails"],
        json!([{"value": "b@home"}])
    );
    assert_eq!(
        project(&["emails.type"], &[])["emails"],
        json!([{"type": "work"}, {"type": "home"}])
    );
    assert_eq!(
        project(&[], &[r#"emails[type eq "work"]"#])["emails"],
        json!([{"value": "b@home", "type": "home"}])
    );
}

#[test]
fn extensions_whole_or_by_attribute() {
    let whole = project(&[ENTERPRISE_USER_URN], &[]);
    assert_eq!(whole["schemas"], json!([USER_URN, ENTERPRISE_USER_URN]));
    assert_eq!(whole[ENTERPRISE_USER_URN]["employeeNumber"], "7");
    let one = project(&[&format!("{ENTERPRISE_USER_URN}:manager.value")], &[]);
    assert_eq!(
        one[ENTERPRISE_USER_URN],
        json!({"manager": {"value": "m1"}})
    );
    assert_eq!(
        project(&["employeeNumber"], &[])[ENTERPRISE_USER_URN],
        json!({"employeeNumber": "7"})
    );
    let without = project(&[], &[ENTERPRISE_USER_URN]);
    assert!(without.get(ENTERPRISE_USER_URN).is_none());
    assert_eq!(without["schemas"], json!([USER_URN]));
}

#[test]
fn excluded_attributes_cannot_remove_always_or_return_never() {
    let p = project(&[], &["id", "emails", "name.familyName", "meta"]);
    assert_eq!(p["id"], "u1");
    assert!(p.get("emails").is_none());
    assert!(p.get("meta").is_none());
    assert_eq!(p["name"], json!({"givenName": "Barbara"}));
    let mut body = user();
    body.insert("password".into(), json!("secret"));
    let reg = SchemaRegistry::rfc().unwrap();
    Projection::new(&reg, ResourceKind::User, &["password".to_owned()], &[])
        .unwrap()
        .apply(&mut body);
    assert!(body.get("password").is_none());
}

#[test]
fn values_trimmed_one_at_a_time_match_the_whole_array() {
    let reg = SchemaRegistry::rfc().unwrap();
    let members = json!([
        {"value": "u1", "$ref": "https://x/Users/u1", "display": "Ann", "type": "User"},
        {"value": "g1", "$ref": "https://x/Groups/g1", "display": "Ops", "type": "Group"},
        {"value": "u2", "$ref": "https://x/Users/u2", "type": "User"}
    ]);
    let cases: &[(&[&str], &[&str])] = &[
        (&[], &[]),
        (&["members"], &[]),
        (&["members.value"], &[]),
        (&["members.display", "members.type"], &[]),
        (&[r#"members[type eq "Group"]"#], &[]),
        (&[r#"members[type eq "User"].value"#], &[]),
        (&[], &["members.display"]),
        (&[], &[r#"members[type eq "User"]"#]),
        (&[], &[r#"members[value eq "u1"].display"#]),
        (&[], &["members"]),
        (&["displayName"], &[]),
    ];
    for (attributes, excluded) in cases {
        let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let p = Projection::new(
            &reg,
            ResourceKind::Group,
            &owned(attributes),
            &owned(excluded),
        )
        .unwrap();
        let mut body = Map::new();
        body.insert("id".into(), json!("g0"));
        body.insert("members".into(), members.clone());
        p.apply(&mut body);
        let whole = body.remove("members").unwrap_or_else(|| json!([]));
        let one_by_one: Vec<Value> = p.element("members").map_or_else(Vec::new, |e| {
            let items = members.as_array().unwrap().iter();
            items.filter_map(|m| e.apply(m.clone())).collect()
        });
        assert_eq!(
            Value::Array(one_by_one),
            whole,
            "{attributes:?} / {excluded:?}"
        );
    }
}

#[test]
fn loading_decisions() {
    let reg = SchemaRegistry::rfc().unwrap();
    let p = |a: &[&str], e: &[&str]| {
        let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Projection::new(&reg, ResourceKind::Group, &owned(a), &owned(e))
            .unwrap()
            .includes("members")
    };
    assert!(p(&[], &[]));
    assert!(!p(&[], &["members"]));
    assert!(p(&[], &["members.display"]));
    assert!(!p(&["displayName"], &[]));
    assert!(p(&["members.value"], &[]));
    assert!(p(&[r#"members[value eq "x"]"#], &[]));
    assert!(Projection::new(&reg, ResourceKind::Group, &["bad[".to_owned()], &[]).is_err());
}
