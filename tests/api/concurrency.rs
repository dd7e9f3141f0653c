//! Writers racing on one resource: nothing is lost, nothing is duplicated,
//! and no request fails because another was in flight.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{TestApp, user_body};
use crate::on_both_databases;

on_both_databases!(
    parallel_member_adds_lose_nothing,
    racing_creates_of_one_user_name_yield_one_user
);

async fn parallel_member_adds_lose_nothing(app: TestApp) {
    let mut users = Vec::new();
    for i in 0..32 {
        users.push(app.create_user(&format!("m{i}@example.com")).await);
    }
    let g = app.create_group("Busy", &[]).await;
    let path = format!("/Groups/{g}");
    let patches = users.iter().map(|u| {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": u}]}]});
        let path = path.clone();
        let app = &app;
        async move { app.patch(&path, &body).await.status }
    });
    let statuses = join_all(patches).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let mut expected = users.clone();
    expected.sort();
    assert_eq!(app.member_ids(&g).await, expected);
    let version = app.get(&path).await.body["meta"]["version"].clone();
    assert_eq!(version, "W/\"33\"", "every PATCH is one version");
}

async fn racing_creates_of_one_user_name_yield_one_user(app: TestApp) {
    let creates = (0..16).map(|i| {
        let name = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@example.com"
        };
        let body = user_body(name);
        let app = &app;
        async move { app.post("/Users", &body).await.status }
    });
    let mut statuses = join_all(creates).await;
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(app.count_rows("users").await, 1);
}
