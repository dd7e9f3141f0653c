//! What the console shows of the audit trail: the newest requests first,
//! filtered and paged by key (`before`, the last entry's `seq`), each with
//! the changes it made; and one request in full. The JSON API and the
//! console's pages call these same functions.

use std::ops::RangeInclusive;

use entity::{audit_change, audit_request};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most entries one page returns.
pub const MAX_LIMIT: u64 = 500;
pub const DEFAULT_LIMIT: u64 = 50;
/// Entries one narrowed page looks through at most: a filter that matches
/// rarely costs a bounded read per page instead of a scan of the whole
/// log (the filtered columns have no index, which every request would
/// pay for).
pub const SCAN_WINDOW: u64 = 100_000;
const SEQ: audit_request::Column = audit_request::Column::Seq;
/// The newest entries a narrowed page looks at first.
const GLANCE: u64 = 1_000;

/// One request as a list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    /// The paging key: pass it as `before` for the entries after it.
    pub seq: i64,
    pub tenant_id: uuid::Uuid,
    pub time: String,
    pub request_id: String,
    pub client_addr: Option<String>,
    pub principal: Option<String>,
    pub method: String,
    pub route: String,
    pub path: String,
    pub status: u16,
    pub latency_ms: f64,
    pub scim_type: Option<String>,
    pub resource: Option<String>,
    pub operation: Option<String>,
    pub summary: String,
    /// The writes the request committed; absent when it changed nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<ChangeView>>,
}

/// One committed change.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeView {
    pub seq: i64,
    pub time: String,
    pub kind: String,
    pub id: String,
    pub operation: String,
    pub label: Option<String>,
    pub version_before: Option<i64>,
    pub version_after: Option<i64>,
    pub principal: Option<String>,
    /// The request that made the change; none for changes made outside a
    /// request (the command line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `attributes` (path, old, new), `members` (added, removed, cleared),
    /// `passwordSet`.
    pub detail: Value,
}

/// One request in full.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityDetail {
    #[serde(flatten)]
    pub activity: Activity,
    pub request_headers: Value,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
}

/// What a list may be narrowed to; every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ActivityFilter {
    pub limit: Option<u64>,
    /// Only entries older than this `seq`.
    pub before: Option<i64>,
    /// `2xx`, `4xx`, `5xx` (or `2`, `4`, `5`), or one status code.
    pub status: Option<String>,
    pub principal: Option<String>,
    /// `User`, `Group`, `Bulk`, `OAuth` (or `Users`, `Groups`).
    pub resource: Option<String>,
    /// `create`, `replace`, `patch`, `delete`, `read`, `search`, `bulk`, `token`.
    pub operation: Option<String>,
    /// Milliseconds since the epoch or an RFC 3339 time.
    pub since: Option<String>,
    pub until: Option<String>,
    pub request_id: Option<String>,
    /// A tenant's name.
    pub tenant: Option<String>,
}

/// A page of entries, newest first, and the cursor of the next.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityPage {
    pub entries: Vec<Activity>,
    /// Pass as `before` for the next page; absent on the last. A narrowed
    /// page that looked through `SCAN_WINDOW` entries stops there, with
    /// fewer entries than asked for and this set.
    pub next_before: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    BadFilter(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Where the audit trail is read: the request log's database, and the
/// main one, which holds the change records and the tenants.
#[derive(Clone)]
pub struct AuditDbs {
    pub log: DatabaseConnection,
    pub main: DatabaseConnection,
}

impl AuditDbs {
    /// The databases of `audit`'s trail over `main`; with the audit trail
    /// off, the main database's (empty) log.
    pub fn new(main: &DatabaseConnection, audit: Option<&super::Audit>) -> Self {
        Self {
            log: audit.map_or(main, |a| a.log_reads()).clone(),
            main: main.clone(),
        }
    }
}

pub async fn activity(dbs: &AuditDbs, f: &ActivityFilter) -> Result<ActivityPage, QueryError> {
    let db = &dbs.log;
    let limit = f.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let tenant = tenant_id(&dbs.main, f.tenant.as_deref()).await?;
    let range = key_range(f)?;
    let narrowing = narrowing(f, tenant)?;
    // A request id has its index; the other filters are read row by row.
    let scanned = !narrowing.is_empty() && f.request_id.as_deref().is_none_or(str::is_empty);
    let (rows, beyond) = match scanned {
        true => {
            within_window::<audit_request::Entity>(db, SEQ, range, narrowing, limit + 1).await?
        }
        false => {
            let rows = newest::<audit_request::Entity>(db, SEQ, range.add(narrowing), limit + 1);
            (rows.await?, None)
        }
    };
    let more = rows.len() as u64 > limit;
    let mut entries: Vec<Activity> = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| entry(&r))
        .collect();
    attach_changes(&dbs.main, &mut entries).await?;
    let next_before = match more {
        true => entries.last().map(|e| e.seq),
        // The window ended before the page filled: the search goes on
        // from the first entry it did not look at.
        false => beyond.map(|seq| seq.saturating_add(1)),
    };
    Ok(ActivityPage {
        entries,
        next_before,
    })
}

async fn newest<E: EntityTrait>(
    db: &DatabaseConnection,
    seq: E::Column,
    cond: Condition,
    n: u64,
) -> Result<Vec<E::Model>, DbErr> {
    E::find()
        .filter(cond)
        .order_by_desc(seq)
        .limit(n)
        .all(db)
        .await
}

/// Up to `n` rows of `range` that match `narrowing`, newest first (by
/// `seq`), among the newest `SCAN_WINDOW` of the range; and the key of
/// the first row not looked at, if any. A glance at the newest few comes
/// first, which fills the page of a common filter without measuring the
/// window.
async fn within_window<E: EntityTrait>(
    db: &DatabaseConnection,
    seq: E::Column,
    range: Condition,
    narrowing: Condition,
    n: u64,
) -> Result<(Vec<E::Model>, Option<i64>), DbErr> {
    let mut rows = Vec::new();
    let mut looked_to: Option<i64> = None;
    for window in [GLANCE, SCAN_WINDOW] {
        let beyond = first_beyond::<E>(db, seq, range.clone(), window).await?;
        let mut cond = range.clone().add(narrowing.clone());
        if let Some(seen) = looked_to {
            cond = cond.add(seq.lte(seen));
        }
        if let Some(beyond) = beyond {
            cond = cond.add(seq.gt(beyond));
        }
        rows.extend(newest::<E>(db, seq, cond, n - rows.len() as u64).await?);
        if rows.len() as u64 >= n || beyond.is_none() {
            return Ok((rows, beyond));
        }
        looked_to = beyond;
    }
    Ok((rows, looked_to))
}

/// The newest request with this id, in full.
pub async fn activity_detail(
    dbs: &AuditDbs,
    request_id: &str,
) -> Result<Option<ActivityDetail>, QueryError> {
    let row = audit_request::Entity::find()
        .filter(audit_request::Column::RequestId.eq(request_id))
        .order_by_desc(audit_request::Column::Seq)
        .one(&dbs.log)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut entries = vec![entry(&row)];
    attach_changes(&dbs.main, &mut entries).await?;
    let activity = entries
        .pop()
        .ok_or_else(|| QueryError::BadFilter("lost".to_owned()))?;
    Ok(Some(ActivityDetail {
        activity,
        request_headers: serde_json::from_str(&row.request_headers).unwrap_or(Value::Null),
        request_body: row.request_body,
        response_body: row.response_body,
    }))
}

/// A resource's changes, newest first, and where older ones are looked
/// for next.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub changes: Vec<ChangeView>,
    /// Pass as `before` for older changes; absent when there are none. A
    /// page that looked through `SCAN_WINDOW` change records stops there,
    /// with fewer changes than asked for and this set.
    pub next_before: Option<i64>,
}

/// The changes to one resource before `before`, newest first, among the
/// newest `SCAN_WINDOW` change records there: the records have no index by
/// resource (every write would pay for it), so a resource changed long ago
/// is found a window at a time.
pub async fn resource_history(
    db: &DatabaseConnection,
    resource_id: uuid::Uuid,
    before: Option<i64>,
    limit: u64,
) -> Result<History, DbErr> {
    use audit_change::Column as C;
    let limit = limit.clamp(1, MAX_LIMIT);
    let range = before.map_or_else(Condition::all, |b| Condition::all().add(C::Seq.lt(b)));
    let narrowing = Condition::all().add(C::ResourceId.eq(resource_id));
    let (rows, beyond) =
        within_window::<audit_change::Entity>(db, C::Seq, range, narrowing, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    let changes: Vec<ChangeView> = rows.iter().take(limit as usize).map(change_view).collect();
    let next_before = match more {
        true => changes.last().map(|c| c.seq),
        false => beyond.map(|seq| seq.saturating_add(1)),
    };
    Ok(History {
        changes,
        next_before,
    })
}

/// The id of the tenant a filter names, if it names one.
pub async fn tenant_id(
    db: &DatabaseConnection,
    name: Option<&str>,
) -> Result<Option<uuid::Uuid>, QueryError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    match crate::store::tenants::find_by_name(db, name).await? {
        Some(t) => Ok(Some(t.id)),
        None => Err(QueryError::BadFilter(format!("no tenant named {name:?}"))),
    }
}

/// The key of the newest row in `range` beyond its newest `window`, if
/// the range holds more.
async fn first_beyond<E: EntityTrait>(
    db: &DatabaseConnection,
    seq: E::Column,
    range: Condition,
    window: u64,
) -> Result<Option<i64>, DbErr> {
    E::find()
        .select_only()
        .column(seq)
        .filter(range)
        .order_by_desc(seq)
        .offset(window)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await
}

/// The part of a filter that the key answers: paging and time.
fn key_range(f: &ActivityFilter) -> Result<Condition, QueryError> {
    use audit_request::Column as C;
    let mut c = Condition::all();
    if let Some(before) = f.before {
        c = c.add(C::Seq.lt(before));
    }
    let window = KeyWindow::of(f)?;
    if let Some(low) = window.from {
        c = c.add(C::Seq.gte(low));
    }
    if let Some(high) = window.before {
        c = c.add(C::Seq.lt(high));
    }
    Ok(c)
}

/// The part of a filter that is read from the rows themselves.
fn narrowing(f: &ActivityFilter, tenant: Option<uuid::Uuid>) -> Result<Condition, QueryError> {
    use audit_request::Column as C;
    let mut c = Condition::all();
    if let Some(tenant) = tenant {
        c = c.add(C::TenantId.eq(tenant));
    }
    if let Some(status) = f.status.as_deref().filter(|s| !s.is_empty()) {
        let (low, high) = status_range(status)?;
        c = c.add(C::Status.gte(low)).add(C::Status.lte(high));
    }
    if let Some(p) = f.principal.as_deref().filter(|s| !s.is_empty()) {
        c = c.add(C::Principal.eq(p));
    }
    if let Some(r) = f.resource.as_deref().filter(|s| !s.is_empty()) {
        let r = match r {
            "Users" | "users" | "user" => "User",
            "Groups" | "groups" | "group" => "Group",
            r => r,
        };
        c = c.add(C::ResourceKind.eq(r));
    }
    if let Some(o) = f.operation.as_deref().filter(|s| !s.is_empty()) {
        c = c.add(C::Operation.eq(o.to_ascii_lowercase()));
    }
    if let Some(id) = f.request_id.as_deref().filter(|s| !s.is_empty()) {
        c = c.add(C::RequestId.eq(id));
    }
    Ok(c)
}

fn status_range(s: &str) -> Result<(i32, i32), QueryError> {
    let class = s.trim_end_matches(['x', 'X']);
    let bad = || {
        QueryError::BadFilter(format!(
            "status must be 2xx, 4xx, 5xx or a status code, got {s:?}"
        ))
    };
    let n: i32 = class.parse().map_err(|_| bad())?;
    match class.len() {
        1 if (1..=5).contains(&n) => Ok((n * 100, n * 100 + 99)),
        3 if (100..=599).contains(&n) => Ok((n, n)),
        _ => Err(bad()),
    }
}

/// A filter's time range as bounds on the request log's key, which is the
/// time the response began, in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyWindow {
    from: Option<i64>,
    before: Option<i64>,
}

impl KeyWindow {
    pub fn of(f: &ActivityFilter) -> Result<Self, QueryError> {
        let bound = |t: Option<&str>| {
            t.filter(|s| !s.is_empty())
                .map(|s| time_ms(s).map(|ms| ms.saturating_mul(1000)))
                .transpose()
        };
        Ok(Self {
            from: bound(f.since.as_deref())?,
            before: bound(f.until.as_deref())?,
        })
    }

    pub fn holds(&self, seq: i64) -> bool {
        self.from.is_none_or(|low| seq >= low) && self.before.is_none_or(|high| seq < high)
    }
}

fn time_ms(s: &str) -> Result<i64, QueryError> {
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            QueryError::BadFilter(format!(
                "{s:?} is neither milliseconds nor an RFC 3339 time"
            ))
        })
}

fn entry(r: &audit_request::Model) -> Activity {
    Activity {
        seq: r.seq,
        tenant_id: r.tenant_id,
        time: crate::time::format_ms(r.at),
        request_id: r.request_id.clone(),
        client_addr: r.client_addr.clone(),
        principal: r.principal.clone(),
        method: r.method.clone(),
        route: r.route.clone(),
        path: r.path.clone(),
        status: u16::try_from(r.status).unwrap_or(0),
        latency_ms: r.latency_us as f64 / 1000.0,
        scim_type: r.scim_type.clone(),
        resource: r.resource_kind.clone(),
        operation: r.operation.clone(),
        summary: r.summary.clone(),
        changes: None,
    }
}

/// The changes each entry's request committed: same request id, made
/// while it ran (request ids a client sends may repeat). Found by key
/// range, the time each request ran: the change records have no index but
/// their key, which every write would pay for.
async fn attach_changes(db: &DatabaseConnection, entries: &mut [Activity]) -> Result<(), DbErr> {
    let windows: Vec<(usize, RangeInclusive<i64>)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| may_have_changed(e))
        .map(|(i, e)| (i, change_window(e)))
        .collect();
    if windows.is_empty() {
        return Ok(());
    }
    let ranges = windows.iter().fold(Condition::any(), |any, (_, w)| {
        any.add(audit_change::Column::Seq.between(*w.start(), *w.end()))
    });
    let ids: Vec<String> = windows
        .iter()
        .map(|(i, _)| entries[*i].request_id.clone())
        .collect();
    let rows = audit_change::Entity::find()
        .filter(ranges)
        .filter(audit_change::Column::RequestId.is_in(ids))
        .order_by_asc(audit_change::Column::Seq)
        .all(db)
        .await?;
    for (i, window) in windows {
        let e = &mut entries[i];
        let own: Vec<ChangeView> = rows
            .iter()
            .filter(|c| c.request_id.as_deref() == Some(e.request_id.as_str()))
            .filter(|c| window.contains(&c.seq))
            .map(change_view)
            .collect();
        if !own.is_empty() {
            e.changes = Some(own);
        }
    }
    Ok(())
}

/// A read, or a write refused with a 4xx, commits nothing.
fn may_have_changed(e: &Activity) -> bool {
    e.method != "GET" && e.method != "HEAD" && !(400..500).contains(&e.status)
}

/// Keys a request's changes can have: `seq` is taken as the response
/// began, after every change the request made (keys only increase), and
/// the request ran from `latency` before it; a second more allows for a
/// clock stepped back meanwhile.
fn change_window(e: &Activity) -> RangeInclusive<i64> {
    let latency_us = (e.latency_ms * 1000.0) as i64;
    (e.seq - latency_us - 1_000_000)..=e.seq
}

fn change_view(c: &audit_change::Model) -> ChangeView {
    ChangeView {
        seq: c.seq,
        time: crate::time::format_ms(c.at),
        kind: c.kind.clone(),
        id: c.resource_id.to_string(),
        operation: c.operation.clone(),
        label: c.label.clone(),
        version_before: c.version_before,
        version_after: c.version_after,
        principal: c.principal.clone(),
        request_id: c.request_id.clone(),
        detail: serde_json::from_str(&c.detail).unwrap_or(Value::Null),
    }
}
