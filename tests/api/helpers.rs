//! A real Roster server per test, bound to a free port, on its own fresh
//! database: a temp-file SQLite, or a new MariaDB database on the server
//! that `scripts/test` starts (`ROSTER_TEST_MYSQL_URL`).

use std::net::TcpListener;

use awc::http::Method;
use roster::config::{Config, DatabaseUrl, Secret};
use roster::service::ChangeHooks;
use roster::startup::{Application, ApplicationBuilder};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::Value;

pub const TOKEN: &str = "test-token-0123456789";
pub const BASIC_USER: &str = "okta";
pub const BASIC_PASSWORD: &str = "okta-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    MariaDb,
}

pub struct TestApp {
    pub kind: Db,
    pub base: String,
    /// `http://127.0.0.1:<port>`, where the probes and `/metrics` are.
    pub root: String,
    /// The same for the management listener, when one is configured.
    pub management: Option<String>,
    pub db: DatabaseConnection,
    /// Where the request log is: its own file beside a SQLite file.
    pub request_log: DatabaseConnection,
    client: awc::Client,
    _dir: Option<tempfile::TempDir>,
}

pub struct Resp {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an RFC 7644 §3.12 error body with this status and scimType.
    #[track_caller]
    pub fn assert_scim_error(&self, status: u16, scim_type: Option<&str>) -> &Self {
        self.assert_status(status);
        assert_eq!(
            self.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], status.to_string(), "{}", self.text);
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.text
        );
        match scim_type {
            Some(t) => assert_eq!(self.body["scimType"], t, "{}", self.text),
            None => assert!(self.body.get("scimType").is_none(), "{}", self.text),
        }
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
        self
    }
}

/// How long the test client reuses an idle connection: well under the
/// server's keep-alive (5 s), because a test that blocks its runtime
/// (a cluster restart) never sees the server's close, and a request sent
/// on that connection fails without reaching the server.
const CLIENT_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(2);

impl TestApp {
    pub async fn spawn(db: Db) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: Db, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_prepared(db, adjust, async |_| {}).await
    }

    /// Like `spawn_with`, and `prepare` runs on the migrated database before
    /// the app starts (e.g. to store what start-up reads). `server.bind` is
    /// the address the app will listen on.
    pub async fn spawn_prepared(
        db: Db,
        adjust: impl FnOnce(&mut Config),
        prepare: impl AsyncFnOnce(&DatabaseConnection),
    ) -> Self {
        Self::spawn_hooked(db, adjust, prepare, ChangeHooks::default()).await
    }

    /// Like `spawn_prepared`, with `hooks` seeing every write.
    pub async fn spawn_hooked(
        db: Db,
        adjust: impl FnOnce(&mut Config),
        prepare: impl AsyncFnOnce(&DatabaseConnection),
        hooks: ChangeHooks,
    ) -> Self {
        Self::spawn_built(db, adjust, prepare, |b| b.hooks(hooks)).await
    }

    /// Like `spawn_prepared`, with `build` adding to the application's
    /// builder what the configuration does not say (hooks, a clock).
    pub async fn spawn_built(
        db: Db,
        adjust: impl FnOnce(&mut Config),
        prepare: impl AsyncFnOnce(&DatabaseConnection),
        build: impl FnOnce(ApplicationBuilder) -> ApplicationBuilder,
    ) -> Self {
        let (url, dir) = match db {
            Db::Sqlite => sqlite_url(),
            Db::MariaDb => (mariadb_url().await, None),
        };
        Self::start(db, url, dir, adjust, prepare, build).await
    }

    /// An app on a MySQL-family database the caller made: `url` names it.
    pub async fn spawn_on(url: String, adjust: impl FnOnce(&mut Config)) -> Self {
        let no_prepare = async |_: &DatabaseConnection| {};
        Self::start(Db::MariaDb, url, None, adjust, no_prepare, |b| b).await
    }

    async fn start(
        db: Db,
        url: String,
        dir: Option<tempfile::TempDir>,
        adjust: impl FnOnce(&mut Config),
        prepare: impl AsyncFnOnce(&DatabaseConnection),
        build: impl FnOnce(ApplicationBuilder) -> ApplicationBuilder,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = listener.local_addr().expect("local addr").port();
        let mut config = Config::default();
        config.server.bind = format!("127.0.0.1:{port}");
        config.database.url = DatabaseUrl::new(url);
        config.database.max_connections = 4;
        config.auth.bearer_tokens = vec![Secret::new(TOKEN)];
        config.auth.basic = vec![Secret::new(format!("{BASIC_USER}:{BASIC_PASSWORD}"))];
        adjust(&mut config);
        let base_path = config.server.base_path.clone();
        let builder = Application::builder(config)
            .workers(1)
            .disable_signals()
            .listener(listener);
        let connected = build(builder)
            .connect()
            .await
            .expect("connect to and migrate the test database");
        prepare(connected.db()).await;
        let app = connected.build().await.expect("start the app");
        let conn = app.db().clone();
        let request_log = app.request_log().clone();
        let management = app
            .management_port()
            .map(|p| format!("http://127.0.0.1:{p}"));
        actix_web::rt::spawn(app.run_until_stopped());
        Self {
            kind: db,
            base: format!("http://127.0.0.1:{port}{base_path}"),
            root: format!("http://127.0.0.1:{port}"),
            management,
            db: conn,
            request_log,
            client: awc::Client::builder()
                .connector(awc::Connector::new().conn_keep_alive(CLIENT_KEEP_ALIVE))
                .timeout(std::time::Duration::from_secs(60))
                .finish(),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the test bearer token and SCIM headers, as Okta sends.
    pub fn request(&self, method: Method, path: &str) -> awc::ClientRequest {
        self.client
            .request(method, self.url(path))
            .insert_header(("Authorization", format!("Bearer {TOKEN}")))
            .insert_header(("Accept", "application/scim+json"))
    }

    pub async fn send(&self, req: awc::ClientRequest, body: Option<&Value>) -> Resp {
        let result = match body {
            Some(b) => {
                req.insert_header(("Content-Type", "application/scim+json"))
                    .send_body(b.to_string())
                    .await
            }
            None => req.send().await,
        };
        read(result.expect("request reaches the server")).await
    }

    /// Sends a write with the request id `refuse`, which the tests' change
    /// hooks refuse inside its transaction, and expects a server error.
    pub async fn refused_by_hook(&self, method: Method, path: &str, body: Option<&Value>) {
        let req = self
            .request(method, path)
            .insert_header(("X-Request-Id", "refuse"));
        let r = self.send(req, body).await;
        assert!(r.status >= 500, "{} {}", r.status, r.text);
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(Method::GET, path), None).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(Method::POST, path), Some(body))
            .await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(Method::PUT, path), Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(Method::PATCH, path), Some(body))
            .await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.request(Method::DELETE, path), None).await
    }

    /// GET with a filter, encoded as Okta does (spaces as %20).
    pub async fn filter(&self, endpoint: &str, filter: &str) -> Resp {
        let q: String = url_encode(filter);
        self.get(&format!("{endpoint}?filter={q}")).await
    }

    /// Creates a user and returns its id.
    pub async fn create_user(&self, user_name: &str) -> String {
        let r = self.post("/Users", &user_body(user_name)).await;
        r.assert_status(201);
        r.body["id"].as_str().expect("id").to_owned()
    }

    pub async fn create_group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members
            .iter()
            .map(|m| serde_json::json!({"value": m}))
            .collect();
        let r = self
            .post(
                "/Groups",
                &serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": name,
                    "members": members,
                }),
            )
            .await;
        r.assert_status(201);
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// Member ids of a group, sorted.
    pub async fn member_ids(&self, group_id: &str) -> Vec<String> {
        let r = self.get(&format!("/Groups/{group_id}")).await;
        r.assert_status(200);
        let mut ids = member_values(&r.body);
        ids.sort();
        ids
    }

    pub async fn count_rows(&self, table: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let stmt =
            sea_orm::Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}"));
        let row = self
            .db
            .query_one_raw(stmt)
            .await
            .expect("count query")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("count")
    }
}

pub async fn read(
    mut resp: awc::ClientResponse<
        impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
        + Unpin,
    >,
) -> Resp {
    let bytes = resp
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .expect("read body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body,
        text,
    }
}

/// The `display` of each item of a multi-valued reference attribute
/// (`groups`, `members`), in order.
/// The `value` of each of a group's `members`, in the order given.
pub fn member_values(group: &Value) -> Vec<String> {
    group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|x| x["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub fn displays(list: &Value) -> Vec<&str> {
    let items = list.as_array().map_or(&[][..], Vec::as_slice);
    items
        .iter()
        .map(|item| item["display"].as_str().expect("display"))
        .collect()
}

pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A fully populated user, as Okta's tests expect one to look.
pub fn user_body(user_name: &str) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "active": true
    })
}

fn sqlite_url() -> (String, Option<tempfile::TempDir>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("roster.db");
    (format!("sqlite://{}?mode=rwc", path.display()), Some(dir))
}

pub async fn mariadb_url() -> String {
    let server = std::env::var("ROSTER_TEST_MYSQL_URL").expect(
        "ROSTER_TEST_MYSQL_URL is not set: run the suite with scripts/test, which starts MariaDB \
         (or run only the SQLite half with `cargo test sqlite`)",
    );
    let server = server.trim_end_matches('/').to_owned();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(server.as_str())
        .await
        .expect("connect to the test MariaDB");
    admin
        .execute_unprepared(&format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        ))
        .await
        .expect("create the test database");
    admin.close().await.ok();
    format!("{server}/{name}")
}

/// Runs each named `async fn(TestApp)` once on SQLite and once on MariaDB.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Db::Sqlite).await).await
                }
                #[actix_web::test]
                async fn mariadb() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Db::MariaDb).await).await
                }
            }
        )*
    };
}
