//! The fault stage's own MariaDB, which tests pause, kill and restart, and
//! its tmpfs.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};

pub struct Victim {
    server: String,
    dir: PathBuf,
    ctl: PathBuf,
}

impl Victim {
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: fault tests run in scripts/test's faults stage")
            })
        };
        Self {
            server: var("ROSTER_FAULT_MYSQL_URL")
                .trim_end_matches('/')
                .to_owned(),
            dir: var("ROSTER_FAULT_MYSQL_DIR").into(),
            ctl: var("ROSTER_FAULT_MYSQL_CTL").into(),
        }
    }

    /// The URL of a new, empty database on the victim.
    pub async fn fresh_database(&self) -> String {
        let name = format!("f_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(self.server.as_str())
            .await
            .expect("connect to the victim MariaDB");
        admin
            .execute_unprepared(&format!(
                "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            ))
            .await
            .expect("create a database");
        admin.close().await.ok();
        format!("{}/{name}", self.server)
    }

    fn pid(&self) -> String {
        std::fs::read_to_string(self.dir.join("mariadbd.pid"))
            .expect("the victim's pid file")
            .trim()
            .to_owned()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Stops the server (SIGSTOP) until the guard is dropped (SIGCONT).
    pub fn pause(&self) -> Paused<'_> {
        self.signal("-STOP");
        Paused(self)
    }

    /// Kills the server (SIGKILL); it stays down until `restart`.
    pub fn kill(&self) {
        self.signal("-KILL");
        // The pid file outlives a killed server: wait for the process.
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Starts it again on the same data and port, and waits until it answers.
    pub fn restart(&self) {
        let status = Command::new(&self.ctl)
            .arg("restart")
            .arg(&self.dir)
            .status()
            .expect("run the victim's control script");
        assert!(status.success(), "the victim MariaDB did not restart");
    }
}

pub struct Paused<'a>(&'a Victim);

impl Paused<'_> {
    pub fn resume(self) {}
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        self.0.signal("-CONT");
    }
}

/// Restarts the victim if the test fails while holding it: a failed test
/// must not leave it down for the next one.
pub struct Revive<'a>(pub &'a Victim);

impl Drop for Revive<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.restart();
        }
    }
}

/// The stage's tmpfs; `None` (with a loud line) where it could not be
/// mounted.
pub fn tmpfs() -> Option<PathBuf> {
    let dir = std::env::var_os("ROSTER_FAULT_TMPFS").map(PathBuf::from);
    if dir.is_none() {
        eprintln!("!!! SKIPPED: ROSTER_FAULT_TMPFS is not set (no tmpfs could be mounted)");
    }
    dir
}
