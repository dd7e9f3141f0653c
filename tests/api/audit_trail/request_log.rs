//! The request log: where it is written and read, that it never holds up
//! writes, live streaming, and a full buffer dropping and counting.

use std::time::{Duration, Instant};

use entity::{audit_change, audit_request};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use super::{admin, logged, quick, stored_request};
use crate::audit_admins::{app_with_admin_and, console_get};
use crate::each_database;
use crate::helpers::{Db, TestApp, user_body};

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

/// Servers sharing a MariaDB write one request log table and take its
/// keys from their own clocks (microseconds, unique within a process
/// only), so two can take the same key: the entry is still written, under
/// a later key. (A log in a SQLite file is the server's own.)
#[actix_web::test]
async fn a_key_another_server_took_does_not_lose_the_entry() {
    let app = TestApp::spawn_with(Db::MariaDb, quick).await;
    let now_us = roster::time::now_ms() * 1000;
    // A stretch of keys ahead of the clock, wide enough that this test's
    // request lands in it whatever the tests beside it take meanwhile.
    let first = now_us + 300_000;
    let taken = first..first + 500;
    audit_request::Entity::insert_many(taken.clone().map(|seq| stored_request(seq, seq / 1000)))
        .exec(&app.request_log)
        .await
        .unwrap();
    roster::audit::ids::skip_past(first - 1);
    app.post("/Users", &user_body("collide@example.com"))
        .await
        .assert_status(201);
    let rows = logged(&app, 501).await;
    let ours: Vec<&audit_request::Model> = rows.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(ours.len(), 1, "the POST's entry: {} rows", rows.len());
    assert!(!taken.contains(&ours[0].seq), "a key of its own");
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

each_database!(
    the_log_is_where_the_console_reads_it,
    a_configured_file_takes_the_log,
    new_entries_are_streamed,
    a_full_buffer_drops_and_counts,
    a_buffer_full_by_bytes_drops_and_counts,
);
