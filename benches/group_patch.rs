//! PATCH of one group member against groups of 100, 10,000 and 100,000
//! members, over real HTTP, on SQLite and (with ROSTER_BENCH_MYSQL_URL) on
//! MariaDB. The target: the 100,000-member figure within 1.5x of the
//! 100-member one, because a member change must cost O(change), never
//! O(group size).
//!
//! Run with `bench/group-patch` (or `cargo bench --bench group_patch`);
//! `-- --write` appends the table to BENCHMARKS.md.

use std::time::{Duration, Instant};

use entity::{group_member, user};
use roster::config::{Config, DatabaseUrl, Secret};
use roster::scim::idp_dialect::Dialect;
use roster::scim::schema::SchemaRegistry;
use roster::scim::user::UserRecord;
use roster::service::DEFAULT_TENANT;
use roster::service::users::new_user_row;
use roster::startup::Application;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde_json::json;
use uuid::Uuid;

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
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        p50: at(0.5),
        p99: at(0.99),
    }
}

#[actix_web::main]
async fn main() {
    let write = std::env::args().any(|a| a == "--write");
    let mut rows = Vec::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    rows.extend(run("SQLite", sqlite).await);
    match std::env::var("ROSTER_BENCH_MYSQL_URL") {
        Ok(server) => rows.extend(run("MariaDB", fresh_mariadb(&server).await).await),
        Err(_) => {
            eprintln!("ROSTER_BENCH_MYSQL_URL unset: MariaDB skipped (bench/group-patch sets it)")
        }
    }
    let table = render(&rows);
    println!("{table}");
    if write {
        append_benchmarks(&table);
    }
}

async fn run(db: &'static str, url: String) -> Vec<Row> {
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
        let (base, conn) = serve(&config).await;
        eprintln!("{db} ({mode}): seeding users and groups of {SIZES:?}");
        let (groups, spare) = seed(&conn, &base).await;
        for (size, group) in SIZES.iter().zip(&groups) {
            let full_body = !no_content && query.is_empty();
            let rounds = if full_body { FULL_BODY_ROUNDS } else { ROUNDS };
            let (add, remove) = measure(&base, &format!("{group}{query}"), &spare, rounds).await;
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
    rows
}

async fn serve(config: &Config) -> (String, DatabaseConnection) {
    let mut config = config.clone();
    config.server.bind = "127.0.0.1:0".to_owned();
    let app = Application::builder(config)
        .workers(2)
        .disable_signals()
        .build()
        .await
        .expect("start roster");
    let (port, conn) = (app.port(), app.db().clone());
    actix_web::rt::spawn(app.run_until_stopped());
    (format!("http://127.0.0.1:{port}/scim/v2"), conn)
}

/// Users in bulk through SQL, groups through the API, memberships through
/// SQL again: seeding 100,000 members one PATCH at a time would measure
/// the seeding, not the server.
async fn seed(conn: &DatabaseConnection, base: &str) -> (Vec<String>, Vec<String>) {
    let existing: Vec<Uuid> = user::Entity::find()
        .all(conn)
        .await
        .expect("users")
        .into_iter()
        .map(|u| u.id)
        .collect();
    let ids = if existing.len() >= SIZES[2] + SPARE {
        existing
    } else {
        insert_users(conn, SIZES[2] + SPARE).await
    };
    let client = client();
    let mut groups = Vec::new();
    for size in SIZES {
        let r = client
            .post(format!("{base}/Groups"))
            .send_json(&json!({"displayName": format!("bench {size} {}", Uuid::new_v4())}))
            .await
            .expect("create group");
        assert_eq!(r.status().as_u16(), 201);
        let body: serde_json::Value = {
            let mut r = r;
            r.json().await.expect("json")
        };
        let gid = Uuid::parse_str(body["id"].as_str().expect("id")).expect("uuid");
        for chunk in ids[..size].chunks(1000) {
            let rows = chunk.iter().map(|m| group_member::ActiveModel {
                tenant_id: Set(DEFAULT_TENANT),
                group_id: Set(gid),
                member_id: Set(*m),
                member_type: Set("User".to_owned()),
            });
            group_member::Entity::insert_many(rows)
                .exec_without_returning(conn)
                .await
                .expect("members");
        }
        groups.push(gid.to_string());
    }
    let spare = ids[SIZES[2]..].iter().map(Uuid::to_string).collect();
    (groups, spare)
}

async fn insert_users(conn: &DatabaseConnection, n: usize) -> Vec<Uuid> {
    let registry = SchemaRegistry::rfc().expect("the RFC schemas");
    let mut ids = Vec::with_capacity(n);
    let now = roster::time::now_ms();
    for start in (0..n).step_by(1000) {
        let batch: Vec<user::ActiveModel> = (start..(start + 1000).min(n))
            .map(|i| {
                let id = Uuid::new_v4();
                ids.push(id);
                let doc = json!({"userName": format!("user{i:07}@bench.example"), "displayName": format!("User {i}")});
                let record = UserRecord::from_json(&registry, &Dialect::lenient(), doc).expect("valid user");
                new_user_row(DEFAULT_TENANT, id, &record, now + i as i64, None)
            })
            .collect();
        user::Entity::insert_many(batch)
            .exec_without_returning(conn)
            .await
            .expect("users");
    }
    ids
}

fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(120))
        .add_default_header(("Authorization", format!("Bearer {TOKEN}")))
        .finish()
}

/// Adds one member then removes it again, ROUNDS times, one request at a
/// time so each figure is a latency, not a queue.
async fn measure(base: &str, group: &str, spare: &[String], rounds: usize) -> (Stats, Stats) {
    let client = client();
    let url = format!("{base}/Groups/{group}");
    let (mut adds, mut removes) = (Vec::new(), Vec::new());
    let warmup = WARMUP.min(rounds / 4);
    for round in 0..warmup + rounds {
        let member = &spare[round % spare.len()];
        let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": member}]}]});
        let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": format!("members[value eq \"{member}\"]")}]});
        for (body, samples) in [(add, &mut adds), (remove, &mut removes)] {
            let started = Instant::now();
            let mut r = client.patch(&url).send_json(&body).await.expect("patch");
            let _ = r.body().limit(256 * 1024 * 1024).await.expect("body");
            assert!(r.status().is_success(), "PATCH failed: {}", r.status());
            if round >= warmup {
                samples.push(started.elapsed());
            }
        }
    }
    (stats(adds), stats(removes))
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

async fn fresh_mariadb(server: &str) -> String {
    use sea_orm::ConnectionTrait;
    let server = server.trim_end_matches('/');
    let name = format!("bench_{}", Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(server)
        .await
        .expect("connect to MariaDB");
    admin
        .execute_unprepared(&format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        ))
        .await
        .expect("create database");
    format!("{server}/{name}")
}

fn append_benchmarks(table: &str) {
    use std::io::Write;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let section = format!(
        "\n## Group PATCH of one member vs group size ({date}, {cores} cores, release build)\n\n\
         `bench/group-patch`: {ROUNDS} sequential add + remove pairs per group after {WARMUP} warm-up rounds\n\
         ({FULL_BODY_ROUNDS} when every answer carries the whole group),\n\
         over HTTP on loopback, durable commits (SQLite WAL synchronous=NORMAL; MariaDB innodb_flush_log_at_trx_commit=1).\n\n{table}"
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open BENCHMARKS.md");
    f.write_all(section.as_bytes())
        .expect("write BENCHMARKS.md");
}
