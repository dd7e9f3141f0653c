//! Tests that inject faults: a database paused or killed, a full disk,
//! gzip bombs and connection floods, kill -9 under concurrent writes, a
//! generative fuzzer, readiness following the database, and a Galera
//! cluster losing a node. Each is
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
//! - `ROSTER_TEST_GALERA_URLS` and `ROSTER_TEST_GALERA_CTL`: a three-node
//!   Galera cluster on loopback (`scripts/galera start`, then `eval
//!   "$(scripts/galera env)"`) that the Galera test kills a node of;
//! - `ROSTER_TEST_MYSQL_URL`: the suite's ordinary MariaDB, as always.

mod database;
mod durability;
mod events;
pub mod fuzz;
mod fuzz_gen;
mod fuzz_input;
mod galera;
mod readiness;
mod transport;
mod victim;
