//! Console admin accounts: managed with `roster admin`, stored as Argon2
//! hashes, and the only credentials the console's API accepts.

use std::io::Write;
use std::process::Stdio;

use base64::Engine;
use roster::config::Config;
use roster::service::admins;

use crate::each_database;
use crate::helpers::{BASIC_PASSWORD, BASIC_USER, Db, TOKEN, TestApp};
use crate::process::{roster, run_command};

pub const ADMIN: &str = "ops-admin";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// An app with the admin `ADMIN` added before it starts.
pub async fn app_with_admin(db: Db) -> TestApp {
    app_with_admin_and(db, |_| {}).await
}

pub async fn app_with_admin_and(db: Db, adjust: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_prepared(db, adjust, async |conn| {
        admins::add(conn, ADMIN, ADMIN_PASSWORD)
            .await
            .expect("add the admin");
    })
    .await
}

pub fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// GET `path` under the root with this Authorization header, if any.
pub async fn console_get(app: &TestApp, path: &str, auth: Option<&str>) -> crate::helpers::Resp {
    let client = awc::Client::default();
    let mut req = client.get(format!("{}{path}", app.root));
    if let Some(auth) = auth {
        req = req.insert_header(("Authorization", auth.to_owned()));
    }
    crate::helpers::read(req.send().await.expect("reaches the server")).await
}

async fn console_api_takes_admins_and_nothing_else(db: Db) {
    let app = app_with_admin(db).await;
    let me = console_get(&app, "/console/api/me", Some(&basic(ADMIN, ADMIN_PASSWORD))).await;
    me.assert_status(200);
    assert_eq!(me.body["name"], ADMIN);
    let none = console_get(&app, "/console/api/me", None).await;
    none.assert_status(401);
    assert!(
        none.header("www-authenticate")
            .is_some_and(|c| c.starts_with("Basic")),
        "{:?}",
        none.headers
    );
    let bearer = format!("Bearer {TOKEN}");
    for scim in [bearer.as_str(), &basic(BASIC_USER, BASIC_PASSWORD)] {
        let r = console_get(&app, "/console/api/me", Some(scim)).await;
        r.assert_status(401);
    }
    let wrong = console_get(
        &app,
        "/console/api/me",
        Some(&basic(ADMIN, "wrong password!")),
    )
    .await;
    wrong.assert_status(401);
    // And an admin is no SCIM credential.
    let client = awc::Client::default();
    let scim = client
        .get(app.url("/Users"))
        .insert_header(("Authorization", basic(ADMIN, ADMIN_PASSWORD)))
        .send()
        .await
        .expect("reaches");
    assert_eq!(scim.status().as_u16(), 401);
}

async fn admin_guessing_is_throttled(db: Db) {
    let app = app_with_admin_and(db, |c| c.auth.rate_limit.burst = 3).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let r = console_get(
            &app,
            "/console/api/me",
            Some(&basic(ADMIN, &format!("guess {i}"))),
        )
        .await;
        statuses.push(r.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
}

each_database!(
    console_api_takes_admins_and_nothing_else,
    admin_guessing_is_throttled
);

fn admin_add(dir: &std::path::Path, url: &str, name: &str, password: &str) -> std::process::Output {
    let mut child = roster(dir)
        .args(["admin", "add", name])
        .env("DATABASE_URL", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run roster");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{password}").expect("write the password");
    drop(stdin);
    child.wait_with_output().expect("roster ends")
}

#[actix_web::test]
async fn admin_commands_add_list_and_remove() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("roster.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    assert!(run_command(dir.path(), &url, &["migrate"]).status.success());
    let added = admin_add(dir.path(), &url, "alice", "a long enough password");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let again = admin_add(dir.path(), &url, "alice", "another long password");
    assert!(!again.status.success(), "a second alice");
    let short = admin_add(dir.path(), &url, "bob", "short");
    assert!(!short.status.success(), "a short password is refused");
    let list = run_command(dir.path(), &url, &["admin", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listed.starts_with("alice\t"), "{listed}");
    assert!(
        !listed.contains("bob") && !listed.contains("password"),
        "{listed}"
    );
    let db = sea_orm::Database::connect(url.as_str())
        .await
        .expect("open");
    let stored = roster::store::admins::find(&db, "alice")
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.password_hash.starts_with("$argon2id$"),
        "Argon2 only"
    );
    db.close().await.ok();
    let removed = run_command(dir.path(), &url, &["admin", "remove", "alice"]);
    assert!(String::from_utf8_lossy(&removed.stdout).contains("removed"));
    let list = run_command(dir.path(), &url, &["admin", "list"]);
    assert!(list.stdout.is_empty());
}
