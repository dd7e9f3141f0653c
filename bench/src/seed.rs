//! Bulk seeding, the one seeder every benchmark uses. Going through the HTTP
//! API would take hours for a million users; here every row is built by the
//! code the API runs (`UserRecord::from_json` / `GroupRecord::from_json` and
//! the same row builders), so the stored rows are exactly what a POST of the
//! same JSON would have stored.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use entity::{group, group_member, user, user_email};
use roster::config::{Config, DatabaseUrl};
use roster::scim::group::GroupRecord;
use roster::scim::user::UserRecord;
use roster::service::DEFAULT_TENANT;
use roster::service::users::new_user_row;
use roster::startup;
use roster::store::counts;
use roster::store::users::email_rows;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    TransactionTrait,
};
use serde_json::Value;
use uuid::Uuid;

use crate::data::{Shape, group_body, group_plan};

/// Rows per INSERT: 1,000 users is 12,000 bind parameters and their 2,000
/// emails 16,000, under SQLite's 32,766 and MySQL's 65,535.
const ROWS_PER_INSERT: usize = 1000;
/// INSERTs per transaction: few durable commits, bounded undo on MariaDB.
const INSERTS_PER_TXN: usize = 20;
/// Membership rows per INSERT (four bind parameters each).
const MEMBERS_PER_INSERT: usize = 5000;
/// Progress goes to stderr every this many users.
const PROGRESS_EVERY: usize = 100_000;

/// `roster-bench seed`: a fresh database with users and, optionally, groups.
#[derive(clap::Args)]
pub struct Args {
    /// The database to seed; it must hold no users yet.
    #[arg(long)]
    database_url: String,
    /// Users to write.
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,
    /// Which benchmark's users to write.
    #[arg(long, value_enum, default_value_t = Shape::Run)]
    pub shape: Shape,
    /// Groups to write, the sized ones included.
    #[arg(long, default_value_t = 0)]
    groups: usize,
    /// Comma-separated sizes of the groups that hold the first N users.
    #[arg(long, value_parser = parse_sizes, default_value = "")]
    sizes: Sizes,
    /// Where to write the users' ids, one a line, in seed order.
    #[arg(long)]
    ids_out: Option<PathBuf>,
    /// Where to write the groups' ids, a JSON object by displayName.
    #[arg(long)]
    groups_out: Option<PathBuf>,
    /// Tenants to spread over: `default` and N - 1 more (`bench-0001`, …),
    /// each with `--users` users of the same names; groups go to `default`.
    #[arg(long, default_value_t = 1)]
    tenants: usize,
    /// Where to write a bearer token of the last tenant, its id and the
    /// id of its first user, tab-separated, for `bench/callgrind`.
    #[arg(long)]
    token_out: Option<PathBuf>,
}

#[derive(Clone)]
struct Sizes(Vec<usize>);

fn parse_sizes(s: &str) -> Result<Sizes, String> {
    s.split(',')
        .filter(|s| !s.is_empty())
        .map(|n| n.parse().map_err(|_| format!("not a number: {n}")))
        .collect::<Result<_, _>>()
        .map(Sizes)
}

pub async fn run(args: Args) -> Result<(), String> {
    let sizes = &args.sizes.0;
    if let Some(s) = sizes.iter().find(|&&s| s > args.users) {
        return Err(format!("a group of {s} members needs at least {s} users"));
    }
    if args.groups > 0 && args.users == 0 {
        return Err("groups need users to hold".to_owned());
    }
    let mut config = Config::default();
    config.database.url = DatabaseUrl::new(args.database_url.clone());
    let conn = connect(&config).await?;
    let existing = user::Entity::find()
        .count(&conn)
        .await
        .map_err(|e| format!("count users: {e}"))?;
    if existing > 0 {
        return Err(format!(
            "the database already holds {existing} users; seed a fresh one"
        ));
    }
    let started = Instant::now();
    let ids = insert_users(&conn, &config, DEFAULT_TENANT, args.users, args.shape).await?;
    let last = crate::tenants::seed_more(&conn, &config, &args, args.tenants).await?;
    eprintln!(
        "seed: {} users in each of {} tenant(s) in {:.1} s",
        args.users,
        args.tenants.max(1),
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.token_out {
        let (tenant, first) =
            last.unwrap_or((DEFAULT_TENANT, ids.first().copied().unwrap_or_default()));
        crate::tenants::write_token(&conn, tenant, first, path).await?;
    }
    let groups = insert_groups(&conn, &config, &ids, args.groups, sizes).await?;
    checkpoint(&conn).await?;
    if let Some(path) = &args.ids_out {
        write_lines(path, ids.iter().map(Uuid::to_string))?;
    }
    if let Some(path) = &args.groups_out {
        let by_name: serde_json::Map<String, Value> = groups
            .into_iter()
            .map(|(name, id)| (name, Value::String(id.to_string())))
            .collect();
        std::fs::write(path, Value::Object(by_name).to_string())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    eprintln!("seed: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Connects and brings the schema up to date, as the server does at start.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, String> {
    let conn = startup::connect(config)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    startup::migrate(config, &conn)
        .await
        .map_err(|e| format!("migrate: {e}"))?;
    Ok(conn)
}

/// Writes `n` users of `shape` (user `i` from `shape.user(i)`) and returns
/// their ids in seed order.
pub async fn insert_users(
    conn: &DatabaseConnection,
    config: &Config,
    tenant: Uuid,
    n: usize,
    shape: Shape,
) -> Result<Vec<Uuid>, String> {
    let registry = startup::registry(config).map_err(|e| e.to_string())?;
    let dialect = config.scim.rules();
    // Creation times in the past, one millisecond apart: the default list
    // order is creation time, so index i is list position i, and users a
    // benchmark POSTs later sort after every seeded one.
    let base = roster::time::now_ms() - ms(n) - 1_000;
    let mut ids = Vec::with_capacity(n);
    let per_txn = ROWS_PER_INSERT * INSERTS_PER_TXN;
    for txn_start in (0..n).step_by(per_txn) {
        let txn = conn.begin().await.map_err(|e| format!("begin: {e}"))?;
        for start in (txn_start..(txn_start + per_txn).min(n)).step_by(ROWS_PER_INSERT) {
            let (mut users, mut emails) = (Vec::with_capacity(ROWS_PER_INSERT), Vec::new());
            for i in start..(start + ROWS_PER_INSERT).min(n) {
                let record = UserRecord::from_json(&registry, &dialect, shape.user(i))
                    .map_err(|e| format!("user {i}: {e}"))?;
                let id = Uuid::new_v4();
                ids.push(id);
                emails.extend(email_rows(tenant, id, &record.emails));
                users.push(new_user_row(tenant, id, &record, base + ms(i), None));
            }
            user::Entity::insert_many(users)
                .exec_without_returning(&txn)
                .await
                .map_err(|e| format!("insert users: {e}"))?;
            user_email::Entity::insert_many(emails)
                .exec_without_returning(&txn)
                .await
                .map_err(|e| format!("insert emails: {e}"))?;
            if start > 0 && start.is_multiple_of(PROGRESS_EVERY) {
                eprintln!("seed: {start} users");
            }
        }
        txn.commit().await.map_err(|e| format!("commit: {e}"))?;
    }
    recount(conn).await?;
    Ok(ids)
}

/// The tenant's resource counts, which the server keeps on its writes,
/// set from the rows written here.
async fn recount(conn: &DatabaseConnection) -> Result<(), String> {
    counts::recount(conn, DEFAULT_TENANT)
        .await
        .map_err(|e| format!("recount: {e}"))
}

/// Writes the groups of [`group_plan`] with their members, one transaction
/// a group, and returns each group's displayName and id.
async fn insert_groups(
    conn: &DatabaseConnection,
    config: &Config,
    users: &[Uuid],
    groups: usize,
    sizes: &[usize],
) -> Result<Vec<(String, Uuid)>, String> {
    let registry = startup::registry(config).map_err(|e| e.to_string())?;
    let base = roster::time::now_ms() - ms(groups) - 1_000;
    let mut out = Vec::new();
    for (g, (name, members)) in group_plan(users.len(), groups, sizes)
        .into_iter()
        .enumerate()
    {
        let record = GroupRecord::from_json(&registry, &config.scim.rules(), group_body(&name))
            .map_err(|e| format!("group {name}: {e}"))?;
        let id = Uuid::new_v4();
        let at = base + ms(g);
        let member_ids = members
            .iter()
            .map(|&i| users.get(i).copied().ok_or_else(|| format!("no user {i}")))
            .collect::<Result<Vec<_>, _>>()?;
        let txn = conn.begin().await.map_err(|e| format!("begin: {e}"))?;
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
        .map_err(|e| format!("insert group {name}: {e}"))?;
        insert_members(&txn, id, &member_ids).await?;
        txn.commit().await.map_err(|e| format!("commit: {e}"))?;
        out.push((name, id));
    }
    if groups > 0 {
        recount(conn).await?;
    }
    Ok(out)
}

/// Adds users to a group straight in its membership table.
pub async fn insert_members(
    conn: &impl ConnectionTrait,
    group: Uuid,
    members: &[Uuid],
) -> Result<(), String> {
    for chunk in members.chunks(MEMBERS_PER_INSERT) {
        let rows = chunk.iter().map(|&member| group_member::ActiveModel {
            tenant_id: Set(DEFAULT_TENANT),
            group_id: Set(group),
            member_id: Set(member),
            member_type: Set("User".to_owned()),
        });
        group_member::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await
            .map_err(|e| format!("insert members: {e}"))?;
    }
    Ok(())
}

/// SQLite: leaves a checkpointed file behind, so the server starts on the
/// database itself rather than on a large write-ahead log.
async fn checkpoint(conn: &DatabaseConnection) -> Result<(), String> {
    if conn.get_database_backend() == DbBackend::Sqlite {
        conn.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .map_err(|e| format!("checkpoint: {e}"))?;
    }
    Ok(())
}

fn write_lines(path: &Path, lines: impl Iterator<Item = String>) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
    for line in lines {
        writeln!(f, "{line}").map_err(fail)?;
    }
    f.flush().map_err(fail)
}

/// An index or count as milliseconds.
fn ms(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
