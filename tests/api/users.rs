use serde_json::{Value, json};

use crate::helpers::{TestApp, user_body};
use crate::on_both_databases;

on_both_databases!(
    create_returns_the_full_resource,
    duplicate_user_name_in_any_case_is_a_conflict,
    filter_by_user_name_is_case_insensitive_and_decodes_the_query,
    empty_filter_result_is_an_empty_list,
    paging_is_stable_and_complete,
    paging_parameters_are_clamped,
    filtered_lists_total_whether_or_not_the_page_ends_the_results,
    get_unknown_ids_is_404,
    put_replaces_and_ignores_read_only_echoes,
    patch_deactivates_and_reactivates,
    delete_removes_the_user_and_its_memberships,
    groups_attribute_is_computed_from_memberships,
    non_ascii_names_round_trip_and_stay_unique,
    attributes_round_trip_losslessly,
    password_is_never_returned_nor_stored_by_default,
    password_is_stored_only_as_argon2_when_enabled,
    invalid_users_are_rejected_and_nothing_is_written,
    canonical_values_are_enforced_and_can_be_relaxed,
);

async fn create_returns_the_full_resource(app: TestApp) {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    });
    let r = app.post("/Users", &body).await;
    r.assert_status(201);
    let id = r.body["id"].as_str().expect("id");
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(
        r.header("location"),
        Some(app.url(&format!("/Users/{id}")).as_str())
    );
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    assert_eq!(r.body["userName"], "test.user@okta.local");
    assert_eq!(r.body["name"]["familyName"], "User");
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["locale"], "en-US");
    assert_eq!(r.body["externalId"], "00ujl29u0le5T6Aj10h7");
    let meta = &r.body["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["location"], app.url(&format!("/Users/{id}")));
    assert_eq!(meta["version"], "W/\"1\"");
    assert_eq!(meta["created"], meta["lastModified"]);
    assert!(meta["created"].as_str().is_some_and(|c| c.ends_with('Z')));
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert!(r.body.get("password").is_none());

    let fetched = app.get(&format!("/Users/{id}")).await;
    fetched.assert_status(200);
    assert_eq!(fetched.body, r.body, "GET returns what POST returned");
}

async fn duplicate_user_name_in_any_case_is_a_conflict(app: TestApp) {
    app.create_user("Barbara.Jensen@example.com").await;
    for name in ["Barbara.Jensen@example.com", "barbara.jensen@EXAMPLE.com"] {
        app.post("/Users", &user_body(name))
            .await
            .assert_scim_error(409, Some("uniqueness"));
    }
    assert_eq!(app.count_rows("users").await, 1);
}

async fn filter_by_user_name_is_case_insensitive_and_decodes_the_query(app: TestApp) {
    let id = app.create_user("test.user@okta.local").await;
    app.create_user("other@okta.local").await;
    for query in [
        "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
        "/Users?filter=userName+eq+%22TEST.USER%40OKTA.LOCAL%22",
        "/Users?filter=USERNAME%20EQ%20%22Test.User%40okta.local%22",
    ] {
        let r = app.get(query).await;
        r.assert_status(200);
        assert_eq!(r.body["totalResults"], 1, "{query}: {}", r.text);
        assert_eq!(r.body["Resources"][0]["id"], id.as_str());
    }
    let by_external = app.filter("/Users", r#"externalId eq "nope""#).await;
    assert_eq!(by_external.body["totalResults"], 0);
}

async fn empty_filter_result_is_an_empty_list(app: TestApp) {
    let r = app
        .filter(
            "/Users",
            r#"userName eq "7d42c6a8-5d1e-4c4f-9f0e-123456789abc""#,
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        r.body,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []
        })
    );
}

async fn paging_is_stable_and_complete(app: TestApp) {
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(app.create_user(&format!("user{i}@example.com")).await);
    }
    let all = app.get("/Users?startIndex=1&count=100").await;
    let all_ids: Vec<Value> = all.body["Resources"]
        .as_array()
        .expect("list")
        .iter()
        .map(|u| u["id"].clone())
        .collect();
    assert_eq!(all_ids.len(), 7);
    let mut paged = Vec::new();
    for start in [1, 3, 5, 7] {
        let r = app.get(&format!("/Users?startIndex={start}&count=2")).await;
        r.assert_status(200);
        assert_eq!(r.body["totalResults"], 7);
        assert_eq!(r.body["startIndex"], start);
        assert_eq!(
            r.body["itemsPerPage"],
            r.body["Resources"].as_array().map(Vec::len).unwrap_or(0)
        );
        paged.extend(
            r.body["Resources"]
                .as_array()
                .expect("list")
                .iter()
                .map(|u| u["id"].clone()),
        );
    }
    assert_eq!(paged, all_ids, "pages neither overlap nor skip");
    let past_end = app.get("/Users?startIndex=50&count=2").await;
    assert_eq!(past_end.body["totalResults"], 7);
    assert_eq!(past_end.body["Resources"], json!([]));
}

/// A filtered page that ends the results gives its total without a count;
/// every other filtered page is counted. Both must say the same.
async fn filtered_lists_total_whether_or_not_the_page_ends_the_results(app: TestApp) {
    for i in 0..5 {
        app.create_user(&format!("f{i}@example.com")).await;
    }
    app.create_user("g0@example.com").await;
    let filter = crate::helpers::url_encode(r#"userName sw "f""#);
    // (query, Resources expected); the total is 5 every time.
    for (query, shown) in [
        ("count=10", 5),
        ("count=5", 5),
        ("count=2", 2),
        ("startIndex=5&count=2", 1),
        ("startIndex=6&count=2", 0),
        ("startIndex=50&count=2", 0),
        ("count=0", 0),
        ("cursor&count=10", 5),
        ("cursor&count=5", 5),
        ("cursor&count=2", 2),
    ] {
        let r = app.get(&format!("/Users?filter={filter}&{query}")).await;
        r.assert_status(200);
        assert_eq!(r.body["totalResults"], 5, "{query}: {}", r.text);
        let resources = r.body["Resources"].as_array().map_or(0, Vec::len);
        assert_eq!(resources, shown, "{query}: {}", r.text);
        assert_eq!(
            r.body.get("nextCursor").is_some(),
            query == "cursor&count=2",
            "{query}: {}",
            r.text
        );
    }
    let none = crate::helpers::url_encode(r#"userName eq "nobody@example.com""#);
    let r = app.get(&format!("/Users?filter={none}")).await;
    assert_eq!(r.body["totalResults"], 0, "{}", r.text);
}

async fn paging_parameters_are_clamped(app: TestApp) {
    for i in 0..3 {
        app.create_user(&format!("p{i}@example.com")).await;
    }
    let zero = app.get("/Users?startIndex=0&count=1").await;
    assert_eq!(zero.body["startIndex"], 1);
    assert_eq!(zero.body["itemsPerPage"], 1);
    let count_only = app.get("/Users?count=0").await;
    assert_eq!(count_only.body["totalResults"], 3);
    assert_eq!(count_only.body["Resources"], json!([]));
    let negative = app.get("/Users?count=-4").await;
    assert_eq!(negative.body["itemsPerPage"], 0);
    app.get("/Users?count=many")
        .await
        .assert_scim_error(400, Some("invalidValue"));
    let unknown_param = app.get("/Users?aadOptscim062020").await;
    assert_eq!(unknown_param.body["totalResults"], 3);
}

async fn get_unknown_ids_is_404(app: TestApp) {
    for id in [
        "00919288221112222",
        "2819c223-7f76-453a-919d-413861904646",
        "not-an-id",
    ] {
        app.get(&format!("/Users/{id}"))
            .await
            .assert_scim_error(404, None);
    }
}

async fn put_replaces_and_ignores_read_only_echoes(app: TestApp) {
    let id = app.create_user("put.user@example.com").await;
    let mut current = app.get(&format!("/Users/{id}")).await.body;
    // Okta: GET, change, PUT back with id, meta and groups echoed.
    current["name"]["givenName"] = json!("Changed");
    current["title"] = json!("Engineer");
    current["groups"] = json!([{"value": "bogus-group"}]);
    current["meta"]["version"] = json!("W/\"999\"");
    let r = app.put(&format!("/Users/{id}"), &current).await;
    r.assert_status(200);
    assert_eq!(r.body["name"]["givenName"], "Changed");
    assert_eq!(r.body["title"], "Engineer");
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    assert!(
        r.body.get("groups").is_none(),
        "groups are read-only: {}",
        r.text
    );
    assert_eq!(r.body["id"], id.as_str());

    // PUT is a full replace: what is left out is gone.
    let r = app.put(&format!("/Users/{id}"), &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "put.user@example.com"})).await;
    r.assert_status(200);
    assert!(r.body.get("title").is_none());
    assert!(r.body.get("emails").is_none());
    assert_eq!(app.count_rows("user_emails").await, 0);
    app.put("/Users/00919288221112222", &user_body("x@example.com"))
        .await
        .assert_scim_error(404, None);
}

async fn patch_deactivates_and_reactivates(app: TestApp) {
    let id = app.create_user("patch.user@example.com").await;
    let path = format!("/Users/{id}");
    let deactivate = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    });
    let r = app.patch(&path, &deactivate).await;
    r.assert_status(200);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["userName"], "patch.user@example.com");
    let read = app.get(&path).await;
    assert_eq!(
        read.body["active"], false,
        "a deactivated user stays readable"
    );
    let filtered = app
        .filter("/Users", r#"userName eq "patch.user@example.com""#)
        .await;
    assert_eq!(filtered.body["Resources"][0]["active"], false);

    let reactivate = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": true}]
    });
    let r = app.patch(&path, &reactivate).await;
    r.assert_status(200);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["meta"]["version"], "W/\"3\"");
    let entra = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
    });
    assert_eq!(app.patch(&path, &entra).await.body["active"], false);
}

async fn delete_removes_the_user_and_its_memberships(app: TestApp) {
    let keep = app.create_user("keep@example.com").await;
    let gone = app.create_user("gone@example.com").await;
    let group = app.create_group("Team", &[&keep, &gone]).await;
    let r = app.delete(&format!("/Users/{gone}")).await;
    r.assert_status(204);
    assert!(r.text.is_empty());
    app.get(&format!("/Users/{gone}"))
        .await
        .assert_scim_error(404, None);
    app.delete(&format!("/Users/{gone}"))
        .await
        .assert_scim_error(404, None);
    assert_eq!(app.member_ids(&group).await, vec![keep]);
    assert_eq!(app.count_rows("group_members").await, 1);
    assert_eq!(app.count_rows("user_emails").await, 1);
}

async fn groups_attribute_is_computed_from_memberships(default: TestApp) {
    // Two groups whose names differ only in case.
    let app = TestApp::spawn_with(default.kind, |c| {
        c.scim.dialect.unique_group_names = Some(false);
    })
    .await;
    let user = app.create_user("member@example.com").await;
    let loner = app.create_user("loner@example.com").await;
    let b = app.create_group("Beta", &[&user]).await;
    let lower = app.create_group("alpha", &[&user]).await;
    let a = app.create_group("Alpha", &[&user]).await;
    let r = app.get(&format!("/Users/{user}")).await;
    let groups = r.body["groups"].as_array().expect("groups");
    let ids: Vec<&str> = groups.iter().filter_map(|g| g["value"].as_str()).collect();
    // By display name as compared byte by byte, on every database.
    let expected = vec![a.as_str(), b.as_str(), lower.as_str()];
    assert_eq!(ids, expected);
    assert_eq!(groups[0]["display"], "Alpha");
    assert_eq!(groups[0]["$ref"], app.url(&format!("/Groups/{a}")));
    let listed = app
        .get("/Users?filter=userName%20eq%20%22member@example.com%22")
        .await;
    let listed_ids: Vec<&str> = listed.body["Resources"][0]["groups"]
        .as_array()
        .expect("listed groups")
        .iter()
        .filter_map(|g| g["value"].as_str())
        .collect();
    assert_eq!(listed_ids, expected);
    let r = app.get(&format!("/Users/{loner}")).await;
    r.assert_status(200);
    assert!(r.body.get("groups").is_none(), "{}", r.body);
}

async fn non_ascii_names_round_trip_and_stay_unique(app: TestApp) {
    for (user_name, display) in [
        ("josé.ñúñez@example.com", "José Ñúñez"),
        ("山田太郎", "山田太郎"),
    ] {
        let mut body = user_body(user_name);
        body["displayName"] = json!(display);
        let r = app.post("/Users", &body).await;
        r.assert_status(201);
        let got = app
            .get(&format!("/Users/{}", r.body["id"].as_str().expect("id")))
            .await;
        assert_eq!(got.body["userName"], user_name);
        assert_eq!(got.body["displayName"], display);
    }
    app.post("/Users", &user_body("JOSÉ.ÑÚÑEZ@example.com"))
        .await
        .assert_scim_error(409, Some("uniqueness"));
    let r = app
        .filter("/Users", r#"userName eq "JOSÉ.ÑÚÑEZ@EXAMPLE.COM""#)
        .await;
    assert_eq!(r.body["totalResults"], 1);
    // Accents are significant: a different name, not a duplicate.
    app.post("/Users", &user_body("jose.nunez@example.com"))
        .await
        .assert_status(201);
}

async fn attributes_round_trip_losslessly(app: TestApp) {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "full@example.com",
        "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara",
                 "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
        "displayName": "Babs Jensen", "nickName": "Babs", "profileUrl": "https://login.example.com/bjensen",
        "title": "Tour Guide", "userType": "Employee", "preferredLanguage": "en-US", "locale": "en-US",
        "timezone": "America/Los_Angeles", "active": true,
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
        "addresses": [{"streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "region": "CA",
                       "postalCode": "91608", "country": "USA", "type": "work", "primary": true}],
        "roles": [{"value": "admin", "primary": false}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
            "division": "Theme Park", "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        },
        "urn:example:params:scim:schemas:extension:custom:2.0:User": {"badge": {"color": "blue"}}
    });
    let r = app.post("/Users", &body).await;
    r.assert_status(201);
    let got = app
        .get(&format!("/Users/{}", r.body["id"].as_str().expect("id")))
        .await;
    // manager.displayName is readOnly (RFC 7643 §4.3): what a client sends is ignored.
    let mut body = body;
    body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]
        .as_object_mut()
        .expect("manager")
        .remove("displayName");
    for (key, value) in body.as_object().expect("object") {
        if key == "schemas" {
            continue;
        }
        assert_eq!(&got.body[key], value, "attribute {key} round-trips");
    }
    let schemas = got.body["schemas"].as_array().expect("schemas");
    assert!(schemas.contains(&json!(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    )));
    assert!(schemas.contains(&json!(
        "urn:example:params:scim:schemas:extension:custom:2.0:User"
    )));
}

async fn password_is_never_returned_nor_stored_by_default(app: TestApp) {
    let mut body = user_body("secret@example.com");
    body["password"] = json!("1mz050nq");
    let r = app.post("/Users", &body).await;
    r.assert_status(201);
    assert!(!r.text.contains("1mz050nq"));
    let id = r.body["id"].as_str().expect("id").to_owned();
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "value": {"password": "n3wPassw0rd"}}]});
    let r = app.patch(&format!("/Users/{id}"), &patch).await;
    r.assert_status(200);
    assert!(r.body.get("password").is_none());
    let stmt = sea_orm::Statement::from_string(
        sea_orm::ConnectionTrait::get_database_backend(&app.db),
        "SELECT doc, password_hash FROM users".to_owned(),
    );
    let rows = sea_orm::ConnectionTrait::query_all_raw(&app.db, stmt)
        .await
        .expect("query");
    for row in rows {
        let hash: Option<String> = row.try_get("", "password_hash").expect("hash column");
        assert!(hash.is_none());
    }
}

async fn invalid_users_are_rejected_and_nothing_is_written(app: TestApp) {
    let cases = [
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ""}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": 42}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "active": "sometimes"}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "emails": "not-a-list-of-objects"}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "name": ["wrong"]}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "favouriteColour": "blue"}),
            "invalidSyntax",
        ),
        (
            json!({"userName": "a", "schemas": "urn:ietf:params:scim:schemas:core:2.0:User"}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x".repeat(300)}),
            "invalidValue",
        ),
        (json!(["userName", "a"]), "invalidSyntax"),
    ];
    for (body, scim_type) in cases {
        let r = app.post("/Users", &body).await;
        r.assert_scim_error(400, Some(scim_type));
    }
    assert_eq!(app.count_rows("users").await, 0);
}

async fn canonical_values_are_enforced_and_can_be_relaxed(default: TestApp) {
    let with_type = |name: &str, ty: &str| {
        let mut body = user_body(name);
        body["emails"] = json!([{"value": name, "type": ty}]);
        body
    };
    let r = default
        .post("/Users", &with_type("odd@example.com", "personal"))
        .await;
    r.assert_scim_error(400, Some("invalidValue"));
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("emails.type"))
    );
    assert_eq!(default.count_rows("users").await, 0);
    // emails.type is caseExact=false.
    default
        .post("/Users", &with_type("cased@example.com", "Work"))
        .await
        .assert_status(201);
    let created = default.create_user("phone@example.com").await;
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "phoneNumbers", "value": [{"value": "1", "type": "beeper"}]}]
    });
    default
        .patch(&format!("/Users/{created}"), &patch)
        .await
        .assert_scim_error(400, Some("invalidValue"));
    let relaxed = TestApp::spawn_with(default.kind, |c| {
        c.scim.dialect.enforce_canonical_values = Some(false);
    })
    .await;
    relaxed
        .post("/Users", &with_type("odd@example.com", "personal"))
        .await
        .assert_status(201);
}

async fn password_is_stored_only_as_argon2_when_enabled(default: TestApp) {
    let app = TestApp::spawn_with(default.kind, |c| c.scim.store_password_hashes = true).await;
    let mut body = user_body("hashed@example.com");
    body["password"] = json!("1mz050nq");
    let r = app.post("/Users", &body).await;
    r.assert_status(201);
    assert!(!r.text.contains("1mz050nq"));
    let hash = stored_password_hash(&app).await.expect("a hash is stored");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(roster::secrets::verify_secret("1mz050nq", &hash));
    // A PUT without a password keeps it (clients cannot echo a write-only value).
    let id = r.body["id"].as_str().expect("id").to_owned();
    app.put(&format!("/Users/{id}"), &user_body("hashed@example.com"))
        .await
        .assert_status(200);
    assert_eq!(
        stored_password_hash(&app).await.as_deref(),
        Some(hash.as_str())
    );
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "value": {"password": "n3w"}}]});
    app.patch(&format!("/Users/{id}"), &patch)
        .await
        .assert_status(200);
    let new_hash = stored_password_hash(&app).await.expect("hash");
    assert!(roster::secrets::verify_secret("n3w", &new_hash));
}

async fn stored_password_hash(app: &TestApp) -> Option<String> {
    let stmt = sea_orm::Statement::from_string(
        sea_orm::ConnectionTrait::get_database_backend(&app.db),
        "SELECT password_hash FROM users".to_owned(),
    );
    let row = sea_orm::ConnectionTrait::query_one_raw(&app.db, stmt)
        .await
        .expect("query")
        .expect("row");
    row.try_get("", "password_hash").expect("column")
}
