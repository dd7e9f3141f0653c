//! The audit trail: change records in the write's own transaction, the
//! request log (redacted, summarised, batched), retention, and the
//! console's JSON API over both.

use std::time::{Duration, Instant};

use awc::http::Method;
use entity::{audit_change, audit_request};
use roster::config::{Config, OAuthClientConfig, Secret};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::audit_admins::{ADMIN, ADMIN_PASSWORD, app_with_admin_and, basic, console_get};
use crate::each_database;
use crate::helpers::{BASIC_PASSWORD, BASIC_USER, Db, TOKEN, TestApp, user_body};

const CLIENT_SECRET: &str = "entra-client-secret-0123456789";

fn quick(c: &mut Config) {
    c.audit.flush_interval_ms = 20;
}

fn with_oauth(c: &mut Config) {
    quick(c);
    c.oauth.clients = vec![OAuthClientConfig {
        client_id: "entra".to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        redirect_uris: vec![],
        grant_types: vec!["client_credentials".to_owned()],
        scopes: vec!["scim".to_owned()],
        require_pkce: true,
    }];
}

/// Waits until the request log holds at least `n` rows.
pub async fn logged(app: &TestApp, n: u64) -> Vec<audit_request::Model> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let count = audit_request::Entity::find()
            .count(&app.request_log)
            .await
            .unwrap();
        if count >= n || Instant::now() > until {
            let mut rows = audit_request::Entity::find()
                .all(&app.request_log)
                .await
                .unwrap();
            rows.sort_by_key(|r| r.seq);
            return rows;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

fn admin() -> String {
    basic(ADMIN, ADMIN_PASSWORD)
}

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
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
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

async fn retention_prunes_old_rows(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        quick(c);
        c.audit.prune_interval_secs = 1;
    })
    .await;
    let day = 86_400_000;
    let now = roster::time::now_ms();
    // Request keys are their time in microseconds.
    let (old, kept) = ((now - 15 * day) * 1000, (now - 13 * day) * 1000);
    for seq in [old, kept] {
        stored_request(seq, seq / 1000)
            .insert(&app.request_log)
            .await
            .unwrap();
    }
    // So are change records'.
    let (old_change, kept_change) = ((now - 366 * day) * 1000, (now - 300 * day) * 1000);
    for seq in [old_change, kept_change] {
        stored_change(seq, seq / 1000)
            .insert(&app.db)
            .await
            .unwrap();
    }
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let requests = audit_request::Entity::find()
            .all(&app.request_log)
            .await
            .unwrap();
        let changes = audit_change::Entity::find().all(&app.db).await.unwrap();
        let gone =
            !requests.iter().any(|r| r.seq == old) && !changes.iter().any(|c| c.seq == old_change);
        if gone {
            assert!(
                requests.iter().any(|r| r.seq == kept),
                "13 days old is kept"
            );
            assert!(
                changes.iter().any(|c| c.seq == kept_change),
                "300 days old is kept"
            );
            break;
        }
        assert!(Instant::now() < until, "not pruned");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn the_row_limit_keeps_the_newest(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        quick(c);
        c.audit.prune_interval_secs = 1;
        c.audit.max_request_rows = 3;
    })
    .await;
    let now = roster::time::now_ms();
    for n in 1..=8 {
        stored_request(now * 1000 + n, now)
            .insert(&app.request_log)
            .await
            .unwrap();
    }
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let mut seqs: Vec<i64> = audit_request::Entity::find()
            .all(&app.request_log)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq - now * 1000)
            .collect();
        seqs.sort();
        if seqs == [6, 7, 8] {
            break;
        }
        assert!(Instant::now() < until, "{seqs:?}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

fn stored_request(seq: i64, at: i64) -> audit_request::ActiveModel {
    audit_request::ActiveModel {
        seq: Set(seq),
        tenant_id: Set(roster::service::DEFAULT_TENANT),
        at: Set(at),
        request_id: Set(format!("old-{seq}")),
        client_addr: Set(None),
        principal: Set(None),
        method: Set("GET".to_owned()),
        route: Set("/scim/v2/Users".to_owned()),
        path: Set("/scim/v2/Users".to_owned()),
        status: Set(200),
        latency_us: Set(1),
        scim_type: Set(None),
        resource_kind: Set(None),
        operation: Set(None),
        summary: Set("listed".to_owned()),
        request_headers: Set("{}".to_owned()),
        request_body: Set(None),
        response_body: Set(None),
    }
}

fn stored_change(seq: i64, at: i64) -> audit_change::ActiveModel {
    audit_change::ActiveModel {
        seq: Set(seq),
        tenant_id: Set(roster::service::DEFAULT_TENANT),
        at: Set(at),
        request_id: Set(None),
        principal: Set(None),
        kind: Set("User".to_owned()),
        resource_id: Set(uuid::Uuid::new_v4()),
        operation: Set("create".to_owned()),
        version_before: Set(None),
        version_after: Set(Some(1)),
        label: Set(None),
        detail: Set("{}".to_owned()),
    }
}

async fn bodies_are_cut_at_the_limit(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        quick(c);
        c.audit.max_body_bytes = 512;
    })
    .await;
    let members: Vec<String> = {
        let mut ids = Vec::new();
        for n in 0..40 {
            ids.push(app.create_user(&format!("member-{n:02}")).await);
        }
        ids
    };
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let group = app.create_group("Big", &refs).await;
    let got = app.get(&format!("/Groups/{group}")).await;
    got.assert_status(200);
    assert!(got.text.len() > 2048);
    let rows = logged(&app, 43).await;
    let row = rows
        .iter()
        .find(|r| r.method == "GET" && r.path.contains(&group))
        .expect("the GET");
    let body = row.response_body.as_deref().unwrap();
    assert!(body.len() < 512 + 64, "{}", body.len());
    assert!(
        body.ends_with(&format!("[{} bytes in all]", got.text.len())),
        "{body}"
    );
}

async fn audit_off_records_nothing(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        quick(c);
        c.audit.enabled = false;
    })
    .await;
    app.create_user("quiet").await;
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        audit_request::Entity::find()
            .count(&app.request_log)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        audit_change::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}

/// Beside a SQLite file the log is a file of its own (the main
/// database's table stays empty) that the console reads; on MariaDB it is
/// the main database's table.
async fn the_log_is_where_the_console_reads_it(db: Db) {
    let app = app_with_admin_and(db, quick).await;
    let id = app.create_user("filed").await;
    let rows = logged(&app, 1).await;
    let in_main = audit_request::Entity::find().count(&app.db).await.unwrap();
    match db {
        Db::Sqlite => assert_eq!(in_main, 0),
        Db::MariaDb => assert_eq!(in_main, rows.len() as u64),
    }
    shows_the_change(&app, &rows[0].request_id, &id).await;
}

/// `request_log_file` takes the log out of the database, on MariaDB too:
/// its rows land in that file and the console reads them there, while the
/// change records stay in the database.
async fn a_configured_file_takes_the_log(db: Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("requests.db");
    let configured = file.clone();
    let app = app_with_admin_and(db, move |c| {
        quick(c);
        c.audit.request_log_file = Some(configured);
    })
    .await;
    let id = app.create_user("filed-apart").await;
    let rows = logged(&app, 1).await;
    assert!(!rows.is_empty());
    assert!(file.exists());
    let in_main = audit_request::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(in_main, 0);
    let changes = audit_change::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(changes, 1);
    shows_the_change(&app, &rows[0].request_id, &id).await;
}

/// The console's detail of request `request_id` shows its change to the
/// resource `id`.
async fn shows_the_change(app: &TestApp, request_id: &str, id: &str) {
    let path = format!("/console/api/activity/{request_id}");
    let detail = console_get(app, &path, Some(&admin())).await;
    detail.assert_status(200);
    assert_eq!(
        detail.body["changes"][0]["id"],
        json!(id),
        "{}",
        detail.text
    );
}

each_database!(a_buffer_full_by_bytes_drops_and_counts);
each_database!(a_configured_file_takes_the_log);

each_database!(
    the_log_is_where_the_console_reads_it,
    secrets_never_reach_the_tables,
    a_change_record_commits_with_its_write_only,
    a_key_another_server_took_does_not_fail_the_write,
    summaries_speak_the_idps_language,
    the_activity_api_pages_filters_and_details,
    retention_prunes_old_rows,
    the_row_limit_keeps_the_newest,
    bodies_are_cut_at_the_limit,
    audit_off_records_nothing,
);

/// On SQLite the request log is written beside the SCIM writes: under a
/// stream of concurrent POSTs none waits long, and every request is in
/// the log once the buffer is written.
#[actix_web::test]
async fn the_request_log_never_holds_up_sqlite_writes() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.audit.flush_interval_ms = 100).await;
    let clients = 8;
    let per_client = 40;
    let started = Instant::now();
    let slowest = futures_util::future::join_all((0..clients).map(|c| {
        let app = &app;
        async move {
            let mut slowest = Duration::ZERO;
            for n in 0..per_client {
                let t = Instant::now();
                app.post("/Users", &user_body(&format!("load-{c}-{n}")))
                    .await
                    .assert_status(201);
                slowest = slowest.max(t.elapsed());
            }
            slowest
        }
    }))
    .await
    .into_iter()
    .max()
    .unwrap();
    let elapsed = started.elapsed();
    assert!(
        slowest < Duration::from_secs(2),
        "a POST took {slowest:?} (all took {elapsed:?})"
    );
    let total = u64::try_from(clients * per_client).unwrap();
    let rows = logged(&app, total).await;
    assert_eq!(rows.len() as u64, total, "every request is logged");
    let changes = audit_change::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(changes, total);
}

/// Under writes that keep SQLite's writer busy the whole time, the log
/// still keeps up: with a buffer a few hundred entries deep, a log that
/// fell behind the writes would overflow it and drop entries.
#[actix_web::test]
async fn the_request_log_keeps_up_with_sustained_sqlite_writes() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.audit.buffer_entries = 300;
        c.metrics.open = true;
    })
    .await;
    let clients = 16;
    let per_client = 60;
    futures_util::future::join_all((0..clients).map(|c| {
        let app = &app;
        async move {
            for n in 0..per_client {
                app.post("/Users", &user_body(&format!("sustained-{c}-{n}")))
                    .await
                    .assert_status(201);
            }
        }
    }))
    .await;
    let total = u64::try_from(clients * per_client).unwrap();
    let rows = logged(&app, total).await;
    assert_eq!(rows.len() as u64, total, "every request is logged");
    assert_eq!(dropped(&app).await, "0", "entries dropped");
}

/// New entries reach a live view as server-sent events.
async fn new_entries_are_streamed(db: Db) {
    let app = app_with_admin_and(db, quick).await;
    let mut stream = awc::Client::default()
        .get(format!("{}/console/api/activity/stream", app.root))
        .insert_header(("Authorization", admin()))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    app.create_user("streamed@example.com").await;
    let text = crate::console_activity::read_until(&mut stream, "\n\n").await;
    assert!(text.starts_with("event: activity\ndata: {"), "{text}");
    assert!(text.contains("created user streamed@example.com"), "{text}");
}

each_database!(new_entries_are_streamed);

/// A full buffer costs requests nothing: the entries it cannot hold are
/// dropped and counted.
async fn a_full_buffer_drops_and_counts(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        c.audit.buffer_entries = 2;
        c.audit.flush_interval_ms = 600_000;
        c.metrics.open = true;
    })
    .await;
    for _ in 0..10 {
        app.get("/ServiceProviderConfig").await.assert_status(200);
    }
    assert_eq!(dropped(&app).await, "8");
}

/// The buffer is bounded by bytes too: an entry that would take it past
/// `buffer_bytes` is dropped and counted, however few entries it holds;
/// entries that fit are written, and the room they took is given back.
async fn a_buffer_full_by_bytes_drops_and_counts(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        quick(c);
        // Room for about one entry at a time, not for a large one.
        c.audit.buffer_bytes = 16 * 1024;
        c.metrics.open = true;
    })
    .await;
    // Refused (too long a name), and logged like any request: with its
    // 20 KB body.
    let mut big = user_body("heavy");
    big["displayName"] = json!("x".repeat(20_000));
    app.post("/Users", &big).await.assert_status(400);
    assert_eq!(dropped(&app).await, "1");
    // Together more than the buffer holds: each is written, and its room
    // given back, before the next comes.
    for n in 0..12 {
        app.create_user(&format!("light-{n}")).await;
        logged(&app, n + 1).await;
    }
    assert_eq!(dropped(&app).await, "1");
}

/// `roster_audit_dropped_total`, from an app with open metrics.
async fn dropped(app: &TestApp) -> String {
    let metrics = awc::Client::default()
        .get(format!("{}/metrics", app.root))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics).into_owned();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("roster_audit_dropped_total "))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no dropped counter in {metrics}"))
}

each_database!(a_full_buffer_drops_and_counts);
