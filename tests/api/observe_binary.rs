//! The real binary's logs and its `healthcheck` command: access lines
//! carry the request id in both formats, JSON lines parse, no secret
//! reaches any line even at trace level, and the probe's exit codes.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Resp, mariadb_url, read, user_body};

const BIN: &str = env!("CARGO_BIN_EXE_roster");
const BEARER: &str = "Bearer-Secret-7f3a9c";
const BASIC: (&str, &str) = ("okta", "Basic-Secret-2b8e41");
const CLIENT: (&str, &str) = ("entra", "Client-Secret-5d0c77");
const USER_PASSWORD: &str = "User-Pass-91ae3f";
const PATCHED_PASSWORD: &str = "Patched-Pass-c4d2e8";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running server whose output goes to files read after it stops.
struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    /// A token only this server accepts: readiness is asked with it, so
    /// that another test's server that took the port first is not taken
    /// for this one.
    own_token: String,
}

impl Server {
    fn start(database_url: &str, format: &str, rust_log: &str) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let port = free_port();
        let own_token = format!("own-{}", uuid::Uuid::new_v4().simple());
        let config = format!(
            r#"[server]
bind = "127.0.0.1:{port}"
[database]
url = "{database_url}"
[auth]
bearer_tokens = ["{BEARER}", "{own_token}"]
basic = ["{}:{}"]
[scim]
store_password_hashes = true
[[oauth.clients]]
client_id = "{}"
client_secret = "{}"
grant_types = ["client_credentials"]
scopes = ["scim"]
"#,
            BASIC.0, BASIC.1, CLIENT.0, CLIENT.1
        );
        std::fs::write(dir.path().join("roster.toml"), config).expect("config");
        let out = |name| std::fs::File::create(dir.path().join(name)).expect("log file");
        let child = roster(dir.path())
            .args(["--config", "roster.toml", "--log-format", format, "serve"])
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::from(out("stdout")))
            .stderr(Stdio::from(out("stderr")))
            .spawn()
            .expect("start roster");
        Self {
            child,
            port,
            dir,
            own_token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Stops the server and returns everything it wrote.
    fn stop(mut self) -> String {
        self.child.kill().ok();
        self.child.wait().ok();
        let read = |name| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("stdout"), read("stderr"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn roster(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).env_remove("DATABASE_URL");
    for (key, _) in std::env::vars() {
        if key.starts_with("ROSTER_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

async fn send(req: awc::ClientRequest, body: Option<Value>) -> Resp {
    let req = req.insert_header(("Content-Type", "application/scim+json"));
    let sent = match body {
        Some(b) => req.send_body(b.to_string()).await,
        None => req.send().await,
    };
    read(sent.expect("request reaches the server")).await
}

/// Waits until the server answers, with the token only it accepts.
async fn ready(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = awc::Client::default();
    loop {
        if let Ok(resp) = client
            .get(server.url("/scim/v2/ServiceProviderConfig"))
            .insert_header(("Authorization", format!("Bearer {}", server.own_token)))
            .send()
            .await
            && resp.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "the server never became ready");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

fn basic_header(user: &str, password: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

#[actix_web::test]
async fn access_lines_carry_the_request_id_in_json() {
    let server = Server::start("sqlite://roster.db?mode=rwc", "json", "info");
    ready(&server).await;
    let client = awc::Client::default();
    let ok = send(
        client
            .get(server.url("/scim/v2/Users"))
            .insert_header(("Authorization", format!("Bearer {BEARER}")))
            .insert_header(("X-Request-Id", "trace-me-1")),
        None,
    )
    .await;
    ok.assert_status(200);
    send(
        client
            .get(server.url("/scim/v2/Users"))
            .insert_header(("Authorization", "Bearer wrong"))
            .insert_header(("X-Request-Id", "bad-auth-1")),
        None,
    )
    .await
    .assert_status(401);
    let output = server.stop();
    let lines: Vec<Value> = output
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for line in &lines {
        for field in ["timestamp", "level", "target", "message"] {
            assert!(line.get(field).is_some(), "{field} missing in {line}");
        }
    }
    let access = lines
        .iter()
        .find(|l| l["target"] == "roster::access" && l["request_id"] == "trace-me-1")
        .unwrap_or_else(|| panic!("no access line: {output}"));
    assert_eq!(access["method"], "GET");
    assert_eq!(access["route"], "/scim/v2/Users");
    assert_eq!(access["status"], 200);
    assert!(access["latency_ms"].is_number(), "{access}");
    assert_eq!(access["principal"], "configured bearer token");
    assert_eq!(access["client_addr"], "127.0.0.1");
    // A line written while the request was handled, not only the access line.
    let refused = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("authentication failed"))
        })
        .unwrap_or_else(|| panic!("no warning: {output}"));
    assert_eq!(refused["request_id"], "bad-auth-1", "{refused}");
}

#[actix_web::test]
async fn access_lines_carry_the_request_id_in_text() {
    let server = Server::start("sqlite://roster.db?mode=rwc", "text", "info");
    ready(&server).await;
    send(
        awc::Client::default()
            .get(server.url("/scim/v2/Users"))
            .insert_header(("Authorization", "Bearer wrong"))
            .insert_header(("X-Request-Id", "text-id-7")),
        None,
    )
    .await
    .assert_status(401);
    let output = server.stop();
    let tagged: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("request_id=text-id-7"))
        .collect();
    assert!(
        tagged
            .iter()
            .any(|l| l.contains("roster::access") && l.contains("status=401")),
        "{output}"
    );
    assert!(
        tagged.iter().any(|l| l.contains("authentication failed")),
        "{output}"
    );
}

/// Every kind of secret travels through the server while it logs at
/// `level`; none may appear in its output.
async fn no_secret_in_the_logs(database_url: &str, secrets: &[&str]) {
    for (format, level) in [("text", "trace"), ("json", "trace"), ("json", "debug")] {
        let server = Server::start(database_url, format, level);
        ready(&server).await;
        let token = exercise(&server, &format!("{format}.{level}")).await;
        let output = server.stop();
        assert!(
            output.contains("roster::access"),
            "{format} {level}: no access line"
        );
        let basic = basic_header(BASIC.0, BASIC.1);
        let client = basic_header(CLIENT.0, CLIENT.1);
        let encoded = [basic.as_str(), client.as_str(), token.as_str()];
        for secret in secrets.iter().chain(&encoded) {
            let secret = secret.trim_start_matches("Basic ");
            let leaks: Vec<&str> = output.lines().filter(|l| l.contains(secret)).collect();
            assert!(
                leaks.is_empty(),
                "{format} {level}: {secret} appears in the logs: {leaks:#?}"
            );
        }
    }
}

/// Basic and bearer requests, a user created with a password and its
/// password patched, an OAuth client-credentials token used once.
/// Returns the token.
async fn exercise(server: &Server, user_name: &str) -> String {
    let client = awc::Client::default();
    let bearer = format!("Bearer {BEARER}");
    let mut user = user_body(user_name);
    user["password"] = json!(USER_PASSWORD);
    let created = send(
        client
            .post(server.url("/scim/v2/Users"))
            .insert_header(("Authorization", bearer.clone())),
        Some(user),
    )
    .await;
    created.assert_status(201);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "password", "value": PATCHED_PASSWORD}]
    });
    send(
        client
            .patch(server.url(&format!("/scim/v2/Users/{id}")))
            .insert_header(("Authorization", basic_header(BASIC.0, BASIC.1))),
        Some(patch),
    )
    .await
    .assert_status(200);
    let issued = client
        .post(server.url("/oauth2/token"))
        .insert_header(("Authorization", basic_header(CLIENT.0, CLIENT.1)))
        .send_form(&[("grant_type", "client_credentials"), ("scope", "scim")])
        .await
        .expect("token request");
    let issued = read(issued).await;
    issued.assert_status(200);
    let token = issued.body["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    send(
        client
            .get(server.url(&format!("/scim/v2/Users/{id}")))
            .insert_header(("Authorization", format!("Bearer {token}"))),
        None,
    )
    .await
    .assert_status(200);
    token
}

mod no_secret_in_the_logs {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        no_secret_in_the_logs(
            "sqlite://roster.db?mode=rwc",
            &[BEARER, BASIC.1, CLIENT.1, USER_PASSWORD, PATCHED_PASSWORD],
        )
        .await;
    }

    /// With a database user of its own, whose password is in the URL.
    #[actix_web::test]
    async fn mariadb() {
        use sea_orm::{ConnectionTrait, Database};
        let url = mariadb_url().await;
        let (server, name) = url.rsplit_once('/').expect("a database name");
        let user = format!("obs_{}", &name[2..14]);
        let password = format!("Db-Pass-{}", &name[14..26]);
        let admin = Database::connect(server).await.expect("connect");
        for sql in [
            format!("CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}'"),
            format!("GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'127.0.0.1'"),
        ] {
            admin
                .execute_unprepared(&sql)
                .await
                .expect("create the user");
        }
        admin.close().await.ok();
        let host = server.rsplit_once('@').expect("user@host").1;
        let own = format!("mysql://{user}:{password}@{host}/{name}");
        no_secret_in_the_logs(
            &own,
            &[
                BEARER,
                BASIC.1,
                CLIENT.1,
                USER_PASSWORD,
                PATCHED_PASSWORD,
                &password,
            ],
        )
        .await;
    }
}

#[actix_web::test]
async fn healthcheck_exits_0_when_ready_and_1_otherwise() {
    let server = Server::start("sqlite://roster.db?mode=rwc", "text", "warn");
    ready(&server).await;
    let dir = server.dir.path().to_owned();
    let bind = format!("127.0.0.1:{}", server.port);
    let probe = |args: &[&str]| {
        roster(&dir)
            .arg("healthcheck")
            .args(args)
            .output()
            .expect("run the probe")
    };
    // The address comes from the same configuration as the server's.
    let up = probe(&["--config", "roster.toml"]);
    assert_eq!(up.status.code(), Some(0), "{up:?}");
    let url = format!("http://{bind}/readyz");
    assert_eq!(probe(&["--url", &url]).status.code(), Some(0));
    let closed = format!("http://127.0.0.1:{}/readyz", free_port());
    let down = probe(&["--url", &closed]);
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(String::from_utf8_lossy(&down.stderr).contains("cannot reach"));
    let not_found = probe(&["--url", &format!("http://{bind}/nowhere")]);
    assert_eq!(not_found.status.code(), Some(1));
    drop(server);
}
