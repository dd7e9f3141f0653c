//! Management commands of the real binary: they open an existing database
//! only and never migrate it behind the operator's back; `roster backup`
//! copies a serving SQLite database; database files are private.

use std::path::Path;
use std::time::{Duration, Instant};

use awc::http::Method;
use serde_json::json;

use crate::process::{Server, all_resources, comparable, mode_of, run_command};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn last_line(out: &std::process::Output) -> String {
    stderr_of(out).lines().last().unwrap_or_default().to_owned()
}

#[test]
fn management_commands_in_the_wrong_folder_create_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let url = "sqlite://roster.db?mode=rwc";
    let commands: [&[&str]; 5] = [
        &["token", "list"],
        &["token", "create"],
        &["oauth-client", "list"],
        &["oauth-key", "list"],
        &["backup", "--out", "copy.db"],
    ];
    for args in commands {
        let out = run_command(dir.path(), url, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr_of(&out));
        let line = last_line(&out);
        assert!(
            line.starts_with("roster: no database at") && line.contains("roster.db"),
            "{args:?}: {line}"
        );
        assert!(
            !dir.path().join("roster.db").exists(),
            "{args:?} created it"
        );
        assert!(!dir.path().join("copy.db").exists(), "{args:?}");
    }
}

/// Tables in the database at `url`.
async fn table_count(url: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(url).await.expect("open");
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'"
        }
        _ => "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE()",
    };
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .expect("count")
        .expect("a row");
    db.close().await.ok();
    row.try_get::<i64>("", "n").expect("n")
}

#[actix_web::test]
async fn management_commands_never_migrate_and_migrate_does_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("roster.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    // An existing database without Roster's schema, e.g. one that a
    // deployment with `migrate_on_start = false` has not migrated yet.
    std::fs::write(&path, b"").expect("empty database");
    never_migrate_then_migrate(dir.path(), &url).await;
}

#[actix_web::test]
async fn management_commands_never_migrate_and_migrate_does_mariadb() {
    let dir = tempfile::tempdir().expect("dir");
    let url = crate::helpers::mariadb_url().await;
    never_migrate_then_migrate(dir.path(), &url).await;
}

async fn never_migrate_then_migrate(dir: &Path, url: &str) {
    for args in [["token", "list"], ["oauth-key", "list"]] {
        let out = run_command(dir, url, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr_of(&out));
        let line = last_line(&out);
        assert!(
            line.contains("not a current Roster database") && line.contains("roster migrate"),
            "{args:?}: {line}"
        );
    }
    assert_eq!(table_count(url).await, 0, "nothing migrated");

    let migrated = run_command(dir, url, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr_of(&migrated));
    let created = run_command(dir, url, &["token", "create", "--name", "okta"]);
    assert!(created.status.success(), "{}", stderr_of(&created));
    let token = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    assert!(token.starts_with("roster_"), "{token}");
    let listed = run_command(dir, url, &["token", "list"]);
    assert!(listed.status.success(), "{}", stderr_of(&listed));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("\tokta\t"));
}

#[actix_web::test]
async fn database_files_are_private_and_loose_ones_are_named() {
    let dir = tempfile::tempdir().expect("dir");
    let url = "sqlite://roster.db?mode=rwc";
    let server = Server::start(dir.path(), url, &[]).await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "m"});
    server
        .send(Method::POST, "/Users", Some(&user))
        .await
        .assert_status(201);
    for name in [
        "roster.db",
        "roster.db-wal",
        "roster.db-shm",
        "roster-requests.db",
    ] {
        let path = dir.path().join(name);
        assert_eq!(mode_of(&path), 0o600, "{name}");
    }
    assert!(
        !server.log_text().contains("chmod"),
        "{}",
        server.log_text()
    );
    server.kill();

    let db = dir.path().join("roster.db");
    set_mode(&db, 0o644);
    let server = Server::start(dir.path(), url, &[]).await;
    let log = server.log_text();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("chmod 600")).collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning for the one loose file: {log}"
    );
    assert!(warnings[0].contains("roster.db has mode 0644"), "{log}");
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Writers that run until `until`: new users, each added to a group.
async fn write_until(server: &Server, groups: &[String], writer: usize, until: Instant) -> usize {
    let mut n = 0;
    while Instant::now() < until {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("w{writer}-{n}"),
            "emails": [{"value": format!("w{writer}-{n}@example.com")}],
        });
        let created = server.send(Method::POST, "/Users", Some(&body)).await;
        created.assert_status(201);
        let id = created.body["id"].as_str().expect("id").to_owned();
        let patch = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}],
        });
        let group = &groups[n % groups.len()];
        let patched = server
            .send(Method::PATCH, &format!("/Groups/{group}"), Some(&patch))
            .await;
        assert!(matches!(patched.status, 200 | 204), "{}", patched.text);
        n += 1;
    }
    n
}

/// `roster backup` on a thread, so the writers keep going meanwhile.
fn backup_in_background(
    dir: &Path,
    url: &str,
    out: &str,
) -> std::thread::JoinHandle<std::process::Output> {
    let (dir, url, out) = (dir.to_owned(), url.to_owned(), out.to_owned());
    std::thread::spawn(move || run_command(&dir, &url, &["backup", "--out", &out]))
}

async fn joined<T: Send + 'static>(handle: std::thread::JoinHandle<T>) -> T {
    while !handle.is_finished() {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    handle.join().expect("the thread ends")
}

/// One moment's state: every member a group lists is a user of the copy.
fn assert_snapshot_consistent(resources: &[serde_json::Value]) {
    let users: std::collections::HashSet<&str> = resources
        .iter()
        .filter(|r| r["userName"].is_string())
        .filter_map(|r| r["id"].as_str())
        .collect();
    for group in resources.iter().filter(|r| r["members"].is_array()) {
        for member in group["members"].as_array().into_iter().flatten() {
            let id = member["value"].as_str().unwrap_or_default();
            assert!(
                users.contains(id),
                "member {id} of a group is not in the copy"
            );
        }
    }
}

async fn dataset(server: &Server) -> Vec<serde_json::Value> {
    let mut all = all_resources(server, "/Users").await;
    all.extend(all_resources(server, "/Groups").await);
    // The same data served from another port: links differ by it only.
    let text = serde_json::to_string(&all).expect("json");
    let text = text.replace(&format!("127.0.0.1:{}", server.port), "HOST");
    let all: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    all.iter().map(comparable).collect()
}

#[actix_web::test]
async fn a_backup_taken_while_serving_writes_restores_to_the_same_data() {
    let dir = tempfile::tempdir().expect("dir");
    let url = "sqlite://roster.db?mode=rwc";
    let server = Server::start(dir.path(), url, &[]).await;
    let mut groups = Vec::new();
    for g in 0..3 {
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("g{g}")});
        let created = server.send(Method::POST, "/Groups", Some(&body)).await;
        created.assert_status(201);
        groups.push(created.body["id"].as_str().expect("id").to_owned());
    }

    // A backup in the middle of a stream of writes.
    let until = Instant::now() + Duration::from_secs(3);
    let writers = (0..8).map(|w| write_until(&server, &groups, w, until));
    let during = async {
        actix_web::rt::time::sleep(Duration::from_millis(800)).await;
        joined(backup_in_background(dir.path(), url, "during.db")).await
    };
    let (written, during) =
        futures_util::future::join(futures_util::future::join_all(writers), during).await;
    assert!(during.status.success(), "{}", stderr_of(&during));
    let written: usize = written.iter().sum();
    assert!(written > 0);
    assert_eq!(mode_of(&dir.path().join("during.db")), 0o600);
    // The request log's own file is copied beside it, as private.
    assert_eq!(mode_of(&dir.path().join("during-requests.db")), 0o600);
    assert!(logged_requests(&dir.path().join("during-requests.db")) > 0);

    // The copy taken mid-stream is a database a server opens and serves.
    let restored_during = Server::start(dir.path(), "sqlite://during.db?mode=rw", &[]).await;
    let partial = dataset(&restored_during).await;
    assert!(partial.len() >= 3, "the groups at least");
    assert_snapshot_consistent(&partial);
    drop(restored_during);

    // At a quiescent point, a second backup holds exactly what the source
    // serves.
    let after = joined(backup_in_background(dir.path(), url, "after.db")).await;
    assert!(after.status.success(), "{}", stderr_of(&after));
    let source = dataset(&server).await;
    assert_eq!(source.len(), written + 3);
    let restored = Server::start(dir.path(), "sqlite://after.db?mode=rw", &[]).await;
    assert_eq!(dataset(&restored).await, source);

    // An existing file is kept unless --force.
    let again = run_command(dir.path(), url, &["backup", "--out", "after.db"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        last_line(&again).contains("--force"),
        "{}",
        stderr_of(&again)
    );
    let forced = run_command(
        dir.path(),
        url,
        &["backup", "--out", "during.db", "--force"],
    );
    assert!(forced.status.success(), "{}", stderr_of(&forced));
}

/// Requests in the request log file at `path`.
fn logged_requests(path: &Path) -> i64 {
    let c = rusqlite::Connection::open(path).expect("open the copy");
    c.query_row("SELECT COUNT(*) FROM audit_requests", [], |r| r.get(0))
        .expect("count")
}

#[test]
fn backup_of_mariadb_prints_the_dump_command_without_the_password() {
    let dir = tempfile::tempdir().expect("dir");
    let url = "mysql://scim:hunter2@db.internal:3307/roster_prod";
    let out = run_command(dir.path(), url, &["backup", "--out", "x.sql"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("mariadb-dump --single-transaction --routines")
            && stdout.contains("-h db.internal -P 3307 -u scim -p roster_prod"),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2") && !stderr_of(&out).contains("hunter2"));
    assert!(!dir.path().join("x.sql").exists());
}
