//! Users with more emails than one statement may bind: every way of
//! writing them (POST, PUT, PATCH, Bulk) must store and answer them all.

use serde_json::{Value, json};

use crate::helpers::{TestApp, url_encode};
use crate::on_both_databases;

on_both_databases!(users_with_ten_thousand_emails_are_written_whole);

const EMAILS: usize = 10_000;
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn emails(prefix: &str) -> Value {
    (0..EMAILS)
        .map(|i| json!({"value": format!("{prefix}-{i}@example.com"), "type": "work"}))
        .collect()
}

fn user(name: &str, emails: Value) -> Value {
    json!({"schemas": [USER], "userName": name, "emails": emails})
}

/// The user's stored emails, read back, must be exactly `prefix`'s.
async fn assert_emails(app: &TestApp, id: &str, prefix: &str) {
    let r = app.get(&format!("/Users/{id}")).await;
    r.assert_status(200);
    let got = r.body["emails"].as_array().expect("emails");
    assert_eq!(got.len(), EMAILS);
    assert_eq!(got[0]["value"], format!("{prefix}-0@example.com"));
    assert_eq!(
        got[EMAILS - 1]["value"],
        format!("{prefix}-9999@example.com")
    );
    let filter = url_encode(&format!(r#"emails.value eq "{prefix}-9876@example.com""#));
    let found = app.get(&format!("/Users?filter={filter}")).await;
    found.assert_status(200);
    assert_eq!(found.body["totalResults"], 1, "{prefix}: {}", found.text);
    assert_eq!(found.body["Resources"][0]["id"], id);
}

async fn users_with_ten_thousand_emails_are_written_whole(default: TestApp) {
    let app = TestApp::spawn_with(default.kind, |c| {
        c.server.max_body_bytes = 4 * 1024 * 1024;
        c.scim.bulk.max_payload_bytes = 4 * 1024 * 1024;
    })
    .await;
    let created = app.post("/Users", &user("posted", emails("post"))).await;
    created.assert_status(201);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_emails(&app, &id, "post").await;

    app.put(&format!("/Users/{id}"), &user("posted", emails("put")))
        .await
        .assert_status(200);
    assert_emails(&app, &id, "put").await;

    let plain = app
        .post("/Users", &json!({"schemas": [USER], "userName": "patched"}))
        .await;
    plain.assert_status(201);
    let plain = plain.body["id"].as_str().expect("id").to_owned();
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "emails", "value": emails("patch")}]
    });
    app.patch(&format!("/Users/{plain}"), &patch)
        .await
        .assert_status(200);
    assert_emails(&app, &plain, "patch").await;

    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{
            "method": "POST", "path": "/Users", "bulkId": "big",
            "data": user("bulked", emails("bulk"))
        }]
    });
    let r = app.post("/Bulk", &bulk).await;
    r.assert_status(200);
    assert_eq!(r.body["Operations"][0]["status"], "201", "{}", r.text);
    let location = r.body["Operations"][0]["location"]
        .as_str()
        .expect("location");
    let bulked = location.rsplit('/').next().expect("id").to_owned();
    assert_emails(&app, &bulked, "bulk").await;
}
