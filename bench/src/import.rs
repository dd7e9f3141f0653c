//! An IdP's full import, as Okta runs one: `GET /Users?startIndex=N&count=200`
//! page after page, in order, to the last user. Measured against a running
//! server seeded with `seed`, one request at a time: the pages at three
//! depths by `OFFSET` first (before any page has ended there, so the server
//! has no position to seek from), then the whole import, then the same
//! three pages again. Prints Markdown rows.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::load::{Bench, percentiles};

/// Users per page, as Okta asks.
const PAGE: u64 = 200;
/// Requests per page measured at a depth after the import.
const REPEATS: usize = 200;
/// Requests per page measured at a depth before it (each is a full
/// `OFFSET` read).
const COLD_REPEATS: usize = 10;

pub async fn run(base: &str, token: &str, users: u64) -> Result<(), String> {
    let bench = Bench::new(base, token);
    let depths = [1, users / 2 + 1, users.saturating_sub(PAGE).max(1)];
    let page = |start: u64| format!("/Users?startIndex={start}&count={PAGE}");
    let mut rows: Vec<(String, Vec<Duration>)> = Vec::new();
    for &start in &depths[1..] {
        let times = repeat(&bench, &page(start), COLD_REPEATS, users).await?;
        rows.push((
            format!("startIndex={start}, no page ended there (OFFSET)"),
            times,
        ));
    }

    let started = Instant::now();
    let mut times = Vec::new();
    let mut seen = HashSet::with_capacity(usize::try_from(users).unwrap_or(0));
    let mut start = 1;
    while start <= users {
        let (t, body) = bench.get(&page(start)).await?;
        check_total(&body, users)?;
        let resources = body["Resources"].as_array().ok_or("no Resources")?;
        for r in resources {
            let id = r["id"].as_str().and_then(|s| Uuid::parse_str(s).ok());
            let id = id.ok_or_else(|| format!("a resource without an id at {start}"))?;
            if !seen.insert(id) {
                return Err(format!("{id} came twice (page at {start})"));
            }
        }
        if resources.is_empty() {
            return Err(format!("an empty page at {start} of {users}"));
        }
        times.push(t);
        start += PAGE;
    }
    let total = started.elapsed();
    if seen.len() as u64 != users {
        return Err(format!("the import read {} users of {users}", seen.len()));
    }
    let pages = times.len();
    rows.push((format!("the whole import, {pages} pages"), times));
    for &start in &depths {
        let times = repeat(&bench, &page(start), REPEATS, users).await?;
        rows.push((format!("startIndex={start}, after the import"), times));
    }

    println!(
        "Import of {users} users in pages of {PAGE}: {:.1} s",
        total.as_secs_f64()
    );
    println!();
    println!("| pages | requests | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    for (name, times) in &rows {
        let (p50, p99, max) = percentiles(times);
        println!(
            "| {name} | {} | {p50:.2} | {p99:.2} | {max:.2} |",
            times.len()
        );
    }
    Ok(())
}

async fn repeat(bench: &Bench, path: &str, n: usize, users: u64) -> Result<Vec<Duration>, String> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let (t, body) = bench.get(path).await?;
        check_total(&body, users)?;
        times.push(t);
    }
    Ok(times)
}

fn check_total(body: &serde_json::Value, users: u64) -> Result<(), String> {
    match body["totalResults"].as_u64() {
        Some(n) if n == users => Ok(()),
        other => Err(format!("totalResults {other:?}, expected {users}")),
    }
}
