//! The real `roster` binary: first start on a fresh directory, and start-up
//! failures that must end in one human line.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::read;

pub use crate::process::{BIN, free_port};

pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// A command with no Roster settings inherited from the developer's shell,
/// logging at info (start-up lines are what these tests read).
pub fn roster(dir: &std::path::Path) -> Command {
    let mut cmd = crate::process::roster(dir);
    cmd.env("RUST_LOG", "info");
    cmd
}

#[actix_web::test]
async fn first_start_prints_a_token_that_works() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut child = roster(dir.path())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start roster");
    let stdout = child.stdout.take().expect("stdout");
    let _running = Running(child);
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    let token = lines
        .find_map(|l| {
            l.trim()
                .strip_prefix("roster_")
                .map(|t| format!("roster_{t}"))
        })
        .expect("a printed token");
    // Keep draining stdout, as a terminal would.
    std::thread::spawn(move || lines.for_each(drop));
    assert!(
        dir.path().join("roster.db").exists(),
        "the embedded database is created"
    );

    let base = format!("http://127.0.0.1:{port}/scim/v2");
    let client = awc::Client::default();
    let ok = poll(|| {
        client
            .get(format!("{base}/Users"))
            .insert_header(("Authorization", format!("Bearer {token}")))
    })
    .await;
    ok.assert_status(200);
    assert_eq!(ok.body["totalResults"], 0);
    let denied = read(
        client
            .get(format!("{base}/Users"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    denied.assert_scim_error(401, None);
}

#[test]
fn bad_configuration_ends_with_one_line() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--database-url".into(), "bogus://nowhere".into()],
            "database",
        ),
        (
            vec![
                "--database-url".into(),
                "mysql://u:hunter2@127.0.0.1:1/db".into(),
            ],
            "database",
        ),
        (
            vec![
                "--bind".into(),
                "not-an-address".into(),
                "--database-url".into(),
                "sqlite://x.db?mode=rwc".into(),
            ],
            "listen",
        ),
        (
            vec!["--config".into(), "/nonexistent/roster.toml".into()],
            "config",
        ),
        (
            vec![
                "--basic-auth".into(),
                "no-colon".into(),
                "--bind".into(),
                format!("127.0.0.1:{port}"),
            ],
            "credentials",
        ),
    ];
    for (args, expect) in cases {
        let out = roster(dir.path())
            .env("ROSTER_DATABASE__CONNECT_TIMEOUT_SECS", "2")
            .arg("serve")
            .args(&args)
            .output()
            .expect("run roster");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("roster: ") && last.contains(expect),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("hunter2"),
            "{args:?}: {stderr}"
        );
    }
}

/// An operator who pipes the first lines into `head` must not kill the
/// server: printing the token ignores a closed stdout.
#[actix_web::test]
async fn closed_stdout_does_not_stop_the_server() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut child = roster(dir.path())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start roster");
    drop(child.stdout.take());
    let mut running = Running(child);
    let client = awc::Client::default();
    let answered = poll(|| client.get(format!("http://127.0.0.1:{port}/scim/v2/Users"))).await;
    answered.assert_scim_error(401, None);
    assert!(
        running.0.try_wait().expect("status").is_none(),
        "still running"
    );
}

/// Sends the request until the server answers (it may still be starting).
pub async fn poll(request: impl Fn() -> awc::ClientRequest) -> crate::helpers::Resp {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match request().send().await {
            Ok(resp) => return read(resp).await,
            Err(_) if Instant::now() < deadline => {
                actix_web::rt::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("server never answered: {e}"),
        }
    }
}
