//! PATCH of one group member against groups of 100, 10,000 and 100,000
//! members, over real HTTP, on SQLite and (with ROSTER_BENCH_MYSQL_URL) on
//! MariaDB. The target: the 100,000-member figure within 1.5x of the
//! 100-member one, because a member change must cost O(change), never
//! O(group size).
//!
//! Run with `bench/group-patch`; `--write` appends the table to
//! BENCHMARKS.md.

use std::time::{Duration, Instant};

use entity::user;
use roster::config::{Config, DatabaseUrl, Secret};
use roster::startup::Application;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::data::Shape;
use crate::seed::{insert_members, insert_users};

const TOKEN: &str = "bench-token";
const SIZES: [usize; 3] = [100, 10_000, 100_000];
const SPARE: usize = 300;
const WARMUP: usize = 20;
const ROUNDS: usize = 200;
/// Answering with the whole group costs O(members) per request by nature;
/// fewer rounds keep that mode's run short.
const FULL_BODY_ROUNDS: usize = 20;

struct Row {
    db: &'static str,
    mode: &'static str,
    members: usize,
    add: Stats,
    remove: Stats,
}

#[derive(Clone, Copy)]
struct Stats {
    p50: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).copied().unwrap_or_default()
    };
    Stats {
        p50: at(0.5),
        p99: at(0.99),
    }
}

/// `roster-bench group-patch`: measures, prints the table and with `write`
/// appends it to BENCHMARKS.md.
pub async fn run(write: bool) -> Result<(), String> {
    let mut rows = Vec::new();
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    rows.extend(run_on("SQLite", sqlite).await?);
    match std::env::var("ROSTER_BENCH_MYSQL_URL") {
        Ok(server) => rows.extend(run_on("MariaDB", fresh_mariadb(&server).await?).await?),
        Err(_) => {
            eprintln!("ROSTER_BENCH_MYSQL_URL unset: MariaDB skipped (bench/group-patch sets it)")
        }
    }
    let table = render(&rows);
    println!("{table}");
    if write {
        append_benchmarks(&table)?;
    }
    Ok(())
}

async fn run_on(db: &'static str, url: String) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (mode, no_content, query) in [
        ("204 No Content", true, ""),
        (
            "200, excludedAttributes=members",
            false,
            "?excludedAttributes=members",
        ),
        ("200 with group", false, ""),
    ] {
        let mut config = Config::default();
        config.database.url = DatabaseUrl::new(url.clone());
        config.auth.bearer_tokens = vec![Secret::new(TOKEN)];
        config.scim.group_patch_no_content = no_content;
        let (base, conn) = serve(&config).await?;
        eprintln!("{db} ({mode}): seeding users and groups of {SIZES:?}");
        let (groups, spare) = seed(&conn, &config, &base).await?;
        for (size, group) in SIZES.iter().zip(&groups) {
            let full_body = !no_content && query.is_empty();
            let rounds = if full_body { FULL_BODY_ROUNDS } else { ROUNDS };
            let (add, remove) = measure(&base, &format!("{group}{query}"), &spare, rounds).await?;
            eprintln!(
                "{db} {mode} {size}: add p50 {:?}, remove p50 {:?}",
                add.p50, remove.p50
            );
            rows.push(Row {
                db,
                mode,
                members: *size,
                add,
                remove,
            });
        }
    }
    Ok(rows)
}

async fn serve(config: &Config) -> Result<(String, DatabaseConnection), String> {
    let mut config = config.clone();
    config.server.bind = "127.0.0.1:0".to_owned();
    let app = Application::builder(config)
        .workers(2)
        .disable_signals()
        .build()
        .await
        .map_err(|e| format!("start-up: {e}"))?;
    let (port, conn) = (app.port(), app.db().clone());
    actix_web::rt::spawn(app.run_until_stopped());
    Ok((format!("http://127.0.0.1:{port}/scim/v2"), conn))
}

/// Users in bulk through SQL, groups through the API, memberships through
/// SQL again: seeding 100,000 members one PATCH at a time would measure
/// the seeding, not the server. The users stay for the next mode.
async fn seed(
    conn: &DatabaseConnection,
    config: &Config,
    base: &str,
) -> Result<(Vec<String>, Vec<String>), String> {
    let needed = SIZES[2] + SPARE;
    let existing: Vec<Uuid> = user::Entity::find()
        .all(conn)
        .await
        .map_err(|e| format!("users: {e}"))?
        .into_iter()
        .map(|u| u.id)
        .collect();
    let ids = if existing.len() >= needed {
        existing
    } else {
        insert_users(
            conn,
            config,
            roster::service::DEFAULT_TENANT,
            needed,
            Shape::Run,
        )
        .await?
    };
    let client = client();
    let mut groups = Vec::new();
    for size in SIZES {
        let mut r = client
            .post(format!("{base}/Groups"))
            .send_json(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": format!("bench {size} {}", Uuid::new_v4())
            }))
            .await
            .map_err(|e| format!("create group: {e}"))?;
        if r.status().as_u16() != 201 {
            return Err(format!("create group: {}", r.status()));
        }
        let body: Value = r.json().await.map_err(|e| format!("create group: {e}"))?;
        let gid = body["id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(|| format!("create group: no id in {body}"))?;
        let members = ids.get(..size).ok_or("too few users")?;
        insert_members(conn, gid, members).await?;
        groups.push(gid.to_string());
    }
    let spare = ids
        .get(SIZES[2]..)
        .unwrap_or_default()
        .iter()
        .map(Uuid::to_string)
        .collect();
    Ok((groups, spare))
}

fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(120))
        .add_default_header(("Authorization", format!("Bearer {TOKEN}")))
        .finish()
}

/// Adds one member then removes it again, ROUNDS times, one request at a
/// time so each figure is a latency, not a queue.
async fn measure(
    base: &str,
    group: &str,
    spare: &[String],
    rounds: usize,
) -> Result<(Stats, Stats), String> {
    let client = client();
    let url = format!("{base}/Groups/{group}");
    let (mut adds, mut removes) = (Vec::new(), Vec::new());
    let warmup = WARMUP.min(rounds / 4);
    for round in 0..warmup + rounds {
        let member = spare
            .get(round % spare.len().max(1))
            .ok_or("no spare users")?;
        let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": member}]}]});
        let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": format!("members[value eq \"{member}\"]")}]});
        for (body, samples) in [(add, &mut adds), (remove, &mut removes)] {
            let started = Instant::now();
            let mut r = client
                .patch(&url)
                .send_json(&body)
                .await
                .map_err(|e| format!("PATCH: {e}"))?;
            r.body()
                .limit(256 * 1024 * 1024)
                .await
                .map_err(|e| format!("PATCH body: {e}"))?;
            if !r.status().is_success() {
                return Err(format!("PATCH failed: {}", r.status()));
            }
            if round >= warmup {
                samples.push(started.elapsed());
            }
        }
    }
    Ok((stats(adds), stats(removes)))
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Database | Response | Members | add p50 ms | add p99 ms | remove p50 ms | remove p99 ms | p50 vs 100 members |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let base = rows
            .iter()
            .find(|b| b.db == r.db && b.mode == r.mode && b.members == SIZES[0]);
        let ratio = base.map_or(0.0, |b| {
            let num = r.add.p50 + r.remove.p50;
            let den = b.add.p50 + b.remove.p50;
            num.as_secs_f64() / den.as_secs_f64()
        });
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.2}x |\n",
            r.db,
            r.mode,
            r.members,
            ms(r.add.p50),
            ms(r.add.p99),
            ms(r.remove.p50),
            ms(r.remove.p99),
            ratio
        ));
    }
    out
}

async fn fresh_mariadb(server: &str) -> Result<String, String> {
    let server = server.trim_end_matches('/');
    let name = format!("bench_{}", Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(server)
        .await
        .map_err(|e| format!("connect to MariaDB: {e}"))?;
    admin
        .execute_unprepared(&format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        ))
        .await
        .map_err(|e| format!("create database: {e}"))?;
    Ok(format!("{server}/{name}"))
}

fn append_benchmarks(table: &str) -> Result<(), String> {
    use std::io::Write;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let section = format!(
        "\n## Group PATCH of one member vs group size ({date}, {cores} cores, release build)\n\n\
         `bench/group-patch`: {ROUNDS} sequential add + remove pairs per group after {WARMUP} warm-up rounds\n\
         ({FULL_BODY_ROUNDS} when every answer carries the whole group),\n\
         over HTTP on loopback, durable commits (SQLite WAL synchronous=NORMAL; MariaDB innodb_flush_log_at_trx_commit=1).\n\n{table}"
    );
    // The repository root, one above this crate.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(fail)?;
    f.write_all(section.as_bytes()).map_err(fail)
}
