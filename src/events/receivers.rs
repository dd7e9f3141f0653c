//! Receivers: who takes a tenant's events, how (push to a URL, or poll
//! with a credential), in which format (SETs or signed JSON), and how far
//! each has got. Added and removed by `roster receiver`; read by every
//! node's delivery worker and poll endpoint.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{DbErr, Value};
use uuid::Uuid;

use super::store::{self, RECEIVERS};
use super::{EventType, EventsError, webhook_secret};
use crate::secrets::at_rest::SealingKey;
use crate::secrets::{random_secret, sha256_hex};
use crate::store::exec::{Decode, Row, Source, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Push,
    Poll,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Push => "push",
            Self::Poll => "poll",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 8417 Security Event Tokens.
    Set,
    /// JSON signed with `Roster-Signature` (HMAC-SHA256).
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::Set => "set",
            Self::Json => "json",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "set" => Some(Self::Set),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Receiver {
    pub tenant: Uuid,
    pub id: Uuid,
    pub name: String,
    pub mode: Mode,
    pub format: Format,
    pub url: Option<String>,
    pub audience: String,
    /// Empty: every event.
    pub events: Vec<EventType>,
    pub credential_hash: Option<String>,
    pub webhook_secret: Option<String>,
    /// Every event up to this one is delivered, acknowledged or parked.
    pub cursor_seq: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub failing_since: Option<i64>,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: i64,
    pub delivered: i64,
    pub created_at: i64,
}

impl Receiver {
    pub fn wants(&self, event: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|t| t.short() == event)
    }
}

const COLUMNS: [&str; 19] = [
    "tenant_id",
    "id",
    "name",
    "mode",
    "format",
    "url",
    "audience",
    "events",
    "credential_hash",
    "webhook_secret",
    "cursor_seq",
    "attempts",
    "next_attempt_at",
    "failing_since",
    "last_error",
    "lease_owner",
    "lease_until",
    "delivered",
    "created_at",
];

impl Decode for Receiver {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        let mode = if row.string("mode")? == "poll" {
            Mode::Poll
        } else {
            Mode::Push
        };
        let format = Format::parse(&row.string("format")?).unwrap_or(Format::Set);
        let events = row
            .string("events")?
            .split(',')
            .filter_map(EventType::parse)
            .collect();
        Ok(Self {
            tenant: row.uuid("tenant_id")?,
            id: row.uuid("id")?,
            name: row.string("name")?,
            mode,
            format,
            url: row.string_opt("url")?,
            audience: row.string("audience")?,
            events,
            credential_hash: row.string_opt("credential_hash")?,
            webhook_secret: row.string_opt("webhook_secret")?,
            cursor_seq: row.i64("cursor_seq")?,
            attempts: row.i64("attempts")?,
            next_attempt_at: row.i64("next_attempt_at")?,
            failing_since: Some(row.i64("failing_since")?).filter(|at| *at != 0),
            last_error: row.string_opt("last_error")?,
            lease_owner: row.string_opt("lease_owner")?,
            lease_until: row.i64("lease_until")?,
            delivered: row.i64("delivered")?,
            created_at: row.i64("created_at")?,
        })
    }
}

fn t(name: &'static str) -> Alias {
    Alias::new(name)
}

fn col(name: &'static str) -> Expr {
    Expr::col(Alias::new(name))
}

fn select() -> SelectStatement {
    let mut stmt = Query::select();
    stmt.from(t(RECEIVERS)).columns(COLUMNS.map(t));
    stmt
}

/// What `roster receiver add` asks for.
#[derive(Debug, Clone)]
pub struct NewReceiver {
    pub name: String,
    pub mode: Mode,
    pub format: Format,
    pub url: Option<String>,
    pub audience: Option<String>,
    pub events: Vec<EventType>,
}

/// A new receiver's secret, shown once: the poll credential, or the
/// webhook's HMAC key.
pub struct Added {
    pub id: Uuid,
    pub secret: Option<String>,
}

/// Adds a receiver that starts with the events recorded from now on.
/// The webhook secret is stored sealed when `sealing` is given.
pub async fn add<W: Write>(
    w: &W,
    tenant: Uuid,
    new: NewReceiver,
    now: i64,
    sealing: Option<&SealingKey>,
) -> Result<Added, EventsError> {
    if new.name.is_empty() || new.name.len() > 255 {
        return Err(EventsError::Invalid(
            "a receiver name has 1 to 255 characters".to_owned(),
        ));
    }
    if find(w, tenant, &new.name).await?.is_some() {
        return Err(EventsError::Invalid(format!(
            "receiver {:?} already exists",
            new.name
        )));
    }
    let id = Uuid::new_v4();
    let random = |prefix: &str| random_secret(prefix).map_err(EventsError::Invalid);
    let (credential, webhook) = match (new.mode, new.format) {
        (Mode::Poll, _) => (Some(random("roster_poll_")?), None),
        (Mode::Push, Format::Json) => (None, Some(random("whsec_")?)),
        (Mode::Push, Format::Set) => (None, None),
    };
    let audience = new
        .audience
        .or_else(|| new.url.clone())
        .unwrap_or_else(|| format!("urn:roster:receiver:{}", new.name));
    let events: Vec<&str> = new.events.iter().map(|e| e.short()).collect();
    let cursor = store::max_seq(w).await?;
    let webhook_stored = webhook
        .as_deref()
        .map(|s| webhook_secret::stored(s, id, sealing))
        .transpose()?;
    let values: Vec<Expr> = vec![
        tenant.into(),
        id.into(),
        new.name.clone().into(),
        new.mode.name().into(),
        new.format.name().into(),
        new.url.into(),
        audience.into(),
        events.join(",").into(),
        credential
            .as_deref()
            .map(|c| sha256_hex(c.as_bytes()))
            .into(),
        webhook_stored.into(),
        cursor.into(),
        0i64.into(),
        0i64.into(),
        0i64.into(),
        Option::<String>::None.into(),
        Option::<String>::None.into(),
        0i64.into(),
        0i64.into(),
        now.into(),
    ];
    let stmt = Query::insert()
        .into_table(t(RECEIVERS))
        .columns(COLUMNS.map(t))
        .values(values)
        .map_err(|e| EventsError::Invalid(e.to_string()))?
        .to_owned();
    w.exec(w.backend().build(&stmt)).await?;
    Ok(Added {
        id,
        secret: credential.or(webhook),
    })
}

pub async fn find<S: Source>(s: &S, tenant: Uuid, name: &str) -> Result<Option<Receiver>, DbErr> {
    let stmt = select()
        .and_where(col("tenant_id").eq(tenant))
        .and_where(col("name").eq(name))
        .to_owned();
    s.first(s.backend().build(&stmt)).await
}

pub async fn by_id<S: Source>(s: &S, tenant: Uuid, id: Uuid) -> Result<Option<Receiver>, DbErr> {
    let stmt = select()
        .and_where(col("tenant_id").eq(tenant))
        .and_where(col("id").eq(id))
        .to_owned();
    s.first(s.backend().build(&stmt)).await
}

/// The poll receiver whose credential this is.
pub async fn by_credential<S: Source>(s: &S, credential: &str) -> Result<Option<Receiver>, DbErr> {
    let stmt = select()
        .and_where(col("credential_hash").eq(sha256_hex(credential.as_bytes())))
        .and_where(col("mode").eq("poll"))
        .to_owned();
    s.first(s.backend().build(&stmt)).await
}

/// A tenant's receivers by name; every tenant's with `None`.
pub async fn list<S: Source>(s: &S, tenant: Option<Uuid>) -> Result<Vec<Receiver>, DbErr> {
    let mut stmt = select();
    if let Some(tenant) = tenant {
        stmt.and_where(col("tenant_id").eq(tenant));
    }
    stmt.order_by(t("name"), Order::Asc);
    s.rows(s.backend().build(&stmt)).await
}

/// Removes a receiver with its acknowledgements and parked events.
pub async fn remove<W: Write>(w: &W, tenant: Uuid, name: &str) -> Result<bool, DbErr> {
    let Some(receiver) = find(w, tenant, name).await? else {
        return Ok(false);
    };
    for table in ["event_acks", "event_parked"] {
        let stmt = Query::delete()
            .from_table(Alias::new(table))
            .and_where(col("receiver_id").eq(receiver.id))
            .to_owned();
        w.exec(w.backend().build(&stmt)).await?;
    }
    let stmt = Query::delete()
        .from_table(t(RECEIVERS))
        .and_where(col("tenant_id").eq(tenant))
        .and_where(col("id").eq(receiver.id))
        .to_owned();
    Ok(w.exec(w.backend().build(&stmt)).await? == 1)
}

/// Claims `receiver` for `owner` until `until`, unless another node holds
/// an unexpired claim. Whether `owner` holds it now.
pub async fn claim<W: Write>(
    w: &W,
    receiver: &Receiver,
    owner: &str,
    (now, until): (i64, i64),
) -> Result<bool, DbErr> {
    let stmt = Query::update()
        .table(t(RECEIVERS))
        .value(t("lease_owner"), owner)
        .value(t("lease_until"), until)
        .and_where(col("tenant_id").eq(receiver.tenant))
        .and_where(col("id").eq(receiver.id))
        .and_where(
            col("lease_owner")
                .is_null()
                .or(col("lease_owner").eq(owner))
                .or(col("lease_until").lt(now)),
        )
        .to_owned();
    if w.exec(w.backend().build(&stmt)).await? == 1 {
        return Ok(true);
    }
    // MySQL counts changed rows only: a renewal that set the same values
    // reads as 0.
    let now_held = by_id(w, receiver.tenant, receiver.id).await?;
    Ok(now_held.is_some_and(|r| r.lease_owner.as_deref() == Some(owner) && r.lease_until >= until))
}

/// Records delivery progress, if `owner` still holds the claim.
pub async fn save_progress<W: Write>(
    w: &W,
    receiver: &Receiver,
    owner: Option<&str>,
    delivered: i64,
    values: Vec<(&'static str, Value)>,
) -> Result<(), DbErr> {
    let mut stmt = Query::update();
    stmt.table(t(RECEIVERS));
    for (name, value) in values {
        stmt.value(Alias::new(name), value);
    }
    stmt.value(t("delivered"), col("delivered").add(delivered))
        .and_where(col("tenant_id").eq(receiver.tenant))
        .and_where(col("id").eq(receiver.id));
    if let Some(owner) = owner {
        stmt.and_where(col("lease_owner").eq(owner));
    }
    w.exec(w.backend().build(&stmt)).await.map(|_| ())
}
