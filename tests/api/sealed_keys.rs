//! The built-in authorization server's signing keys at rest, with the real
//! binary: sealed under the configured secrets key, plain keys sealed on
//! the first start with a key, tokens still verified after restarts, and
//! one clear line when the key is wrong or missing.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use awc::http::Method;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use crate::process::{Server, roster};

const KEY: &str = "correct horse battery staple, 32+ characters";
const OTHER_KEY: &str = "a different key that is long enough to use";

fn write_config(dir: &Path, key: Option<&str>) -> String {
    let mut text = String::from(
        r#"
[oauth]
# Fixed, so that tokens stay valid for a server restarted on another port.
issuer = "http://roster.test"
admins = ["admin:admin-password"]

[[oauth.clients]]
client_id = "idp"
client_secret = "idp-secret-0123456789"
grant_types = ["client_credentials"]
"#,
    );
    if let Some(key) = key {
        text.push_str(&format!("\n[secrets]\nkey = \"{key}\"\n"));
    }
    let path = dir.join(format!("roster-{}.toml", key.map_or(0, str::len)));
    std::fs::write(&path, text).expect("config");
    path.display().to_string()
}

async fn start(dir: &Path, url: &str, key: Option<&str>) -> Server {
    let config = write_config(dir, key);
    Server::start(dir, url, &[("ROSTER_CONFIG", config.as_str())]).await
}

async fn mint(server: &Server) -> String {
    let client = awc::Client::default();
    let mut resp = client
        .post(format!("http://127.0.0.1:{}/oauth2/token", server.port))
        .basic_auth("idp", "idp-secret-0123456789")
        .send_form(&[("grant_type", "client_credentials")])
        .await
        .expect("token request");
    let body: serde_json::Value = resp.json().await.expect("token answer");
    assert_eq!(resp.status(), 200, "{body}");
    body["access_token"].as_str().expect("a token").to_owned()
}

async fn users_with(server: &Server, token: &str) -> u16 {
    awc::Client::default()
        .request(Method::GET, server.url("/Users"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn stored_keys(url: &str) -> Vec<String> {
    let db = Database::connect(url).await.expect("open");
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT private_key FROM oauth_signing_keys",
        ))
        .await
        .expect("keys");
    db.close().await.ok();
    rows.iter()
        .map(|r| r.try_get::<String>("", "private_key").expect("text"))
        .collect()
}

/// `roster serve` that must fail: its last line of standard error.
fn failed_start(dir: &Path, url: &str, key: Option<&str>) -> String {
    let config = write_config(dir, key);
    let mut child = roster(dir)
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("ROSTER_CONFIG", &config)
        .env("ROSTER_BIND", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("status").is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("roster started although it cannot read its signing keys");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr.lines().last().unwrap_or_default().to_owned()
}

#[actix_web::test]
async fn signing_keys_are_sealed_at_rest_and_survive_restarts() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("roster.db").display()
    );

    // Without a key, as before: plain PEM.
    let server = start(dir.path(), &url, None).await;
    let plain_token = mint(&server).await;
    assert_eq!(users_with(&server, &plain_token).await, 200);
    drop(server);
    let keys = stored_keys(&url).await;
    assert!(keys.len() == 1 && keys[0].contains("BEGIN PRIVATE KEY"));

    // With a key: the stored key is sealed on start, and what it signed
    // still verifies.
    let server = start(dir.path(), &url, Some(KEY)).await;
    assert_eq!(users_with(&server, &plain_token).await, 200);
    let sealed_token = mint(&server).await;
    drop(server);
    let keys = stored_keys(&url).await;
    assert_eq!(keys.len(), 1);
    assert!(keys[0].starts_with("roster-sealed:v1:"), "{}", keys[0]);
    assert!(!keys[0].contains("BEGIN"), "no PEM in the table");

    // A restart with the same key signs and verifies with the same key.
    let server = start(dir.path(), &url, Some(KEY)).await;
    assert_eq!(users_with(&server, &sealed_token).await, 200);
    assert_eq!(users_with(&server, &plain_token).await, 200);
    assert_eq!(users_with(&server, &mint(&server).await).await, 200);
    drop(server);

    // A wrong key, or none, stops start-up with one line.
    let wrong = failed_start(dir.path(), &url, Some(OTHER_KEY));
    assert!(
        wrong.starts_with("roster: ") && wrong.contains("secrets key is not the one"),
        "{wrong}"
    );
    assert!(
        !wrong.contains(KEY) && !wrong.contains(OTHER_KEY),
        "{wrong}"
    );
    let missing = failed_start(dir.path(), &url, None);
    assert!(
        missing.starts_with("roster: ") && missing.contains("no secrets key is configured"),
        "{missing}"
    );
    assert_eq!(stored_keys(&url).await, keys, "nothing rewritten");

    // A key rotated by the CLI is sealed too.
    let config = write_config(dir.path(), Some(KEY));
    let rotated = roster(dir.path())
        .args(["oauth-key", "rotate"])
        .env("DATABASE_URL", &url)
        .env("ROSTER_CONFIG", &config)
        .output()
        .expect("rotate");
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let keys = stored_keys(&url).await;
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter().all(|k| k.starts_with("roster-sealed:v1:")),
        "{keys:?}"
    );
}
