//! Push delivery (RFC 8935) and signed JSON webhooks to a local receiver:
//! SETs verify against the published key set, each resource's events
//! arrive in order, a receiver down for a simulated hour gets everything
//! when it returns, and refused or expired events are parked.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hmac::{KeyInit, Mac};
use jsonwebtoken::jwk::JwkSet;
use roster::events::receivers::{self, Format, Mode};
use roster::events::store;
use roster::service::DEFAULT_TENANT;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::each_database;
use crate::events_support::{ManualClock, Received, Sink, add_receiver, event_of, jwks, verify};
use crate::helpers::{Db, TestApp};

each_database!(
    pushed_sets_verify_and_keep_each_resources_order,
    webhooks_carry_a_verifiable_hmac,
    a_receiver_down_for_an_hour_gets_everything_back,
    refused_and_expired_events_are_parked,
    a_stream_of_writes_goes_out_in_few_batches_in_order,
    a_groups_patch_notices_of_one_moment_go_as_one,
);

/// An app pushing to `sink` in `format`, on `clock` when given; the
/// receiver's secret.
async fn app_pushing(
    db: Db,
    sink: &Sink,
    format: Format,
    clock: Option<Arc<ManualClock>>,
) -> (TestApp, Option<String>) {
    app_pushing_with(db, sink, format, clock, |_| {}).await
}

const SECRETS_KEY: &str = "a secrets key of at least 32 characters";

/// Like `app_pushing`, with the configuration adjusted.
async fn app_pushing_with(
    db: Db,
    sink: &Sink,
    format: Format,
    clock: Option<Arc<ManualClock>>,
    adjust: impl FnOnce(&mut roster::config::Config) + 'static,
) -> (TestApp, Option<String>) {
    app_pushing_after(db, sink, format, clock, None, adjust).await
}

/// Like `app_pushing`, the worker waiting `coalesce_ms` (when given)
/// after a write.
async fn app_pushing_after(
    db: Db,
    sink: &Sink,
    format: Format,
    clock: Option<Arc<ManualClock>>,
    coalesce_ms: Option<u64>,
    adjust: impl FnOnce(&mut roster::config::Config),
) -> (TestApp, Option<String>) {
    let secret = Arc::new(std::sync::Mutex::new(None));
    let (slot, url) = (secret.clone(), sink.url.clone());
    let app = TestApp::spawn_built(
        db,
        |c| {
            c.metrics.open = true;
            if let Some(ms) = coalesce_ms {
                c.events.coalesce_ms = ms;
            }
            adjust(c);
        },
        async move |conn| {
            let added = add_receiver(conn, DEFAULT_TENANT, "sink", Mode::Push, format, Some(url));
            *slot.lock().expect("lock") = added.await;
        },
        move |b| match clock {
            Some(clock) => b.event_clock(clock),
            None => b,
        },
    )
    .await;
    let secret = secret.lock().expect("lock").clone();
    (app, secret)
}

fn patch_name(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": name}]
    })
}

/// Writes 3 users, each patched 3 times: 12 events.
async fn write_some(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..3 {
        let id = app.create_user(&format!("user{i}")).await;
        for n in 0..3 {
            app.patch(&format!("/Users/{id}"), &patch_name(&format!("n{n}")))
                .await
                .assert_status(200);
        }
        ids.push(id);
    }
    ids
}

/// Each resource's versions in arrival order are 1, 2, 3, 4.
fn assert_in_order(arrived: &[(String, i64)], ids: &[String]) {
    for id in ids {
        let versions: Vec<i64> = arrived
            .iter()
            .filter(|(r, _)| r == id)
            .map(|(_, v)| *v)
            .collect();
        let mut deduped = versions.clone();
        deduped.dedup();
        assert_eq!(deduped, [1, 2, 3, 4], "{id}: {versions:?}");
    }
}

/// Each pushed SET's resource id and version, in arrival order, once its
/// signature verifies.
fn arrivals(got: &[Received], keys: &JwkSet) -> Vec<(String, i64)> {
    got.iter()
        .map(|r| {
            let claims = verify(&r.body, keys);
            let id = claims["sub_id"]["id"].as_str().expect("id").to_owned();
            (id, version_of(&event_of(&claims).1["version"]))
        })
        .collect()
}

fn version_of(etag: &Value) -> i64 {
    let text = etag.as_str().expect("a version");
    text.trim_start_matches("W/\"")
        .trim_end_matches('"')
        .parse()
        .expect("a number")
}

async fn pushed_sets_verify_and_keep_each_resources_order(db: Db) {
    let sink = Sink::start();
    let (app, _) = app_pushing(db, &sink, Format::Set, None).await;
    let ids = write_some(&app).await;
    let got = sink.wait_for(12, 30).await;
    assert!(got.len() >= 12, "{} of 12 arrived", got.len());
    let keys = jwks(&app).await;
    let mut arrived = Vec::new();
    for r in &got {
        assert_eq!(r.content_type, "application/secevent+jwt");
        let claims = verify(&r.body, &keys);
        assert_eq!(claims["aud"], sink.url);
        let (_, payload) = event_of(&claims);
        let id = claims["sub_id"]["id"].as_str().expect("id").to_owned();
        arrived.push((id, version_of(&payload["version"])));
    }
    assert_in_order(&arrived, &ids);
}

async fn webhooks_carry_a_verifiable_hmac(db: Db) {
    let sink = Sink::start();
    // Added in plain text before a secrets key was configured: sealed at
    // start-up, and still the key the webhooks are signed with.
    let (app, secret) = app_pushing_with(db, &sink, Format::Json, None, |c| {
        c.secrets.key = Some(roster::config::Secret::new(SECRETS_KEY));
    })
    .await;
    let secret = secret.expect("a webhook secret");
    let stored = receiver_row(&app).await.webhook_secret.expect("stored");
    assert!(
        stored.starts_with("roster-sealed:v1:") && !stored.contains(&secret),
        "sealed at rest: {stored}"
    );
    let ids = write_some(&app).await;
    let got = sink.wait_for(12, 30).await;
    assert!(got.len() >= 12, "{} of 12 arrived", got.len());
    let mut arrived = Vec::new();
    for r in &got {
        assert_eq!(r.content_type, "application/json");
        let header = r.signature.as_deref().expect("Roster-Signature");
        let (t, v1) = header
            .split_once(',')
            .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
            .expect("t=…,v1=…");
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("a key");
        mac.update(format!("{t}.{}", r.body).as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(v1, expected, "the HMAC verifies");
        let body: Value = serde_json::from_str(&r.body).expect("json");
        assert_eq!(body["resourceType"], "User");
        assert!(
            body["type"]
                .as_str()
                .expect("type")
                .starts_with("urn:ietf:params:scim:event:prov:")
        );
        assert!(body["time"].is_string() && body["attributes"].is_array());
        arrived.push((
            body["id"].as_str().expect("id").to_owned(),
            version_of(&body["version"]),
        ));
    }
    assert_in_order(&arrived, &ids);
}

async fn receiver_row(app: &TestApp) -> receivers::Receiver {
    receivers::find(&app.db, DEFAULT_TENANT, "sink")
        .await
        .expect("read")
        .expect("the receiver")
}

async fn a_receiver_down_for_an_hour_gets_everything_back(db: Db) {
    let sink = Sink::start();
    sink.status.store(503, Ordering::SeqCst);
    let clock = ManualClock::starting_now();
    let (app, _) = app_pushing(db, &sink, Format::Set, Some(clock.clone())).await;
    let ids = write_some(&app).await;
    // An hour in two-minute steps: the worker retries as the backoff allows.
    for _ in 0..30 {
        clock.advance_ms(120_000);
        actix_web::rt::time::sleep(Duration::from_millis(60)).await;
    }
    let down = receiver_row(&app).await;
    assert!(down.attempts >= 5, "retried while down: {down:?}");
    assert!(down.failing_since.is_some() && down.last_error.is_some());
    assert!(sink.bodies().is_empty());
    sink.status.store(202, Ordering::SeqCst);
    clock.advance_ms(600_000);
    let got = sink.wait_for(12, 30).await;
    assert!(got.len() >= 12, "{} of 12 arrived", got.len());
    let arrived = arrivals(&got, &jwks(&app).await);
    assert_in_order(&arrived, &ids);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let back = receiver_row(&app).await;
    assert_eq!(back.attempts, 0, "{back:?}");
    assert!(back.failing_since.is_none());
    let (parked, count) = store::parked(&app.db, back.id, 10).await.expect("parked");
    assert_eq!(count, 0, "{parked:?}");
}

async fn refused_and_expired_events_are_parked(db: Db) {
    let sink = Sink::start();
    // RFC 8935 `invalid_request`: this SET will never be taken.
    sink.status.store(400, Ordering::SeqCst);
    let clock = ManualClock::starting_now();
    let (app, _) = app_pushing(db, &sink, Format::Set, Some(clock.clone())).await;
    app.create_user("refused").await;
    let id = receiver_row(&app).await.id;
    let mut parked = 0;
    for _ in 0..100 {
        parked = store::parked(&app.db, id, 10).await.expect("parked").1;
        if parked == 1 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(parked, 1, "a refused SET is parked at once");
    // Unreachable for more than a day: parked once a day old, then the
    // next event goes through.
    sink.status.store(503, Ordering::SeqCst);
    app.create_user("expired").await;
    for _ in 0..30 {
        clock.advance_ms(3_600_000);
        actix_web::rt::time::sleep(Duration::from_millis(60)).await;
    }
    sink.status.store(202, Ordering::SeqCst);
    let last = app.create_user("delivered").await;
    clock.advance_ms(3_600_000);
    let got = sink.wait_for(1, 30).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let keys = jwks(&app).await;
    assert_eq!(verify(&got[0].body, &keys)["sub_id"]["id"], last);
    let (list, count) = store::parked(&app.db, id, 10).await.expect("parked");
    assert_eq!(count, 2, "{list:?}");
    assert!(
        list.iter().any(|p| p.error.contains("invalid_request")),
        "{list:?}"
    );
    assert!(list.iter().any(|p| p.error.contains("503")), "{list:?}");
    let text = metrics_text(&app).await;
    assert!(text.contains("roster_events_parked_total 2"), "{text}");
    assert!(text.contains("roster_events_delivered_total 1"), "{text}");
}

async fn metrics_text(app: &TestApp) -> String {
    let metrics = awc::Client::default()
        .get(format!("{}/metrics", app.root))
        .send()
        .await;
    let text = metrics.expect("metrics").body().await.expect("body");
    String::from_utf8_lossy(&text).into_owned()
}

fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// Writes in quick succession wait for each other: a few batches carry
/// them all, each resource's events still in order.
async fn a_stream_of_writes_goes_out_in_few_batches_in_order(db: Db) {
    let sink = Sink::start();
    let (app, _) = app_pushing_after(db, &sink, Format::Set, None, Some(1000), |_| {}).await;
    let ids = write_some(&app).await;
    let got = sink.wait_for(12, 30).await;
    assert_eq!(got.len(), 12, "every event once");
    let arrived = arrivals(&got, &jwks(&app).await);
    assert_in_order(&arrived, &ids);
    let text = metrics_text(&app).await;
    assert_eq!(counter(&text, "roster_events_delivered_total"), 12);
    let batches = counter(&text, "roster_events_push_batches_total");
    assert!(
        (1..=4).contains(&batches),
        "12 writes within moments take a few batches, not {batches}"
    );
}

/// Creates a group and PATCHes it `patches` times (members, then its
/// name); the group's id.
async fn patch_a_group(app: &TestApp, patches: usize) -> String {
    let member = app.create_user("member").await;
    let group = app.create_group("Engineering", &[]).await;
    for n in 0..patches {
        let op = match n % 2 {
            0 => json!({"op": "add", "path": "members", "value": [{"value": member}]}),
            _ => {
                json!({"op": "replace", "path": "displayName", "value": format!("Engineering {n}")})
            }
        };
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [op],
        });
        app.patch(&format!("/Groups/{group}"), &body)
            .await
            .assert_status(200);
    }
    group
}

/// The group's pushed events: (event URI's last part, version, attributes).
fn group_events(got: &[Received], keys: &JwkSet, group: &str) -> Vec<(String, i64, Vec<String>)> {
    got.iter()
        .map(|r| verify(&r.body, keys))
        .filter(|claims| claims["sub_id"]["id"] == group)
        .map(|claims| {
            let (uri, body) = event_of(&claims);
            let attributes = body["attributes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let kind = uri
                .rsplit_once("prov:")
                .map_or(uri.clone(), |(_, k)| k.to_owned());
            (kind, version_of(&body["version"]), attributes)
        })
        .collect()
}

async fn a_groups_patch_notices_of_one_moment_go_as_one(db: Db) {
    // Writes within a second share a push round.
    for merge in [true, false] {
        let sink = Sink::start();
        let (app, _) = app_pushing_after(db, &sink, Format::Set, None, Some(1000), move |c| {
            c.events.merge_group_notices = merge;
        })
        .await;
        let group = patch_a_group(&app, 4).await;
        // The member's create, the group's create and its 4 patches.
        let expected = if merge { 3 } else { 6 };
        let got = sink.wait_for(expected, 30).await;
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        let got = sink.wait_for(got.len(), 1).await;
        let events = group_events(&got, &jwks(&app).await, &group);
        let versions: Vec<i64> = events.iter().map(|(_, v, _)| *v).collect();
        assert_eq!(
            *versions.last().expect("events"),
            5,
            "the last version: {events:?}"
        );
        assert!(
            versions.windows(2).all(|w| w[0] < w[1]),
            "in order: {events:?}"
        );
        if merge {
            // The create, then the patches as one notice, unless a round
            // boundary fell between them.
            assert!(events.len() <= 3, "merged: {events:?}");
            let mut named: Vec<&String> = events
                .iter()
                .filter(|(kind, _, _)| kind == "patch:notice")
                .flat_map(|(_, _, attributes)| attributes)
                .collect();
            named.sort();
            named.dedup();
            assert_eq!(named, ["displayName", "members"], "{events:?}");
        } else {
            assert_eq!(events.len(), 5, "each patch its own: {events:?}");
        }
        let text = metrics_text(&app).await;
        assert_eq!(
            counter(&text, "roster_events_delivered_total"),
            6,
            "every event settled"
        );
    }
}
