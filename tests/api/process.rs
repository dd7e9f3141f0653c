//! The real `roster` binary as a child process on a given database: for
//! tests that kill it, restart it on the same data, or run its management
//! commands beside it.

use std::cell::RefCell;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use awc::http::Method;
use serde_json::Value;

use crate::helpers::Resp;

pub const BIN: &str = env!("CARGO_BIN_EXE_roster");
pub const TOKEN: &str = "process-test-token-0123456789";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `roster` run in `dir`, with no Roster settings inherited from the
/// developer's shell.
pub fn roster(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    for (key, _) in std::env::vars() {
        if key.starts_with("ROSTER_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `roster <args>` on `url`, run to its end.
pub fn run_command(dir: &Path, url: &str, args: &[&str]) -> Output {
    roster(dir)
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .expect("run roster")
}

/// A `roster serve` child, killed with SIGKILL when dropped.
pub struct Server {
    child: RefCell<Child>,
    pub port: u16,
    pub log: PathBuf,
    client: awc::Client,
}

impl Server {
    /// Starts `roster serve` in `dir` on `url` with `extra` environment and
    /// waits until it answers.
    pub async fn start(dir: &Path, url: &str, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log = dir.join(format!("roster-{port}.log"));
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut cmd = roster(dir);
        cmd.arg("serve")
            .env("DATABASE_URL", url)
            .env("ROSTER_BIND", format!("127.0.0.1:{port}"))
            .env("ROSTER_BEARER_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start roster");
        let server = Self {
            child: RefCell::new(child),
            port,
            log,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
        };
        server.wait_until_serving().await;
        server
    }

    async fn wait_until_serving(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self
                .try_send(Method::GET, "/ServiceProviderConfig", None)
                .await
                .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "roster never answered; its log: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/scim/v2{path}", self.port)
    }

    /// A request that may fail to reach the server (it may have been killed).
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Resp, String> {
        self.try_send_as(TOKEN, method, path, body).await
    }

    /// A request with another bearer token than the configured one.
    pub async fn try_send_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Resp, String> {
        let req = self
            .client
            .request(method, self.url(path))
            .insert_header(("Authorization", format!("Bearer {token}")));
        let sent = match body {
            Some(b) => {
                req.insert_header(("Content-Type", "application/scim+json"))
                    .send_body(b.to_string())
                    .await
            }
            None => req.send().await,
        };
        let mut resp = sent.map_err(|e| e.to_string())?;
        let bytes = resp
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Resp {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        })
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.try_send(method, path, body)
            .await
            .expect("the server answers")
    }

    /// SIGKILL: no shutdown, no flush, no checkpoint. Callable while
    /// requests are in flight.
    pub fn kill(&self) {
        let mut child = self.child.borrow_mut();
        child.kill().ok();
        child.wait().ok();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every page of `path` (a list endpoint), each resource as it is.
pub async fn all_resources(server: &Server, path: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut start = 1;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let page = server
            .send(
                Method::GET,
                &format!("{path}{sep}startIndex={start}&count=200"),
                None,
            )
            .await;
        page.assert_status(200);
        let items = page.body["Resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if items.is_empty() {
            return all;
        }
        start += items.len();
        all.extend(items);
    }
}

pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// A resource with its members in a fixed order, to compare two copies.
pub fn comparable(resource: &Value) -> Value {
    let mut r = resource.clone();
    if let Some(members) = r.get_mut("members").and_then(Value::as_array_mut) {
        members.sort_by(|a, b| a["value"].as_str().cmp(&b["value"].as_str()));
    }
    r
}
