use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    forward_and_backward_references_resolve,
    circular_group_references_resolve,
    unresolvable_references_fail_only_their_operation,
    fail_on_errors_stops_processing,
    limits_are_enforced_and_advertised,
    versions_are_preconditions,
);

fn bulk(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
}

fn statuses(r: &crate::helpers::Resp) -> Vec<String> {
    r.body["Operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|o| o["status"].as_str().expect("status string").to_owned())
        .collect()
}

async fn forward_and_backward_references_resolve(app: TestApp) {
    let r = app
        .post("/Bulk", &bulk(json!([
            {"method": "POST", "path": "/Groups", "bulkId": "g1",
             "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Bulk group", "members": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bulk1@example.com"}},
            {"method": "POST", "path": "/Users", "bulkId": "u2", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bulk2@example.com"}},
            {"method": "PATCH", "path": "/Users/bulkId:u1",
             "data": {"Operations": [{"op": "replace", "path": "active", "value": false}]}},
            {"method": "DELETE", "path": "/Users/bulkId:u2"},
            {"method": "POST", "path": "/Groups", "bulkId": "g2", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Later", "members": [{"value": "bulkId:u1"}]}}
        ])))
        .await;
    r.assert_status(200);
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
    );
    assert_eq!(
        statuses(&r),
        vec!["201", "201", "201", "200", "204", "201"],
        "{}",
        r.text
    );
    let ops = r.body["Operations"].as_array().expect("ops");
    assert_eq!(ops[0]["bulkId"], "g1");
    assert_eq!(ops[0]["method"], "POST");
    let group_location = ops[0]["location"].as_str().expect("location");
    assert!(group_location.starts_with(&app.url("/Groups/")));
    assert_eq!(ops[0]["version"], "W/\"1\"");
    let user1 = ops[1]["location"]
        .as_str()
        .expect("location")
        .rsplit('/')
        .next()
        .expect("id")
        .to_owned();
    let group = group_location.rsplit('/').next().expect("id");
    assert_eq!(
        app.member_ids(group).await,
        vec![user1.clone()],
        "u2 was deleted after joining"
    );
    assert_eq!(
        app.get(&format!("/Users/{user1}")).await.body["active"],
        false
    );
    assert_eq!(app.count_rows("users").await, 1);
}

async fn circular_group_references_resolve(app: TestApp) {
    let r = app
        .post("/Bulk", &bulk(json!([
            {"method": "POST", "path": "/Groups", "bulkId": "a", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "A", "members": [{"value": "bulkId:b"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "b", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "B", "members": [{"value": "bulkId:a"}]}}
        ])))
        .await;
    assert_eq!(statuses(&r), vec!["201", "201"], "{}", r.text);
    let ids: Vec<String> = r.body["Operations"]
        .as_array()
        .expect("ops")
        .iter()
        .map(|o| {
            o["location"]
                .as_str()
                .expect("location")
                .rsplit('/')
                .next()
                .expect("id")
                .to_owned()
        })
        .collect();
    assert_eq!(app.member_ids(&ids[0]).await, vec![ids[1].clone()]);
    assert_eq!(app.member_ids(&ids[1]).await, vec![ids[0].clone()]);
}

async fn unresolvable_references_fail_only_their_operation(app: TestApp) {
    let r = app
        .post("/Bulk", &bulk(json!([
            {"method": "POST", "path": "/Users", "bulkId": "bad", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ""}},
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": "bulkId:bad"}]}},
            {"method": "PATCH", "path": "/Users/bulkId:nobody", "data": {"Operations": [{"op": "remove", "path": "title"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "ok", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ok@example.com"}},
            {"method": "PUT", "path": "/Users/bulkId:x", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x@example.com", "manager": "bulkId:y"}}
        ])))
        .await;
    r.assert_status(200);
    assert_eq!(
        statuses(&r),
        vec!["400", "409", "409", "201", "409"],
        "{}",
        r.text
    );
    let failed = &r.body["Operations"][0]["response"];
    assert_eq!(failed["scimType"], "invalidValue");
    assert_eq!(failed["status"], "400");
    assert!(r.body["Operations"][0].get("location").is_none());
    assert_eq!(app.count_rows("groups").await, 0);
    assert_eq!(app.count_rows("users").await, 1);
}

async fn fail_on_errors_stops_processing(app: TestApp) {
    let ops = json!([
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": 5}},
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b@example.com"}}
    ]);
    let mut body = bulk(ops.clone());
    body["failOnErrors"] = json!(1);
    let r = app.post("/Bulk", &body).await;
    assert_eq!(statuses(&r), vec!["400"]);
    assert_eq!(app.count_rows("users").await, 0);
    let r = app.post("/Bulk", &bulk(ops)).await;
    assert_eq!(statuses(&r), vec!["400", "201"]);
    let mut bad = bulk(json!([]));
    bad["failOnErrors"] = json!(0);
    app.post("/Bulk", &bad)
        .await
        .assert_scim_error(400, Some("invalidValue"));
    app.post("/Bulk", &json!({"Operations": []}))
        .await
        .assert_scim_error(400, Some("invalidSyntax"));
}

async fn limits_are_enforced_and_advertised(default: TestApp) {
    let app = TestApp::spawn_with(default.kind, |c| {
        c.scim.bulk.max_operations = 2;
        c.scim.bulk.max_payload_bytes = 2048;
    })
    .await;
    let spc = app.get("/ServiceProviderConfig").await;
    assert_eq!(
        spc.body["bulk"],
        json!({"supported": true, "maxOperations": 2, "maxPayloadSize": 2048})
    );
    let three = json!([
        {"method": "DELETE", "path": "/Users/a"}, {"method": "DELETE", "path": "/Users/b"}, {"method": "DELETE", "path": "/Users/c"}
    ]);
    app.post("/Bulk", &bulk(three))
        .await
        .assert_scim_error(413, Some("tooLarge"));
    let big = json!([{"method": "POST", "path": "/Users", "bulkId": "x", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x", "title": "t".repeat(3000)}}]);
    let r = app.post("/Bulk", &bulk(big)).await;
    r.assert_scim_error(413, Some("tooLarge"));
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("2048")),
        "{}",
        r.text
    );
    assert_eq!(app.count_rows("users").await, 0);
}

async fn versions_are_preconditions(app: TestApp) {
    let id = app.create_user("v@example.com").await;
    let r = app
        .post(
            "/Bulk",
            &bulk(json!([
                {"method": "PATCH", "path": format!("/Users/{id}"), "version": "W/\"7\"",
                 "data": {"Operations": [{"op": "replace", "path": "title", "value": "x"}]}},
                {"method": "PATCH", "path": format!("/Users/{id}"), "version": "W/\"1\"",
                 "data": {"Operations": [{"op": "replace", "path": "title", "value": "y"}]}}
            ])),
        )
        .await;
    assert_eq!(statuses(&r), vec!["412", "200"], "{}", r.text);
    assert_eq!(r.body["Operations"][1]["version"], "W/\"2\"");
    assert_eq!(app.get(&format!("/Users/{id}")).await.body["title"], "y");
}
