//! Operator schema extensions from JSON files named in the configuration:
//! validated, stored, filterable (numbers and dateTimes too), sortable,
//! projected and published like the RFC schemas.

use std::path::PathBuf;

use roster::config::{Config, SchemaExtensionConfig};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, url_encode};
use crate::on_both_databases;

on_both_databases!(
    extension_attributes_filter_by_their_types,
    extension_attributes_sort_project_and_publish,
    adding_an_extension_recomputes_search_columns,
    immutable_and_required_come_from_the_schema,
);

const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

fn acme_schema() -> Value {
    json!({
        "id": ACME,
        "name": "AcmeUser",
        "attributes": [
            {"name": "level", "type": "integer"},
            {"name": "rating", "type": "decimal"},
            {"name": "hired", "type": "dateTime"},
            {"name": "remote", "type": "boolean"},
            {"name": "badge", "type": "string", "caseExact": true},
            {"name": "skills", "type": "string", "multiValued": true},
            {"name": "site", "type": "complex", "subAttributes": [
                {"name": "building", "type": "string"},
                {"name": "floor", "type": "integer"}
            ]}
        ]
    })
}

fn with_acme(dir: &tempfile::TempDir) -> impl FnOnce(&mut Config) {
    let file: PathBuf = dir.path().join("acme.json");
    std::fs::write(&file, acme_schema().to_string()).expect("write schema");
    move |c: &mut Config| {
        c.scim.schema_extensions = vec![SchemaExtensionConfig {
            resource_type: "User".to_owned(),
            file,
            required: false,
        }];
    }
}

async fn spawn(db: Db) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let app = TestApp::spawn_with(db, with_acme(&dir)).await;
    (app, dir)
}

async fn seed(app: &TestApp) {
    for (name, acme) in [
        (
            "ann",
            json!({"level": 3, "rating": 4.5, "hired": "2025-11-24T17:00:00+01:00", "remote": true,
                   "badge": "AB", "skills": ["Rust", "SQL"], "site": {"building": "HQ", "floor": 3}}),
        ),
        (
            "bob",
            json!({"level": 1, "rating": 3.25, "hired": "2019-02-01T09:30:00Z", "remote": false,
                   "badge": "ab", "skills": ["Go"], "site": {"building": "Annex", "floor": 1}}),
        ),
        ("cat", json!({"level": 12})),
    ] {
        let r = app
            .post(
                "/Users",
                &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ACME],
                        "userName": name, ACME: acme}),
            )
            .await;
        r.assert_status(201);
    }
    app.create_user("dan").await;
}

async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let r = app.get(&format!("/Users?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .filter_map(|u| u["userName"].as_str().map(str::to_owned))
        .collect()
}

async fn filtered(app: &TestApp, filter: &str) -> Vec<String> {
    let mut n = names(app, &format!("filter={}", url_encode(filter))).await;
    n.sort();
    n
}

async fn extension_attributes_filter_by_their_types(default: TestApp) {
    let (app, _dir) = spawn(default.kind).await;
    seed(&app).await;
    let cases: &[(&str, &[&str])] = &[
        ("level gt 2", &["ann", "cat"]),
        (&format!("{ACME}:level le 3"), &["ann", "bob"]),
        ("level eq 12", &["cat"]),
        ("rating ge 3.5", &["ann"]),
        ("rating lt 4", &["bob"]),
        ("hired gt \"2020-01-01T00:00:00Z\"", &["ann"]),
        // The same instant written in another zone.
        ("hired eq \"2025-11-24T16:00:00Z\"", &["ann"]),
        ("remote eq true", &["ann"]),
        ("remote ne true", &["bob", "cat", "dan"]),
        ("badge eq \"ab\"", &["bob"]),
        ("skills eq \"rust\"", &["ann"]),
        ("skills co \"o\"", &["bob"]),
        ("site.floor ge 3", &["ann"]),
        ("site[building eq \"annex\" and floor lt 2]", &["bob"]),
        ("not (level pr)", &["dan"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(filtered(&app, filter).await, *expected, "{filter}");
    }
    for bad in [
        "level co 1",
        "remote gt false",
        "hired gt \"soon\"",
        "level eq \"3\"",
        "site eq 1",
    ] {
        app.filter("/Users", bad)
            .await
            .assert_scim_error(400, Some("invalidFilter"));
    }
}

async fn extension_attributes_sort_project_and_publish(default: TestApp) {
    let (app, _dir) = spawn(default.kind).await;
    seed(&app).await;
    assert_eq!(
        names(&app, "sortBy=level&sortOrder=descending").await,
        ["dan", "cat", "ann", "bob"]
    );
    assert_eq!(
        names(&app, &format!("sortBy={ACME}:hired")).await[..2],
        ["bob", "ann"]
    );
    assert_eq!(names(&app, "sortBy=skills").await[..2], ["bob", "ann"]);
    let r = app
        .get(&format!(
            "/Users?filter={}&attributes={ACME}:level",
            url_encode("userName eq \"ann\"")
        ))
        .await;
    assert_eq!(r.body["Resources"][0][ACME], json!({"level": 3}));
    let schema = app.get(&format!("/Schemas/{ACME}")).await;
    schema.assert_status(200);
    assert_eq!(schema.body["attributes"][0]["name"], "level");
    let rt = app.get("/ResourceTypes/User").await;
    assert!(
        rt.body["schemaExtensions"]
            .as_array()
            .is_some_and(|e| e.iter().any(|x| x["schema"] == ACME))
    );
    // Validation comes from the same schema.
    let bad = app
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "eve", ACME: {"level": "high"}}),
        )
        .await;
    bad.assert_scim_error(400, Some("invalidValue"));
    let unknown = app
        .post("/Users", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "eve", ACME: {"shoe": 9}}))
        .await;
    unknown.assert_scim_error(400, Some("invalidSyntax"));
}

/// Search columns computed before an extension existed are recomputed
/// once the server starts with it.
async fn adding_an_extension_recomputes_search_columns(default: TestApp) {
    let (app, dir) = spawn(default.kind).await;
    seed(&app).await;
    use sea_orm::ConnectionTrait;
    for sql in [
        "UPDATE users SET doc_search = '{}'",
        "UPDATE roster_state SET value = 'older schemas'",
    ] {
        app.db.execute_unprepared(sql).await.expect("age");
    }
    assert_eq!(filtered(&app, "level gt 2").await, Vec::<String>::new());
    let mut config = Config::default();
    with_acme(&dir)(&mut config);
    roster::startup::reindex(&config, &app.db)
        .await
        .expect("reindex");
    assert_eq!(filtered(&app, "level gt 2").await, ["ann", "cat"]);
}

#[test]
fn broken_extension_files_stop_startup_with_a_reason() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("bad.json");
    for (content, needle) in [
        ("not json", "not JSON"),
        (r#"{"id": "not-a-urn", "attributes": []}"#, "URN"),
        (
            r#"{"id": "urn:ietf:params:scim:schemas:core:2.0:User", "attributes": []}"#,
            "already in use",
        ),
    ] {
        std::fs::write(&file, content).expect("write");
        let mut config = Config::default();
        config.scim.schema_extensions = vec![SchemaExtensionConfig {
            resource_type: "User".to_owned(),
            file: file.clone(),
            required: false,
        }];
        let err = roster::startup::registry(&config)
            .expect_err(content)
            .to_string();
        assert!(err.contains(needle), "{err}");
    }
    let mut config = Config::default();
    config.scim.schema_extensions = vec![SchemaExtensionConfig {
        resource_type: "User".to_owned(),
        file: dir.path().join("missing.json"),
        required: false,
    }];
    assert!(roster::startup::registry(&config).is_err());
}

/// RFC 7643 §7: `required` attributes must be there; `immutable` ones may
/// be set once and never changed (400 mutability), by PUT or PATCH.
async fn immutable_and_required_come_from_the_schema(default: TestApp) {
    const HR: &str = "urn:example:params:scim:schemas:extension:hr:1.0:User";
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("hr.json");
    let schema = json!({"id": HR, "attributes": [
        {"name": "badge", "type": "string", "mutability": "immutable"},
        {"name": "site", "type": "string", "required": true}
    ]});
    std::fs::write(&file, schema.to_string()).expect("write");
    let app = TestApp::spawn_with(default.kind, |c| {
        c.scim.schema_extensions = vec![SchemaExtensionConfig {
            resource_type: "User".to_owned(),
            file,
            required: false,
        }];
    })
    .await;
    app.post("/Users", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", HR: {"badge": "B1"}}))
        .await
        .assert_scim_error(400, Some("invalidValue"));
    let created = app
        .post("/Users", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", HR: {"site": "x"}}))
        .await;
    created.assert_status(201);
    let path = format!("/Users/{}", created.body["id"].as_str().expect("id"));
    let op = |op: &str, value: Value| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": op, "path": format!("{HR}:badge"), "value": value}]})
    };
    // No value yet: it may be set, once.
    app.patch(&path, &op("add", json!("B1")))
        .await
        .assert_status(200);
    app.patch(&path, &op("replace", json!("B1")))
        .await
        .assert_status(200);
    app.patch(&path, &op("replace", json!("B2")))
        .await
        .assert_scim_error(400, Some("mutability"));
    app.patch(&path, &op("remove", Value::Null))
        .await
        .assert_scim_error(400, Some("mutability"));
    app.put(
        &path,
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", HR: {"site": "y", "badge": "B9"}}),
    )
    .await
    .assert_scim_error(400, Some("mutability"));
    let kept = app
        .put(
            &path,
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", HR: {"site": "y", "badge": "B1"}}),
        )
        .await;
    kept.assert_status(200);
    assert_eq!(kept.body[HR], json!({"site": "y", "badge": "B1"}));
    app.put(&path, &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", HR: {"badge": "B1"}}))
        .await
        .assert_scim_error(400, Some("invalidValue"));
}
