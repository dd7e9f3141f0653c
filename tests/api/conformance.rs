//! Behaviour the external checker (scim2-tester, run by scripts/test)
//! requires, pinned here so a regression shows up in cargo test too.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    patch_can_address_a_whole_extension,
    removing_active_removes_it,
    member_display_is_derived_and_returned_on_request,
);

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn patch(op: &str, path: &str, value: serde_json::Value) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": op, "path": path, "value": value}]
    })
}

async fn patch_can_address_a_whole_extension(app: TestApp) {
    let id = app.create_user("ext@example.com").await;
    let path = format!("/Users/{id}");
    let r = app
        .patch(
            &path,
            &patch(
                "add",
                ENTERPRISE,
                json!({"schemas": [ENTERPRISE], "department": "R&D"}),
            ),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body[ENTERPRISE], json!({"department": "R&D"}));
    let r = app
        .patch(
            &path,
            &patch("replace", ENTERPRISE, json!({"costCenter": "42"})),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body[ENTERPRISE], json!({"costCenter": "42"}));
    let r = app
        .patch(&path, &patch("remove", ENTERPRISE, json!(null)))
        .await;
    r.assert_status(200);
    assert!(r.body.get(ENTERPRISE).is_none(), "{}", r.text);
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}

async fn removing_active_removes_it(app: TestApp) {
    let id = app.create_user("active@example.com").await;
    let r = app
        .patch(
            &format!("/Users/{id}"),
            &patch("remove", "active", json!(null)),
        )
        .await;
    r.assert_status(200);
    assert!(r.body.get("active").is_none(), "{}", r.text);
    // The account itself stays enabled: absent means active.
    let found = app.filter("/Users", "active eq true").await;
    assert_eq!(found.body["totalResults"], 1);
}

async fn member_display_is_derived_and_returned_on_request(app: TestApp) {
    let u = app.create_user("m@example.com").await;
    let r = app
        .post(
            "/Groups",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": u, "display": "ignored"}]}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["members"][0]["display"], "Test User");
    let g = r.body["id"].as_str().expect("id");
    let shown = app
        .get(&format!(
            "/Groups/{g}?attributes=members.display,members.value"
        ))
        .await;
    assert_eq!(shown.body["members"][0]["display"], "Test User");
    app.post(
        "/Groups",
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "H", "members": [{"display": "x"}]}),
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
}
