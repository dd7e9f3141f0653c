//! The HTTP transport: compressed request bodies under the body limit,
//! and a graceful stop of the real binary.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use awc::http::Method;
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};

use crate::binary::{Running, free_port, poll, roster};
use crate::helpers::{TestApp, user_body};
use crate::on_both_databases;

on_both_databases!(
    gzip_bodies_are_read_within_the_limit,
    inflated_bodies_past_the_limit_are_too_large,
);

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).expect("compress");
    enc.finish().expect("compress")
}

async fn send_encoded(
    app: &TestApp,
    path: &str,
    encoding: &str,
    body: Vec<u8>,
) -> crate::helpers::Resp {
    let req = app
        .request(Method::POST, path)
        .insert_header(("Content-Type", "application/scim+json"))
        .insert_header(("Content-Encoding", encoding));
    crate::helpers::read(
        req.send_body(body)
            .await
            .expect("request reaches the server"),
    )
    .await
}

async fn gzip_bodies_are_read_within_the_limit(app: TestApp) {
    let body = user_body("gzipped").to_string();
    let created = send_encoded(&app, "/Users", "gzip", gzip(body.as_bytes())).await;
    created.assert_status(201);
    assert_eq!(created.body["userName"], "gzipped");

    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
    zlib.write_all(user_body("deflated").to_string().as_bytes())
        .expect("compress");
    let created = send_encoded(&app, "/Users", "deflate", zlib.finish().expect("compress")).await;
    created.assert_status(201);

    let mut corrupt = gzip(user_body("corrupt").to_string().as_bytes());
    corrupt.truncate(corrupt.len() - 6);
    send_encoded(&app, "/Users", "gzip", corrupt)
        .await
        .assert_scim_error(400, Some("invalidSyntax"));
    send_encoded(&app, "/Users", "br", body.into_bytes())
        .await
        .assert_scim_error(415, None);
    assert_eq!(app.count_rows("users").await, 2);
}

async fn inflated_bodies_past_the_limit_are_too_large(app: TestApp) {
    // 8 MiB of JSON whitespace inside a valid user: a few KiB compressed,
    // eight times the default limit inflated.
    let mut padded = user_body("bomb").to_string();
    padded.insert_str(1, &" ".repeat(8 * 1024 * 1024));
    let bomb = gzip(padded.as_bytes());
    assert!(bomb.len() < 64 * 1024);
    let started = Instant::now();
    let refused = send_encoded(&app, "/Users", "gzip", bomb.clone()).await;
    refused.assert_scim_error(413, Some("tooLarge"));
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("1048576")
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    send_encoded(&app, "/Bulk", "gzip", bomb)
        .await
        .assert_scim_error(413, Some("tooLarge"));
    assert_eq!(app.count_rows("users").await, 0);
}

/// SIGTERM while a request's body is still arriving: the listener closes
/// at once, the request completes, and the process exits 0.
#[actix_web::test]
async fn sigterm_lets_an_in_flight_request_finish() {
    stop_during_a_request("-TERM").await;
}

/// SIGINT (Ctrl-C) is as graceful.
#[actix_web::test]
async fn sigint_lets_an_in_flight_request_finish() {
    stop_during_a_request("-INT").await;
}

async fn stop_during_a_request(signal: &str) {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let child = roster(dir.path())
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            "sqlite://roster.db?mode=rwc",
            "--bearer-token",
            crate::helpers::TOKEN,
            "--shutdown-timeout",
            "20",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start roster");
    let mut running = Running(child);
    let client = awc::Client::default();
    let users = format!("http://127.0.0.1:{port}/scim/v2/Users");
    poll(|| client.get(&users).bearer_auth(crate::helpers::TOKEN))
        .await
        .assert_status(200);

    let body = user_body("in-flight").to_string();
    let (head, tail) = body.as_bytes().split_at(body.len() / 2);
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        conn,
        "POST /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n",
        crate::helpers::TOKEN,
        body.len()
    )
    .expect("send head");
    conn.write_all(head).expect("send half the body");
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;

    let pid = running.0.id().to_string();
    let killed = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let refused = TcpStream::connect(("127.0.0.1", port));
    assert!(
        refused.is_err(),
        "a new connection after SIGTERM is refused"
    );

    conn.write_all(tail).expect("send the rest");
    let mut answer = String::new();
    let mut buf = [0u8; 4096];
    while !answer.contains("\"in-flight\"") {
        let n = conn.read(&mut buf).expect("read the answer");
        if n == 0 {
            break;
        }
        answer.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let deadline = Instant::now() + Duration::from_secs(15);
    drop(conn);
    let status = loop {
        if let Some(status) = running.0.try_wait().expect("status") {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.code(), Some(0));

    let db = rusqlite::Connection::open(dir.path().join("roster.db")).expect("open");
    let users: i64 = db
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .expect("count");
    assert_eq!(users, 1, "the write is in the database");
}

/// Only so many large bodies are read at once; one more waits briefly,
/// then gets 503 with `Retry-After`.
#[actix_web::test]
async fn large_bodies_beyond_the_cap_get_503() {
    let app = TestApp::spawn_with(crate::helpers::Db::Sqlite, |c| {
        c.server.max_large_bodies = 1
    })
    .await;
    app.get("/Users").await.assert_status(200);
    let url = url::Url::parse(&app.url("/Users")).expect("url");
    let port = url.port().expect("port");
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stalled,
        "POST /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: 200000\r\n\r\n{{",
        crate::helpers::TOKEN
    )
    .expect("send head");
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;

    let mut padded = user_body("large").to_string();
    padded.insert_str(1, &" ".repeat(100_000));
    let started = Instant::now();
    let req = app
        .request(Method::POST, "/Users")
        .insert_header(("Content-Type", "application/scim+json"));
    let refused = crate::helpers::read(req.send_body(padded).await.expect("send")).await;
    refused.assert_scim_error(503, None);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(started.elapsed() >= Duration::from_secs(2));
    drop(stalled);
}
