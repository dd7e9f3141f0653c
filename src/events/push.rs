//! The delivery worker: one per server. Each round it refreshes the
//! receivers, and for each push receiver it holds the claim on, sends the
//! events after its cursor: one resource's events one after the other (so
//! they arrive in order), different resources side by side. The cursor
//! moves only over events delivered (or parked), so a crash or a restart
//! sends again what was not confirmed: at least once, never a gap.
//! Failures are retried with exponential backoff and jitter; an event
//! refused until it is `park_after` old, or refused as malformed, is
//! parked and shown by `roster receiver show`.
//!
//! A group's consecutive patch notices in one round go as one notice
//! (`aggregate`, RFC 9967 §5), unless `merge_group_notices` is off.
//!
//! Under a stream of writes the worker waits `coalesce_ms` after being
//! woken, so that one round takes the events of many writes. A node keeps
//! its claim on a receiver while it delivers: each batch's progress write
//! renews it, and a claim is written only when the one held is past its
//! middle. Its writes run where the server's writes run (on SQLite the
//! write thread), so that they queue with them rather than meet them at
//! SQLite's lock, whose busy handler sleeps milliseconds at a time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream;
use sea_orm::{DbErr, Value};

use super::receivers::{self, Format, Mode, Receiver};
use super::routes::EventsState;
use super::store::{self, StoredEvent};
use super::{aggregate, set, webhook, webhook_secret};
use crate::auth::http_client;

/// The pause between rounds when nothing is waiting.
const IDLE: Duration = Duration::from_millis(200);
/// How often old events are pruned.
const PRUNE_EVERY_MS: i64 = 300_000;

/// Why one event did not go through.
#[derive(Clone)]
enum Failure {
    /// Worth trying again later.
    Retry(String),
    /// The receiver refuses this event as it is.
    Refused(String),
}

/// Runs the worker on the current actix system until the process ends.
pub fn spawn(state: Arc<EventsState>) {
    actix_web::rt::spawn(async move {
        let client = http_client::client();
        let mut last_refresh = 0;
        let mut last_prune = crate::time::now_ms();
        let mut push: Vec<Receiver> = Vec::new();
        loop {
            let now = crate::time::now_ms();
            if now - last_refresh >= state.config.refresh_ms as i64 {
                match refresh(&state).await {
                    Ok(found) => push = found,
                    Err(e) => log::warn!("events: cannot read the receivers: {e}"),
                }
                last_refresh = now;
            }
            if now - last_prune >= PRUNE_EVERY_MS {
                prune(&state).await;
                last_prune = now;
            }
            let busy = match round(&state, &client, &push).await {
                Ok(busy) => busy,
                Err(e) => {
                    log::warn!("events: delivery round failed: {e}");
                    false
                }
            };
            if !busy {
                let recorded = state.outbox.recorded().notified();
                let woken = tokio::time::timeout(IDLE, recorded).await.is_ok();
                if woken && state.config.coalesce_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(state.config.coalesce_ms)).await;
                }
            }
        }
    });
}

/// Reads the receivers: which tenants record events, and the push ones.
async fn refresh(state: &EventsState) -> Result<Vec<Receiver>, DbErr> {
    let all = receivers::list(&state.pool, None).await?;
    state
        .outbox
        .set_tenants(all.iter().map(|r| r.tenant).collect::<HashSet<_>>());
    let push: Vec<Receiver> = all.into_iter().filter(|r| r.mode == Mode::Push).collect();
    let failing = push.iter().filter(|r| r.attempts > 0).count();
    state
        .instruments
        .failing_receivers
        .set(i64::try_from(failing).unwrap_or(i64::MAX));
    Ok(push)
}

async fn prune(state: &EventsState) {
    let before = crate::time::now_ms() - state.config.retention_secs as i64 * 1000;
    match store::prune(&state.pool, before).await {
        Ok(0) => {}
        Ok(n) => log::info!("events: pruned {n} events older than the retention"),
        Err(e) => log::warn!("events: cannot prune: {e}"),
    }
}

/// One round over every push receiver; whether any had a full batch (so
/// the next round should start at once).
async fn round(
    state: &EventsState,
    client: &awc::Client,
    push: &[Receiver],
) -> Result<bool, DbErr> {
    if push.is_empty() {
        return Ok(false);
    }
    let horizon = state.horizon.advance(&state.db.background_reads()).await?;
    let rounds = push
        .iter()
        .map(|r| deliver(state, client, r.id, r.tenant, horizon));
    let mut busy = false;
    for result in join_all(rounds).await {
        match result {
            Ok(full) => busy |= full,
            Err(e) => log::warn!("events: {e}"),
        }
    }
    Ok(busy)
}

/// One batch to one receiver, if it is due and this node holds its claim.
async fn deliver(
    state: &EventsState,
    client: &awc::Client,
    id: uuid::Uuid,
    tenant: uuid::Uuid,
    horizon: i64,
) -> Result<bool, DbErr> {
    let now = state.clock.now_ms();
    let reads = state.db.background_reads();
    let Some(receiver) = receivers::by_id(&reads, tenant, id).await? else {
        return Ok(false);
    };
    if receiver.next_attempt_at > now || receiver.cursor_seq >= horizon {
        return Ok(false);
    }
    if !holds(state, &receiver, now) && !claim(state, &receiver, now).await? {
        return Ok(false);
    }
    let batch = u64::from(state.config.push_batch);
    let events = store::events_between(&reads, tenant, receiver.cursor_seq, horizon, batch).await?;
    if events.is_empty() {
        return Ok(false);
    }
    let wanted: Vec<&StoredEvent> = events.iter().filter(|e| receiver.wants(&e.event)).collect();
    let outcomes = send_all(state, client, &receiver, &wanted).await;
    settle(state, &receiver, &events, &outcomes).await?;
    Ok(events.len() as u64 == batch && !outcomes.values().any(Option::is_some))
}

fn lease_ms(state: &EventsState) -> i64 {
    state.config.lease_secs as i64 * 1000
}

/// Whether, by `receiver` as just read, this node's claim on it has at
/// least half its time to run: no other node can take it before it ends,
/// and each batch's progress write renews it.
fn holds(state: &EventsState, receiver: &Receiver, now: i64) -> bool {
    receiver.lease_owner.as_deref() == Some(state.node.as_str())
        && receiver.lease_until - now >= lease_ms(state) / 2
}

/// Claims (or renews the claim on) `receiver` for this node.
async fn claim(state: &EventsState, receiver: &Receiver, now: i64) -> Result<bool, DbErr> {
    let lease = (now, now + lease_ms(state));
    let (db, receiver, node) = (state.db.clone(), receiver.clone(), state.node.clone());
    state
        .db
        .writing(async move {
            let txn = db.begin_write().await?;
            let held = receivers::claim(&txn, &receiver, &node, lease).await?;
            txn.commit().await?;
            Ok(held)
        })
        .await
}

/// Sends `events`: each resource's in order, up to `push_concurrency`
/// resources at a time. An event after one that failed, of the same
/// resource, is not sent. Each event's outcome by sequence number (`None`
/// delivered).
async fn send_all(
    state: &EventsState,
    client: &awc::Client,
    receiver: &Receiver,
    events: &[&StoredEvent],
) -> HashMap<i64, Option<Failure>> {
    let mut by_resource: Vec<Vec<&StoredEvent>> = Vec::new();
    let mut index: HashMap<uuid::Uuid, usize> = HashMap::new();
    for e in events {
        let slot = *index.entry(e.resource_id).or_insert_with(|| {
            by_resource.push(Vec::new());
            by_resource.len() - 1
        });
        by_resource[slot].push(e);
    }
    let width = state.config.push_concurrency as usize;
    let merge = state.config.merge_group_notices;
    // Opened once for the batch, not per event.
    let secret = webhook_secret::plain(receiver, state.keys.sealing());
    let secret = secret
        .as_ref()
        .map(|s| s.as_deref().unwrap_or_default())
        .map_err(String::as_str);
    // A resource starts as soon as a slot frees, not when the slowest of
    // the resources before it is done.
    let sent = by_resource.iter().map(|resource| async move {
        let mut results = Vec::new();
        for unit in aggregate::outgoing(resource, merge) {
            let failure = send(state, client, (receiver, secret), &unit.event)
                .await
                .err();
            let failed = failure.is_some();
            results.extend(unit.covers.iter().map(|seq| (*seq, failure.clone())));
            if failed {
                break;
            }
        }
        results
    });
    let mut outcomes = HashMap::new();
    let mut done = stream::iter(sent).buffer_unordered(width.max(1));
    while let Some(results) = done.next().await {
        outcomes.extend(results);
    }
    outcomes
}

/// Sends `event` to `receiver`, JSON webhooks signed with `secret` (or
/// not sent, when it could not be opened).
async fn send(
    state: &EventsState,
    client: &awc::Client,
    (receiver, secret): (&Receiver, Result<&str, &str>),
    event: &StoredEvent,
) -> Result<(), Failure> {
    let url = receiver.url.as_deref().unwrap_or_default();
    let now = state.clock.now_ms();
    let (headers, body) = match receiver.format {
        Format::Set => {
            let body = set::sign(&state.keys, event, &state.issuer, &receiver.audience, now)
                .await
                .map_err(|e| Failure::Retry(e.to_string()))?;
            let headers = vec![
                ("Content-Type", "application/secevent+jwt".to_owned()),
                ("Accept", "application/json".to_owned()),
            ];
            (headers, body)
        }
        Format::Json => {
            let body = webhook::body(event);
            let secret = secret.map_err(|e| Failure::Retry(e.to_owned()))?;
            let signature = webhook::signature(secret, now / 1000, &body);
            let headers = vec![
                ("Content-Type", "application/json".to_owned()),
                (webhook::SIGNATURE_HEADER, signature),
            ];
            (headers, body)
        }
    };
    match http_client::post(client, url, &headers, body).await {
        Ok((status, _)) if (200..300).contains(&status) => Ok(()),
        Ok((status, answer)) => Err(classify(receiver.format, status, &answer)),
        Err(e) => Err(Failure::Retry(e.to_string())),
    }
}

/// RFC 8935 §2.3: a 400 names its reason in `err`. A malformed SET
/// (`invalid_request`) is refused for good; the others (keys, issuer,
/// audience, credentials) are the receiver's configuration, which its
/// operator can fix, so they are retried. A webhook's 4xx other than
/// those meaning "later" or "not allowed (yet)" is a refusal.
fn classify(format: Format, status: u16, answer: &[u8]) -> Failure {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(answer).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let err = field("err");
    let shown = match (&err, field("description")) {
        (Some(err), Some(d)) => format!("HTTP {status}: {err}: {d}"),
        (Some(err), None) => format!("HTTP {status}: {err}"),
        _ => format!("HTTP {status}"),
    };
    let later = matches!(status, 401 | 403 | 408 | 409 | 425 | 429) || status >= 500;
    match format {
        Format::Set if status == 400 && err.as_deref() == Some("invalid_request") => {
            Failure::Refused(shown)
        }
        Format::Set => Failure::Retry(shown),
        Format::Json if later => Failure::Retry(shown),
        Format::Json => Failure::Refused(shown),
    }
}

/// Moves the cursor over what went through, parks what is refused for
/// good or too old, and schedules the next attempt after a failure: one
/// write, which also renews this node's claim.
async fn settle(
    state: &EventsState,
    receiver: &Receiver,
    events: &[StoredEvent],
    outcomes: &HashMap<i64, Option<Failure>>,
) -> Result<(), DbErr> {
    let now = state.clock.now_ms();
    let park_after = state.config.park_after_secs as i64 * 1000;
    let mut cursor = receiver.cursor_seq;
    let mut delivered = 0;
    let mut failure = None;
    let mut parks = Vec::new();
    for e in events {
        match outcomes.get(&e.seq) {
            Some(None) => delivered += 1,
            // Not wanted by this receiver.
            None if !receiver.wants(&e.event) => {}
            Some(Some(Failure::Refused(why))) => parks.push((e.clone(), why.clone())),
            Some(Some(Failure::Retry(why))) if now - e.created_at >= park_after => {
                parks.push((e.clone(), why.clone()));
            }
            Some(Some(Failure::Retry(why))) => {
                failure = Some(why.clone());
                break;
            }
            // Held back behind a failed event of the same resource.
            None => break,
        }
        cursor = e.seq;
    }
    let mut values = match failure {
        None => store::progress_values(cursor, 0, 0, None, None),
        Some(why) => {
            let attempts = receiver.attempts + 1;
            let next = now + backoff(state, attempts);
            let since = receiver.failing_since.unwrap_or(now);
            log::warn!(
                "events: receiver {:?} failed (attempt {attempts}): {why}",
                receiver.name
            );
            store::progress_values(cursor, attempts, next, Some(since), Some(why))
        }
    };
    values.push(("lease_until", Value::from(now + lease_ms(state))));
    for (e, why) in &parks {
        log::warn!(
            "events: parked event {} for receiver {:?}: {why}",
            e.id.simple(),
            receiver.name
        );
    }
    let parked = parks.len() as u64;
    save(state, receiver, parks, delivered, values, now).await?;
    state.instruments.parked.inc_by(parked);
    state.instruments.push_batches.inc();
    state.instruments.delivered.inc_by(delivered.unsigned_abs());
    Ok(())
}

/// Parks `parks` and saves the progress `values`, in one transaction, if
/// this node still holds the claim (parking is harmless either way: a
/// parked event is parked once).
async fn save(
    state: &EventsState,
    receiver: &Receiver,
    parks: Vec<(StoredEvent, String)>,
    delivered: i64,
    values: Vec<(&'static str, Value)>,
    now: i64,
) -> Result<(), DbErr> {
    let (db, receiver, node) = (state.db.clone(), receiver.clone(), state.node.clone());
    state
        .db
        .writing(async move {
            let txn = db.begin_write().await?;
            let key = (receiver.tenant, receiver.id);
            for (e, why) in &parks {
                store::park(&txn, key, e, why, now).await?;
            }
            receivers::save_progress(&txn, &receiver, Some(&node), delivered, values).await?;
            txn.commit().await
        })
        .await
}

/// The delay before attempt `attempts + 1`: doubling from
/// `retry_initial_ms` up to `retry_max_ms`, less a random part of up to
/// half, so that receivers coming back are not all hit at once.
fn backoff(state: &EventsState, attempts: i64) -> i64 {
    let first = Duration::from_millis(state.config.retry_initial_ms);
    let longest = Duration::from_millis(state.config.retry_max_ms);
    let attempt = u32::try_from(attempts).unwrap_or(u32::MAX);
    let delay = crate::service::backoff(first, longest, attempt);
    i64::try_from(delay.as_millis()).unwrap_or(i64::MAX).max(1)
}
