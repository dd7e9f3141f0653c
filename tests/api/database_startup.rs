//! Start-up against a database that cannot be reached ends at once with
//! the real cause, and never prints the URL's password.

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_roster");

/// `roster serve` on `url`; its exit code, the last line of its stderr,
/// all of its output, and how long it ran.
fn serve(url: &str) -> (Option<i32>, String, String, Duration) {
    let dir = tempfile::tempdir().expect("dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir.path()).env_remove("DATABASE_URL");
    for (key, _) in std::env::vars() {
        if key.starts_with("ROSTER_") {
            cmd.env_remove(key);
        }
    }
    let started = Instant::now();
    let out = cmd
        .env("RUST_LOG", "trace")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--database-url", url])
        .output()
        .expect("run roster");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let all = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
    let last = stderr.lines().last().unwrap_or_default().to_owned();
    (out.status.code(), last, all, took)
}

#[test]
fn a_refused_database_port_ends_start_up_at_once_with_the_cause() {
    // A port nothing listens on: bound, then let go.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("mysql://roster:s3cret-pw@127.0.0.1:{port}/scim");
    let (code, last, all, took) = serve(&url);
    assert_eq!(code, Some(1), "{all}");
    assert!(took < Duration::from_secs(2), "took {took:?}: {all}");
    assert_eq!(
        last,
        format!(
            "roster: cannot connect to the database at mysql://roster:***@127.0.0.1:{port}/scim: \
             connection refused"
        ),
        "{all}"
    );
    assert!(!all.contains("s3cret-pw"), "{all}");
}

#[test]
fn a_malformed_database_url_does_not_print_its_password() {
    for url in [
        "mysql://u:pw-s3cret@host:notaport/db",
        "mysql://u:pw%2Ds3cret@host:99999/db",
        "mysql://u:pw-s3cret@/db?socket",
    ] {
        let (code, last, all, _) = serve(url);
        assert_eq!(code, Some(1), "{url}: {all}");
        assert!(
            last.starts_with("roster: cannot connect to the database"),
            "{url}: {all}"
        );
        assert!(!all.contains("s3cret"), "{url}: {all}");
    }
}
