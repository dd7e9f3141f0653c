//! `roster tenant …` and `--tenant` on the real binary, beside a serving
//! `roster serve`: removing a tenant deletes its rows and leaves every
//! other tenant's rows as they were, byte for byte.

use awc::http::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::each_database;
use crate::helpers::{Db, Resp, user_body};
use crate::process::{Server, run_command};
use crate::tenants::{dump, rows_of};

each_database!(
    tenant_commands_add_list_show_and_remove,
    a_database_from_before_tenants_migrates_into_default,
);

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn ok(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(out));
    stdout_of(out)
}

#[track_caller]
fn fails(out: &std::process::Output, says: &str) {
    assert_ne!(out.status.code(), Some(0), "{}", stdout_of(out));
    assert!(stderr_of(out).contains(says), "{}", stderr_of(out));
}

async fn as_token(
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Resp {
    server
        .try_send_as(token, method, path, body)
        .await
        .expect("the server answers")
}

async fn tenant_commands_add_list_show_and_remove(db: Db) {
    let dir = tempfile::tempdir().expect("dir");
    let url = match db {
        Db::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("roster.db").display()
        ),
        Db::MariaDb => crate::helpers::mariadb_url().await,
    };
    let run = |args: &[&str]| run_command(dir.path(), &url, args);
    ok(&run(&["migrate"]));
    let listed = ok(&run(&["tenant", "list"]));
    assert_eq!(listed, format!("default\tokta\t{}\n", Uuid::nil()));
    let added = ok(&run(&["tenant", "add", "acme", "--profile", "entra"]));
    assert!(
        added.starts_with("tenant acme added (profile entra"),
        "{added}"
    );
    ok(&run(&["tenant", "add", "beta-2"]));
    fails(&run(&["tenant", "add", "acme"]), "exists already");
    for bad in ["Acme", "a_b", "", &"x".repeat(64)] {
        fails(&run(&["tenant", "add", bad]), "invalid tenant name");
    }
    fails(
        &run(&["tenant", "add", "x", "--profile", "nope"]),
        "invalid value",
    );
    let listed = ok(&run(&["tenant", "list"]));
    let names: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(names, ["acme", "beta-2", "default"]);
    let shown = ok(&run(&["tenant", "show", "acme"]));
    assert!(
        shown.contains("name\tacme\n") && shown.contains("profile\tentra\n"),
        "{shown}"
    );
    let acme_id: Uuid = shown
        .lines()
        .find_map(|l| l.strip_prefix("id\t"))
        .and_then(|id| id.parse().ok())
        .expect("id");
    fails(&run(&["tenant", "show", "nosuch"]), "no tenant named");
    fails(
        &run(&["token", "create", "--tenant", "nosuch"]),
        "no tenant named",
    );
    let acme_token = ok(&run(&[
        "token", "create", "--tenant", "acme", "--name", "okta",
    ]));
    let acme_token = acme_token.trim().to_owned();
    let listed = ok(&run(&["token", "list", "--tenant", "acme"]));
    assert!(listed.contains("\tokta\t"), "{listed}");
    assert!(!ok(&run(&["token", "list"])).contains("\tokta\t"));
    let client = [
        "oauth-client",
        "add",
        "acme-app",
        "--tenant",
        "acme",
        "--grant-type",
        "client_credentials",
    ];
    ok(&run(&client));
    assert!(ok(&run(&["oauth-client", "list", "--tenant", "acme"])).starts_with("acme-app\t"));
    assert_eq!(ok(&run(&["oauth-client", "list"])), "");
    fails(
        &run(&[
            "oauth-client",
            "add",
            "acme-app",
            "--grant-type",
            "client_credentials",
        ]),
        "exists already",
    );

    let server = Server::start(dir.path(), &url, &[]).await;
    // The same userName in both tenants, a group with a member in each.
    let mut ids = Vec::new();
    for token in [crate::process::TOKEN, acme_token.as_str()] {
        let r = as_token(
            &server,
            token,
            Method::POST,
            "/Users",
            Some(&user_body("alice@example.com")),
        )
        .await;
        r.assert_status(201);
        let id = r.body["id"].as_str().expect("id").to_owned();
        let group = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "eng", "members": [{"value": id}],
        });
        as_token(&server, token, Method::POST, "/Groups", Some(&group))
            .await
            .assert_status(201);
        ids.push(id);
    }
    let conn = sea_orm::Database::connect(url.as_str())
        .await
        .expect("connect");
    let default_before = dump(&conn, Uuid::nil()).await;
    assert!(default_before.len() >= 4, "{default_before:?}");
    for table in [
        "users",
        "groups",
        "group_members",
        "api_tokens",
        "oauth_clients",
    ] {
        assert!(rows_of(&conn, table, acme_id).await >= 1, "{table}");
    }

    fails(&run(&["tenant", "remove", "acme"]), "--yes");
    assert_eq!(rows_of(&conn, "users", acme_id).await, 1);
    fails(
        &run(&["tenant", "remove", "default", "--yes"]),
        "cannot be removed",
    );
    let removed = ok(&run(&["tenant", "remove", "acme", "--yes"]));
    assert!(removed.starts_with("tenant acme removed ("), "{removed}");
    for table in roster::store::tenants::TENANT_TABLES {
        assert_eq!(rows_of(&conn, table, acme_id).await, 0, "{table}");
    }
    assert_eq!(dump(&conn, Uuid::nil()).await, default_before);
    let names = ok(&run(&["tenant", "list"]));
    assert!(!names.contains("acme"), "{names}");
    // Its credential went with it; the default tenant's still works.
    let r = as_token(&server, &acme_token, Method::GET, "/Users", None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = as_token(
        &server,
        crate::process::TOKEN,
        Method::GET,
        &format!("/Users/{}", ids[0]),
        None,
    )
    .await;
    r.assert_status(200);
    fails(
        &run(&["tenant", "remove", "acme", "--yes"]),
        "no tenant named",
    );
    conn.close().await.ok();
    server.kill();
}

async fn database_url(db: Db, dir: &std::path::Path) -> String {
    match db {
        Db::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("roster.db").display()),
        Db::MariaDb => crate::helpers::mariadb_url().await,
    }
}

/// A database as the version before tenants left it: everything it holds
/// is `default`'s after the upgrade, with nothing for the operator to do.
async fn a_database_from_before_tenants_migrates_into_default(db: Db) {
    use sea_orm::ConnectionTrait;
    let dir = tempfile::tempdir().expect("dir");
    let url = database_url(db, dir.path()).await;
    let server = Server::start(dir.path(), &url, &[]).await;
    let r = server
        .send(Method::POST, "/Users", Some(&user_body("old@example.com")))
        .await;
    r.assert_status(201);
    let id = r.body["id"].as_str().expect("id").to_owned();
    server.kill();
    let token = ok(&run_command(
        dir.path(),
        &url,
        &["token", "create", "--name", "old"],
    ));
    let conn = sea_orm::Database::connect(url.as_str())
        .await
        .expect("connect");
    conn.execute_unprepared("DROP TABLE tenants")
        .await
        .expect("drop");
    conn.execute_unprepared(
        "DELETE FROM seaql_migrations WHERE version = 'm20261205_000001_tenants'",
    )
    .await
    .expect("forget the migration");
    // Using a token records when it was last used: not data of the tenant's.
    let kept = |rows: Vec<String>| -> Vec<String> {
        rows.into_iter()
            .filter(|r| !r.starts_with("api_token_use "))
            .collect()
    };
    let before = kept(dump(&conn, Uuid::nil()).await);
    let server = Server::start(dir.path(), &url, &[]).await;
    let r = as_token(
        &server,
        token.trim(),
        Method::GET,
        &format!("/Users/{id}"),
        None,
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["userName"], "old@example.com");
    let r = server
        .send(Method::GET, &format!("/Users/{id}"), None)
        .await;
    r.assert_status(200);
    assert_eq!(kept(dump(&conn, Uuid::nil()).await), before);
    let listed = ok(&run_command(dir.path(), &url, &["tenant", "list"]));
    assert_eq!(listed, format!("default\tokta\t{}\n", Uuid::nil()));
    conn.close().await.ok();
    server.kill();
}
