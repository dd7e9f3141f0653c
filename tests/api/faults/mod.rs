//! Tests that inject faults: a database paused or killed, a full disk,
//! gzip bombs and connection floods, kill -9 under concurrent writes, a
//! generative fuzzer, and readiness following the database. Each is
//! `#[ignore = "faults stage"]`: the ordinary run leaves them out, and
//! `scripts/test`'s faults stage runs them one at a time (`cargo test
//! --test api -- --ignored faults:: --test-threads=1`) with what they need
//! started:
//! - `ROSTER_FAULT_MYSQL_URL`: a second private MariaDB (no database
//!   name) that tests may pause, kill and restart; `ROSTER_FAULT_MYSQL_DIR`
//!   holds its `mariadbd.pid`, and `ROSTER_FAULT_MYSQL_CTL restart|stop
//!   <dir>` restarts or stops it (see `victim`);
//! - `ROSTER_FAULT_TMPFS`: a small tmpfs to fill (unset where it could not
//!   be mounted: those tests then say so and pass);
//! - `ROSTER_TEST_MYSQL_URL`: the suite's ordinary MariaDB, as always.

mod database;
mod durability;
pub mod fuzz;
mod fuzz_gen;
mod fuzz_input;
mod readiness;
mod transport;
mod victim;
