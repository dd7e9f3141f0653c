//! What a write must carry: PATCH values where RFC 7644 §3.5.2 requires
//! them and of the types the schema declares, and `schemas` that name the
//! resource's own schemas. A refused write changes nothing (same version,
//! same body); the IdP dialect forms stay accepted.

use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp};
use crate::on_both_databases;

on_both_databases!(
    user_patches_without_a_usable_value_change_nothing,
    group_patches_without_a_usable_value_change_nothing,
    dialect_forms_of_patch_stay_accepted,
    resources_must_name_their_schemas_and_types,
);

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const WORK_VALUE: &str = r#"emails[type eq "work"].value"#;
const WORK: &str = r#"emails[type eq "work"]"#;

/// An operation; `value` None leaves the key out, `Some(Null)` sends null.
fn op(op: &str, path: Option<&str>, value: Option<Value>) -> Value {
    let mut o = json!({"op": op});
    if let Some(p) = path {
        o["path"] = json!(p);
    }
    if let Some(v) = value {
        o["value"] = v;
    }
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [o]})
}

/// The resource as read, and its version.
async fn snapshot(app: &TestApp, path: &str) -> (Value, String) {
    let r = app.get(path).await;
    r.assert_status(200);
    let etag = r.header("etag").expect("etag").to_owned();
    (r.body, etag)
}

#[track_caller]
fn assert_refused(r: &Resp, scim_type: &str, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.text);
    assert_eq!(r.body["scimType"], scim_type, "{what}: {}", r.text);
}

/// Sends each `(case, patch, scimType)` and checks that it was refused and
/// left the resource as it was.
async fn assert_all_refused(app: &TestApp, path: &str, cases: Vec<(String, Value, &str)>) {
    let before = snapshot(app, path).await;
    for (what, body, scim_type) in cases {
        let r = app.patch(path, &body).await;
        assert_refused(&r, scim_type, &what);
        assert_eq!(
            snapshot(app, path).await,
            before,
            "{what} changed the resource"
        );
    }
}

async fn user_patches_without_a_usable_value_change_nothing(app: TestApp) {
    let manager = app.create_user("boss@example.com").await;
    let r = app
        .post(
            "/Users",
            &json!({
                "schemas": [USER, ENTERPRISE],
                "userName": "full@example.com",
                "displayName": "Full User",
                "nickName": "Fu",
                "active": true,
                "name": {"givenName": "Full", "familyName": "User"},
                "emails": [{"value": "full@work.example", "type": "work", "primary": true}],
                ENTERPRISE: {"department": "R&D", "manager": {"value": manager}}
            }),
        )
        .await;
    r.assert_status(201);
    let path = format!("/Users/{}", r.body["id"].as_str().expect("id"));
    let department = format!("{ENTERPRISE}:department");
    let manager_path = format!("{ENTERPRISE}:manager");

    let mut cases = Vec::new();
    // Missing and null values, for every path form of add and replace.
    let paths = [
        None,
        Some("displayName"),
        Some("name"),
        Some("name.givenName"),
        Some("emails"),
        Some(WORK),
        Some(WORK_VALUE),
        Some(ENTERPRISE),
        Some(department.as_str()),
        Some(manager_path.as_str()),
    ];
    for kind in ["add", "replace", "Replace"] {
        for path in paths {
            for (how, value) in [("missing", None), ("null", Some(Value::Null))] {
                let what = format!("{kind} {path:?} with the value {how}");
                cases.push((what, op(kind, path, value), "invalidValue"));
            }
        }
    }
    cases.push((
        "remove without a path".to_owned(),
        op("remove", None, None),
        "noTarget",
    ));
    // Values of the wrong type.
    let wrong: Vec<(&str, Option<&str>, Value)> = vec![
        ("replace", Some("displayName"), json!({"a": 1})),
        ("replace", Some("displayName"), json!(["x"])),
        ("replace", Some("displayName"), json!(5)),
        ("add", Some("nickName"), json!(["x"])),
        ("replace", Some("name"), json!("x")),
        ("replace", Some("name"), json!([{"givenName": "x"}])),
        ("replace", Some("name.givenName"), json!(5)),
        ("replace", Some("name.givenName"), json!({"a": 1})),
        ("replace", Some("active"), json!(1)),
        ("replace", Some("active"), json!("sometimes")),
        ("replace", Some("active"), json!([true])),
        ("replace", Some("emails"), json!({"value": "x@y.example"})),
        ("replace", Some("emails"), json!("x@y.example")),
        ("add", Some("emails"), json!("x@y.example")),
        ("add", Some("emails"), json!([5])),
        ("replace", Some(WORK_VALUE), json!(5)),
        ("replace", Some(WORK_VALUE), json!({"a": 1})),
        ("replace", Some(WORK), json!("x@y.example")),
        ("replace", Some(ENTERPRISE), json!("x")),
        ("replace", Some(department.as_str()), json!({"a": 1})),
        (
            "replace",
            Some(manager_path.as_str()),
            json!([{"value": "x"}]),
        ),
        ("replace", None, json!({"displayName": ["x"]})),
        ("replace", None, json!({"active": 1})),
        ("replace", None, json!({"name": "x"})),
    ];
    for (kind, path, value) in wrong {
        let what = format!("{kind} {path:?} with {value}");
        cases.push((what, op(kind, path, Some(value)), "invalidValue"));
    }
    assert_all_refused(&app, &path, cases).await;
}

async fn group_patches_without_a_usable_value_change_nothing(app: TestApp) {
    let (a, b) = (
        app.create_user("a@example.com").await,
        app.create_user("b@example.com").await,
    );
    let path = format!("/Groups/{}", app.create_group("Team", &[&a]).await);
    let mut cases = Vec::new();
    for kind in ["add", "replace"] {
        for p in [None, Some("members"), Some("displayName")] {
            for (how, value) in [("missing", None), ("null", Some(Value::Null))] {
                let what = format!("{kind} {p:?} with the value {how}");
                cases.push((what, op(kind, p, value), "invalidValue"));
            }
        }
    }
    let wrong = [
        json!([{"value": b, "type": "Robot"}]),
        json!([{"value": b, "type": 5}]),
        json!([{"display": "no id"}]),
        json!(["just-an-id"]),
        json!("just-an-id"),
        json!([{"value": 5}]),
    ];
    for kind in ["add", "replace"] {
        for value in &wrong {
            let what = format!("{kind} members {value}");
            cases.push((
                what,
                op(kind, Some("members"), Some(value.clone())),
                "invalidValue",
            ));
        }
    }
    cases.push((
        "replace displayName with an object".to_owned(),
        op("replace", Some("displayName"), Some(json!({"a": 1}))),
        "invalidValue",
    ));
    assert_all_refused(&app, &path, cases).await;
    assert_eq!(
        app.member_ids(path.trim_start_matches("/Groups/")).await,
        [a]
    );
}

#[track_caller]
fn assert_applied(r: &Resp, what: &str) {
    assert!(matches!(r.status, 200 | 204), "{what}: {}", r.text);
}

/// The forms Okta and Entra send (idp-behaviour.md), which the checks
/// above must not catch.
async fn dialect_forms_of_patch_stay_accepted(app: TestApp) {
    let manager = app.create_user("boss@example.com").await;
    let path = format!("/Users/{}", app.create_user("entra@example.com").await);
    let accepted = [
        op("Replace", Some("active"), Some(json!("False"))),
        op("Add", Some("nickName"), Some(json!("Babs"))),
        op(
            "Replace",
            Some(r#"emails[type eq "home"].value"#),
            Some(json!("h@x.example")),
        ),
        op(
            "Add",
            Some(&format!("{ENTERPRISE}:manager")),
            Some(json!(manager)),
        ),
        op(
            "replace",
            None,
            Some(json!({"name.givenName": "Q", format!("{ENTERPRISE}:employeeNumber"): "7"})),
        ),
        op("replace", None, Some(json!({"title": null}))),
        op(
            "add",
            Some("emails"),
            Some(json!({"value": "one@x.example"})),
        ),
        op(
            "add",
            None,
            Some(json!({"emails": {"value": "two@x.example"}})),
        ),
        op("Remove", Some(&format!("{ENTERPRISE}:manager")), None),
    ];
    for body in &accepted {
        assert_applied(&app.patch(&path, body).await, &body.to_string());
    }
    let r = app.get(&path).await;
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["nickName"], "Babs");
    assert_eq!(r.body["name"]["givenName"], "Q");
    assert_eq!(r.body[ENTERPRISE]["employeeNumber"], "7");
    assert_eq!(
        r.body["emails"].as_array().map(Vec::len),
        Some(4),
        "{}",
        r.body["emails"]
    );

    let (a, b) = (
        app.create_user("a@example.com").await,
        app.create_user("b@example.com").await,
    );
    let id = app.create_group("Entra", &[&a, &b]).await;
    let group = format!("/Groups/{id}");
    let forms = [
        op(
            "Remove",
            Some("members"),
            Some(json!([{"$ref": null, "value": a}])),
        ),
        op(
            "Add",
            Some("members"),
            Some(json!([{"$ref": null, "value": a}])),
        ),
        op(
            "add",
            Some("members"),
            Some(json!([{"value": manager, "display": "boss"}])),
        ),
        op(
            "add",
            Some("members"),
            Some(json!([{"value": manager, "type": "User"}])),
        ),
    ];
    for body in &forms {
        assert_applied(&app.patch(&group, body).await, &body.to_string());
    }
    let mut want = vec![a.clone(), b.clone(), manager.clone()];
    want.sort();
    assert_eq!(app.member_ids(&id).await, want);
    let r = app
        .patch(&group, &op("replace", Some("members"), Some(json!([]))))
        .await;
    assert_applied(&r, "Okta's push of an empty group");
    assert!(app.member_ids(&id).await.is_empty());
}

/// Bodies refused on create and replace, with the scimType they get.
fn refused_users() -> Vec<(&'static str, Value, &'static str)> {
    let body = |schemas: Value| json!({"schemas": schemas, "userName": "bad@example.com"});
    vec![
        (
            "no schemas",
            json!({"userName": "bad@example.com"}),
            "invalidSyntax",
        ),
        ("empty schemas", body(json!([])), "invalidSyntax"),
        ("a string", body(json!(USER)), "invalidSyntax"),
        (
            "unknown only",
            body(json!(["urn:example:unknown"])),
            "invalidSyntax",
        ),
        ("the Group schema", body(json!([GROUP])), "invalidSyntax"),
        (
            "User and Group",
            body(json!([USER, GROUP])),
            "invalidSyntax",
        ),
        ("a number inside", body(json!([USER, 5])), "invalidSyntax"),
        (
            "emails as an object",
            json!({"schemas": [USER], "userName": "bad@example.com",
                   "emails": {"value": "bad@example.com"}}),
            "invalidValue",
        ),
        (
            "name as a list",
            json!({"schemas": [USER], "userName": "bad@example.com", "name": [{"givenName": "x"}]}),
            "invalidValue",
        ),
        (
            "active as a number",
            json!({"schemas": [USER], "userName": "bad@example.com", "active": 1}),
            "invalidValue",
        ),
    ]
}

fn refused_groups() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        ("no schemas", json!({"displayName": "Bad"}), "invalidSyntax"),
        (
            "the User schema",
            json!({"schemas": [USER], "displayName": "Bad"}),
            "invalidSyntax",
        ),
        (
            "a User extension",
            json!({"schemas": [GROUP, ENTERPRISE], "displayName": "Bad"}),
            "invalidSyntax",
        ),
        (
            "members as an object",
            json!({"schemas": [GROUP], "displayName": "Bad", "members": {"value": "x"}}),
            "invalidValue",
        ),
    ]
}

async fn resources_must_name_their_schemas_and_types(app: TestApp) {
    let user = app.create_user("kept@example.com").await;
    let group = app.create_group("Kept", &[]).await;
    let users_before = app.count_rows("users").await;
    let groups_before = app.count_rows("groups").await;
    let kinds = [
        ("/Users", &user, refused_users()),
        ("/Groups", &group, refused_groups()),
    ];
    for (endpoint, id, cases) in kinds {
        let target = format!("{endpoint}/{id}");
        let before = snapshot(&app, &target).await;
        for (what, body, scim_type) in cases {
            assert_refused(&app.post(endpoint, &body).await, scim_type, what);
            assert_refused(&app.put(&target, &body).await, scim_type, what);
            assert_eq!(snapshot(&app, &target).await, before, "PUT {what}");
            let bulk = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [
                    {"method": "POST", "path": endpoint, "bulkId": "x", "data": body},
                    {"method": "PUT", "path": target, "data": body}
                ]
            });
            let r = app.post("/Bulk", &bulk).await;
            r.assert_status(200);
            for answer in r.body["Operations"].as_array().expect("operations") {
                assert_eq!(answer["status"], "400", "Bulk {what}: {}", r.text);
                assert_eq!(answer["response"]["scimType"], scim_type, "Bulk {what}");
            }
        }
    }
    assert_eq!(app.count_rows("users").await, users_before);
    assert_eq!(app.count_rows("groups").await, groups_before);
    // Known extensions, and URNs the server does not know beside the core
    // schema (Entra adds its own to groups), stay accepted.
    let r = app
        .post(
            "/Users",
            &json!({"schemas": [USER, ENTERPRISE, "urn:example:unknown"],
                    "userName": "ext@example.com", ENTERPRISE: {"department": "Ops"}}),
        )
        .await;
    r.assert_status(201);
    let r = app
        .post(
            "/Groups",
            &json!({"schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                    "displayName": "Entra's"}),
        )
        .await;
    r.assert_status(201);
}
