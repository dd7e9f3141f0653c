//! RFC 8936 poll delivery: a poll receiver POSTs its acknowledgements
//! (`ack`), its errors about SETs (`setErrs`) and how many events it wants
//! (`maxEvents`, `returnImmediately`), and gets SETs it has not
//! acknowledged yet, oldest first. A SET comes again until it is
//! acknowledged or reported. Without `returnImmediately`, an empty answer
//! waits up to `poll_wait_max_secs` for an event. Each credential belongs
//! to one receiver of one tenant: it sees that tenant's events and its own
//! acknowledgements only.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::receivers::{self, Receiver};
use super::routes::EventsState;
use super::store::{self, StoredEvent};
use super::{EventsError, set};

/// When the default of `maxEvents` is not given.
const DEFAULT_MAX_EVENTS: u32 = 100;
/// A long poll looks again this often for events other nodes recorded.
const RECHECK: Duration = Duration::from_secs(1);
/// Events read per statement while looking for unacknowledged ones.
const PAGE: u64 = 500;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PollRequest {
    #[serde(default)]
    ack: Vec<String>,
    #[serde(default)]
    set_errs: HashMap<String, SetError>,
    max_events: Option<u32>,
    #[serde(default)]
    return_immediately: bool,
}

#[derive(Debug, Deserialize)]
struct SetError {
    err: String,
    #[serde(default)]
    description: Option<String>,
}

pub async fn poll(
    state: web::Data<EventsState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let Some(receiver) = authenticate(&state, &req).await else {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .json(json!({
                "err": "authentication_failed",
                "description": "a poll receiver's credential is required"
            }));
    };
    let request: PollRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PollRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                return HttpResponse::BadRequest().json(json!({
                    "err": "invalid_request",
                    "description": format!("not a poll request: {e}")
                }));
            }
        }
    };
    match answer(&state, receiver, request).await {
        Ok(body) => HttpResponse::Ok().json(body),
        Err(e) => {
            log::warn!("events: poll failed: {e}");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "1"))
                .json(json!({"err": "temporarily_unavailable", "description": e.to_string()}))
        }
    }
}

async fn authenticate(state: &EventsState, req: &HttpRequest) -> Option<Receiver> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    receivers::by_credential(&state.pool, credential.trim())
        .await
        .ok()
        .flatten()
}

async fn answer(
    state: &EventsState,
    receiver: Receiver,
    request: PollRequest,
) -> Result<Value, EventsError> {
    acknowledge(state, &receiver, &request).await?;
    let cursor = advance(state, &receiver).await?;
    let max = request
        .max_events
        .unwrap_or(DEFAULT_MAX_EVENTS)
        .min(state.config.poll_max_events) as usize;
    if max == 0 {
        return Ok(json!({"sets": {}}));
    }
    let deadline = Instant::now() + Duration::from_secs(state.config.poll_wait_max_secs);
    loop {
        let wait = state.outbox.recorded().notified();
        let (events, more) = pending(state, &receiver, cursor, max).await?;
        let now = Instant::now();
        if !events.is_empty() || request.return_immediately || now >= deadline {
            return sets(state, &receiver, &events, more).await;
        }
        let _ = tokio::time::timeout(RECHECK.min(deadline - now), wait).await;
    }
}

/// Records `ack` and `setErrs` (an event reported in error is parked with
/// the receiver's reason, and not sent again).
async fn acknowledge(
    state: &EventsState,
    receiver: &Receiver,
    request: &PollRequest,
) -> Result<(), EventsError> {
    let ids: Vec<Uuid> = request
        .ack
        .iter()
        .chain(request.set_errs.keys())
        .filter_map(|jti| Uuid::parse_str(jti).ok())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let events =
        store::events_by_id(&state.pool, receiver.tenant, receiver.cursor_seq, &ids).await?;
    let now = crate::time::now_ms();
    for e in &events {
        if let Some(reported) = request.set_errs.get(&e.id.simple().to_string()) {
            let why = match &reported.description {
                Some(d) => format!("{}: {d}", reported.err),
                None => reported.err.clone(),
            };
            store::park(&state.pool, (receiver.tenant, receiver.id), e, &why, now).await?;
            state.instruments.parked.inc();
        }
    }
    let known: HashSet<i64> = store::acked_after(&state.pool, receiver.id, receiver.cursor_seq)
        .await?
        .into_iter()
        .collect();
    let new: Vec<i64> = events
        .iter()
        .map(|e| e.seq)
        .filter(|seq| !known.contains(seq))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    state.instruments.delivered.inc_by(new.len() as u64);
    match store::insert_acks(&state.pool, receiver.id, &new).await {
        // A concurrent poll of the same receiver acknowledged one first.
        Err(e) if crate::store::exec::is_unique_violation(&e) => Ok(()),
        other => other.map_err(EventsError::from),
    }
}

/// Moves the receiver's cursor over the acknowledged (or unwanted) events
/// at its front, and forgets those acknowledgements; the new cursor.
async fn advance(state: &EventsState, receiver: &Receiver) -> Result<i64, EventsError> {
    let horizon = state.horizon.advance(&state.pool).await?;
    let acked: HashSet<i64> = store::acked_after(&state.pool, receiver.id, receiver.cursor_seq)
        .await?
        .into_iter()
        .collect();
    let mut cursor = receiver.cursor_seq;
    'walk: loop {
        let events =
            store::events_between(&state.pool, receiver.tenant, cursor, horizon, PAGE).await?;
        for e in &events {
            if !acked.contains(&e.seq) && receiver.wants(&e.event) {
                break 'walk;
            }
            cursor = e.seq;
        }
        if (events.len() as u64) < PAGE {
            break;
        }
    }
    if cursor != receiver.cursor_seq {
        let values = vec![("cursor_seq", cursor.into())];
        receivers::save_progress(&state.pool, receiver, None, 0, values).await?;
        store::delete_acks_upto(&state.pool, receiver.id, cursor).await?;
    }
    Ok(cursor)
}

/// Up to `max` events the receiver wants and has not acknowledged, and
/// whether more wait.
async fn pending(
    state: &EventsState,
    receiver: &Receiver,
    cursor: i64,
    max: usize,
) -> Result<(Vec<StoredEvent>, bool), EventsError> {
    let horizon = state.horizon.advance(&state.pool).await?;
    let mut found = Vec::new();
    let mut after = cursor;
    loop {
        let page = store::unacked_between(
            &state.pool,
            receiver.tenant,
            receiver.id,
            (after, horizon),
            PAGE,
        )
        .await?;
        let full = page.len() as u64 == PAGE;
        for e in page {
            after = e.seq;
            if !receiver.wants(&e.event) {
                continue;
            }
            if found.len() == max {
                return Ok((found, true));
            }
            found.push(e);
        }
        if !full {
            return Ok((found, false));
        }
    }
}

async fn sets(
    state: &EventsState,
    receiver: &Receiver,
    events: &[StoredEvent],
    more: bool,
) -> Result<Value, EventsError> {
    let now = crate::time::now_ms();
    let mut sets = Map::new();
    for e in events {
        let token = set::sign(&state.keys, e, &state.issuer, &receiver.audience, now).await?;
        sets.insert(e.id.simple().to_string(), Value::String(token));
    }
    let mut body = Map::new();
    body.insert("sets".into(), Value::Object(sets));
    if more {
        body.insert("moreAvailable".into(), Value::Bool(true));
    }
    Ok(Value::Object(body))
}
