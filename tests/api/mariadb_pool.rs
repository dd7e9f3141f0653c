//! MariaDB: the pool's size against the server's limit, point reads on
//! the connections they keep, the plan of a multi-valued filter, and the
//! data against the server's buffer pool.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use roster::store::pool_size;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::json;

use crate::binary::{Running, free_port, roster};
use crate::helpers::{Db, TestApp, mariadb_url, url_encode, user_body};

/// The server's global variable `name`, a number.
async fn server_variable(db: &DatabaseConnection, name: &str) -> u64 {
    let sql = format!("SELECT CAST(@@{name} AS UNSIGNED) AS n");
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    let row = db.query_one_raw(stmt).await.expect("query").expect("a row");
    row.try_get("", "n").expect(name)
}

async fn server_max_connections(db: &DatabaseConnection) -> u32 {
    let n = server_variable(db, "max_connections").await;
    u32::try_from(n).expect("a small number")
}

/// The first stderr line of `roster serve` on `url` that contains
/// `wanted`, with `env` set; `None` if none came within 60 s.
fn serve_until_line(url: &str, env: &[(&str, String)], wanted: &str) -> Option<String> {
    let dir = tempfile::tempdir().expect("dir");
    let mut cmd = roster(dir.path());
    cmd.args(["serve", "--bind", &format!("127.0.0.1:{}", free_port())])
        .env("DATABASE_URL", url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().expect("start roster");
    let stderr = child.stderr.take().expect("stderr");
    let _running = Running(child);
    let (found, wait) = mpsc::channel();
    let wanted = wanted.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(&wanted) {
                found.send(line).ok();
            }
        }
    });
    wait.recv_timeout(Duration::from_secs(60)).ok()
}

#[actix_web::test]
async fn mariadb_a_pool_set_past_the_servers_limit_is_warned_about() {
    let url = mariadb_url().await;
    let app = TestApp::spawn_on(url.clone(), |_| {}).await;
    let max = server_max_connections(&app.db).await;
    let over = (max + 1).to_string();
    let env = [("ROSTER_DATABASE__MAX_CONNECTIONS", over.clone())];
    let line = serve_until_line(&url, &env, "exceeds the database server's max_connections")
        .expect("a warning about the pool's size");
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains(&format!("max_connections = {over}"))
            && line.contains(&format!("max_connections = {max}")),
        "{line}"
    );
}

#[actix_web::test]
async fn mariadb_the_default_pool_follows_the_host_within_the_servers_limit() {
    let url = mariadb_url().await;
    let app = TestApp::spawn_on(url.clone(), |_| {}).await;
    let max = server_max_connections(&app.db).await;
    let line = serve_until_line(&url, &[], "database pool: up to").expect("the pool's size");
    let expected = pool_size::choose(0, pool_size::host_cores(), Some(max)).size;
    assert!(
        line.contains(&format!(
            "up to {expected} connections (the server accepts {max})"
        )),
        "{line}"
    );
    assert!(!line.contains("WARN"), "{line}");
}

/// Reads keep their connections (a pool of 2 keeps one), and writes
/// started after them still find one: none waits past the acquire
/// timeout into a 503.
#[actix_web::test]
async fn mariadb_writes_after_reads_are_not_starved_of_connections() {
    let app = TestApp::spawn_with(Db::MariaDb, |c| c.database.max_connections = 2).await;
    let id = app.create_user("kept-reader@example.com").await;
    for _ in 0..4 {
        app.get(&format!("/Users/{id}")).await.assert_status(200);
    }
    let writes = (0..8).map(|i| {
        let body = user_body(&format!("kept-writer-{i}@example.com"));
        let app = &app;
        async move { app.post("/Users", &body).await.status }
    });
    let statuses = futures_util::future::join_all(writes).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}

/// A second node's write is seen by the next read on a kept connection:
/// nothing of an answer is kept between reads.
#[actix_web::test]
async fn mariadb_a_kept_connection_reads_another_nodes_write_at_once() {
    let url = mariadb_url().await;
    let reader = TestApp::spawn_on(url.clone(), |_| {}).await;
    let writer = TestApp::spawn_on(url, |_| {}).await;
    let id = writer.create_user("two-nodes@example.com").await;
    let path = format!("/Users/{id}");
    let read = reader.get(&path).await;
    read.assert_status(200);
    assert_eq!(read.body["active"], json!(true));
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}],
    });
    writer.patch(&path, &patch).await.assert_status(200);
    let after = reader.get(&path).await;
    assert_eq!(after.body["active"], json!(false), "{}", after.text);
}

/// Turns MariaDB's general log on (into `mysql.general_log`) for as long
/// as it lives.
struct GeneralLog<'a>(&'a DatabaseConnection);

impl<'a> GeneralLog<'a> {
    async fn on(db: &'a DatabaseConnection) -> Self {
        db.execute_unprepared("SET GLOBAL log_output = 'TABLE'")
            .await
            .expect("log output");
        db.execute_unprepared("SET GLOBAL general_log = 1")
            .await
            .expect("general log on");
        Self(db)
    }

    /// The statements executed so far that contain `marker`.
    async fn executed(&self, marker: &str) -> Vec<String> {
        let stmt = Statement::from_sql_and_values(
            self.0.get_database_backend(),
            "SELECT CONVERT(argument USING utf8mb4) AS sql_text FROM mysql.general_log \
             WHERE command_type = 'Execute' AND argument LIKE ?",
            [format!("%{marker}%").into()],
        );
        let rows = self.0.query_all_raw(stmt).await.expect("general log");
        rows.iter()
            .map(|r| r.try_get::<String>("", "sql_text").expect("text"))
            .collect()
    }

    async fn off(self) {
        self.0
            .execute_unprepared("SET GLOBAL general_log = 0")
            .await
            .expect("general log off");
    }
}

#[actix_web::test]
async fn mariadb_a_multi_valued_filter_is_not_sorted_through_a_temporary_table() {
    let app = TestApp::spawn(Db::MariaDb).await;
    let marker = format!("plan-{}", uuid::Uuid::new_v4().simple());
    let shared = format!("{marker}@work.example");
    // Three users share the work address, created in this order; others
    // do not match.
    let mut created = Vec::new();
    for i in 0..5 {
        let mut body = user_body(&format!("{marker}-{i}@example.com"));
        let value = if i % 2 == 0 {
            shared.clone()
        } else {
            format!("{marker}-{i}@work.example")
        };
        body["emails"] = json!([{"value": value, "type": "work", "primary": true}]);
        let resp = app.post("/Users", &body).await;
        resp.assert_status(201);
        if i % 2 == 0 {
            created.push(resp.body["id"].as_str().expect("id").to_owned());
        }
    }
    let group = app
        .create_group(&format!("{marker}-group"), &[&created[1]])
        .await;

    let log = GeneralLog::on(&app.db).await;
    let filter = format!("emails[type eq \"work\"].value eq \"{shared}\"");
    let found = app
        .get(&format!("/Users?filter={}", url_encode(&filter)))
        .await;
    found.assert_status(200);
    let executed = log.executed(&marker).await;
    log.off().await;

    let ids: Vec<&str> = found.body["Resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|u| u["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, created, "in creation order");
    assert_eq!(found.body["totalResults"], 3);
    assert_eq!(
        found.body["Resources"][1]["groups"][0]["value"],
        json!(group)
    );

    let page = executed
        .iter()
        .find(|sql| sql.contains("user_emails") && sql.contains("LEFT JOIN"))
        .unwrap_or_else(|| panic!("the page's statement among {executed:#?}"));
    assert!(!page.contains("ORDER BY"), "{page}");
    let explain = Statement::from_string(app.db.get_database_backend(), format!("EXPLAIN {page}"));
    let plan = app.db.query_all_raw(explain).await.expect("explain");
    for step in &plan {
        let extra: Option<String> = step.try_get("", "Extra").expect("Extra");
        let extra = extra.unwrap_or_default();
        assert!(
            !extra.contains("Using temporary") && !extra.contains("Using filesort"),
            "{extra}"
        );
    }
}

/// Start-up says how Roster's data compares with the server's buffer
/// pool; the test database is far smaller than the pool, so without a
/// warning.
#[actix_web::test]
async fn mariadb_start_up_compares_the_data_with_the_buffer_pool() {
    let url = mariadb_url().await;
    let app = TestApp::spawn_on(url.clone(), |_| {}).await;
    let pool = server_variable(&app.db, "innodb_buffer_pool_size").await;
    let line = serve_until_line(&url, &[], "InnoDB buffer pool").expect("the comparison");
    let expected = format!("of the server's {} MiB InnoDB buffer pool", pool >> 20);
    assert!(line.contains(&expected), "{line}");
    assert!(!line.contains("WARN"), "{line}");
}
