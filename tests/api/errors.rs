use awc::http::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    unknown_routes_and_methods_are_scim_errors,
    malformed_bodies_are_invalid_syntax,
    media_types_are_accepted_leniently_and_refused_clearly,
    oversized_bodies_are_too_large,
    invalid_filters_are_invalid_filter,
    malformed_patches_are_rejected,
);

async fn unknown_routes_and_methods_are_scim_errors(app: TestApp) {
    app.get("/Nope").await.assert_scim_error(404, None);
    app.get("/Users/a/b").await.assert_scim_error(404, None);
    let r = app.send(app.request(Method::DELETE, "/Users"), None).await;
    r.assert_scim_error(405, None);
    let r = app
        .send(
            app.request(Method::POST, "/Users/some-id"),
            Some(&json!({})),
        )
        .await;
    r.assert_scim_error(405, None);
    app.send(
        app.request(Method::PUT, "/ServiceProviderConfig"),
        Some(&json!({})),
    )
    .await
    .assert_scim_error(405, None);
}

async fn malformed_bodies_are_invalid_syntax(app: TestApp) {
    for raw in ["{", "", "null", "[1,2", "{\"userName\": }"] {
        let r = app
            .request(Method::POST, "/Users")
            .insert_header(("Content-Type", "application/scim+json"))
            .send_body(raw.to_owned())
            .await
            .expect("send");
        let r = crate::helpers::read(r).await;
        r.assert_scim_error(400, Some("invalidSyntax"));
    }
    assert_eq!(app.count_rows("users").await, 0);
}

async fn media_types_are_accepted_leniently_and_refused_clearly(app: TestApp) {
    let body = crate::helpers::user_body("media@example.com");
    for (i, ct) in [
        "application/json",
        "application/json; charset=utf-8",
        "application/scim+json; charset=UTF-8",
    ]
    .iter()
    .enumerate()
    {
        let mut b = body.clone();
        b["userName"] = json!(format!("media{i}@example.com"));
        let r = app
            .request(Method::POST, "/Users")
            .insert_header(("Content-Type", *ct))
            .send_body(b.to_string())
            .await
            .expect("send");
        let r = crate::helpers::read(r).await;
        r.assert_status(201);
        assert_eq!(r.header("content-type"), Some("application/scim+json"));
    }
    // Microsoft Entra's probes may carry no Content-Type or Accept at all.
    let mut b = body.clone();
    b["userName"] = json!("no-ct@example.com");
    let r = app
        .request(Method::POST, "/Users")
        .send_body(b.to_string())
        .await
        .expect("send");
    crate::helpers::read(r).await.assert_status(201);
    let r = awc::Client::default()
        .get(app.url("/Users?filter=userName%20eq%20%22x%22"))
        .insert_header(("Authorization", format!("Bearer {}", crate::helpers::TOKEN)))
        .send()
        .await
        .expect("send");
    let r = crate::helpers::read(r).await;
    r.assert_status(200);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    let r = app
        .request(Method::POST, "/Users")
        .insert_header(("Content-Type", "text/xml"))
        .send_body("<user/>")
        .await
        .expect("send");
    crate::helpers::read(r).await.assert_scim_error(415, None);
}

async fn oversized_bodies_are_too_large(default: TestApp) {
    let app = TestApp::spawn_with(default.kind, |c| c.server.max_body_bytes = 4096).await;
    let mut body = crate::helpers::user_body("big@example.com");
    body["title"] = json!("x".repeat(8000));
    app.post("/Users", &body)
        .await
        .assert_scim_error(413, Some("tooLarge"));
    assert_eq!(app.count_rows("users").await, 0);
}

async fn invalid_filters_are_invalid_filter(app: TestApp) {
    for filter in [
        "userName eqq \"x\"",
        "userName eq",
        "userName eq \"unterminated",
        "(userName eq \"x\"",
        "userName eq \"x\" garbage",
        "noSuchAttribute eq \"x\"",
        "meta.lastModified gt \"yesterday\"",
        "active eq \"yes\"",
    ] {
        let r = app.filter("/Users", filter).await;
        r.assert_scim_error(400, Some("invalidFilter"));
    }
    app.filter("/Groups", "displayName co")
        .await
        .assert_scim_error(400, Some("invalidFilter"));
}

async fn malformed_patches_are_rejected(app: TestApp) {
    let id = app.create_user("p@example.com").await;
    let path = format!("/Users/{id}");
    let cases = [
        (json!({"Operations": "nope"}), 400, "invalidSyntax"),
        (
            json!({"schemas": ["urn:wrong"], "Operations": [{"op": "add", "path": "title", "value": "x"}]}),
            400,
            "invalidSyntax",
        ),
        (json!({"Operations": []}), 400, "invalidSyntax"),
        (
            json!({"Operations": [{"op": "frobnicate", "path": "title", "value": "x"}]}),
            400,
            "invalidSyntax",
        ),
        (json!({"Operations": [{"op": "remove"}]}), 400, "noTarget"),
        (
            json!({"Operations": [{"op": "replace", "value": "not an object"}]}),
            400,
            "invalidValue",
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "emails[type eq", "value": "x"}]}),
            400,
            "invalidPath",
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "groups", "value": []}]}),
            400,
            "mutability",
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "userName", "value": 7}]}),
            400,
            "invalidValue",
        ),
        (
            json!({"Operations": [{"op": "remove", "path": "userName"}]}),
            400,
            "invalidValue",
        ),
    ];
    for (body, status, scim_type) in cases {
        app.patch(&path, &body)
            .await
            .assert_scim_error(status, Some(scim_type));
    }
    let got = app.get(&path).await;
    assert_eq!(
        got.body["meta"]["version"], "W/\"1\"",
        "no failed PATCH wrote anything"
    );
}
