//! The event tables: the outbox (one row per event, written in the
//! change's transaction), receivers with their delivery state, poll
//! acknowledgements and parked events. Every statement runs on any
//! `Source`/`Write`: the write lane, a pool transaction or the pool itself.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use std::sync::LazyLock;

use sea_orm::{DbErr, Statement, Value};
use uuid::Uuid;

use crate::store::exec::{Decode, InsertSql, Row, Source, Write};

pub const OUTBOX: &str = "event_outbox";
pub const RECEIVERS: &str = "event_receivers";
const ACKS: &str = "event_acks";
const PARKED: &str = "event_parked";

fn t(name: &'static str) -> Alias {
    Alias::new(name)
}

fn col(name: &'static str) -> Expr {
    Expr::col(Alias::new(name))
}

/// An event as the write path records it.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub tenant: Uuid,
    pub id: Uuid,
    pub resource_type: &'static str,
    pub resource_id: Uuid,
    pub event: &'static str,
    pub txn: Option<String>,
    pub external_id: Option<String>,
    pub version: i64,
    /// The names of the attributes the write changed, as a JSON array.
    pub attributes: Option<String>,
    pub created_at: i64,
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    pub tenant: Uuid,
    pub id: Uuid,
    pub resource_type: String,
    pub resource_id: Uuid,
    pub event: String,
    pub txn: Option<String>,
    pub external_id: Option<String>,
    pub version: i64,
    pub attributes: Option<String>,
    pub created_at: i64,
}

static EVENT_COLUMNS: [&str; 11] = [
    "seq",
    "tenant_id",
    "id",
    "resource_type",
    "resource_id",
    "event",
    "txn",
    "external_id",
    "version",
    "attributes",
    "created_at",
];

impl Decode for StoredEvent {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            seq: row.i64("seq")?,
            tenant: row.uuid("tenant_id")?,
            id: row.uuid("id")?,
            resource_type: row.string("resource_type")?,
            resource_id: row.uuid("resource_id")?,
            event: row.string("event")?,
            txn: row.string_opt("txn")?,
            external_id: row.string_opt("external_id")?,
            version: row.i64("version")?,
            attributes: row.string_opt("attributes")?,
            created_at: row.i64("created_at")?,
        })
    }
}

/// Records `events` in one statement. Its SQL is made once per database
/// for the one or two events a change makes, and its values straight from
/// the events: built through the query builder, the statement cost as much
/// as the insert, which every write makes while a receiver is configured.
pub async fn insert_events<W: Write>(w: &W, events: &[NewEvent]) -> Result<(), DbErr> {
    static SQL: LazyLock<InsertSql<2>> =
        LazyLock::new(|| InsertSql::new(OUTBOX, &EVENT_COLUMNS[1..]));
    if events.is_empty() {
        return Ok(());
    }
    let backend = w.backend();
    let mut values = Vec::with_capacity(events.len() * (EVENT_COLUMNS.len() - 1));
    for e in events {
        values.extend([
            Value::from(e.tenant),
            Value::from(e.id),
            Value::from(e.resource_type),
            Value::from(e.resource_id),
            Value::from(e.event),
            Value::from(e.txn.clone()),
            Value::from(e.external_id.clone()),
            Value::from(e.version),
            Value::from(e.attributes.clone()),
            Value::from(e.created_at),
        ]);
    }
    let insert = Statement::from_sql_and_values(backend, SQL.get(backend, events.len()), values);
    // Last in the write's transaction: on MariaDB/MySQL it goes with the
    // commit. Keys come from the database: none is taken twice.
    w.exec_at_commit(insert, None).await
}

fn select_events() -> SelectStatement {
    let mut stmt = Query::select();
    stmt.from(t(OUTBOX))
        .columns(EVENT_COLUMNS.iter().map(|c| t(c)));
    stmt
}

/// A tenant's events after `after` up to `upto`, in order.
pub async fn events_between<S: Source>(
    s: &S,
    tenant: Uuid,
    after: i64,
    upto: i64,
    limit: u64,
) -> Result<Vec<StoredEvent>, DbErr> {
    let stmt = select_events()
        .and_where(col("tenant_id").eq(tenant))
        .and_where(col("seq").gt(after))
        .and_where(col("seq").lte(upto))
        .order_by(t("seq"), Order::Asc)
        .limit(limit)
        .to_owned();
    s.rows(s.backend().build(&stmt)).await
}

/// Like `events_between`, without those `receiver` acknowledged.
pub async fn unacked_between<S: Source>(
    s: &S,
    tenant: Uuid,
    receiver: Uuid,
    (after, upto): (i64, i64),
    limit: u64,
) -> Result<Vec<StoredEvent>, DbErr> {
    let acked = Query::select()
        .expr(Expr::val(1))
        .from(t(ACKS))
        .and_where(Expr::col((t(ACKS), t("receiver_id"))).eq(receiver))
        .and_where(Expr::col((t(ACKS), t("seq"))).equals((t(OUTBOX), t("seq"))))
        .to_owned();
    let stmt = select_events()
        .and_where(col("tenant_id").eq(tenant))
        .and_where(Expr::col((t(OUTBOX), t("seq"))).gt(after))
        .and_where(Expr::col((t(OUTBOX), t("seq"))).lte(upto))
        .and_where(Expr::exists(acked).not())
        .order_by((t(OUTBOX), t("seq")), Order::Asc)
        .limit(limit)
        .to_owned();
    s.rows(s.backend().build(&stmt)).await
}

/// The events of `tenant` with these ids, after `after`.
pub async fn events_by_id<S: Source>(
    s: &S,
    tenant: Uuid,
    after: i64,
    ids: &[Uuid],
) -> Result<Vec<StoredEvent>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let stmt = select_events()
        .and_where(col("tenant_id").eq(tenant))
        .and_where(col("seq").gt(after))
        .and_where(col("id").is_in(ids.iter().copied()))
        .to_owned();
    s.rows(s.backend().build(&stmt)).await
}

/// A sequence number and when its event was recorded.
pub struct SeqAge {
    pub seq: i64,
    pub created_at: i64,
}

impl Decode for SeqAge {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            seq: row.i64("seq")?,
            created_at: row.i64("created_at")?,
        })
    }
}

/// Every tenant's sequence numbers after `after`, in order.
pub async fn seqs_after<S: Source>(s: &S, after: i64, limit: u64) -> Result<Vec<SeqAge>, DbErr> {
    let stmt = Query::select()
        .columns([t("seq"), t("created_at")])
        .from(t(OUTBOX))
        .and_where(col("seq").gt(after))
        .order_by(t("seq"), Order::Asc)
        .limit(limit)
        .to_owned();
    s.rows(s.backend().build(&stmt)).await
}

struct Number {
    n: i64,
}

impl Decode for Number {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self { n: row.i64("n")? })
    }
}

async fn number<S: Source>(s: &S, stmt: &SelectStatement) -> Result<i64, DbErr> {
    let rows: Vec<Number> = s.rows(s.backend().build(stmt)).await?;
    Ok(rows.first().map_or(0, |r| r.n))
}

/// The newest sequence number recorded.
pub async fn max_seq<S: Source>(s: &S) -> Result<i64, DbErr> {
    let stmt = Query::select()
        .expr_as(col("seq").max().if_null(0), t("n"))
        .from(t(OUTBOX))
        .to_owned();
    number(s, &stmt).await
}

/// How many of `tenant`'s events come after `after`.
pub async fn count_after<S: Source>(s: &S, tenant: Uuid, after: i64) -> Result<i64, DbErr> {
    let stmt = Query::select()
        .expr_as(col("seq").count(), t("n"))
        .from(t(OUTBOX))
        .and_where(col("tenant_id").eq(tenant))
        .and_where(col("seq").gt(after))
        .to_owned();
    number(s, &stmt).await
}

/// Records that `receiver` acknowledged these events.
pub async fn insert_acks<W: Write>(w: &W, receiver: Uuid, seqs: &[i64]) -> Result<(), DbErr> {
    if seqs.is_empty() {
        return Ok(());
    }
    let mut stmt = Query::insert();
    stmt.into_table(t(ACKS))
        .columns([t("receiver_id"), t("seq")]);
    for seq in seqs {
        let values: [Expr; 2] = [receiver.into(), (*seq).into()];
        stmt.values(values)
            .map_err(|e| DbErr::Custom(format!("ack insert: {e}")))?;
    }
    w.exec(w.backend().build(&stmt)).await.map(|_| ())
}

struct Seq {
    seq: i64,
}

impl Decode for Seq {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            seq: row.i64("seq")?,
        })
    }
}

/// The events after `after` that `receiver` acknowledged.
pub async fn acked_after<S: Source>(s: &S, receiver: Uuid, after: i64) -> Result<Vec<i64>, DbErr> {
    let stmt = Query::select()
        .column(t("seq"))
        .from(t(ACKS))
        .and_where(col("receiver_id").eq(receiver))
        .and_where(col("seq").gt(after))
        .order_by(t("seq"), Order::Asc)
        .to_owned();
    let rows: Vec<Seq> = s.rows(s.backend().build(&stmt)).await?;
    Ok(rows.into_iter().map(|r| r.seq).collect())
}

/// Forgets `receiver`'s acknowledgements up to `upto`: its cursor has
/// passed them.
pub async fn delete_acks_upto<W: Write>(w: &W, receiver: Uuid, upto: i64) -> Result<(), DbErr> {
    let stmt = Query::delete()
        .from_table(t(ACKS))
        .and_where(col("receiver_id").eq(receiver))
        .and_where(col("seq").lte(upto))
        .to_owned();
    w.exec(w.backend().build(&stmt)).await.map(|_| ())
}

/// An event a receiver refused for good, or never took in time.
#[derive(Debug, Clone)]
pub struct Parked {
    pub seq: i64,
    pub event_id: Uuid,
    pub event: String,
    pub error: String,
    pub parked_at: i64,
}

impl Decode for Parked {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            seq: row.i64("seq")?,
            event_id: row.uuid("event_id")?,
            event: row.string("event")?,
            error: row.string("error")?,
            parked_at: row.i64("parked_at")?,
        })
    }
}

/// Parks `event` for `receiver`; parking it again keeps the first record.
pub async fn park<W: Write>(
    w: &W,
    receiver: (Uuid, Uuid),
    event: &StoredEvent,
    error: &str,
    at: i64,
) -> Result<(), DbErr> {
    let (tenant, receiver) = receiver;
    let exists = Query::select()
        .column(t("seq"))
        .from(t(PARKED))
        .and_where(col("receiver_id").eq(receiver))
        .and_where(col("seq").eq(event.seq))
        .to_owned();
    let found: Vec<Seq> = w.rows(w.backend().build(&exists)).await?;
    if !found.is_empty() {
        return Ok(());
    }
    let values: [Expr; 7] = [
        tenant.into(),
        receiver.into(),
        event.seq.into(),
        event.id.into(),
        event.event.clone().into(),
        error.to_owned().into(),
        at.into(),
    ];
    let stmt = Query::insert()
        .into_table(t(PARKED))
        .columns(
            [
                "tenant_id",
                "receiver_id",
                "seq",
                "event_id",
                "event",
                "error",
                "parked_at",
            ]
            .map(t),
        )
        .values(values)
        .map_err(|e| DbErr::Custom(format!("park insert: {e}")))?
        .to_owned();
    w.exec(w.backend().build(&stmt)).await.map(|_| ())
}

/// `receiver`'s parked events, newest first, and how many there are.
pub async fn parked<S: Source>(
    s: &S,
    receiver: Uuid,
    limit: u64,
) -> Result<(Vec<Parked>, i64), DbErr> {
    let stmt = Query::select()
        .columns(["seq", "event_id", "event", "error", "parked_at"].map(t))
        .from(t(PARKED))
        .and_where(col("receiver_id").eq(receiver))
        .order_by(t("seq"), Order::Desc)
        .limit(limit)
        .to_owned();
    let rows = s.rows(s.backend().build(&stmt)).await?;
    let count = Query::select()
        .expr_as(col("seq").count(), t("n"))
        .from(t(PARKED))
        .and_where(col("receiver_id").eq(receiver))
        .to_owned();
    Ok((rows, number(s, &count).await?))
}

/// Parked events over all receivers, for the metrics.
pub async fn parked_total<S: Source>(s: &S) -> Result<i64, DbErr> {
    let stmt = Query::select()
        .expr_as(col("seq").count(), t("n"))
        .from(t(PARKED))
        .to_owned();
    number(s, &stmt).await
}

/// Deletes what is older than `before` (events, parked events) and
/// acknowledgements of events no longer kept; how many events went. The
/// newest event stays whatever its age: on SQLite a new event's key is
/// one more than the largest kept, and it must stay above every key
/// given out (receivers' cursors point past them).
pub async fn prune<W: Write>(w: &W, before: i64) -> Result<u64, DbErr> {
    let newest = Query::select()
        .expr_as(col("seq").max().if_null(0), t("n"))
        .from(t(OUTBOX))
        .to_owned();
    let newest = number(w, &newest).await?;
    let mut gone = 0;
    while let Some(last) = oldest_run_before(w, before, newest).await? {
        let events = Query::delete()
            .from_table(t(OUTBOX))
            .and_where(col("seq").lte(last.seq))
            .to_owned();
        gone += w.exec(w.backend().build(&events)).await?;
        if !last.more {
            break;
        }
    }
    let parked = Query::delete()
        .from_table(t(PARKED))
        .and_where(col("parked_at").lt(before))
        .to_owned();
    w.exec(w.backend().build(&parked)).await?;
    let oldest = Query::select()
        .expr_as(col("seq").min().if_null(i64::MAX), t("n"))
        .from(t(OUTBOX))
        .to_owned();
    let oldest = number(w, &oldest).await?;
    let acks = Query::delete()
        .from_table(t(ACKS))
        .and_where(col("seq").lt(oldest))
        .to_owned();
    w.exec(w.backend().build(&acks)).await?;
    Ok(gone)
}

/// How far the oldest events, in key order, are all older than `before`.
struct OldRun {
    seq: i64,
    /// The whole batch read was old: more may follow.
    more: bool,
}

/// Events one pruning statement deletes at most.
const PRUNE_BATCH: u64 = 1000;

/// The last of the oldest events (by key) made before `before`, stopping
/// at the first younger one or at `newest`: the age has no index (every
/// write would pay for it), and keys follow the time of writing closely
/// enough that the oldest events come first.
async fn oldest_run_before<S: Source>(
    s: &S,
    before: i64,
    newest: i64,
) -> Result<Option<OldRun>, DbErr> {
    let rows = seqs_after(s, 0, PRUNE_BATCH).await?;
    let old: Vec<i64> = rows
        .iter()
        .take_while(|r| r.created_at < before && r.seq < newest)
        .map(|r| r.seq)
        .collect();
    Ok(old.last().map(|seq| OldRun {
        seq: *seq,
        more: old.len() as u64 == PRUNE_BATCH,
    }))
}

/// Values of a receiver row that change as it delivers.
pub fn progress_values(
    cursor: i64,
    attempts: i64,
    next_attempt_at: i64,
    failing_since: Option<i64>,
    last_error: Option<String>,
) -> Vec<(&'static str, Value)> {
    vec![
        ("cursor_seq", cursor.into()),
        ("attempts", attempts.into()),
        ("next_attempt_at", next_attempt_at.into()),
        ("failing_since", failing_since.unwrap_or(0).into()),
        ("last_error", last_error.into()),
    ]
}
