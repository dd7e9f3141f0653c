//! An IdP's full import: `startIndex` pages read in order. A page that
//! starts where an earlier one ended seeks from there instead of skipping
//! rows, and must answer exactly as the `OFFSET` page would: on a set no
//! one writes to, and after creates, deletes and updates in between, made
//! through this server or another one on the same database.

use roster::config::Config;
use roster::scim::resource::ResourceKind;
use roster::service::DEFAULT_TENANT;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

use crate::counts::insert_user_row;
use crate::helpers::{Resp, TestApp, mariadb_url};
use crate::on_both_databases;

on_both_databases!(
    sequential_pages_answer_as_offset_pages_do,
    group_pages_answer_as_offset_pages_do,
    a_page_seeks_from_where_the_one_before_ended,
    a_create_that_sorts_before_the_end_is_read_by_offset,
);

#[track_caller]
fn ids(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Every resource in list order: one page from the start, which no
/// remembered position serves.
async fn everything(app: &TestApp, endpoint: &str) -> Vec<String> {
    ids(&app.get(&format!("{endpoint}?count=1000")).await)
}

/// Page `start_index` (1-based) of `count`, checked against `expected`,
/// the whole list as it is now.
async fn assert_page(app: &TestApp, endpoint: &str, start_index: usize, count: usize) {
    let expected = everything(app, endpoint).await;
    let r = app
        .get(&format!(
            "{endpoint}?startIndex={start_index}&count={count}"
        ))
        .await;
    let from = (start_index - 1).min(expected.len());
    let to = (from + count).min(expected.len());
    assert_eq!(ids(&r), expected[from..to], "page at {start_index}");
    assert_eq!(r.body["totalResults"], expected.len(), "{}", r.text);
    assert_eq!(r.body["startIndex"], start_index);
}

async fn sequential_pages_answer_as_offset_pages_do(app: TestApp) {
    let mut users = Vec::new();
    for i in 0..23 {
        users.push(app.create_user(&format!("import{i}@example.com")).await);
    }
    // Nobody writes: a whole import.
    for start in (1..=26).step_by(5) {
        assert_page(&app, "/Users", start, 5).await;
    }
    // The import again, with writes between its pages.
    assert_page(&app, "/Users", 1, 5).await;
    assert_page(&app, "/Users", 6, 5).await;
    app.create_user("late1@example.com").await;
    app.create_user("late2@example.com").await;
    assert_page(&app, "/Users", 11, 5).await;
    // A user the import has already read goes: later pages move up one.
    app.delete(&format!("/Users/{}", users[2]))
        .await
        .assert_status(204);
    assert_page(&app, "/Users", 16, 5).await;
    // Updates move nothing in creation order.
    let patch = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}]
    });
    let r = app.patch(&format!("/Users/{}", users[20]), &patch).await;
    r.assert_status(200);
    assert_page(&app, "/Users", 21, 5).await;
    // A user after the pages read so far goes.
    app.delete(&format!("/Users/{}", users[22]))
        .await
        .assert_status(204);
    assert_page(&app, "/Users", 21, 5).await;
    // Out of order, repeated, past the end, and at odd offsets.
    for (start, count) in [(3, 4), (7, 3), (7, 3), (2, 30), (40, 5), (10, 1), (11, 0)] {
        assert_page(&app, "/Users", start, count).await;
    }
}

async fn group_pages_answer_as_offset_pages_do(app: TestApp) {
    let mut groups = Vec::new();
    for i in 0..12 {
        groups.push(app.create_group(&format!("Import {i}"), &[]).await);
    }
    for start in (1..=13).step_by(4) {
        assert_page(&app, "/Groups", start, 4).await;
    }
    assert_page(&app, "/Groups", 1, 4).await;
    app.delete(&format!("/Groups/{}", groups[0]))
        .await
        .assert_status(204);
    assert_page(&app, "/Groups", 5, 4).await;
    app.create_group("Import late", &[]).await;
    assert_page(&app, "/Groups", 9, 4).await;
}

/// A user row slipped in behind the server's back, first in creation
/// order, with no count moved: the `OFFSET` page would now start one row
/// earlier, the resumed page does not. This shows the resumed path is the
/// one taken (and why every write must go through the counts).
async fn a_page_seeks_from_where_the_one_before_ended(app: TestApp) {
    for i in 0..10 {
        app.create_user(&format!("seek{i}@example.com")).await;
    }
    let before = everything(&app, "/Users").await;
    let first = app.get("/Users?startIndex=1&count=5").await;
    assert_eq!(ids(&first), before[..5]);
    let config = Config::default();
    insert_user_row(&app.db, &config, DEFAULT_TENANT, "hidden@example.com", 1).await;
    let second = app.get("/Users?startIndex=6&count=5").await;
    assert_eq!(
        ids(&second),
        before[5..10],
        "the page seeks from the end of page 1"
    );
    // An ordinary page from the start sees the row, and a later page
    // skips by offset again.
    let now = everything(&app, "/Users").await;
    assert_eq!(now.len(), 11);
    assert_eq!(now[1..], before[..]);
}

/// Another node whose clock is behind creates a user that sorts before
/// where the last page ended: its count moves, the position no longer
/// holds, and the page is read by `OFFSET`.
async fn a_create_that_sorts_before_the_end_is_read_by_offset(app: TestApp) {
    for i in 0..10 {
        app.create_user(&format!("skew{i}@example.com")).await;
    }
    assert_page(&app, "/Users", 1, 5).await;
    let config = Config::default();
    insert_user_row(&app.db, &config, DEFAULT_TENANT, "early@example.com", 1).await;
    bump_user_count(&app).await;
    assert_page(&app, "/Users", 6, 5).await;
    // Creates after the end (this server's own) keep the seek.
    app.create_user("after@example.com").await;
    assert_page(&app, "/Users", 11, 5).await;
}

/// Adds one to the default tenant's user count, as the create of another
/// node would have.
async fn bump_user_count(app: &TestApp) {
    let backend = app.db.get_database_backend();
    let user = ResourceKind::User.name();
    let stripe = Statement::from_string(
        backend,
        format!("SELECT MIN(stripe) AS s FROM resource_counts WHERE kind = '{user}'"),
    );
    let row = app.db.query_one_raw(stripe).await.expect("a stripe");
    let stripe: i32 = row.expect("a row").try_get("", "s").expect("stripe");
    let bump = Statement::from_string(
        backend,
        format!(
            "UPDATE resource_counts SET live = live + 1 WHERE kind = '{user}' AND stripe = {stripe}"
        ),
    );
    let done = app.db.execute_raw(bump).await.expect("bump the count");
    assert_eq!(done.rows_affected(), 1);
}

/// Two servers on one MariaDB database: the one serving an import sees
/// the other's deletes and creates between its pages.
#[actix_web::test]
async fn another_nodes_writes_between_pages_mariadb() {
    let url = mariadb_url().await;
    let importer = TestApp::spawn_on(url.clone(), |_| {}).await;
    let other = TestApp::spawn_on(url, |_| {}).await;
    let mut users = Vec::new();
    for i in 0..12 {
        users.push(other.create_user(&format!("node{i}@example.com")).await);
    }
    assert_page(&importer, "/Users", 1, 4).await;
    other
        .delete(&format!("/Users/{}", users[1]))
        .await
        .assert_status(204);
    assert_page(&importer, "/Users", 5, 4).await;
    other.create_user("node-late@example.com").await;
    assert_page(&importer, "/Users", 9, 4).await;
    let last: Value = importer.get("/Users?startIndex=13&count=4").await.body;
    assert_eq!(last["totalResults"], 12);
}
