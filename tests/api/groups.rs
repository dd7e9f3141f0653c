use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    create_get_list_and_filter_groups,
    patch_adds_and_removes_members_as_okta_sends_them,
    adding_members_is_idempotent,
    replace_members_with_empty_list_clears,
    rename_with_read_only_id_in_value,
    entra_remove_with_value_removes_only_listed_members,
    put_replaces_membership,
    unknown_members_fail_the_whole_request,
    failing_operation_leaves_group_untouched,
    excluded_members_are_not_returned,
    delete_group_removes_memberships,
    group_patch_can_answer_no_content,
    writes_answer_without_members_when_excluded,
);

fn patch_body(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

async fn create_get_list_and_filter_groups(app: TestApp) {
    let u = app.create_user("a@example.com").await;
    let r = app
        .post("/Groups", &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "displayName": "Test SCIMv2", "externalId": "ext-1",
            "members": [{"value": u, "display": "a@example.com"}]
        }))
        .await;
    r.assert_status(201);
    let id = r.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        r.header("location"),
        Some(app.url(&format!("/Groups/{id}")).as_str())
    );
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
    );
    assert_eq!(r.body["meta"]["resourceType"], "Group");
    assert_eq!(r.body["members"][0]["value"], u.as_str());
    // members.display is derived by the server from the member itself.
    assert_eq!(r.body["members"][0]["display"], "Test User", "{}", r.text);
    assert_eq!(r.body["members"][0]["type"], "User");
    let shown = app
        .get(&format!("/Groups/{id}?attributes=members.display"))
        .await;
    assert_eq!(shown.body["members"][0]["display"], "Test User");
    let empty = app
        .post("/Groups", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Empty", "members": []}))
        .await;
    empty.assert_status(201);
    // The okta profile (the default) lists no members as an empty list.
    assert_eq!(empty.body["members"], json!([]));

    let got = app.get(&format!("/Groups/{id}")).await;
    got.assert_status(200);
    assert_eq!(got.body, r.body);
    let list = app.get("/Groups").await;
    assert_eq!(list.body["totalResults"], 2);
    assert!(list.body["Resources"].is_array());
    for filter in [
        r#"displayName eq "Test SCIMv2""#,
        r#"displayName eq "test scimv2""#,
        r#"externalId eq "ext-1""#,
    ] {
        let f = app.filter("/Groups", filter).await;
        assert_eq!(f.body["totalResults"], 1, "{filter}");
        assert_eq!(f.body["Resources"][0]["id"], id.as_str());
    }
    let by_member = app
        .filter("/Groups", &format!(r#"members.value eq "{u}""#))
        .await;
    assert_eq!(by_member.body["totalResults"], 1);
    assert_eq!(
        app.filter("/Groups", r#"externalId eq "EXT-1""#).await.body["totalResults"],
        0
    );
    app.get("/Groups/00919288221112222")
        .await
        .assert_scim_error(404, None);
}

async fn patch_adds_and_removes_members_as_okta_sends_them(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let c = app.create_user("c@example.com").await;
    let g = app.create_group("Team", &[&a, &b]).await;
    let r = app
        .patch(&format!("/Groups/{g}"), &patch_body(json!([
            {"op": "remove", "path": format!("members[value eq \"{a}\"]")},
            {"op": "add", "path": "members", "value": [{"value": c, "display": "c@example.com"}]}
        ])))
        .await;
    r.assert_status(200);
    let mut expected = vec![b.clone(), c.clone()];
    expected.sort();
    assert_eq!(app.member_ids(&g).await, expected);
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    // Removing someone who is no member is not an error: IdPs retry.
    app.patch(
        &format!("/Groups/{g}"),
        &patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}])),
    )
    .await
    .assert_status(200);
    assert_eq!(app.member_ids(&g).await, expected);
}

async fn adding_members_is_idempotent(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let g = app.create_group("Team", &[&a]).await;
    for _ in 0..2 {
        app.patch(
            &format!("/Groups/{g}"),
            &patch_body(
                json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": a}]}]),
            ),
        )
        .await
        .assert_status(200);
    }
    assert_eq!(app.member_ids(&g).await, vec![a]);
    assert_eq!(app.count_rows("group_members").await, 1);
}

async fn replace_members_with_empty_list_clears(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let g = app.create_group("Team", &[&a, &b]).await;
    let r = app
        .patch(
            &format!("/Groups/{g}"),
            &patch_body(json!([{"op": "replace", "path": "members", "value": []}])),
        )
        .await;
    r.assert_status(200);
    assert!(app.member_ids(&g).await.is_empty());
    app.patch(
        &format!("/Groups/{g}"),
        &patch_body(json!([{"op": "replace", "path": "members", "value": [{"value": b}]}])),
    )
    .await
    .assert_status(200);
    assert_eq!(app.member_ids(&g).await, vec![b]);
}

async fn rename_with_read_only_id_in_value(app: TestApp) {
    let g = app.create_group("Old name", &[]).await;
    let r = app
        .patch(
            &format!("/Groups/{g}"),
            &patch_body(json!([{"op": "replace", "value": {"id": g, "displayName": "New name"}}])),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["displayName"], "New name");
    assert_eq!(
        app.filter("/Groups", r#"displayName eq "new name""#)
            .await
            .body["totalResults"],
        1
    );
    app.patch(
        &format!("/Groups/{g}"),
        &patch_body(json!([{"op": "replace", "value": {"id": "another-id", "displayName": "X"}}])),
    )
    .await
    .assert_scim_error(400, Some("mutability"));
}

async fn entra_remove_with_value_removes_only_listed_members(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let c = app.create_user("c@example.com").await;
    let g = app.create_group("Team", &[&a, &b, &c]).await;
    app.patch(
        &format!("/Groups/{g}"),
        &patch_body(
            json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": b}]}]),
        ),
    )
    .await
    .assert_status(200);
    let mut expected = vec![a, c];
    expected.sort();
    assert_eq!(app.member_ids(&g).await, expected);
}

async fn put_replaces_membership(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let g = app.create_group("Team", &[&a]).await;
    let r = app
        .put(
            &format!("/Groups/{g}"),
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": g,
                "displayName": "Team renamed", "members": [{"value": b}]
            }),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["displayName"], "Team renamed");
    assert_eq!(app.member_ids(&g).await, vec![b]);
    app.put(
        &format!("/Groups/{g}"),
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "No members"}),
    )
    .await
    .assert_status(200);
    assert!(app.member_ids(&g).await.is_empty());
}

async fn unknown_members_fail_the_whole_request(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let ghost = "2819c223-7f76-453a-919d-413861904646";
    let r = app
        .post(
            "/Groups",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": a}, {"value": ghost}]}),
        )
        .await;
    r.assert_scim_error(400, Some("invalidValue"));
    assert!(r.body["detail"].as_str().is_some_and(|d| d.contains(ghost)));
    assert_eq!(app.count_rows("groups").await, 0);
    assert_eq!(app.count_rows("group_members").await, 0);
    let g = app.create_group("G", &[&a]).await;
    for bad in [ghost, "not-a-uuid"] {
        app.patch(
            &format!("/Groups/{g}"),
            &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": bad}]}])),
        )
        .await
        .assert_scim_error(400, Some("invalidValue"));
    }
    assert_eq!(app.member_ids(&g).await, vec![a]);
}

async fn failing_operation_leaves_group_untouched(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let g = app.create_group("Before", &[&a]).await;
    let r = app
        .patch(
            &format!("/Groups/{g}"),
            &patch_body(json!([
                {"op": "replace", "path": "displayName", "value": "After"},
                {"op": "add", "path": "members", "value": [{"value": b}]},
                {"op": "replace", "path": "noSuchAttribute", "value": 1}
            ])),
        )
        .await;
    r.assert_scim_error(400, Some("invalidPath"));
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Operations[2]")),
        "{}",
        r.text
    );
    let got = app.get(&format!("/Groups/{g}")).await;
    assert_eq!(got.body["displayName"], "Before");
    assert_eq!(got.body["meta"]["version"], "W/\"1\"");
    assert_eq!(app.member_ids(&g).await, vec![a]);
}

async fn excluded_members_are_not_returned(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let g = app.create_group("Team", &[&a]).await;
    let one = app
        .get(&format!("/Groups/{g}?excludedAttributes=members"))
        .await;
    one.assert_status(200);
    assert!(one.body.get("members").is_none());
    assert_eq!(one.body["displayName"], "Team");
    let list = app
        .get(&format!(
            "/Groups?excludedAttributes=members&filter={}",
            crate::helpers::url_encode(r#"displayName eq "Team""#)
        ))
        .await;
    assert_eq!(list.body["totalResults"], 1);
    assert!(list.body["Resources"][0].get("members").is_none());
}

async fn delete_group_removes_memberships(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let g = app.create_group("Team", &[&a]).await;
    let parent = app.create_group("Parent", &[&g, &a]).await;
    app.delete(&format!("/Groups/{g}")).await.assert_status(204);
    app.get(&format!("/Groups/{g}"))
        .await
        .assert_scim_error(404, None);
    assert_eq!(app.member_ids(&parent).await, vec![a.clone()]);
    assert!(
        app.get(&format!("/Users/{a}")).await.body["groups"]
            .as_array()
            .is_some_and(|g| g.len() == 1)
    );
    app.delete(&format!("/Groups/{g}"))
        .await
        .assert_scim_error(404, None);
}

async fn group_patch_can_answer_no_content(default: TestApp) {
    let app = TestApp::spawn_with(default.kind, |c| c.scim.group_patch_no_content = true).await;
    let a = app.create_user("a@example.com").await;
    let g = app.create_group("Team", &[]).await;
    let r = app
        .patch(
            &format!("/Groups/{g}"),
            &patch_body(
                json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": a}]}]),
            ),
        )
        .await;
    r.assert_status(204);
    assert_eq!(app.member_ids(&g).await, vec![a]);
}

async fn writes_answer_without_members_when_excluded(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let g = app.create_group("Team", &[&a]).await;
    let r = app
        .patch(
            &format!("/Groups/{g}?excludedAttributes=members"),
            &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": b}]}])),
        )
        .await;
    r.assert_status(200);
    assert!(r.body.get("members").is_none(), "{}", r.text);
    assert_eq!(r.body["displayName"], "Team");
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(app.member_ids(&g).await, expected);
    let r = app
        .put(
            &format!("/Groups/{g}?excludedAttributes=members"),
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Team", "members": [{"value": a}]}),
        )
        .await;
    r.assert_status(200);
    assert!(r.body.get("members").is_none(), "{}", r.text);
    assert_eq!(app.member_ids(&g).await, vec![a]);
}
