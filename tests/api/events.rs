//! RFC 9967 events by poll (RFC 8936): each write's events, exactly; none
//! for a rolled-back write; the poll protocol (ack, setErrs, maxEvents,
//! long poll, credentials); receivers of two tenants kept apart; and what
//! ServiceProviderConfig advertises.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use roster::events::store::{NewEvent, insert_events};
use roster::service::{Change, ChangeHook, ChangeHooks, DEFAULT_TENANT};
use roster::store::exec::WriteTxn;
use sea_orm::DbErr;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::each_database;
use crate::events_support::{add_poll, drain, event_of, poll, summary};
use crate::helpers::{Db, TestApp, user_body};

each_database!(
    every_operation_yields_its_events,
    a_rolled_back_write_records_no_event,
    poll_acknowledges_reports_and_waits,
    receivers_see_their_own_tenant_and_acknowledgements,
);

/// An app with one poll receiver on the default tenant; its credential.
async fn app_with_poll(db: Db) -> (TestApp, String) {
    let credential = Arc::new(std::sync::Mutex::new(String::new()));
    let slot = credential.clone();
    let app = TestApp::spawn_prepared(
        db,
        |_| {},
        async move |conn| {
            *slot.lock().expect("lock") = add_poll(conn, DEFAULT_TENANT, "poller").await;
        },
    )
    .await;
    let credential = credential.lock().expect("lock").clone();
    (app, credential)
}

fn pair(event: &str, id: &str) -> (String, String) {
    (event.to_owned(), id.to_owned())
}

async fn every_operation_yields_its_events(db: Db) {
    let (app, credential) = app_with_poll(db).await;
    let mut body = user_body("ada");
    body["externalId"] = json!("ext-ada");
    let ada = app.post("/Users", &body).await;
    ada.assert_status(201);
    let ada = ada.body["id"].as_str().expect("id").to_owned();
    let created = drain(&app, &credential).await;
    assert_eq!(summary(&created), [pair("prov:create:notice", &ada)]);
    let set = &created[0];
    assert_eq!(set["sub_id"]["format"], "scim");
    assert_eq!(set["sub_id"]["uri"], format!("/Users/{ada}"));
    assert!(set.get("sub").is_none(), "sub_id, never sub: {set}");
    assert!(set["iat"].is_i64() && set["jti"].is_string() && set["iss"].is_string());
    assert_eq!(set["aud"], "urn:roster:receiver:poller");
    assert_eq!(event_of(set).1["version"], "W/\"1\"");
    assert_eq!(set["sub_id"]["externalId"], "ext-ada");
    let attributes = event_of(set).1["attributes"].clone();
    for name in ["userName", "externalId", "emails", "active"] {
        assert!(
            attributes
                .as_array()
                .expect("attributes")
                .contains(&json!(name)),
            "{attributes}"
        );
    }

    app.put(&format!("/Users/{ada}"), &user_body("ada"))
        .await
        .assert_status(200);
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Ada L"}]
    });
    app.patch(&format!("/Users/{ada}"), &patch)
        .await
        .assert_status(200);
    let grace = app.create_user("grace").await;
    let group = app.create_group("admins", &[&ada]).await;
    let add = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": grace}]}]
    });
    let patched = app.patch(&format!("/Groups/{group}"), &add).await;
    assert!(
        patched.status == 200 || patched.status == 204,
        "{}",
        patched.text
    );
    let attributes_of = |sets: &[Value], event: &str, id: &str| {
        sets.iter()
            .find(|s| event_of(s).0 == event && s["sub_id"]["id"] == id)
            .map(|s| event_of(s).1["attributes"].clone())
    };
    let got = drain(&app, &credential).await;
    assert_eq!(
        attributes_of(&got, "prov:patch:notice", &ada),
        Some(json!(["displayName"]))
    );
    assert_eq!(
        attributes_of(&got, "prov:patch:notice", &group),
        Some(json!(["members"]))
    );
    let mut expected = vec![
        pair("prov:put:notice", &ada),
        pair("prov:patch:notice", &ada),
        pair("prov:create:notice", &grace),
        pair("prov:create:notice", &group),
        // Membership changes are one notice on the group, never an
        // event per member.
        pair("prov:patch:notice", &group),
    ];
    expected.sort();
    assert_eq!(summary(&got), expected);

    let active = |on: bool| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": on}]
        })
    };
    for on in [false, false, true] {
        app.patch(&format!("/Users/{grace}"), &active(on))
            .await
            .assert_status(200);
    }
    let mut put = user_body("grace");
    put["active"] = json!(false);
    app.put(&format!("/Users/{grace}"), &put)
        .await
        .assert_status(200);
    app.delete(&format!("/Users/{ada}"))
        .await
        .assert_status(204);
    let mut expected = vec![
        pair("prov:patch:notice", &grace),
        pair("prov:deactivate", &grace),
        pair("prov:patch:notice", &grace),
        pair("prov:patch:notice", &grace),
        pair("prov:activate", &grace),
        pair("prov:put:notice", &grace),
        pair("prov:deactivate", &grace),
        pair("prov:delete", &ada),
    ];
    expected.sort();
    let got = drain(&app, &credential).await;
    assert_eq!(
        summary(&got),
        expected,
        "a second deactivation is no event of its own"
    );
    // Deleting a member changes the group's members in the same
    // transaction; that shows as no event of its own on the group here.

    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": user_body("linus")},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": user_body("ken")}
        ]
    });
    app.post("/Bulk", &bulk).await.assert_status(200);
    let got = drain(&app, &credential).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|s| event_of(s).0 == "prov:create:notice"));
    assert!(
        got[0]["txn"].is_string(),
        "a Bulk request's events carry txn"
    );
    assert_eq!(got[0]["txn"], got[1]["txn"], "one txn ties a Bulk request");
}

/// Refuses every write inside its transaction, after the outbox ran.
struct Refuse;

impl ChangeHook for Refuse {
    fn in_transaction<'a>(
        &'a self,
        _txn: &'a WriteTxn,
        _change: &'a Change,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async { Err(DbErr::Custom("refused by the test".into())) })
    }
}

async fn a_rolled_back_write_records_no_event(db: Db) {
    let credential = Arc::new(std::sync::Mutex::new(String::new()));
    let slot = credential.clone();
    let hooks = ChangeHooks::new(vec![Arc::new(Refuse)]);
    let app = TestApp::spawn_hooked(
        db,
        |_| {},
        async move |conn| {
            *slot.lock().expect("lock") = add_poll(conn, DEFAULT_TENANT, "poller").await;
        },
        hooks,
    )
    .await;
    let credential = credential.lock().expect("lock").clone();
    let refused = app.post("/Users", &user_body("ada")).await;
    assert!(refused.status >= 500, "{}", refused.text);
    assert_eq!(app.count_rows("users").await, 0);
    assert_eq!(app.count_rows("event_outbox").await, 0);
    assert!(drain(&app, &credential).await.is_empty());
}

async fn poll_acknowledges_reports_and_waits(db: Db) {
    let (app, credential) = app_with_poll(db).await;
    let (status, answer) = poll(&app, "roster_poll_wrong", &json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(answer["err"], "authentication_failed");
    for i in 0..3 {
        app.create_user(&format!("u{i}")).await;
    }
    let (status, answer) = poll(
        &app,
        &credential,
        &json!({"returnImmediately": true, "maxEvents": 2}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let first: Vec<String> = answer["sets"]
        .as_object()
        .expect("sets")
        .keys()
        .cloned()
        .collect();
    assert_eq!(first.len(), 2);
    assert_eq!(answer["moreAvailable"], true);
    // Unacknowledged SETs come again.
    let (_, again) = poll(&app, &credential, &json!({"returnImmediately": true})).await;
    assert_eq!(again["sets"].as_object().expect("sets").len(), 3);
    // maxEvents 0 only acknowledges; one acknowledged, one reported.
    let body = json!({
        "ack": [first[0]],
        "setErrs": {first[1].clone(): {"err": "invalid_audience", "description": "not for us"}},
        "maxEvents": 0
    });
    let (status, answer) = poll(&app, &credential, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["sets"].as_object().expect("sets").is_empty());
    let (_, rest) = poll(&app, &credential, &json!({"returnImmediately": true})).await;
    let rest: Vec<String> = rest["sets"]
        .as_object()
        .expect("sets")
        .keys()
        .cloned()
        .collect();
    assert_eq!(rest.len(), 1);
    assert!(!first.contains(&rest[0]));
    let (status, bad) = poll(&app, &credential, &json!({"ack": 5})).await;
    assert_eq!(status, 400);
    assert_eq!(bad["err"], "invalid_request");
    // A long poll returns as soon as a write records an event.
    let waiting = {
        let (root, credential) = (app.root.clone(), credential.clone());
        actix_web::rt::spawn(async move {
            let started = std::time::Instant::now();
            let mut resp = awc::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .finish()
                .post(format!("{root}/events/poll"))
                .insert_header(("Authorization", format!("Bearer {credential}")))
                .send_json(&json!({"ack": rest}))
                .await
                .expect("long poll");
            let body: Value = resp.json().await.expect("json");
            (started.elapsed(), body)
        })
    };
    actix_web::rt::time::sleep(std::time::Duration::from_millis(700)).await;
    let late = app.create_user("late").await;
    let (took, body) = waiting.await.expect("the long poll");
    let sets = body["sets"].as_object().expect("sets");
    assert_eq!(sets.len(), 1, "{body}");
    assert!(
        took.as_secs() < 10,
        "answered when the event came: {took:?}"
    );
    let keys = crate::events_support::jwks(&app).await;
    let claims = crate::events_support::verify(
        sets.values().next().and_then(Value::as_str).expect("a SET"),
        &keys,
    );
    assert_eq!(claims["sub_id"]["id"], late);
}

async fn receivers_see_their_own_tenant_and_acknowledgements(db: Db) {
    let other = Uuid::new_v4();
    let creds = Arc::new(std::sync::Mutex::new(Vec::new()));
    let slot = creds.clone();
    let app = TestApp::spawn_prepared(
        db,
        |_| {},
        async move |conn| {
            let added = vec![
                add_poll(conn, DEFAULT_TENANT, "first").await,
                add_poll(conn, DEFAULT_TENANT, "second").await,
                add_poll(conn, other, "first").await,
            ];
            *slot.lock().expect("lock") = added;
        },
    )
    .await;
    let creds = creds.lock().expect("lock").clone();
    let ada = app.create_user("ada").await;
    // Another tenant's event, recorded as its writes will record them.
    let theirs = Uuid::new_v4();
    let event = NewEvent {
        tenant: other,
        id: Uuid::new_v4(),
        resource_type: "User",
        resource_id: theirs,
        event: "prov:create:notice",
        txn: None,
        external_id: None,
        version: 1,
        attributes: None,
        created_at: roster::time::now_ms(),
    };
    insert_events(&app.db, &[event]).await.expect("insert");
    let first = drain(&app, &creds[0]).await;
    assert_eq!(summary(&first), [pair("prov:create:notice", &ada)]);
    // The first receiver's acknowledgements are not the second's.
    let second = drain(&app, &creds[1]).await;
    assert_eq!(summary(&second), [pair("prov:create:notice", &ada)]);
    let other_tenant = drain(&app, &creds[2]).await;
    assert_eq!(
        summary(&other_tenant),
        [pair("prov:create:notice", &theirs.to_string())]
    );
}

#[actix_web::test]
async fn service_provider_config_advertises_the_events() {
    // Without a receiver a tenant's writes emit nothing, and say so.
    let plain = TestApp::spawn(Db::Sqlite).await;
    let spc = plain.get("/ServiceProviderConfig").await;
    spc.assert_status(200);
    assert!(spc.body.get("securityEvents").is_none(), "{}", spc.text);

    let (app, _) = app_with_poll(Db::Sqlite).await;
    let spc = app.get("/ServiceProviderConfig").await;
    let events = &spc.body["securityEvents"];
    assert_eq!(events["asyncRequest"], "none", "{}", spc.text);
    let uris: Vec<&str> = events["eventUris"]
        .as_array()
        .expect("eventUris")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for short in ["prov:create:notice", "prov:patch:notice", "prov:delete"] {
        assert!(uris.contains(&format!("urn:ietf:params:scim:event:{short}").as_str()));
    }
}
