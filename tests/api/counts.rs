//! An unfiltered list's `totalResults` comes from per-tenant counts that
//! every create and delete keeps in its own transaction: they must equal
//! the rows, whatever commits, fails or rolls back.

use std::sync::Arc;

use futures_util::future::{BoxFuture, join_all};
use roster::config::{Config, DatabaseUrl};
use roster::scim::user::UserRecord;
use roster::service::users::new_user_row;
use roster::service::{Change, ChangeHook, ChangeHooks, DEFAULT_TENANT};
use roster::store::exec::WriteTxn;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::each_database;
use crate::helpers::{Db, TestApp, mariadb_url, user_body};

each_database!(
    counts_stay_exact_across_writes_bulk_and_rollbacks,
    concurrent_creates_are_all_counted,
    migration_counts_each_tenants_existing_rows,
);

/// Refuses, inside the transaction and after the count has moved, every
/// write whose request id is `refuse`.
struct Refuser;

impl ChangeHook for Refuser {
    fn in_transaction<'a>(
        &'a self,
        _txn: &'a WriteTxn,
        change: &'a Change,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async move {
            if change.request_id.as_deref() == Some("refuse") {
                return Err(DbErr::Custom("refused by the test hook".into()));
            }
            Ok(())
        })
    }
}

/// `totalResults` of an unfiltered list, asked two ways that both need the
/// count: no rows, and a first page that does not reach the end.
pub async fn unfiltered_total(app: &TestApp, endpoint: &str) -> u64 {
    let none = app.get(&format!("{endpoint}?count=0")).await;
    none.assert_status(200);
    let one = app.get(&format!("{endpoint}?startIndex=1&count=1")).await;
    one.assert_status(200);
    assert_eq!(none.body["totalResults"], one.body["totalResults"]);
    none.body["totalResults"].as_u64().expect("totalResults")
}

async fn assert_counts(app: &TestApp, users: u64, groups: u64) {
    assert_eq!(unfiltered_total(app, "/Users").await, users);
    assert_eq!(app.count_rows("users").await, users as i64);
    assert_eq!(unfiltered_total(app, "/Groups").await, groups);
    assert_eq!(app.count_rows("groups").await, groups as i64);
}

fn bulk(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
}

async fn counts_stay_exact_across_writes_bulk_and_rollbacks(db: Db) {
    let hooks = ChangeHooks::new(vec![Arc::new(Refuser)]);
    let app = TestApp::spawn_hooked(db, |_| {}, async |_| {}, hooks).await;
    assert_counts(&app, 0, 0).await;
    let mut users = Vec::new();
    for i in 0..5 {
        users.push(app.create_user(&format!("count{i}@example.com")).await);
    }
    let group = app.create_group("Counted", &[&users[0]]).await;
    app.create_group("Counted too", &[]).await;
    assert_counts(&app, 5, 2).await;

    app.delete(&format!("/Users/{}", users[4]))
        .await
        .assert_status(204);
    app.delete(&format!("/Groups/{group}"))
        .await
        .assert_status(204);
    // A second delete of the same resource finds nothing and counts nothing.
    app.delete(&format!("/Users/{}", users[4]))
        .await
        .assert_status(404);
    // A duplicate userName is refused before anything is written.
    let dup = app.post("/Users", &user_body("count0@example.com")).await;
    dup.assert_status(409);
    // Updates move no count.
    let renamed = user_body("renamed@example.com");
    let put = app.put(&format!("/Users/{}", users[3]), &renamed).await;
    put.assert_status(200);
    assert_counts(&app, 4, 1).await;

    // Writes a hook refuses roll back, count included.
    let body = user_body("refused@example.com");
    app.refused_by_hook(awc::http::Method::POST, "/Users", Some(&body))
        .await;
    let first = format!("/Users/{}", users[0]);
    app.refused_by_hook(awc::http::Method::DELETE, &first, None)
        .await;
    assert_counts(&app, 4, 1).await;

    // Bulk: each operation counts as its own request would.
    let user = "urn:ietf:params:scim:schemas:core:2.0:User";
    let r = app
        .post("/Bulk", &bulk(json!([
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": [user], "userName": "bulk-a"}},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [user], "userName": "bulk-b"}},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"schemas": [user], "userName": "count1@example.com"}},
            {"method": "DELETE", "path": format!("/Users/{}", users[1])},
            {"method": "DELETE", "path": format!("/Users/{}", Uuid::new_v4())},
            {"method": "DELETE", "path": "/Users/bulkId:b"},
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Bulk group"}}
        ])))
        .await;
    r.assert_status(200);
    let statuses: Vec<&str> = r.body["Operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|o| o["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        ["201", "201", "409", "204", "404", "204", "201"],
        "{}",
        r.text
    );
    assert_counts(&app, 4, 2).await;
}

async fn concurrent_creates_are_all_counted(db: Db) {
    let app = TestApp::spawn(db).await;
    // More writers than stripes, so that some share one and some are a
    // stripe's first write at the same time.
    let app = &app;
    let creates = (0..40).map(|i| async move {
        let r = app
            .post("/Users", &user_body(&format!("c{i}@example.com")))
            .await;
        r.assert_status(201);
        r.body["id"].as_str().expect("id").to_owned()
    });
    let ids: Vec<String> = join_all(creates).await;
    assert_counts(app, 40, 0).await;
    let paths: Vec<String> = ids
        .iter()
        .take(25)
        .map(|id| format!("/Users/{id}"))
        .collect();
    for r in join_all(paths.iter().map(|p| app.delete(p))).await {
        r.assert_status(204);
    }
    assert_counts(app, 15, 0).await;
}

/// A database with users from before the counts: the migration counts
/// each tenant's rows, and the server answers with its tenant's.
async fn migration_counts_each_tenants_existing_rows(db: Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match db {
        Db::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display()),
        Db::MariaDb => mariadb_url().await,
    };
    let mut config = Config::default();
    config.database.url = DatabaseUrl::new(url.clone());
    let conn = roster::startup::connect(&config).await.expect("connect");
    // Every migration before the one that adds the counts.
    let before = <migration::Migrator as migration::MigratorTrait>::migrations()
        .iter()
        .position(|m| m.name().ends_with("_scale_counts"))
        .expect("the counts migration") as u32;
    <migration::Migrator as migration::MigratorTrait>::up(&conn, Some(before))
        .await
        .expect("migrate");
    let other = Uuid::new_v4();
    for i in 0..3 {
        insert_user_row(
            &conn,
            &config,
            DEFAULT_TENANT,
            &format!("old{i}@example.com"),
            1_000 + i,
        )
        .await;
    }
    for i in 0..2 {
        insert_user_row(
            &conn,
            &config,
            other,
            &format!("other{i}@example.com"),
            1_000 + i,
        )
        .await;
    }
    roster::startup::migrate(&config, &conn)
        .await
        .expect("migrate");
    let tally =
        roster::store::counts::tally(&conn, other, roster::scim::resource::ResourceKind::User);
    assert_eq!(tally.await.expect("tally").live, 2);
    conn.close().await.ok();

    let app = TestApp::spawn_on(url, |_| {}).await;
    assert_eq!(unfiltered_total(&app, "/Users").await, 3);
    app.create_user("new@example.com").await;
    assert_eq!(unfiltered_total(&app, "/Users").await, 4);
    drop(dir);
}

/// A user row written straight into the table, as the API would have
/// written it, created at `created_at`; the counts are left alone.
pub async fn insert_user_row(
    conn: &DatabaseConnection,
    config: &Config,
    tenant: Uuid,
    user_name: &str,
    created_at: i64,
) -> Uuid {
    let registry = roster::startup::registry(config).expect("registry");
    let record = UserRecord::from_json(&registry, &config.scim.rules(), user_body(user_name))
        .expect("a valid user");
    let id = Uuid::new_v4();
    let row = new_user_row(tenant, id, &record, created_at, None);
    entity::user::Entity::insert(row)
        .exec_without_returning(conn)
        .await
        .expect("insert a user row");
    id
}
