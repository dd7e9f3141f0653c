//! Okta's provisioning flows, step by step, as its SPEC and CRUD tests run them.

use serde_json::json;

use crate::helpers::{TestApp, read, url_encode};
use crate::on_both_databases;

on_both_databases!(okta_spec_and_crud_sequence);

async fn okta_spec_and_crud_sequence(app: TestApp) {
    // A fully populated user must exist before the SPEC test starts.
    app.create_user("seed.user@example.com").await;

    // 1-2: list one, then get it.
    let list = app.get("/Users?count=1&startIndex=1").await;
    list.assert_status(200);
    assert_eq!(list.body["itemsPerPage"], 1);
    let first = &list.body["Resources"][0];
    for attr in ["id", "userName", "active"] {
        assert!(!first[attr].is_null(), "{attr}");
    }
    assert!(first["name"]["familyName"].is_string() && first["emails"][0]["value"].is_string());
    let got = app
        .get(&format!("/Users/{}", first["id"].as_str().expect("id")))
        .await;
    assert_eq!(got.body["id"], first["id"]);

    // 3, 5: filter misses are empty lists.
    for miss in ["not-an-email", "random.4c2e@example.com"] {
        let r = app
            .filter("/Users", &format!(r#"userName eq "{miss}""#))
            .await;
        assert_eq!(r.body["totalResults"], 0);
    }
    // 4, 12: unknown ids are 404 with a string status.
    app.get("/Users/00919288221112222")
        .await
        .assert_scim_error(404, None);

    // 6-8: create, read back, duplicate.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "Okta.Spec@example.com",
        "name": {"givenName": "Okta", "familyName": "Spec"},
        "emails": [{"primary": true, "value": "okta.spec@example.com", "type": "work"}],
        "displayName": "Okta Spec", "active": true
    });
    let created = app
        .send(
            app.request(awc::http::Method::POST, "/Users")
                .insert_header(("User-Agent", "OKTA SCIM Integration")),
            Some(&body),
        )
        .await;
    created.assert_status(201);
    let uid = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        app.get(&format!("/Users/{uid}")).await.body["userName"],
        "Okta.Spec@example.com"
    );
    app.post("/Users", &body)
        .await
        .assert_scim_error(409, Some("uniqueness"));

    // 9: case-insensitive filter finds the user.
    let r = app
        .filter("/Users", r#"userName eq "OKTA.SPEC@EXAMPLE.COM""#)
        .await;
    assert_eq!(r.body["Resources"][0]["id"], uid.as_str());

    // 10: groups list.
    let groups = app.get("/Groups").await;
    groups.assert_status(200);

    // 11: bad auth.
    let bad = read(
        awc::Client::default()
            .get(app.url("/Users"))
            .insert_header(("Authorization", "non-token"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    bad.assert_scim_error(401, None);

    // Deactivate and reactivate (Okta never deletes users).
    for active in [false, true] {
        let r = app
            .patch(
                &format!("/Users/{uid}"),
                &json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "value": {"active": active}}]
                }),
            )
            .await;
        r.assert_status(200);
        assert_eq!(
            app.get(&format!("/Users/{uid}")).await.body["active"],
            active
        );
    }

    // Group push, rename, membership change, then delete.
    let g = app
        .post("/Groups", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []}))
        .await;
    g.assert_status(201);
    let gid = g.body["id"].as_str().expect("id").to_owned();
    let filter = url_encode(r#"displayName eq "Test SCIMv2""#);
    assert_eq!(
        app.get(&format!("/Groups?filter={filter}")).await.body["totalResults"],
        1
    );
    let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 renamed"}}]});
    app.patch(&format!("/Groups/{gid}"), &ops)
        .await
        .assert_status(200);
    let other = app.create_user("other@example.com").await;
    let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": other, "display": "other@example.com"}]}]});
    app.patch(&format!("/Groups/{gid}"), &ops)
        .await
        .assert_status(200);
    let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{other}\"]")},
        {"op": "add", "path": "members", "value": [{"value": uid, "display": "Okta.Spec@example.com"}]}]});
    app.patch(&format!("/Groups/{gid}"), &ops)
        .await
        .assert_status(200);
    assert_eq!(app.member_ids(&gid).await, vec![uid.clone()]);
    assert_eq!(
        app.get(&format!("/Users/{uid}")).await.body["groups"][0]["value"],
        gid.as_str()
    );
    app.delete(&format!("/Groups/{gid}"))
        .await
        .assert_status(204);
    assert!(
        app.get(&format!("/Users/{uid}"))
            .await
            .body
            .get("groups")
            .is_none()
    );
}
