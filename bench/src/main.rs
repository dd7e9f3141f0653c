//! `roster-bench`, the one binary behind every benchmark script:
//!
//! * `seed` writes users (and groups) straight into a fresh database in
//!   bulk, every column computed by Roster's own code, so the server sees
//!   exactly what its API would have written (`bench/run`, `bench/query`);
//! * `load` measures, one request at a time over a kept-alive connection,
//!   the latency of equality filters, sorted pages and deep cursor paging,
//!   and prints p50/p99 per scenario as Markdown rows (`bench/query`);
//! * `import` reads every user by `startIndex` pages of 200, as an IdP's
//!   full import does, and prints the time and p50/p99 per page at three
//!   depths (`BENCH_MODE=import bench/query`);
//! * `group-patch` measures one-member group PATCHes against group size
//!   (`bench/group-patch`);
//! * `sink` is a push receiver that answers 202 and counts arrivals
//!   (`bench/events.py`).

mod data;
mod group_patch;
mod import;
mod load;
mod seed;
mod sink;
mod tenants;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "roster-bench",
    about = "Seeds databases and measures Roster for the benchmark scripts under bench/"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes users (and groups) in bulk into a fresh database.
    Seed(seed::Args),
    /// Measures query latencies against a running server seeded with
    /// `seed --shape query`.
    Load {
        /// The SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2.
        base_url: String,
        /// A bearer token the server accepts.
        token: String,
        /// How many users were seeded.
        users: u64,
    },
    /// Reads every user of a running server seeded with `seed`, by
    /// `startIndex` pages of 200 in order, as an IdP's full import does.
    Import {
        /// The SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2.
        base_url: String,
        /// A bearer token the server accepts.
        token: String,
        /// How many users were seeded.
        users: u64,
    },
    /// Measures a one-member group PATCH against groups of 100, 10,000 and
    /// 100,000 members, on SQLite and, with ROSTER_BENCH_MYSQL_URL, MariaDB.
    GroupPatch {
        /// Append the table to BENCHMARKS.md.
        #[arg(long)]
        write: bool,
    },
    /// A push receiver that answers 202 (503 while refusing) and counts
    /// arrivals, steered over /control/… (`bench/events.py`).
    Sink {
        /// The port to listen on, 127.0.0.1 only; 0 takes a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

#[actix_web::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Seed(args) => seed::run(args).await,
        Command::Load {
            base_url,
            token,
            users,
        } => load::run(&base_url, &token, users).await,
        Command::Import {
            base_url,
            token,
            users,
        } => import::run(&base_url, &token, users).await,
        Command::GroupPatch { write } => group_patch::run(write).await,
        Command::Sink { port } => sink::run(port).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
