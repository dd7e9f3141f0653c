//! The database fails under load: paused, killed and restarted, cut off
//! in the middle of a streamed answer, or out of disk space. Requests must
//! be answered 503 with Retry-After (or 507 for a full disk) within about
//! a second, never 500, and served again as soon as the database is back.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use awc::http::Method;
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::victim::{Revive, Victim, tmpfs};
use crate::helpers::{Db, TestApp, read, user_body};

/// How long a request may take while the database does not answer: the
/// one-second acquire and statement timeouts, and room for a loaded
/// two-core machine.
const ANSWER_WITHIN: Duration = Duration::from_millis(1800);

/// How soon after the database is back requests succeed again.
const RECOVER_WITHIN: Duration = Duration::from_secs(2);

const WORKERS: usize = 8;

#[derive(Debug)]
struct Sample {
    /// Since the load began.
    started: Duration,
    took: Duration,
    status: u16,
    retry_after: bool,
}

async fn app_on_the_victim(
    victim: &Victim,
    adjust: impl FnOnce(&mut roster::config::Config),
) -> TestApp {
    let url = victim.fresh_database().await;
    TestApp::spawn_with(Db::MariaDb, |c| {
        c.database.url = roster::config::DatabaseUrl::new(url);
        c.database.max_connections = 4;
        adjust(c);
    })
    .await
}

/// Reads and writes from `WORKERS` clients until `until` (after `t0`).
async fn load(app: &TestApp, t0: Instant, until: Duration) -> Vec<Sample> {
    let worker = |w: usize| async move {
        let mut samples = Vec::new();
        let mut i = 0;
        while t0.elapsed() < until {
            let started = t0.elapsed();
            let r = if i % 2 == 0 {
                app.filter("/Users", &format!("userName eq \"seed-{}\"", w))
                    .await
            } else {
                app.post(
                    "/Users",
                    &user_body(&format!("load-{w}-{i}-{}", uuid::Uuid::new_v4())),
                )
                .await
            };
            samples.push(Sample {
                started,
                took: t0.elapsed() - started,
                status: r.status,
                retry_after: r.header("retry-after").is_some(),
            });
            i += 1;
        }
        samples
    };
    let all = futures_util::future::join_all((0..WORKERS).map(worker)).await;
    all.into_iter().flatten().collect()
}

async fn seed(app: &TestApp) {
    for w in 0..WORKERS {
        app.create_user(&format!("seed-{w}")).await;
    }
}

/// No 500 ever; every 503 with Retry-After; every request that ran while
/// the database was away answered within `ANSWER_WITHIN`; some 503s seen.
fn assert_fast_503s(samples: &[Sample], away: Duration, back: Duration) {
    let bad: Vec<&Sample> = samples
        .iter()
        .filter(|s| !(200..300).contains(&s.status) && s.status != 503)
        .collect();
    assert!(bad.is_empty(), "answers other than 2xx and 503: {bad:?}");
    let no_retry: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.status == 503 && !s.retry_after)
        .collect();
    assert!(no_retry.is_empty(), "503 without Retry-After: {no_retry:?}");
    let during: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.started + s.took > away && s.started < back)
        .collect();
    let slowest = during.iter().map(|s| s.took).max().unwrap_or_default();
    eprintln!(
        "{} requests while the database was away, {} answered 503, slowest {slowest:?}",
        during.len(),
        during.iter().filter(|s| s.status == 503).count()
    );
    assert!(
        during.iter().any(|s| s.status == 503),
        "no 503 while the database was away"
    );
    let slow: Vec<&&Sample> = during.iter().filter(|s| s.took > ANSWER_WITHIN).collect();
    assert!(
        slow.is_empty(),
        "requests slower than {ANSWER_WITHIN:?}: {slow:?}"
    );
}

/// The first request started after `back` that succeeded did so within
/// `RECOVER_WITHIN`, and all from then on succeed.
fn assert_recovered(samples: &[Sample], back: Duration) {
    let first_ok = samples
        .iter()
        .filter(|s| s.started >= back && (200..300).contains(&s.status))
        .map(|s| s.started + s.took)
        .min()
        .expect("a success after the database came back");
    eprintln!(
        "first success {:?} after the database came back",
        first_ok - back
    );
    assert!(
        first_ok - back <= RECOVER_WITHIN,
        "recovered only after {:?}",
        first_ok - back
    );
    let late_failures: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.started >= back + RECOVER_WITHIN && s.status >= 300)
        .collect();
    assert!(
        late_failures.is_empty(),
        "failures after recovery: {late_failures:?}"
    );
}

#[ignore = "faults stage"]
#[actix_web::test]
async fn a_paused_database_is_answered_503_within_a_second_and_recovers() {
    let victim = Victim::from_env();
    let app = app_on_the_victim(&victim, |_| {}).await;
    seed(&app).await;
    let t0 = Instant::now();
    let (away, back) = (Duration::from_millis(1500), Duration::from_millis(5000));
    let load = load(&app, t0, Duration::from_secs(8));
    let fault = async {
        actix_web::rt::time::sleep(away).await;
        let paused = victim.pause();
        actix_web::rt::time::sleep(back - away).await;
        paused.resume();
    };
    let (samples, ()) = futures_util::future::join(load, fault).await;
    assert_fast_503s(&samples, away, back);
    assert_recovered(&samples, back);
    app.get("/Users?count=1").await.assert_status(200);
}

#[ignore = "faults stage"]
#[actix_web::test]
async fn a_killed_database_is_answered_503_never_500_and_recovers_after_restart() {
    let victim = Victim::from_env();
    let _revive = Revive(&victim);
    let app = app_on_the_victim(&victim, |_| {}).await;
    seed(&app).await;
    let t0 = Instant::now();
    let away = Duration::from_millis(1500);
    let load = load(&app, t0, Duration::from_secs(9));
    let fault = async {
        actix_web::rt::time::sleep(away).await;
        victim.kill();
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        let restart = actix_web::rt::task::spawn_blocking(|| Victim::from_env().restart());
        restart.await.expect("restart");
        t0.elapsed()
    };
    let (samples, back) = futures_util::future::join(load, fault).await;
    eprintln!("the database was away from {away:?} to {back:?}");
    assert_fast_503s(&samples, away, back);
    assert_recovered(&samples, back);
    app.get("/Users?count=1").await.assert_status(200);
}

/// A group's members are streamed after the status line has gone out; a
/// database that stops answering part-way must cut the body so that the
/// client sees an error, neither a valid-looking document nor a hang.
#[ignore = "faults stage"]
#[actix_web::test]
async fn a_group_streamed_while_the_database_stops_answering_is_cut() {
    const MEMBERS: usize = 1000;
    let victim = Victim::from_env();
    // One statement per member: the answer takes hundreds of statements.
    let app = app_on_the_victim(&victim, |c| c.scim.member_batch = 1).await;
    let mut ids = Vec::new();
    for chunk in 0..MEMBERS / 100 {
        let ops: Vec<Value> = (0..100)
            .map(|i| {
                json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                       "data": user_body(&format!("member-{chunk}-{i}"))})
            })
            .collect();
        let r = app
            .post(
                "/Bulk",
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                        "Operations": ops}),
            )
            .await;
        r.assert_status(200);
        for op in r.body["Operations"].as_array().expect("operations") {
            let location = op["location"].as_str().expect("location");
            ids.push(location.rsplit('/').next().expect("id").to_owned());
        }
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let group = app.create_group("streamed", &refs).await;

    let mut resp = app
        .request(Method::GET, &format!("/Groups/{group}"))
        .insert_header(("Accept-Encoding", "identity"))
        .send()
        .await
        .expect("headers");
    assert_eq!(resp.status().as_u16(), 200);
    let mut body = Vec::new();
    let first = resp.next().await.expect("a first chunk").expect("bytes");
    body.extend_from_slice(&first);
    let paused = victim.pause();
    let rest = actix_web::rt::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = resp.next().await {
            match chunk {
                Ok(bytes) => body.extend_from_slice(&bytes),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    })
    .await;
    paused.resume();
    let outcome = rest.expect("the stream ended within 10 s instead of hanging");
    let parsed = serde_json::from_slice::<Value>(&body);
    eprintln!(
        "{} bytes, then {outcome:?}; JSON: {}",
        body.len(),
        parsed.is_ok()
    );
    assert!(
        outcome.is_err() && parsed.is_err(),
        "the client must see a broken body, got {} bytes ending {:?}",
        body.len(),
        String::from_utf8_lossy(&body[body.len().saturating_sub(80)..])
    );
    // And the group reads whole once the database answers.
    assert_eq!(app.member_ids(&group).await.len(), MEMBERS);
}

const BIN: &str = env!("CARGO_BIN_EXE_roster");
const TOKEN: &str = "disk-full-token-0123456789";

/// SQLite on a full disk: writes are refused with 507 and a clear detail,
/// logged once; reads keep working; nothing is corrupted; writes work
/// again as soon as space is freed.
#[ignore = "faults stage"]
#[actix_web::test]
async fn sqlite_on_a_full_disk_answers_507_logs_once_and_recovers() {
    let Some(tmpfs) = tmpfs() else { return };
    let dir = tempfile::tempdir_in(&tmpfs).expect("a directory on the tmpfs");
    let db_path = dir.path().join("roster.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .env("ROSTER_BEARER_TOKEN", TOKEN)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args([
            "--database-url",
            &format!("sqlite://{}?mode=rwc", db_path.display()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start roster");
    let stderr = child.stderr.take().expect("stderr");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let base = format!("http://127.0.0.1:{port}/scim/v2");
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let send = |method: Method, path: &str, body: Option<Value>| {
        let req = client
            .request(method, format!("{base}{path}"))
            .insert_header(("Authorization", format!("Bearer {TOKEN}")))
            .insert_header(("Content-Type", "application/scim+json"));
        async move {
            let sent = match body {
                Some(b) => req.send_body(b.to_string()).await,
                None => req.send().await,
            };
            read(sent.expect("the server answers")).await
        }
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "roster did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    for i in 0..20 {
        send(
            Method::POST,
            "/Users",
            Some(user_body(&format!("before-{i}"))),
        )
        .await
        .assert_status(201);
    }

    let filler = tmpfs.join("filler");
    fill(&filler);
    let mut refused = 0;
    for i in 0..30 {
        let r = send(
            Method::POST,
            "/Users",
            Some(user_body(&format!("full-{i}-{}", "x".repeat(4000)))),
        )
        .await;
        match r.status {
            201 => assert_eq!(
                refused, 0,
                "a write succeeded after one was refused: {}",
                r.text
            ),
            507 => {
                r.assert_scim_error(507, None);
                let detail = r.body["detail"].as_str().unwrap_or_default();
                assert!(detail.contains("space"), "{detail}");
                refused += 1;
            }
            503 => {
                assert!(r.header("retry-after").is_some(), "{}", r.text);
                refused += 1;
            }
            _ => panic!("a full disk answered {}: {}", r.status, r.text),
        }
    }
    assert!(
        refused >= 20,
        "only {refused} writes refused on a full disk"
    );
    send(Method::GET, "/Users?count=5", None)
        .await
        .assert_status(200);

    std::fs::remove_file(&filler).expect("free the space");
    let r = send(Method::POST, "/Users", Some(user_body("after"))).await;
    r.assert_status(201);
    let _ = child.kill();
    let _ = child.wait();

    let log: Vec<String> = lines_rx.try_iter().collect();
    let full_lines: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("no space left") || l.contains("database error"))
        .collect();
    assert_eq!(
        full_lines.len(),
        1,
        "one line for the episode: {full_lines:#?}"
    );

    let db = rusqlite::Connection::open(&db_path).expect("open the database");
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity check");
    assert_eq!(check, "ok");
    let after: i64 = db
        .query_row(
            "SELECT count(*) FROM users WHERE user_name = 'after'",
            [],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(after, 1);
}

/// Writes zeros to `path` until the file system is full.
fn fill(path: &std::path::Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("create the filler");
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    // Whatever is left is smaller than a block: fill it byte by byte.
    while file.write_all(&[0]).is_ok() {}
    let _ = file.sync_all();
}
