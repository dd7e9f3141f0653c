//! Every committed write, of every kind and through every route, reaches
//! the change hooks once; a write that rolls back reaches none.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use roster::scim::resource::ResourceKind;
use roster::service::{Change, ChangeHook, ChangeHooks, Documents, WriteOperation};
use roster::store::exec::{Source, Write, WriteTxn};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement, Value as SqlValue};
use serde_json::{Value, json};

use crate::each_database;
use crate::helpers::{Db, TestApp, user_body};

/// Records what it sees; refuses, inside the transaction, any write to a
/// user whose change carries the request id `refuse`.
#[derive(Default)]
struct Recorder {
    in_transaction: Mutex<Vec<Change>>,
    committed: Mutex<Vec<Change>>,
    documents: bool,
}

impl ChangeHook for Recorder {
    fn in_transaction<'a>(
        &'a self,
        _txn: &'a WriteTxn,
        change: &'a Change,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async move {
            if let Ok(mut seen) = self.in_transaction.lock() {
                seen.push(change.clone());
            }
            if change.request_id.as_deref() == Some("refuse") {
                return Err(DbErr::Custom("refused by the test hook".into()));
            }
            Ok(())
        })
    }

    fn committed(&self, change: &Change) {
        if let Ok(mut seen) = self.committed.lock() {
            seen.push(change.clone());
        }
    }

    fn wants_documents(&self) -> bool {
        self.documents
    }
}

impl Recorder {
    /// The committed changes since the last call, as (kind, operation,
    /// version before, version after).
    fn take(&self) -> Vec<Seen> {
        let mut seen = self.committed.lock().expect("lock");
        std::mem::take(&mut *seen)
            .into_iter()
            .map(|c| (c.kind, c.operation, c.version_before, c.version_after))
            .collect()
    }
}

async fn spawn(db: Db) -> (TestApp, Arc<Recorder>) {
    spawn_recorder(db, Recorder::default()).await
}

async fn spawn_recorder(db: Db, recorder: Recorder) -> (TestApp, Arc<Recorder>) {
    let recorder = Arc::new(recorder);
    let hooks = ChangeHooks::new(vec![recorder.clone() as Arc<dyn ChangeHook>]);
    let app = TestApp::spawn_hooked(db, |_| {}, async |_| {}, hooks).await;
    (app, recorder)
}

fn replace_active(value: bool) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": "replace", "path": "active", "value": value}]})
}

use ResourceKind::{Group, User};
use WriteOperation::{Create, Delete, Patch, Replace};

type Seen = (ResourceKind, WriteOperation, Option<i64>, Option<i64>);

/// Both tests below put a user and a group through every operation.
const LIFECYCLE: [Seen; 8] = [
    (User, Create, None, Some(1)),
    (User, Replace, Some(1), Some(2)),
    (User, Patch, Some(2), Some(3)),
    (Group, Create, None, Some(1)),
    (Group, Replace, Some(1), Some(2)),
    (Group, Patch, Some(2), Some(3)),
    (Group, Delete, Some(3), None),
    (User, Delete, Some(3), None),
];

async fn every_route_reports_each_committed_write(db: Db) {
    let (app, seen) = spawn(db).await;
    let user = app.create_user("hooked@example.com").await;
    app.put(&format!("/Users/{user}"), &user_body("hooked@example.com"))
        .await
        .assert_status(200);
    app.patch(&format!("/Users/{user}"), &replace_active(false))
        .await
        .assert_status(200);
    let group = app.create_group("Hooked", &[&user]).await;
    let group_body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Hooked 2", "members": []});
    app.put(&format!("/Groups/{group}"), &group_body)
        .await
        .assert_status(200);
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "add", "path": "members", "value": [{"value": user}]}]});
    app.patch(&format!("/Groups/{group}"), &add)
        .await
        .assert_status(200);
    app.delete(&format!("/Groups/{group}"))
        .await
        .assert_status(204);
    app.delete(&format!("/Users/{user}"))
        .await
        .assert_status(204);
    assert_eq!(seen.take(), LIFECYCLE);
}

async fn each_bulk_operation_is_reported(db: Db) {
    let (app, seen) = spawn(db).await;
    let r = app
        .post(
            "/Bulk",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bulk@example.com"}},
                {"method": "PUT", "path": "/Users/bulkId:u", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bulk@example.com", "active": true}},
                {"method": "PATCH", "path": "/Users/bulkId:u", "data": replace_active(false)},
                {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Bulk", "members": [{"value": "bulkId:u"}]}},
                {"method": "PUT", "path": "/Groups/bulkId:g", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Bulk 2"}},
                {"method": "PATCH", "path": "/Groups/bulkId:g", "data": {"Operations": [{"op": "replace", "path": "displayName", "value": "Bulk 3"}]}},
                {"method": "DELETE", "path": "/Groups/bulkId:g"},
                {"method": "DELETE", "path": "/Users/bulkId:u"},
                {"method": "PATCH", "path": "/Users/bulkId:u", "data": replace_active(true)}
            ]}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        seen.take(),
        LIFECYCLE,
        "the last PATCH names a deleted user and changes nothing: {}",
        r.text
    );
}

async fn a_change_names_its_resource_principal_and_request(db: Db) {
    let (app, seen) = spawn(db).await;
    let req = app
        .request(awc::http::Method::POST, "/Users")
        .insert_header(("X-Request-Id", "req-42"));
    let r = app.send(req, Some(&user_body("named@example.com"))).await;
    r.assert_status(201);
    let committed = seen.committed.lock().expect("lock").clone();
    let [change] = committed.as_slice() else {
        panic!("one change: {committed:?}");
    };
    assert_eq!(change.id.to_string(), r.body["id"].as_str().expect("id"));
    assert_eq!(change.tenant, roster::service::DEFAULT_TENANT);
    assert_eq!(change.request_id.as_deref(), Some("req-42"));
    assert_eq!(change.principal.as_deref(), Some("configured bearer token"));
}

async fn writes_that_roll_back_are_not_reported(db: Db) {
    let (app, seen) = spawn(db).await;
    let user = app.create_user("taken@example.com").await;
    seen.take();
    // Refused by the database, by If-Match, by validation, for a missing
    // resource: nothing committed, nothing reported.
    app.post("/Users", &user_body("TAKEN@example.com"))
        .await
        .assert_status(409);
    let stale = app
        .request(awc::http::Method::PATCH, &format!("/Users/{user}"))
        .insert_header(("If-Match", "W/\"7\""));
    app.send(stale, Some(&replace_active(false)))
        .await
        .assert_status(412);
    app.put(&format!("/Users/{user}"), &json!({"name": {}}))
        .await
        .assert_status(400);
    let missing = "00000000-0000-4000-8000-000000000000";
    app.delete(&format!("/Users/{missing}"))
        .await
        .assert_status(404);
    let member_missing = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ghosts", "members": [{"value": missing}]});
    app.post("/Groups", &member_missing)
        .await
        .assert_status(400);
    assert_eq!(seen.take(), vec![]);

    // Refused by a hook inside the transaction: the write is undone.
    app.refused_by_hook(
        awc::http::Method::PATCH,
        &format!("/Users/{user}"),
        Some(&replace_active(false)),
    )
    .await;
    assert_eq!(seen.take(), vec![], "a write its hook refused");
    let after = app.get(&format!("/Users/{user}")).await;
    assert_eq!(after.body["active"], true, "{}", after.text);
    assert_eq!(after.header("etag"), Some("W/\"1\""));
    let seen_inside = seen.in_transaction.lock().expect("lock").len();
    assert_eq!(seen_inside, 2, "the create and the refused PATCH");
}

fn documents(change: &Change) -> Documents {
    change
        .documents
        .as_deref()
        .cloned()
        .unwrap_or_else(|| panic!("documents for {change:?}"))
}

async fn documents_come_only_to_hooks_that_ask(db: Db) {
    let recorder = Arc::new(Recorder::default());
    let hooks = ChangeHooks::new(vec![recorder.clone() as Arc<dyn ChangeHook>]);
    // The audit trail asks for them; without it, nothing does.
    let no_audit = |c: &mut roster::config::Config| c.audit.enabled = false;
    let app = TestApp::spawn_hooked(db, no_audit, async |_| {}, hooks).await;
    let seen = recorder;
    app.create_user("plain@example.com").await;
    let committed = seen.committed.lock().expect("lock").clone();
    assert!(
        committed.iter().all(|c| c.documents.is_none()),
        "{committed:?}"
    );
}

async fn documents_show_the_attributes_around_each_write(db: Db) {
    let recorder = Recorder {
        documents: true,
        ..Recorder::default()
    };
    let (app, seen) = spawn_recorder(db, recorder).await;
    let mut body = user_body("docs@example.com");
    body["password"] = json!("t0p-Secret!");
    let user = app.post("/Users", &body).await;
    user.assert_status(201);
    let user = user.body["id"].as_str().expect("id").to_owned();
    app.patch(&format!("/Users/{user}"), &replace_active(false))
        .await
        .assert_status(200);
    let group = app.create_group("Docs", &[&user]).await;
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]});
    app.patch(&format!("/Groups/{group}"), &remove)
        .await
        .assert_status(200);
    app.delete(&format!("/Users/{user}"))
        .await
        .assert_status(204);

    let committed = seen.committed.lock().expect("lock").clone();
    let [created, patched, group_created, group_patched, deleted] = committed.as_slice() else {
        panic!("five changes: {committed:?}");
    };
    let created = documents(created);
    assert_eq!(created.before, None);
    let after = created.after.expect("after");
    assert_eq!(after["userName"], "docs@example.com");
    assert!(!after.contains_key("password"), "{after:?}");
    assert!(created.password_set);

    let patched = documents(patched);
    assert_eq!(patched.before.expect("before")["active"], true);
    assert_eq!(patched.after.expect("after")["active"], false);
    assert!(!patched.password_set);

    let uid: uuid::Uuid = user.parse().expect("uuid");
    let group_created = documents(group_created);
    let added = group_created.members.expect("members");
    assert_eq!(
        (added.cleared, added.added, added.removed),
        (false, vec![uid], vec![])
    );
    assert!(!group_created.after.expect("after").contains_key("members"));
    let group_patched = documents(group_patched);
    let removed = group_patched.members.expect("members");
    assert_eq!(
        (removed.cleared, removed.added, removed.removed),
        (false, vec![], vec![uid])
    );

    let deleted = documents(deleted);
    assert_eq!(deleted.after, None);
    assert_eq!(deleted.before.expect("before")["active"], false);
}

/// Writes a row of its own as its transaction's last work
/// (`exec_at_commit`, which MariaDB sends with the commit); into a table
/// that does not exist while `broken`. Refuses, after that, a change whose
/// request id is `refuse`.
#[derive(Default)]
struct LastWork {
    broken: AtomicBool,
}

/// A label with a quote, a question mark, a statement separator, comment
/// openers and letters past ASCII: values written into a statement's text
/// must come back as they were.
const LABEL: &str = "it's ?; -- /* é✓";
/// JSON with escapes: a backslash reads differently by `sql_mode`.
const ESCAPED: &str = r#"{"a":"b\"c\\d","e":"it's"}"#;

impl ChangeHook for LastWork {
    fn in_transaction<'a>(
        &'a self,
        txn: &'a WriteTxn,
        change: &'a Change,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async move {
            let table = match self.broken.load(Ordering::SeqCst) {
                true => "no_such_table",
                false => "hook_rows",
            };
            let insert = Statement::from_sql_and_values(
                txn.backend(),
                format!("INSERT INTO {table} (id, label, json_text) VALUES (?, ?, ?)"),
                [
                    SqlValue::from(change.id.to_string()),
                    SqlValue::from(LABEL),
                    SqlValue::from(ESCAPED),
                ],
            );
            txn.exec_at_commit(insert, None).await?;
            if change.request_id.as_deref() == Some("refuse") {
                return Err(DbErr::Custom("refused by the test hook".into()));
            }
            Ok(())
        })
    }
}

/// The first row `sql` reads.
async fn one_row(app: &TestApp, sql: &str) -> QueryResult {
    let stmt = Statement::from_string(app.db.get_database_backend(), sql);
    let row = app.db.query_one_raw(stmt).await.expect("query");
    row.expect("a row")
}

async fn hook_rows(app: &TestApp) -> Vec<(String, String)> {
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT id, label FROM hook_rows ORDER BY id",
        ))
        .await
        .expect("hook rows");
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("", "id").expect("id");
            let label: String = r.try_get("", "label").expect("label");
            (id, label)
        })
        .collect()
}

/// A hook's last statement commits with its write, and only with it:
/// refused after it, or failing itself at the commit, the whole write is
/// undone, and the server's connections stay fit for the next writes.
async fn a_hooks_last_statement_commits_with_the_write_only(db: Db) {
    let last = Arc::new(LastWork::default());
    let hooks = ChangeHooks::new(vec![last.clone() as Arc<dyn ChangeHook>]);
    let app = TestApp::spawn_hooked(db, |_| {}, async |_| {}, hooks).await;
    app.db
        .execute_unprepared(
            "CREATE TABLE hook_rows (id VARCHAR(64), label VARCHAR(64), json_text VARCHAR(64))",
        )
        .await
        .expect("table");
    let user = app.create_user("first@example.com").await;
    assert_eq!(hook_rows(&app).await, [(user.clone(), LABEL.to_owned())]);
    let escaped = one_row(&app, "SELECT json_text FROM hook_rows").await;
    assert_eq!(
        escaped
            .try_get::<String>("", "json_text")
            .expect("json_text"),
        ESCAPED
    );

    let body = user_body("refused@example.com");
    app.refused_by_hook(awc::http::Method::POST, "/Users", Some(&body))
        .await;

    last.broken.store(true, Ordering::SeqCst);
    // More failures than the pool has connections: none may be left
    // holding one.
    for n in 0..24 {
        let r = app.post("/Users", &user_body(&format!("broken-{n}"))).await;
        assert!(r.status >= 500, "{} {}", r.status, r.text);
    }
    let patch = replace_active(false);
    let r = app.patch(&format!("/Users/{user}"), &patch).await;
    assert!(r.status >= 500, "{} {}", r.status, r.text);
    let after = app.get(&format!("/Users/{user}")).await;
    assert_eq!(after.body["active"], true, "{}", after.text);

    last.broken.store(false, Ordering::SeqCst);
    let second = app.create_user("second@example.com").await;
    let mut expected = vec![(user, LABEL.to_owned()), (second, LABEL.to_owned())];
    expected.sort();
    assert_eq!(hook_rows(&app).await, expected);
    let listed = app.get("/Users?count=100").await;
    assert_eq!(listed.body["totalResults"], 2, "{}", listed.text);
}

/// Writes `size` bytes as its transaction's last work, backslashes among
/// them, so that as text with the commit they would go in hex, twice their
/// size.
struct LargeLastWork {
    size: usize,
}

impl ChangeHook for LargeLastWork {
    fn in_transaction<'a>(
        &'a self,
        txn: &'a WriteTxn,
        change: &'a Change,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async move {
            let insert = Statement::from_sql_and_values(
                txn.backend(),
                "INSERT INTO large_rows (id, body) VALUES (?, ?)",
                [
                    SqlValue::from(change.id.to_string()),
                    SqlValue::from("x\\".repeat(self.size / 2)),
                ],
            );
            txn.exec_at_commit(insert, None).await
        })
    }
}

/// A hook's last statement too large to travel as text with the commit
/// (9 MiB, 18 MiB as hex, past MariaDB's 16 MiB `max_allowed_packet`)
/// still commits with its write, whole.
async fn a_last_statement_too_large_for_the_commit_still_commits(db: Db) {
    const SIZE: usize = 9 << 20;
    let hooks = ChangeHooks::new(vec![
        Arc::new(LargeLastWork { size: SIZE }) as Arc<dyn ChangeHook>
    ]);
    let app = TestApp::spawn_hooked(db, |_| {}, async |_| {}, hooks).await;
    let text = match app.db.get_database_backend() {
        sea_orm::DbBackend::MySql => "MEDIUMTEXT",
        _ => "TEXT",
    };
    app.db
        .execute_unprepared(&format!(
            "CREATE TABLE large_rows (id VARCHAR(64), body {text})"
        ))
        .await
        .expect("table");
    let user = app.create_user("large@example.com").await;
    let row = one_row(&app, "SELECT id, LENGTH(body) AS size FROM large_rows").await;
    assert_eq!(row.try_get::<String>("", "id").expect("id"), user);
    assert_eq!(row.try_get::<i64>("", "size").expect("size"), SIZE as i64);
}

each_database!(
    a_last_statement_too_large_for_the_commit_still_commits,
    a_hooks_last_statement_commits_with_the_write_only,
    documents_come_only_to_hooks_that_ask,
    documents_show_the_attributes_around_each_write,
    every_route_reports_each_committed_write,
    each_bulk_operation_is_reported,
    a_change_names_its_resource_principal_and_request,
    writes_that_roll_back_are_not_reported,
);
