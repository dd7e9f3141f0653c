//! Each IdP dialect rule, with the JSON the IdP really sends, and what the
//! RFC reading does when the rule is switched off.

use roster::scim::idp_dialect::Dialect;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    entra_capitalized_ops,
    entra_string_booleans,
    entra_remove_members_with_value_list,
    entra_manager_as_bare_string_and_its_removal,
    entra_replace_on_missing_work_email_creates_it,
    entra_pathless_replace_with_dotted_and_urn_keys,
    entra_single_valued_add_is_replace,
    entra_group_schema_urn_and_unknown_query_flags,
    okta_group_rename_echoes_id,
    okta_replace_members_empty_clears,
    strict_rules_follow_the_rfc,
);

fn ops(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async fn entra_capitalized_ops(app: TestApp) {
    let id = app.create_user("ops@example.com").await;
    let r = app
        .patch(
            &format!("/Users/{id}"),
            &ops(json!([
                {"op": "Add", "path": "title", "value": "Boss"},
                {"op": "Replace", "path": "displayName", "value": "New Name"},
                {"op": "Remove", "path": "title"}
            ])),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["displayName"], "New Name");
    assert!(r.body.get("title").is_none());
}

async fn entra_string_booleans(app: TestApp) {
    let id = app.create_user("bool@example.com").await;
    let r = app
        .patch(
            &format!("/Users/{id}"),
            &ops(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        )
        .await;
    assert_eq!(r.body["active"], false);
    let r = app
        .patch(
            &format!("/Users/{id}"),
            &ops(json!([{"op": "replace", "path": "active", "value": "true"}])),
        )
        .await;
    assert_eq!(r.body["active"], true);
    let mut body = crate::helpers::user_body("bool2@example.com");
    body["active"] = json!("True");
    body["emails"][0]["primary"] = json!("True");
    let r = app.post("/Users", &body).await;
    r.assert_status(201);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["emails"][0]["primary"], true);
}

async fn entra_remove_members_with_value_list(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let g = app.create_group("Group1DisplayName", &[&a, &b]).await;
    app.patch(
        &format!("/Groups/{g}"),
        &ops(json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": a}]}])),
    )
    .await
    .assert_status(200);
    assert_eq!(app.member_ids(&g).await, vec![b]);
}

async fn entra_manager_as_bare_string_and_its_removal(app: TestApp) {
    let boss = app.create_user("boss@example.com").await;
    let id = app.create_user("report@example.com").await;
    let path = format!("/Users/{id}");
    let r = app
        .patch(
            &path,
            &ops(json!([{"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": boss}])),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], boss.as_str());
    assert!(
        r.body["schemas"]
            .as_array()
            .is_some_and(|s| s.contains(&json!(ENTERPRISE)))
    );
    let r = app
        .patch(
            &path,
            &ops(json!([{"op": "Remove", "path": format!("{ENTERPRISE}:manager")}])),
        )
        .await;
    r.assert_status(200);
    assert!(r.body.get(ENTERPRISE).is_none(), "{}", r.text);
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}

async fn entra_replace_on_missing_work_email_creates_it(app: TestApp) {
    let r = app
        .post("/Users", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "noemail@example.com"}))
        .await;
    let id = r.body["id"].as_str().expect("id").to_owned();
    let r = app
        .patch(&format!("/Users/{id}"), &ops(json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "work@example.com"}])))
        .await;
    r.assert_status(200);
    assert_eq!(
        r.body["emails"],
        json!([{"type": "work", "value": "work@example.com"}])
    );
    let found = app
        .filter(
            "/Users",
            r#"emails[type eq "work"].value eq "WORK@example.com""#,
        )
        .await;
    assert_eq!(found.body["totalResults"], 1, "the new email is searchable");
    // And when it exists, the same operation replaces it in place.
    let r = app
        .patch(&format!("/Users/{id}"), &ops(json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}])))
        .await;
    assert_eq!(
        r.body["emails"],
        json!([{"type": "work", "value": "new@example.com"}])
    );
}

async fn entra_pathless_replace_with_dotted_and_urn_keys(app: TestApp) {
    let id = app.create_user("flag@example.com").await;
    let r = app
        .send(
            app.request(
                awc::http::Method::PATCH,
                &format!("/Users/{id}?aadOptscim062020"),
            ),
            Some(&ops(json!([{"op": "replace", "value": {
                "displayName": "Flag Mode", "name.givenName": "Given", "name.familyName": "Family",
                format!("{ENTERPRISE}:employeeNumber"): "E-42",
                ENTERPRISE: {"department": "R&D"}
            }}]))),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["displayName"], "Flag Mode");
    assert_eq!(
        r.body["name"],
        json!({"givenName": "Given", "familyName": "Family"})
    );
    assert_eq!(
        r.body[ENTERPRISE],
        json!({"employeeNumber": "E-42", "department": "R&D"})
    );
}

async fn entra_single_valued_add_is_replace(app: TestApp) {
    let id = app.create_user("nick@example.com").await;
    for nick in ["Babs", "Barbie"] {
        let r = app
            .patch(
                &format!("/Users/{id}"),
                &ops(json!([{"op": "Add", "path": "nickName", "value": nick}])),
            )
            .await;
        assert_eq!(r.body["nickName"], nick);
    }
}

async fn entra_group_schema_urn_and_unknown_query_flags(app: TestApp) {
    let r = app
        .send(
            app.request(awc::http::Method::POST, "/Groups?aadOptscim062020"),
            Some(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Group1DisplayName",
                "meta": {"resourceType": "Group"}
            })),
        )
        .await;
    r.assert_status(201);
    let id = r.body["id"].as_str().expect("id").to_owned();
    let r = app
        .get(&format!(
            "/Groups/{id}?excludedAttributes=members&aadOptscim062020"
        ))
        .await;
    r.assert_status(200);
}

async fn okta_group_rename_echoes_id(app: TestApp) {
    let g = app.create_group("Okta Group", &[]).await;
    let r = app
        .patch(
            &format!("/Groups/{g}"),
            &ops(json!([{"op": "replace", "value": {"id": g, "displayName": "Renamed"}}])),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["displayName"], "Renamed");
}

async fn okta_replace_members_empty_clears(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let g = app.create_group("Okta Group", &[&a]).await;
    app.patch(
        &format!("/Groups/{g}"),
        &ops(json!([{"op": "replace", "path": "members", "value": []}])),
    )
    .await
    .assert_status(200);
    assert!(app.member_ids(&g).await.is_empty());
}

async fn strict_rules_follow_the_rfc(default: TestApp) {
    let app =
        TestApp::spawn_with(default.kind, |c| c.scim.dialect = Dialect::strict().into()).await;
    let id = app.create_user("strict@example.com").await;
    let path = format!("/Users/{id}");
    let cases = [
        (
            json!([{"op": "Replace", "path": "active", "value": false}]),
            "invalidSyntax",
        ),
        (
            json!([{"op": "replace", "path": "active", "value": "False"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": "someone"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@example.com"}]),
            "noTarget",
        ),
        (
            json!([{"op": "replace", "value": {"name.givenName": "X"}}]),
            "invalidValue",
        ),
    ];
    for (body, scim_type) in cases {
        app.patch(&path, &ops(body))
            .await
            .assert_scim_error(400, Some(scim_type));
    }
    let g = app.create_group("G", &[]).await;
    app.patch(
        &format!("/Groups/{g}"),
        &ops(json!([{"op": "replace", "value": {"id": g, "displayName": "X"}}])),
    )
    .await
    .assert_scim_error(400, Some("mutability"));
    // The RFC reading of remove-with-value removes the whole attribute.
    app.patch(
        &format!("/Groups/{g}"),
        &ops(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
    )
    .await
    .assert_status(200);
    let other = app.create_user("other@example.com").await;
    app.patch(
        &format!("/Groups/{g}"),
        &ops(json!([{"op": "add", "path": "members", "value": [{"value": other}]}])),
    )
    .await
    .assert_status(200);
    app.patch(
        &format!("/Groups/{g}"),
        &ops(json!([{"op": "remove", "path": "members", "value": [{"value": id}]}])),
    )
    .await
    .assert_status(200);
    assert!(app.member_ids(&g).await.is_empty());
}
