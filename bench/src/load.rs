//! Latency measurements against a running server, one request at a time.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::time::{Duration, Instant};

use awc::Client;
use serde_json::Value;

use crate::data::{external_id, user_name, work_email};

/// Requests per equality-filter scenario.
const LOOKUPS: usize = 2000;
/// Requests per page scenario.
const PAGES: usize = 200;
/// How deep the cursor walk goes (90 % of a million users), capped by the
/// data.
const DEPTH: u64 = 900_000;
/// Page size of the cursor walk.
const WALK_PAGE: u64 = 1000;

pub(crate) struct Bench {
    client: Client,
    base: String,
    token: String,
}

impl Bench {
    /// One GET; the body is parsed (as a client would) but not timed apart.
    pub(crate) async fn get(&self, path_and_query: &str) -> Result<(Duration, Value), String> {
        let started = Instant::now();
        let mut resp = self
            .client
            .get(format!("{}{path_and_query}", self.base))
            .insert_header(("Authorization", format!("Bearer {}", self.token)))
            .send()
            .await
            .map_err(|e| format!("{path_and_query}: {e}"))?;
        let body = resp
            .body()
            .limit(256 * 1024 * 1024)
            .await
            .map_err(|e| e.to_string())?;
        let elapsed = started.elapsed();
        if !resp.status().is_success() {
            return Err(format!(
                "{path_and_query}: {} {}",
                resp.status(),
                String::from_utf8_lossy(&body)
            ));
        }
        let json = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        Ok((elapsed, json))
    }

    async fn lookups(
        &self,
        users: u64,
        filter: impl Fn(u64) -> String,
    ) -> Result<Vec<Duration>, String> {
        let mut times = Vec::with_capacity(LOOKUPS);
        for _ in 0..LOOKUPS {
            let i = fastrand::u64(0..users);
            let (t, body) = self
                .get(&format!("/Users?filter={}", encode(&filter(i))))
                .await?;
            if body["totalResults"] != 1 {
                return Err(format!("user {i} not found exactly once: {body}"));
            }
            times.push(t);
        }
        Ok(times)
    }

    async fn repeat(&self, path: &str, n: usize) -> Result<Vec<Duration>, String> {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            times.push(self.get(path).await?.0);
        }
        Ok(times)
    }
}

impl Bench {
    pub(crate) fn new(base: &str, token: &str) -> Self {
        Self {
            client: Client::builder().timeout(Duration::from_secs(600)).finish(),
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }
}

pub async fn run(base: &str, token: &str, users: u64) -> Result<(), String> {
    let bench = Bench::new(base, token);
    // Warm the caches the way a running server's would be.
    bench.get("/Users?count=1").await?;
    let mut rows = Vec::new();
    let eq = bench
        .lookups(users, |i| format!("userName eq \"{}\"", user_name(i)))
        .await?;
    rows.push(("`userName eq` (random user)", eq));
    let ext = bench
        .lookups(users, |i| format!("externalId eq \"{}\"", external_id(i)))
        .await?;
    rows.push(("`externalId eq`", ext));
    let mail = bench
        .lookups(users, |i| {
            format!("emails[type eq \"work\"].value eq \"{}\"", work_email(i))
        })
        .await?;
    rows.push(("`emails[type eq \"work\"].value eq`", mail));
    let sorted = bench
        .repeat("/Users?sortBy=userName&count=100", PAGES)
        .await?;
    rows.push((
        "`sortBy=userName` first page (100, with totalResults)",
        sorted,
    ));
    let first = bench
        .repeat("/Users?sortBy=userName&count=100&cursor=", PAGES)
        .await?;
    rows.push(("cursor, first page (100, counts totalResults)", first));
    // Page 2 carries the total in its cursor: the same work as a deep page.
    let (_, body) = bench
        .get("/Users?sortBy=userName&count=100&cursor=")
        .await?;
    let second = body["nextCursor"]
        .as_str()
        .ok_or("no nextCursor on page 1")?;
    let near = bench
        .repeat(
            &format!("/Users?sortBy=userName&count=100&cursor={second}"),
            PAGES,
        )
        .await?;
    rows.push(("cursor, second page (100)", near));

    let depth = DEPTH.min(users.saturating_sub(WALK_PAGE));
    let (walk, cursor) = walk(&bench, depth).await?;
    let deep = bench
        .repeat(
            &format!("/Users?sortBy=userName&count=100&cursor={cursor}"),
            PAGES,
        )
        .await?;
    rows.push(("cursor walk, pages of 1000 from 0 to the depth", walk));
    let label = format!("cursor page at depth {depth} (100)");
    println!("| scenario | requests | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    for (name, times) in rows
        .iter()
        .map(|(n, t)| (n.to_string(), t))
        .chain([(label, &deep)])
    {
        let (p50, p99, max) = percentiles(times);
        println!(
            "| {name} | {} | {p50:.2} | {p99:.2} | {max:.2} |",
            times.len()
        );
    }
    Ok(())
}

/// Follows `nextCursor` with pages of 1000 until `depth` users are behind
/// it; returns each page's latency and the cursor found there.
async fn walk(bench: &Bench, depth: u64) -> Result<(Vec<Duration>, String), String> {
    let mut cursor = String::new();
    let mut seen = 0;
    let mut times = Vec::new();
    while seen < depth {
        let (t, body) = bench
            .get(&format!(
                "/Users?sortBy=userName&count={WALK_PAGE}&cursor={cursor}&attributes=id"
            ))
            .await?;
        times.push(t);
        seen += body["itemsPerPage"].as_u64().unwrap_or(0);
        cursor = body["nextCursor"]
            .as_str()
            .ok_or_else(|| format!("the walk ended early at {seen}"))?
            .to_owned();
    }
    Ok((times, cursor))
}

pub(crate) fn percentiles(times: &[Duration]) -> (f64, f64, f64) {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((ms.len() as f64 - 1.0) * q).round() as usize;
        ms.get(i).copied().unwrap_or(0.0)
    };
    (at(0.50), at(0.99), at(1.0))
}

/// What a query value keeps unencoded: RFC 3986's unreserved characters
/// (spaces become %20, as Okta sends them).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}
