//! Receivers as an operator manages them (`roster receiver`), the claim
//! that keeps two nodes from pushing one receiver's events at once,
//! pruning by age, and the outbox's keys rising across pruning.

use migration::{Migrator, MigratorTrait};
use roster::events::receivers::{self, Format, Mode};
use roster::events::store::{self, NewEvent};
use roster::service::DEFAULT_TENANT;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TryGetable};
use uuid::Uuid;

use crate::each_database;
use crate::events_support::add_receiver;
use crate::helpers::{Db, TestApp};
use crate::process::{roster as roster_command, run_command};

each_database!(
    one_node_at_a_time_holds_a_receiver,
    pruning_drops_only_what_is_older_than_the_retention,
    pruning_keeps_the_newest_event_so_keys_keep_rising,
);

#[actix_web::test]
async fn receiver_commands_add_list_show_and_remove() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
    let run = |args: &[&str]| run_command(dir.path(), &url, args);
    assert!(run(&["migrate"]).status.success());
    let added = run(&[
        "receiver",
        "add",
        "crm",
        "--poll",
        "--events",
        "prov:delete,prov:deactivate",
    ]);
    assert!(added.status.success(), "{added:?}");
    let credential = String::from_utf8_lossy(&added.stdout).trim().to_owned();
    assert!(credential.starts_with("roster_poll_"), "{credential}");
    let hook = run(&[
        "receiver",
        "add",
        "hook",
        "--push",
        "https://hooks.example.com/x",
        "--format",
        "json",
    ]);
    assert!(hook.status.success(), "{hook:?}");
    assert!(String::from_utf8_lossy(&hook.stdout).starts_with("whsec_"));
    // With a secrets key configured the webhook secret is stored sealed.
    let sealed = roster_command(dir.path())
        .args([
            "receiver",
            "add",
            "sealed",
            "--push",
            "https://hooks.example.com/y",
        ])
        .args(["--format", "json"])
        .env("DATABASE_URL", &url)
        .env(
            "ROSTER_SECRETS__KEY",
            "a secrets key of at least 32 characters",
        )
        .output()
        .expect("run roster");
    assert!(sealed.status.success(), "{sealed:?}");
    let secret = String::from_utf8_lossy(&sealed.stdout).trim().to_owned();
    let db = sea_orm::Database::connect(&url).await.expect("connect");
    let stored = receivers::find(&db, DEFAULT_TENANT, "sealed")
        .await
        .expect("read")
        .expect("the receiver")
        .webhook_secret
        .expect("stored");
    assert!(
        stored.starts_with("roster-sealed:v1:") && !stored.contains(&secret),
        "{stored}"
    );
    for refused in [
        &["receiver", "add", "plain", "--push", "http://example.com/x"][..],
        &["receiver", "add", "crm", "--poll"],
        &[
            "receiver",
            "add",
            "odd",
            "--poll",
            "--events",
            "prov:nothing",
        ],
        &["receiver", "add", "both", "--poll", "--format", "json"],
    ] {
        let out = run(refused);
        assert!(!out.status.success(), "{refused:?} was accepted");
    }
    let list = run(&["receiver", "list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("crm\t") && text.contains("hook\t"), "{text}");
    let show = run(&["receiver", "show", "crm"]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("events:\tprov:delete,prov:deactivate"),
        "{text}"
    );
    assert!(text.contains("parked:\t0"), "{text}");
    assert!(
        !text.contains(&credential),
        "the credential is shown only once"
    );
    assert!(run(&["receiver", "remove", "crm"]).status.success());
    let list = run(&["receiver", "list"]);
    assert!(!String::from_utf8_lossy(&list.stdout).contains("crm\t"));
}

async fn one_node_at_a_time_holds_a_receiver(db: Db) {
    let app = TestApp::spawn(db).await;
    add_receiver(
        &app.db,
        DEFAULT_TENANT,
        "shared",
        Mode::Poll,
        Format::Set,
        None,
    )
    .await;
    let receiver = receivers::find(&app.db, DEFAULT_TENANT, "shared")
        .await
        .expect("read")
        .expect("the receiver");
    let now = roster::time::now_ms();
    let lease = (now, now + 30_000);
    assert!(
        receivers::claim(&app.db, &receiver, "node-a", lease)
            .await
            .expect("claim")
    );
    assert!(
        !receivers::claim(&app.db, &receiver, "node-b", lease)
            .await
            .expect("claim")
    );
    // The holder renews; the other node waits for the lease to run out.
    assert!(
        receivers::claim(&app.db, &receiver, "node-a", (now + 1, now + 30_001))
            .await
            .expect("renew")
    );
    let later = (now + 31_000, now + 61_000);
    assert!(
        receivers::claim(&app.db, &receiver, "node-b", later)
            .await
            .expect("claim")
    );
    assert!(
        !receivers::claim(&app.db, &receiver, "node-a", (now + 31_001, now + 61_001))
            .await
            .expect("claim")
    );
}

async fn pruning_drops_only_what_is_older_than_the_retention(db: Db) {
    let app = TestApp::spawn(db).await;
    let now = roster::time::now_ms();
    let old = [event_at(now - 10_000), event_at(now - 9_000)];
    let young = [event_at(now - 1_000), event_at(now)];
    store::insert_events(&app.db, &old).await.expect("insert");
    store::insert_events(&app.db, &young).await.expect("insert");
    let gone = store::prune(&app.db, now - 5_000).await.expect("prune");
    assert_eq!(gone, 2);
    let left = store::events_between(&app.db, DEFAULT_TENANT, 0, i64::MAX, 10)
        .await
        .expect("read");
    let ids: Vec<Uuid> = left.iter().map(|e| e.id).collect();
    assert_eq!(ids, [young[0].id, young[1].id]);
}

fn event_at(created_at: i64) -> NewEvent {
    NewEvent {
        tenant: DEFAULT_TENANT,
        id: Uuid::new_v4(),
        resource_type: "User",
        resource_id: Uuid::new_v4(),
        event: "prov:create:notice",
        txn: None,
        external_id: None,
        version: 1,
        attributes: None,
        created_at,
    }
}

async fn newest_seq(app: &TestApp) -> i64 {
    let all = store::events_between(&app.db, DEFAULT_TENANT, 0, i64::MAX, 100)
        .await
        .expect("read");
    all.last().map_or(0, |e| e.seq)
}

/// Receivers' cursors point past every key given out: a new event's key
/// must stay above them even once every older event is past retention.
async fn pruning_keeps_the_newest_event_so_keys_keep_rising(db: Db) {
    let app = TestApp::spawn(db).await;
    let now = roster::time::now_ms();
    store::insert_events(&app.db, &[event_at(now - 10_000), event_at(now - 9_000)])
        .await
        .expect("insert");
    let highest = newest_seq(&app).await;
    let gone = store::prune(&app.db, now).await.expect("prune");
    assert_eq!(gone, 1, "all but the newest");
    assert_eq!(newest_seq(&app).await, highest);
    store::insert_events(&app.db, &[event_at(now)])
        .await
        .expect("insert");
    assert!(newest_seq(&app).await > highest);
}

/// The outbox's counter leaves SQLite's `AUTOINCREMENT`: on a database
/// whose outbox was pruned empty, new events still get keys above those
/// given out before.
#[actix_web::test]
async fn an_outbox_pruned_empty_keeps_its_keys_rising_across_the_migration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
    let given = {
        let db = Database::connect(url.as_str()).await.expect("connect");
        let before = Migrator::migrations().len() - 1;
        Migrator::up(&db, Some(before as u32))
            .await
            .expect("older migrations");
        for _ in 0..3 {
            store::insert_events(&db, &[event_at(1_000)])
                .await
                .expect("insert");
        }
        db.execute_unprepared("DELETE FROM event_outbox")
            .await
            .expect("pruned");
        let given: i64 = first(
            &db,
            "SELECT seq FROM sqlite_sequence WHERE name = 'event_outbox'",
        )
        .await;
        db.close().await.ok();
        given
    };
    assert_eq!(given, 3);
    let app = TestApp::spawn_on(url, |_| {}).await;
    let create: String = first(
        &app.db,
        "SELECT sql FROM sqlite_master WHERE name = 'event_outbox'",
    )
    .await;
    assert!(!create.contains("AUTOINCREMENT"), "{create}");
    store::insert_events(&app.db, &[event_at(roster::time::now_ms())])
        .await
        .expect("insert");
    assert!(newest_seq(&app).await > given);
    // The placeholder that holds the counter belongs to no tenant.
    let all = store::events_between(&app.db, DEFAULT_TENANT, 0, i64::MAX, 100)
        .await
        .expect("read");
    assert_eq!(all.len(), 1, "{all:?}");
}

/// The first column of the first row `sql` reads on SQLite.
async fn first<T: TryGetable>(db: &DatabaseConnection, sql: &str) -> T {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .expect("read")
        .expect("a row");
    row.try_get_by_index(0).expect("a value")
}
