//! The console's JSON API over the trail: pages, filters and details.

use serde_json::json;

use super::{admin, logged, quick};
use crate::audit_admins::{app_with_admin_and, console_get};
use crate::each_database;
use crate::helpers::{Db, TOKEN, user_body};

async fn the_activity_api_pages_filters_and_details(db: Db) {
    let app = app_with_admin_and(db, quick).await;
    let alice = app.create_user("alice@example.com").await;
    for n in 0..4 {
        app.create_user(&format!("user{n}")).await;
    }
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Alice"}]
    });
    let patched = app.patch(&format!("/Users/{alice}"), &patch).await;
    let patch_id = patched.header("x-request-id").unwrap().to_owned();
    app.post("/Users", &user_body("alice@example.com"))
        .await
        .assert_status(409);
    logged(&app, 7).await;
    let page = console_get(&app, "/console/api/activity?limit=3", Some(&admin())).await;
    page.assert_status(200);
    let entries = page.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["status"], 409, "newest first: {}", page.text);
    for key in [
        "time",
        "request_id",
        "principal",
        "method",
        "path",
        "status",
        "latency_ms",
        "summary",
    ] {
        assert!(
            entries[0].get(key).is_some(),
            "{key} missing: {}",
            page.text
        );
    }
    assert!(
        entries[1]["changes"].is_array(),
        "the PATCH changed something: {}",
        page.text
    );
    assert!(
        entries[0].get("changes").is_none(),
        "the 409 changed nothing"
    );
    let before = page.body["next_before"].as_i64().unwrap();
    let next = console_get(
        &app,
        &format!("/console/api/activity?limit=10&before={before}"),
        Some(&admin()),
    )
    .await;
    let rest = next.body["entries"].as_array().unwrap();
    assert_eq!(rest.len(), 4, "{}", next.text);
    assert!(next.body["next_before"].is_null());
    let seqs: Vec<i64> = entries
        .iter()
        .chain(rest)
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    let failed = console_get(&app, "/console/api/activity?status=4xx", Some(&admin())).await;
    assert_eq!(
        failed.body["entries"].as_array().unwrap().len(),
        1,
        "{}",
        failed.text
    );
    let patches = console_get(
        &app,
        "/console/api/activity?operation=patch&resource=Users",
        Some(&admin()),
    )
    .await;
    assert_eq!(
        patches.body["entries"].as_array().unwrap().len(),
        1,
        "{}",
        patches.text
    );
    let by_principal = console_get(
        &app,
        "/console/api/activity?principal=nobody",
        Some(&admin()),
    )
    .await;
    assert_eq!(by_principal.body["entries"].as_array().unwrap().len(), 0);
    let future = console_get(
        &app,
        "/console/api/activity?since=2999-01-01T00:00:00Z",
        Some(&admin()),
    )
    .await;
    assert_eq!(
        future.body["entries"].as_array().unwrap().len(),
        0,
        "{}",
        future.text
    );
    console_get(&app, "/console/api/activity?status=teapot", Some(&admin()))
        .await
        .assert_status(400);
    let detail = console_get(
        &app,
        &format!("/console/api/activity/{patch_id}"),
        Some(&admin()),
    )
    .await;
    detail.assert_status(200);
    assert!(
        detail.body["request_body"]
            .as_str()
            .unwrap()
            .contains("displayName"),
        "{}",
        detail.text
    );
    assert!(
        detail.body["response_body"]
            .as_str()
            .unwrap()
            .contains("alice@example.com")
    );
    assert!(
        detail.body["request_headers"]
            .get("authorization")
            .is_none()
    );
    assert_eq!(
        detail.body["changes"][0]["detail"]["attributes"][0]["new"], "Alice",
        "{}",
        detail.text
    );
    let history = console_get(
        &app,
        &format!("/console/api/resources/{alice}/history"),
        Some(&admin()),
    )
    .await;
    assert_eq!(
        history.body["changes"].as_array().unwrap().len(),
        2,
        "{}",
        history.text
    );
    assert_eq!(
        history.body["changes"][0]["request_id"], patch_id,
        "each change names the request that made it: {}",
        history.text
    );
    console_get(
        &app,
        "/console/api/activity/no-such-request",
        Some(&admin()),
    )
    .await
    .assert_status(404);
    console_get(&app, "/console/api/activity", None)
        .await
        .assert_status(401);
    let scim = format!("Bearer {TOKEN}");
    console_get(&app, "/console/api/activity", Some(&scim))
        .await
        .assert_status(401);
}

each_database!(the_activity_api_pages_filters_and_details);
