//! Seeds a fresh Roster database for `bench/run`: N users (two emails each)
//! and the benchmark's groups, written through SeaORM bulk inserts so that a
//! million users take minutes, not the hours one POST at a time would.
//!
//! Every row is built the way the API builds it (`UserRecord::from_json` /
//! `GroupRecord::from_json` on the same JSON the harness POSTs to the
//! reference server), so the stored documents are exactly what a POST would
//! have stored; `bench/run` checks that both servers then answer alike.
//!
//! Not a measurement: `cargo bench` alone runs it with no arguments, and it
//! then does nothing. `bench/run` builds it with `cargo bench --no-run` and
//! calls the binary:
//!
//! ```text
//! seed --database-url URL --users N --groups G --sizes 100,10000 \
//!      --ids-out FILE --groups-out FILE
//! ```
//!
//! The JSON of users and groups below must stay in step with
//! `user_body`/`group_body` in `bench/harness.py`.

use std::io::Write;
use std::time::Instant;

use entity::{group, group_member, user, user_email};
use roster::config::{Config, DatabaseUrl};
use roster::scim::group::GroupRecord;
use roster::scim::schema::SchemaRegistry;
use roster::scim::user::UserRecord;
use roster::service::DEFAULT_TENANT;
use roster::service::users::new_user_row;
use roster::startup;
use roster::store::users::email_rows;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;

/// Rows per INSERT: 1,000 users is 12,000 bind parameters and their 2,000
/// emails 16,000, under SQLite's 32,766 and MySQL's 65,535.
const BATCH: usize = 1000;
/// Members of each group that is not one of the sized groups.
const SMALL_GROUP_MEMBERS: usize = 10;

struct Args {
    url: String,
    users: usize,
    groups: usize,
    sizes: Vec<usize>,
    ids_out: String,
    groups_out: String,
}

fn parse_args() -> Option<Args> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut users, mut groups, mut sizes) = (None, None, None, None);
    let (mut ids_out, mut groups_out) = (None, None);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| die(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--database-url" => url = Some(value()),
            "--users" => users = Some(number(&value())),
            "--groups" => groups = Some(number(&value())),
            "--sizes" => {
                sizes = Some(
                    value()
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(number)
                        .collect(),
                )
            }
            "--ids-out" => ids_out = Some(value()),
            "--groups-out" => groups_out = Some(value()),
            // What `cargo bench` passes when it runs every bench target.
            "--bench" => {}
            other => die(&format!("unknown argument {other}")),
        }
    }
    Some(Args {
        url: url?,
        users: users.unwrap_or(10_000),
        groups: groups.unwrap_or(100),
        sizes: sizes.unwrap_or_default(),
        ids_out: ids_out.unwrap_or_else(|| die("--ids-out is required")),
        groups_out: groups_out.unwrap_or_else(|| die("--groups-out is required")),
    })
}

fn number(s: &str) -> usize {
    s.parse()
        .unwrap_or_else(|_| die(&format!("not a number: {s}")))
}

fn die(msg: &str) -> ! {
    eprintln!("seed: {msg}");
    std::process::exit(2)
}

/// One seeded user, index `i`. Keep in step with bench/harness.py.
fn user_body(i: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("user{i:07}@bench.example"),
        "externalId": format!("ext-{i:07}"),
        "name": {"givenName": format!("Given{i}"), "familyName": format!("Family{i}")},
        "displayName": format!("User {i}"),
        "active": true,
        "emails": [
            {"value": format!("u{i:07}@work.example"), "type": "work", "primary": true},
            {"value": format!("u{i:07}@home.example"), "type": "home"}
        ]
    })
}

/// Keep in step with bench/harness.py.
fn group_body(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
    })
}

/// The groups and the user indices they hold: the sized groups hold the
/// first `size` users (so users 0..99 belong to all of them), the others ten
/// users each. Keep in step with bench/harness.py.
fn group_plan(users: usize, groups: usize, sizes: &[usize]) -> Vec<(String, Vec<usize>)> {
    let mut plan: Vec<(String, Vec<usize>)> = sizes
        .iter()
        .map(|&s| (format!("bench-size-{s}"), (0..s).collect()))
        .collect();
    for g in 0..groups.saturating_sub(sizes.len()) {
        let members = (0..SMALL_GROUP_MEMBERS)
            .map(|k| (g * SMALL_GROUP_MEMBERS + k) % users)
            .collect();
        plan.push((format!("bench-group-{g:03}"), members));
    }
    plan
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(args) = parse_args() else {
        eprintln!("seed: nothing to do without --database-url (bench/run calls it)");
        return;
    };
    if let Some(s) = args.sizes.iter().find(|&&s| s > args.users) {
        die(&format!("a group of {s} members needs at least {s} users"));
    }
    let mut config = Config::default();
    config.database.url = DatabaseUrl::new(args.url.clone());
    let conn = startup::connect(&config).await.expect("connect");
    startup::migrate(&config, &conn).await.expect("migrate");
    if user::Entity::find().count(&conn).await.expect("count") > 0 {
        die("the database already holds users; seed a fresh one");
    }
    let started = Instant::now();
    let ids = insert_users(&conn, &config, args.users).await;
    eprintln!(
        "seed: {} users in {:.1} s",
        args.users,
        started.elapsed().as_secs_f64()
    );
    let groups = insert_groups(&conn, &config, &ids, args.groups, &args.sizes).await;
    write_lines(&args.ids_out, ids.iter().map(Uuid::to_string));
    let by_name: serde_json::Map<String, Value> = groups
        .into_iter()
        .map(|(name, id)| (name, Value::String(id.to_string())))
        .collect();
    std::fs::write(&args.groups_out, Value::Object(by_name).to_string()).expect("groups out");
    eprintln!("seed: done in {:.1} s", started.elapsed().as_secs_f64());
}

async fn insert_users(conn: &DatabaseConnection, config: &Config, n: usize) -> Vec<Uuid> {
    let registry = SchemaRegistry::rfc().expect("the RFC schemas");
    let dialect = config.scim.dialect;
    // Creation times in the past, one millisecond apart: the default list
    // order is creation time, so index i is list position i, and users the
    // benchmark POSTs later sort after every seeded one.
    let base = roster::time::now_ms() - n as i64 - 1_000;
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(BATCH) {
        let (mut users, mut emails) = (Vec::with_capacity(BATCH), Vec::new());
        for i in start..(start + BATCH).min(n) {
            let record =
                UserRecord::from_json(&registry, &dialect, user_body(i)).expect("valid user");
            let id = Uuid::new_v4();
            ids.push(id);
            emails.extend(email_rows(DEFAULT_TENANT, id, &record.emails));
            users.push(new_user_row(
                DEFAULT_TENANT,
                id,
                &record,
                base + i as i64,
                None,
            ));
        }
        // One transaction per batch: one durable commit per 1,000 users
        // instead of one per statement.
        let txn = conn.begin().await.expect("begin");
        user::Entity::insert_many(users)
            .exec_without_returning(&txn)
            .await
            .expect("insert users");
        user_email::Entity::insert_many(emails)
            .exec_without_returning(&txn)
            .await
            .expect("insert emails");
        txn.commit().await.expect("commit");
        if start > 0 && start % 100_000 == 0 {
            eprintln!("seed: {start} users");
        }
    }
    ids
}

async fn insert_groups(
    conn: &DatabaseConnection,
    config: &Config,
    users: &[Uuid],
    groups: usize,
    sizes: &[usize],
) -> Vec<(String, Uuid)> {
    let registry = SchemaRegistry::rfc().expect("the RFC schemas");
    let base = roster::time::now_ms() - groups as i64 - 1_000;
    let mut out = Vec::new();
    for (g, (name, members)) in group_plan(users.len(), groups, sizes)
        .into_iter()
        .enumerate()
    {
        let record = GroupRecord::from_json(&registry, &config.scim.dialect, group_body(&name))
            .expect("valid group");
        let id = Uuid::new_v4();
        let at = base + g as i64;
        let txn = conn.begin().await.expect("begin");
        group::Entity::insert(group::ActiveModel {
            tenant_id: Set(DEFAULT_TENANT),
            id: Set(id),
            display_name: Set(record.display_name),
            display_name_norm: Set(record.display_name_norm),
            external_id: Set(record.external_id),
            created_at: Set(at),
            modified_at: Set(at),
            version: Set(1),
            doc: Set(Value::Object(record.doc)),
            doc_search: Set(Some(record.doc_search)),
        })
        .exec_without_returning(&txn)
        .await
        .expect("insert group");
        for chunk in members.chunks(BATCH * 5) {
            let rows = chunk.iter().map(|&i| group_member::ActiveModel {
                tenant_id: Set(DEFAULT_TENANT),
                group_id: Set(id),
                member_id: Set(users[i]),
                member_type: Set("User".to_owned()),
            });
            group_member::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await
                .expect("insert members");
        }
        txn.commit().await.expect("commit");
        out.push((name, id));
    }
    // SQLite: leave a checkpointed file behind, so the server starts on the
    // database itself rather than on a large write-ahead log.
    if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        conn.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .expect("checkpoint");
    }
    out
}

fn write_lines(path: &str, lines: impl Iterator<Item = String>) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create ids file"));
    for line in lines {
        writeln!(f, "{line}").expect("write ids");
    }
    f.flush().expect("flush ids");
}
