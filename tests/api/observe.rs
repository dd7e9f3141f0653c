//! Health and readiness probes, `/metrics` (parsed line by line as the
//! Prometheus text format) and its access rules, request ids.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use roster::config::DatabaseUrl;
use roster::observe::health::Readiness;
use roster::service::{Change, ChangeHook, ChangeHooks};
use sea_orm::{ConnectOptions, ConnectionTrait, Database};
use serde_json::json;

use crate::helpers::{BASIC_PASSWORD, BASIC_USER, Db, Resp, TOKEN, TestApp, read, user_body};
use crate::{each_database, on_both_databases};

async fn get(url: String, auth: Option<&str>) -> Resp {
    let mut req = awc::Client::default().get(url);
    if let Some(auth) = auth {
        req = req.insert_header(("Authorization", auth.to_owned()));
    }
    read(req.send().await.expect("request reaches the server")).await
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

on_both_databases!(
    probes_answer_without_credentials,
    readyz_fails_when_the_pool_is_closed
);

async fn probes_answer_without_credentials(app: TestApp) {
    let health = get(format!("{}/healthz", app.root), None).await;
    health.assert_status(200);
    assert_eq!(health.body, json!({"status": "ok"}));
    let ready = get(format!("{}/readyz", app.root), None).await;
    ready.assert_status(200);
    assert_eq!(ready.body, json!({"status": "ready"}));
    // Only at the root: under the base path they are SCIM routes.
    get(app.url("/healthz"), None)
        .await
        .assert_scim_error(401, None);
}

async fn readyz_fails_when_the_pool_is_closed(app: TestApp) {
    app.db.close_by_ref().await.expect("close the pool");
    let ready = get(format!("{}/readyz", app.root), None).await;
    ready.assert_status(503);
    assert_eq!(ready.body["status"], "unavailable", "{}", ready.text);
    let reason = ready.body["reason"].as_str().expect("a reason");
    assert!(reason.starts_with("database unreachable"), "{reason}");
    assert!(ready.header("retry-after").is_some());
    get(format!("{}/healthz", app.root), None)
        .await
        .assert_status(200);
    // On MariaDB every statement needs the pool (SQLite reads and writes
    // have connections of their own): the failure names the request.
    if app.kind == Db::MariaDb {
        let req = app
            .request(awc::http::Method::GET, "/Users")
            .insert_header(("X-Request-Id", "closed-pool-1"));
        let failed = app.send(req, None).await;
        assert!(failed.status >= 500, "{}", failed.text);
        let detail = failed.body["detail"].as_str().unwrap_or_default();
        assert!(detail.ends_with("(request id closed-pool-1)"), "{detail}");
    }
}

/// A MariaDB that does not answer, with a password in its URL that the
/// reason must not show.
#[actix_web::test]
async fn readiness_names_an_unreachable_database_without_its_password() {
    let url = DatabaseUrl::new("mysql://scim:Sup3r-Secret@127.0.0.1:1/scim");
    let mut opts = ConnectOptions::new(url.expose().to_owned());
    opts.connect_lazy(true)
        .connect_timeout(std::time::Duration::from_millis(500));
    let db = Database::connect(opts).await.expect("a lazy pool");
    let reason = Readiness::new(db, &url)
        .check()
        .await
        .expect_err("not ready");
    assert!(reason.starts_with("database unreachable"), "{reason}");
    assert!(!reason.contains("Sup3r-Secret"), "{reason}");
}

each_database!(readyz_waits_for_the_migrations);

/// A database missing one of this build's migrations is not ready; once
/// it is applied, it is.
async fn readyz_waits_for_the_migrations(db: Db) {
    let removed = Arc::new(Mutex::new(String::new()));
    let kept = removed.clone();
    let app = TestApp::spawn_prepared(
        db,
        |_| {},
        async move |conn: &sea_orm::DatabaseConnection| {
            let last = conn
                .query_one_raw(sea_orm::Statement::from_string(
                    conn.get_database_backend(),
                    "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1",
                ))
                .await
                .expect("read")
                .expect("a migration");
            let version: String = last.try_get("", "version").expect("version");
            conn.execute_unprepared(&format!(
                "DELETE FROM seaql_migrations WHERE version = '{version}'"
            ))
            .await
            .expect("forget it");
            *kept.lock().expect("lock") = version;
        },
    )
    .await;
    let ready = get(format!("{}/readyz", app.root), None).await;
    ready.assert_status(503);
    assert!(
        ready.body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("migrations are not applied")),
        "{}",
        ready.text
    );
    let version = removed.lock().expect("lock").clone();
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{version}', 0)"
        ))
        .await
        .expect("restore it");
    get(format!("{}/readyz", app.root), None)
        .await
        .assert_status(200);
}

/// One sample line: `name{a="x",b="y"} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// Strict enough to fail on anything Prometheus would reject: every
/// non-comment line is a name, optional labels with quoted values, and a
/// number.
fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let kind = comment.split_whitespace().next().unwrap_or_default();
            assert!(
                ["TYPE", "HELP", "UNIT", "EOF"].contains(&kind),
                "bad comment {line:?}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, HashMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("closing brace");
                let mut labels = HashMap::new();
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").expect("key=\"value\"");
                    labels.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
                }
                (name, labels)
            }
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad name {name:?}"
        );
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

/// The value of the series `name` whose labels include `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

each_database!(metrics_count_requests_by_route_template);

async fn metrics_count_requests_by_route_template(db: Db) {
    let app = TestApp::spawn_with(db, |c| c.metrics.open = true).await;
    let id = app.create_user("metrics.user").await;
    app.get(&format!("/Users/{id}")).await.assert_status(200);
    app.post("/Users", &user_body("metrics.user"))
        .await
        .assert_status(409);
    get(format!("{}/nowhere", app.root), None)
        .await
        .assert_status(404);
    get(app.url("/Users"), Some("Bearer wrong-token"))
        .await
        .assert_status(401);
    let scraped = get(format!("{}/metrics", app.root), None).await;
    scraped.assert_status(200);
    assert!(
        scraped
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
    );
    assert!(!scraped.text.contains(&id), "a raw id in a label");
    let m = parse_metrics(&scraped.text);
    let by_id = [
        ("method", "GET"),
        ("route", "/scim/v2/Users/{id}"),
        ("status", "200"),
    ];
    assert_eq!(value(&m, "roster_http_requests_total", &by_id), Some(1.0));
    let created = [
        ("method", "POST"),
        ("route", "/scim/v2/Users"),
        ("status", "201"),
    ];
    assert_eq!(value(&m, "roster_http_requests_total", &created), Some(1.0));
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert_eq!(
        value(&m, "roster_http_requests_total", &unmatched),
        Some(1.0)
    );
    let route = [("method", "GET"), ("route", "/scim/v2/Users/{id}")];
    assert_eq!(
        value(&m, "roster_http_request_duration_seconds_count", &route),
        Some(1.0)
    );
    let inf = [
        ("method", "GET"),
        ("route", "/scim/v2/Users/{id}"),
        ("le", "+Inf"),
    ];
    assert_eq!(
        value(&m, "roster_http_request_duration_seconds_bucket", &inf),
        Some(1.0)
    );
    // The scrape itself.
    assert_eq!(value(&m, "roster_http_requests_in_flight", &[]), Some(1.0));
    let bad = [("scheme", "bearer"), ("reason", "bad_token")];
    assert_eq!(value(&m, "roster_auth_failures_total", &bad), Some(1.0));
    let op = |outcome| {
        [
            ("resource", "User"),
            ("operation", "create"),
            ("outcome", outcome),
            ("principal", "configured bearer token"),
        ]
    };
    assert_eq!(
        value(&m, "roster_scim_operations_total", &op("success")),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "roster_scim_operations_total", &op("client_error")),
        Some(1.0)
    );
    for state in ["idle", "in_use"] {
        assert!(value(&m, "roster_db_pool_connections", &[("state", state)]).is_some());
    }
    assert!(value(&m, "roster_db_write_queue_depth", &[]).is_some());
    let version = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(value(&m, "roster_build_info", &version), Some(1.0));
}

#[actix_web::test]
async fn metrics_on_the_main_listener_need_an_allowed_credential() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let metrics = || format!("{}/metrics", app.root);
    get(metrics(), None).await.assert_scim_error(401, None);
    get(metrics(), Some("Bearer nope"))
        .await
        .assert_scim_error(401, None);
    get(metrics(), Some(&bearer()))
        .await
        .assert_scim_error(403, None);

    let app = TestApp::spawn_with(Db::Sqlite, |c| c.metrics.allow = vec![BASIC_USER.into()]).await;
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{BASIC_USER}:{BASIC_PASSWORD}")
        )
    );
    let url = format!("{}/metrics", app.root);
    get(url.clone(), Some(&basic)).await.assert_status(200);
    get(url, Some(&bearer())).await.assert_scim_error(403, None);
}

#[actix_web::test]
async fn the_management_listener_serves_only_probes_and_metrics() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.server.management_bind = Some("127.0.0.1:0".into());
    })
    .await;
    let management = app.management.clone().expect("a management listener");
    let scraped = get(format!("{management}/metrics"), None).await;
    scraped.assert_status(200);
    assert!(scraped.text.contains("roster_build_info"));
    for probe in ["/healthz", "/readyz"] {
        get(format!("{management}{probe}"), None)
            .await
            .assert_status(200);
        get(format!("{}{probe}", app.root), None)
            .await
            .assert_status(200);
    }
    get(format!("{management}/scim/v2/Users"), Some(&bearer()))
        .await
        .assert_scim_error(404, None);
    get(format!("{}/metrics", app.root), Some(&bearer()))
        .await
        .assert_scim_error(404, None);
    app.get("/Users").await.assert_status(200);
}

#[actix_web::test]
async fn metrics_turned_off_answer_404() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.metrics.enabled = false;
        c.metrics.open = true;
    })
    .await;
    get(format!("{}/metrics", app.root), None)
        .await
        .assert_scim_error(404, None);
    app.create_user("still.serving").await;
}

#[derive(Default)]
struct Ids(Mutex<Vec<Option<Arc<str>>>>);

impl ChangeHook for Ids {
    fn committed(&self, change: &Change) {
        self.0.lock().expect("lock").push(change.request_id.clone());
    }
}

each_database!(request_ids_are_kept_made_and_seen_by_hooks);

async fn request_ids_are_kept_made_and_seen_by_hooks(db: Db) {
    let ids = Arc::new(Ids::default());
    let app = TestApp::spawn_hooked(
        db,
        |_| {},
        async |_| {},
        ChangeHooks::new(vec![ids.clone()]),
    )
    .await;
    let app = &app;
    let post = |name: &str, id: Option<&str>| {
        let mut req = app.request(awc::http::Method::POST, "/Users");
        if let Some(id) = id {
            req = req.insert_header(("X-Request-Id", id.to_owned()));
        }
        let body = user_body(name);
        async move { app.send(req, Some(&body)).await }
    };
    let kept = post("kept", Some("okta-req:1.2_3")).await;
    kept.assert_status(201);
    assert_eq!(kept.header("x-request-id"), Some("okta-req:1.2_3"));
    let made = post("made", None).await;
    made.assert_status(201);
    let made_id = made.header("x-request-id").expect("an id").to_owned();
    assert!(!made_id.is_empty() && made_id.len() <= 128);
    let insane = "x".repeat(129);
    let replaced = post("replaced", Some(&insane)).await;
    let replaced_id = replaced.header("x-request-id").expect("an id").to_owned();
    assert_ne!(replaced_id, insane);
    assert_ne!(replaced_id, made_id);
    let seen: Vec<_> = ids
        .0
        .lock()
        .expect("lock")
        .iter()
        .map(|i| i.as_deref().map(str::to_owned))
        .collect();
    assert_eq!(
        seen,
        [
            Some("okta-req:1.2_3".to_owned()),
            Some(made_id),
            Some(replaced_id)
        ]
    );
    // Every answer carries one, errors and probes too.
    let missing = get(app.url("/Users/nope"), Some(&bearer())).await;
    assert!(missing.header("x-request-id").is_some());
    let probe = get(format!("{}/healthz", app.root), None).await;
    assert!(probe.header("x-request-id").is_some());
}
