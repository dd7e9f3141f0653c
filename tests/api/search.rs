//! POST /Users/.search, /Groups/.search and /.search (RFC 7644 §3.4.3).

use serde_json::{Value, json};

use crate::helpers::{TestApp, url_encode};
use crate::on_both_databases;

on_both_databases!(
    search_means_what_get_means,
    search_pages_by_cursor_too,
    root_search_spans_resource_types,
    search_requests_are_validated,
    pages_far_past_the_end_are_empty,
);

const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

async fn seed(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for (name, display) in [
        ("ann@example.com", "Ann"),
        ("abe@example.com", "Abe"),
        ("bea@example.com", "Bea"),
    ] {
        let r = app
            .post(
                "/Users",
                &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "displayName": display, "title": "Dev"}),
            )
            .await;
        r.assert_status(201);
        ids.push(r.body["id"].as_str().expect("id").to_owned());
    }
    app.create_group("Admins", &[&ids[0]]).await;
    app.create_group("Builders", &[&ids[1], &ids[2]]).await;
    ids
}

fn values(body: &Value, attr: &str) -> Vec<String> {
    body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|r| r[attr].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn search_means_what_get_means(app: TestApp) {
    seed(&app).await;
    let filter = r#"displayName sw "a""#;
    let get = app
        .get(&format!(
            "/Users?filter={}&sortBy=userName&sortOrder=descending&attributes=userName&count=10",
            url_encode(filter)
        ))
        .await;
    let post = app
        .post(
            "/Users/.search",
            &json!({
                "schemas": [SEARCH],
                "filter": filter,
                "sortBy": "userName",
                "sortOrder": "descending",
                "attributes": ["userName"],
                "count": 10
            }),
        )
        .await;
    post.assert_status(200);
    assert_eq!(post.body, get.body);
    assert_eq!(
        values(&post.body, "userName"),
        ["ann@example.com", "abe@example.com"]
    );
    assert_eq!(post.header("content-type"), Some("application/scim+json"));

    let groups = app
        .post(
            "/Groups/.search",
            &json!({
                "schemas": [SEARCH],
                "filter": "displayName eq \"builders\"",
                "excludedAttributes": ["members"]
            }),
        )
        .await;
    groups.assert_status(200);
    assert_eq!(groups.body["totalResults"], 1);
    assert!(groups.body["Resources"][0].get("members").is_none());
    assert_eq!(groups.body["Resources"][0]["displayName"], "Builders");
}

async fn search_pages_by_cursor_too(app: TestApp) {
    seed(&app).await;
    let mut body = json!({"schemas": [SEARCH], "sortBy": "userName", "cursor": "", "count": 2});
    let first = app.post("/Users/.search", &body).await;
    first.assert_status(200);
    assert_eq!(
        values(&first.body, "userName"),
        ["abe@example.com", "ann@example.com"]
    );
    body["cursor"] = first.body["nextCursor"].clone();
    let second = app.post("/Users/.search", &body).await;
    assert_eq!(values(&second.body, "userName"), ["bea@example.com"]);
    assert!(second.body.get("nextCursor").is_none());
    assert_eq!(second.body["totalResults"], 3);
}

async fn root_search_spans_resource_types(app: TestApp) {
    seed(&app).await;
    let search = |body: Value| {
        let app = &app;
        async move {
            let mut body = body;
            body["schemas"] = json!([SEARCH]);
            app.post("/.search", &body).await
        }
    };
    let r = search(json!({"filter": "displayName sw \"a\"", "sortBy": "displayName"})).await;
    r.assert_status(200);
    assert_eq!(r.body["totalResults"], 3);
    assert_eq!(values(&r.body, "displayName"), ["Abe", "Admins", "Ann"]);
    let types: Vec<String> = r.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|x| {
            x["meta"]["resourceType"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(types, ["User", "Group", "User"]);
    // Attributes only one type has: the other type simply has no match.
    let users_only = search(json!({"filter": "userName sw \"b\""})).await;
    assert_eq!(values(&users_only.body, "userName"), ["bea@example.com"]);
    let groups_only = search(json!({"filter": "members pr", "attributes": ["displayName"]})).await;
    assert_eq!(
        values(&groups_only.body, "displayName"),
        ["Admins", "Builders"]
    );
    assert!(groups_only.body["Resources"][0].get("members").is_none());
    // Unfiltered: users, then groups, paged across the seam.
    let page = search(json!({"startIndex": 3, "count": 2, "attributes": ["displayName"]})).await;
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["startIndex"], 3);
    assert_eq!(values(&page.body, "displayName"), ["Bea", "Admins"]);
    let desc =
        search(json!({"sortBy": "displayName", "sortOrder": "descending", "count": 2})).await;
    assert_eq!(values(&desc.body, "displayName"), ["Builders", "Bea"]);
    // A filter no type understands is still an error.
    search(json!({"filter": "shoeSize eq 9"}))
        .await
        .assert_scim_error(400, Some("invalidFilter"));
    search(json!({"cursor": ""}))
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

async fn search_requests_are_validated(app: TestApp) {
    app.post("/Users/.search", &json!({"schemas": ["urn:wrong"]}))
        .await
        .assert_scim_error(400, Some("invalidSyntax"));
    app.post(
        "/Users/.search",
        &json!({"schemas": [SEARCH], "filter": "userName eq"}),
    )
    .await
    .assert_scim_error(400, Some("invalidFilter"));
    app.post("/.search", &json!({"schemas": [SEARCH], "count": "many"}))
        .await
        .assert_scim_error(400, Some("invalidValue"));
    app.post("/Groups/.search", &json!(["not", "an", "object"]))
        .await
        .assert_scim_error(400, Some("invalidSyntax"));
    app.get("/Users/.search").await.assert_scim_error(405, None);
    // Without a body's filter: everything, as GET /Users.
    let all = app
        .post("/Users/.search", &json!({"schemas": [SEARCH]}))
        .await;
    all.assert_status(200);
    assert_eq!(all.body["totalResults"], 0);
}

/// A startIndex near the largest integer must not overflow what the
/// databases bind as a row count, nor read every row to skip them.
async fn pages_far_past_the_end_are_empty(app: TestApp) {
    seed(&app).await;
    for sort in [None, Some("meta.lastModified")] {
        for path in ["/.search", "/Users/.search"] {
            let mut body = json!({"schemas": [SEARCH], "startIndex": i64::MAX, "count": 50});
            if let Some(sort) = sort {
                body["sortBy"] = json!(sort);
            }
            let r = app.post(path, &body).await;
            r.assert_status(200);
            assert_eq!(r.body["Resources"], json!([]), "{path} sorted by {sort:?}");
            assert!(r.body["totalResults"].as_u64().expect("total") >= 3);
        }
    }
    let r = app
        .get("/Users?startIndex=9223372036854775807&sortBy=userName")
        .await;
    r.assert_status(200);
}
