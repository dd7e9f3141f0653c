//! Versions, ETags and conditional requests (RFC 7644 §3.14).

use awc::http::Method;
use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    reads_carry_etags_and_honour_if_none_match,
    stale_if_match_is_412_and_writes_nothing,
    matching_if_match_writes,
    concurrent_writers_on_one_version_exactly_one_wins,
);

fn deactivate() -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": "replace", "path": "active", "value": false}]})
}

async fn reads_carry_etags_and_honour_if_none_match(app: TestApp) {
    let id = app.create_user("etag@example.com").await;
    let path = format!("/Users/{id}");
    let r = app.get(&path).await;
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    let not_modified = app
        .send(
            app.request(Method::GET, &path)
                .insert_header(("If-None-Match", "W/\"1\"")),
            None,
        )
        .await;
    not_modified.assert_status(304);
    assert!(not_modified.text.is_empty());
    assert_eq!(not_modified.header("etag"), Some("W/\"1\""));
    let stale = app
        .send(
            app.request(Method::GET, &path)
                .insert_header(("If-None-Match", "W/\"0\"")),
            None,
        )
        .await;
    stale.assert_status(200);
    let g = app.create_group("G", &[]).await;
    let r = app
        .send(
            app.request(Method::GET, &format!("/Groups/{g}"))
                .insert_header(("If-None-Match", "W/\"1\"")),
            None,
        )
        .await;
    r.assert_status(304);
}

async fn stale_if_match_is_412_and_writes_nothing(app: TestApp) {
    let id = app.create_user("stale@example.com").await;
    let path = format!("/Users/{id}");
    app.patch(&path, &deactivate()).await.assert_status(200); // now version 2
    for (method, body) in [
        (Method::PATCH, Some(deactivate())),
        (
            Method::PUT,
            Some(crate::helpers::user_body("stale@example.com")),
        ),
        (Method::DELETE, None),
    ] {
        let req = app
            .request(method.clone(), &path)
            .insert_header(("If-Match", "W/\"1\""));
        app.send(req, body.as_ref())
            .await
            .assert_scim_error(412, None);
    }
    let got = app.get(&path).await;
    assert_eq!(got.body["meta"]["version"], "W/\"2\"");
    let g = app.create_group("G", &[]).await;
    let req = app
        .request(Method::DELETE, &format!("/Groups/{g}"))
        .insert_header(("If-Match", "W/\"9\""));
    app.send(req, None).await.assert_scim_error(412, None);
    let missing = app
        .request(
            Method::DELETE,
            "/Users/2819c223-7f76-453a-919d-413861904646",
        )
        .insert_header(("If-Match", "*"));
    app.send(missing, None).await.assert_scim_error(404, None);
}

async fn matching_if_match_writes(app: TestApp) {
    let id = app.create_user("match@example.com").await;
    let path = format!("/Users/{id}");
    for tag in ["W/\"1\"", "\"2\"", "*", "W/\"7\", W/\"4\""] {
        let r = app
            .send(
                app.request(Method::PATCH, &path)
                    .insert_header(("If-Match", tag)),
                Some(&deactivate()),
            )
            .await;
        r.assert_status(200);
    }
    assert_eq!(app.get(&path).await.body["meta"]["version"], "W/\"5\"");
    let g = app.create_group("G", &[]).await;
    let r = app
        .send(
            app.request(Method::DELETE, &format!("/Groups/{g}"))
                .insert_header(("If-Match", "W/\"1\"")),
            None,
        )
        .await;
    r.assert_status(204);
}

async fn concurrent_writers_on_one_version_exactly_one_wins(app: TestApp) {
    let id = app.create_user("race@example.com").await;
    let path = format!("/Users/{id}");
    let writers = (0..8).map(|i| {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": format!("writer {i}")}]});
        let path = path.clone();
        let app = &app;
        async move {
            let req = app
                .request(Method::PATCH, &path)
                .insert_header(("If-Match", "W/\"1\""));
            app.send(req, Some(&body)).await.status
        }
    });
    let statuses = join_all(writers).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(app.get(&path).await.body["meta"]["version"], "W/\"2\"");
}
