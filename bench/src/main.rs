//! Benchmark harness for Roster's query path (issue 3), run by `bench/query`.
//!
//! * `roster-bench seed <database-url> <users>` writes users straight into
//!   the tables in bulk (multi-row INSERTs in large transactions), with every
//!   column computed by Roster's own code, so the server sees exactly what
//!   its API would have written.
//! * `roster-bench load <base-url> <token> <users>` measures, one request
//!   at a time over a kept-alive connection, the latency of the queries the
//!   issue names and prints p50/p99 per scenario as Markdown rows.

mod load;
mod seed;

use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["seed", url, users] => match users.parse() {
            Ok(n) => seed::run(url, n).await,
            Err(_) => Err(format!("not a number of users: {users}")),
        },
        ["load", base, token, users] => match users.parse() {
            Ok(n) => load::run(base, token, n).await,
            Err(_) => Err(format!("not a number of users: {users}")),
        },
        _ => Err("usage: roster-bench seed <database-url> <users>\n       \
                  roster-bench load <base-url> <token> <users>"
            .to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The userName of the i-th seeded user; the load generator asks for
/// users by these names.
pub fn user_name(i: u64) -> String {
    format!("user{i:07}@example.com")
}

pub fn external_id(i: u64) -> String {
    format!("EXT-{i:07}")
}

pub fn work_email(i: u64) -> String {
    format!("u{i:07}@work.example.com")
}
