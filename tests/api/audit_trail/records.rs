//! Change records in the write's own transaction, what never reaches the
//! tables (secrets), and the request summaries in the IdP's terms.

use awc::http::Method;
use entity::audit_change;
use sea_orm::{ActiveModelTrait, EntityTrait};
use serde_json::{Value, json};

use super::{CLIENT_SECRET, logged, quick, stored_change, with_oauth};
use crate::audit_admins::{app_with_admin_and, basic};
use crate::each_database;
use crate::helpers::{BASIC_PASSWORD, BASIC_USER, Db, TOKEN, TestApp, user_body};

async fn secrets_never_reach_the_tables(db: Db) {
    let app = app_with_admin_and(db, with_oauth).await;
    let client = awc::Client::default();
    // A client secret in a form body, and the token it buys.
    let resp = client
        .post(format!("{}/oauth2/token", app.root))
        .content_type("application/x-www-form-urlencoded")
        .send_body(format!(
            "grant_type=client_credentials&client_id=entra&client_secret={CLIENT_SECRET}&scope=scim"
        ))
        .await
        .unwrap();
    let token = crate::helpers::read(resp).await;
    token.assert_status(200);
    let jwt = token.body["access_token"].as_str().unwrap().to_owned();
    // A password attribute, and a PATCH setting another.
    let mut body = user_body("secretive");
    body["password"] = json!("Initial-Pa55word");
    let created = app.post("/Users", &body).await;
    created.assert_status(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "password", "value": "Patched-Pa55word"}]
    });
    app.patch(&format!("/Users/{id}"), &patch)
        .await
        .assert_status(200);
    // Basic credentials, a bearer token in the query string, a JWT as bearer.
    let basic_get = client
        .get(app.url("/Users"))
        .insert_header(("Authorization", basic(BASIC_USER, BASIC_PASSWORD)))
        .send()
        .await
        .unwrap();
    assert_eq!(basic_get.status().as_u16(), 200);
    let query = app
        .send(
            app.request(Method::GET, &format!("/Users?access_token={jwt}&count=1")),
            None,
        )
        .await;
    query.assert_status(200);
    let with_jwt = client
        .get(app.url("/Groups"))
        .insert_header(("Authorization", format!("Bearer {jwt}")))
        .send()
        .await
        .unwrap();
    assert_eq!(with_jwt.status().as_u16(), 200);
    let rows = logged(&app, 6).await;
    assert!(rows.len() >= 6, "{}", rows.len());
    let changes = audit_change::Entity::find().all(&app.db).await.unwrap();
    let text = format!("{rows:?}{changes:?}");
    for secret in [
        TOKEN,
        BASIC_PASSWORD,
        &basic(BASIC_USER, BASIC_PASSWORD),
        CLIENT_SECRET,
        jwt.as_str(),
        "Initial-Pa55word",
        "Patched-Pa55word",
    ] {
        assert!(!text.contains(secret), "{secret:?} is stored");
    }
    assert!(
        !text.to_ascii_lowercase().contains("\"authorization\""),
        "an Authorization header is stored"
    );
    let token_row = rows
        .iter()
        .find(|r| r.path.starts_with("/oauth2/token"))
        .expect("the token request");
    assert!(
        token_row
            .request_body
            .as_deref()
            .unwrap()
            .contains("client_secret=***"),
        "{token_row:?}"
    );
    assert!(
        text.contains("access_token=***"),
        "the query string is kept, masked"
    );
    let patched = changes
        .iter()
        .find(|c| c.operation == "patch")
        .expect("the PATCH's change");
    assert!(patched.detail.contains("passwordSet"), "{}", patched.detail);
}

async fn a_change_record_commits_with_its_write_only(db: Db) {
    let app = TestApp::spawn_with(db, quick).await;
    let created = app.post("/Users", &user_body("alice@example.com")).await;
    created.assert_status(201);
    let request_id = created.header("x-request-id").unwrap().to_owned();
    let id = created.body["id"].as_str().unwrap().to_owned();
    let records = audit_change::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(records.len(), 1, "the commit has its record at once");
    assert_eq!(records[0].request_id.as_deref(), Some(request_id.as_str()));
    assert_eq!(records[0].operation, "create");
    assert_eq!(
        records[0].principal.as_deref(),
        Some("configured bearer token")
    );
    assert_eq!(records[0].version_after, Some(1));
    // A 409, a PATCH that fails validation, a Bulk operation that fails.
    app.post("/Users", &user_body("alice@example.com"))
        .await
        .assert_status(409);
    let bad_patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "userName", "value": 42}]
    });
    let r = app.patch(&format!("/Users/{id}"), &bad_patch).await;
    assert!(r.status == 400, "{}", r.text);
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": user_body("bob@example.com")},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": user_body("alice@example.com")}
        ]
    });
    let r = app.post("/Bulk", &bulk).await;
    r.assert_status(200);
    assert_eq!(r.body["Operations"][1]["status"], "409", "{}", r.text);
    let records = audit_change::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(
        records.len(),
        2,
        "only the two committed writes: {records:?}"
    );
    assert!(
        records
            .iter()
            .any(|c| c.label.as_deref() == Some("bob@example.com"))
    );
    // Every committed write has exactly one record.
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Alice A."}]
    });
    app.patch(&format!("/Users/{id}"), &patch)
        .await
        .assert_status(200);
    app.delete(&format!("/Users/{id}")).await.assert_status(204);
    let records = audit_change::Entity::find().all(&app.db).await.unwrap();
    let ops: Vec<&str> = records.iter().map(|c| c.operation.as_str()).collect();
    assert_eq!(ops, ["create", "create", "patch", "delete"]);
    let diff: Value = serde_json::from_str(&records[2].detail).unwrap();
    assert_eq!(diff["attributes"][0]["path"], "displayName", "{diff}");
    assert_eq!(diff["attributes"][0]["new"], "Alice A.", "{diff}");
}

/// Two servers on one database can take the same key (microseconds, unique
/// within a process only): the write takes the next one rather than fail.
async fn a_key_another_server_took_does_not_fail_the_write(db: Db) {
    let app = TestApp::spawn_with(db, quick).await;
    let now_us = roster::time::now_ms() * 1000;
    // Keys a little ahead of the clock (a request's changes are looked for
    // up to a second around it, in the tests running beside this one too).
    let taken = [now_us + 300_000, now_us + 300_001];
    for seq in taken {
        stored_change(seq, seq / 1000)
            .insert(&app.db)
            .await
            .unwrap();
    }
    roster::audit::ids::skip_past(taken[0] - 1);
    app.post("/Users", &user_body("alice@example.com"))
        .await
        .assert_status(201);
    let records = audit_change::Entity::find().all(&app.db).await.unwrap();
    let ours: Vec<i64> = records
        .iter()
        .filter(|c| c.label.as_deref() == Some("alice@example.com"))
        .map(|c| c.seq)
        .collect();
    assert_eq!(ours.len(), 1, "{records:?}");
    assert!(ours[0] > taken[1], "a key after those taken: {records:?}");
}

async fn summaries_speak_the_idps_language(db: Db) {
    let app = TestApp::spawn_with(db, quick).await;
    let alice = app.create_user("alice@example.com").await;
    let off = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]
    });
    app.patch(&format!("/Users/{alice}"), &off)
        .await
        .assert_status(200);
    let group = app.create_group("Engineering", &[]).await;
    let members: Vec<String> =
        futures_util::future::join_all(["m1", "m2", "m3"].map(|n| app.create_user(n))).await;
    let add = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members",
            "value": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>()}]
    });
    let r = app.patch(&format!("/Groups/{group}"), &add).await;
    assert!(r.status == 200 || r.status == 204, "{}", r.text);
    app.post("/Users", &user_body("alice@example.com"))
        .await
        .assert_status(409);
    let refused = awc::Client::default()
        .get(app.url("/Users"))
        .insert_header(("Authorization", "Bearer not-a-real-token-at-all"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let rows = logged(&app, 10).await;
    let summaries: Vec<&str> = rows.iter().map(|r| r.summary.as_str()).collect();
    for expected in [
        "created user alice@example.com",
        "deactivated alice@example.com",
        "created group Engineering",
        "added 3 members to Engineering",
    ] {
        assert!(
            summaries.contains(&expected),
            "{expected:?} not in {summaries:?}"
        );
    }
    assert!(
        summaries
            .iter()
            .any(|s| s.starts_with("rejected: userName 'alice@example.com' is already taken")),
        "{summaries:?}"
    );
    assert!(
        summaries
            .iter()
            .any(|s| s.starts_with("refused: ") && s.contains("not valid")),
        "{summaries:?}"
    );
    let refusal = rows.iter().find(|r| r.status == 401).unwrap();
    assert!(refusal.principal.is_none());
    assert_eq!(refusal.scim_type, None);
}

each_database!(
    secrets_never_reach_the_tables,
    a_change_record_commits_with_its_write_only,
    a_key_another_server_took_does_not_fail_the_write,
    summaries_speak_the_idps_language,
);
