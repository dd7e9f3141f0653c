//! sortBy/sortOrder (RFC 7644 §3.4.2.3), index paging and cursor paging
//! (RFC 9865): every order is total, so pages never overlap or skip.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{Resp, TestApp, url_encode};
use crate::on_both_databases;

on_both_databases!(
    sorts_by_any_attribute_with_its_case_rules,
    resources_without_a_value_sort_last_then_first,
    index_pages_with_ties_never_overlap,
    cursor_pages_walk_forward_and_back,
    cursor_paging_ignores_concurrent_inserts_behind_it,
    bad_cursors_and_sorts_are_rejected,
    service_provider_config_advertises_sorting_and_cursors,
);

/// Users whose names are spread over several attributes, with gaps.
async fn seed(app: &TestApp) -> Vec<String> {
    let users = [
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "carol", "externalId": "b", "displayName": "Émile", "title": "T",
               "emails": [{"value": "z@x"}, {"value": "c@x", "primary": true}]}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Bob", "externalId": "B", "title": "T",
               "emails": [{"value": "b@x"}]}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice", "externalId": "a", "displayName": "zed",
               "name": {"familyName": "Young"}}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "dave", "displayName": "Adam", "title": "S",
               "name": {"familyName": "adams"}, "emails": [{"value": "D@x"}]}),
    ];
    let mut ids = Vec::new();
    for u in users {
        let r = app.post("/Users", &u).await;
        r.assert_status(201);
        ids.push(r.body["id"].as_str().expect("id").to_owned());
        // Creation order is `meta.created`'s, to the millisecond (ties go
        // by id); a POST can take less than that.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    ids
}

#[track_caller]
fn user_names(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|u| u["userName"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn sorted(app: &TestApp, query: &str) -> Vec<String> {
    user_names(&app.get(&format!("/Users?{query}")).await)
}

async fn sorts_by_any_attribute_with_its_case_rules(app: TestApp) {
    seed(&app).await;
    // Default: creation order.
    assert_eq!(sorted(&app, "").await, ["carol", "Bob", "alice", "dave"]);
    // userName is caseExact=false: Bob sorts between alice and carol.
    assert_eq!(
        sorted(&app, "sortBy=userName").await,
        ["alice", "Bob", "carol", "dave"]
    );
    assert_eq!(
        sorted(&app, "sortBy=USERNAME&sortOrder=descending").await,
        ["dave", "carol", "Bob", "alice"]
    );
    // externalId is caseExact: "B" < "a" < "b" in code point order.
    assert_eq!(
        sorted(&app, "sortBy=externalId").await,
        ["Bob", "alice", "carol", "dave"]
    );
    // displayName folds Unicode case (É sorts as é, after the ASCII letters).
    assert_eq!(
        sorted(&app, "sortBy=displayName").await,
        ["dave", "alice", "carol", "Bob"]
    );
    // JSON attributes: title ties fall back to id, so compare as sets.
    let by_title = sorted(&app, "sortBy=title").await;
    assert_eq!(by_title[0], "dave");
    assert_eq!(by_title[3], "alice");
    assert_eq!(
        sorted(&app, "sortBy=name.familyName").await[..2],
        ["dave", "alice"]
    );
    // Multi-valued: the primary value, else the first (carol's is c@x).
    assert_eq!(
        sorted(&app, "sortBy=emails").await,
        ["Bob", "carol", "dave", "alice"]
    );
    assert_eq!(
        sorted(&app, "sortBy=emails.value&sortOrder=descending").await,
        ["alice", "dave", "carol", "Bob"]
    );
    assert_eq!(
        sorted(&app, "sortBy=meta.created&sortOrder=descending").await,
        ["dave", "alice", "Bob", "carol"]
    );
    // Sorting combines with filters and URN-qualified names.
    let q = format!(
        "filter={}&sortBy=urn:ietf:params:scim:schemas:core:2.0:User:userName",
        url_encode("title pr")
    );
    assert_eq!(sorted(&app, &q).await, ["Bob", "carol", "dave"]);
    let ids: Vec<String> = {
        let r = app.get("/Users?sortBy=id").await;
        r.body["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .map(|u| u["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(ids.len(), 4);

    app.create_group("beta", &[]).await;
    app.create_group("Alpha", &[]).await;
    let groups = app.get("/Groups?sortBy=displayName").await;
    let names: Vec<&str> = groups.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .filter_map(|g| g["displayName"].as_str())
        .collect();
    assert_eq!(names, ["Alpha", "beta"]);
}

/// RFC 7644 §3.4.2.3: no value sorts last ascending, first descending.
async fn resources_without_a_value_sort_last_then_first(app: TestApp) {
    seed(&app).await;
    let asc = sorted(&app, "sortBy=name.familyName").await;
    assert_eq!(&asc[..2], ["dave", "alice"]);
    let desc = sorted(&app, "sortBy=name.familyName&sortOrder=descending").await;
    assert_eq!(&desc[2..], ["alice", "dave"]);
    let mut tail: Vec<String> = asc[2..].to_vec();
    let mut head: Vec<String> = desc[..2].to_vec();
    tail.sort();
    head.sort();
    assert_eq!(tail, head);
    // The same for a projected column (externalId: dave has none).
    assert_eq!(sorted(&app, "sortBy=externalId").await[3], "dave");
    assert_eq!(
        sorted(&app, "sortBy=externalId&sortOrder=descending").await[0],
        "dave"
    );
}

/// Walks every page of `query` by startIndex; returns the ids in order.
async fn index_walk(app: &TestApp, query: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut start = 1;
    loop {
        let r = app
            .get(&format!("/Users?{query}&startIndex={start}&count={count}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let page = resource_ids(&r);
        assert_eq!(r.body["startIndex"], start);
        if page.is_empty() {
            return ids;
        }
        start += page.len();
        ids.extend(page);
    }
}

fn resource_ids(r: &Resp) -> Vec<String> {
    r.body["Resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn seed_ties(app: &TestApp, n: usize) {
    for i in 0..n {
        let mut u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("user{i:02}@example.com")});
        // Many equal keys and many missing ones: the tiebreak has work to do.
        if i % 3 != 0 {
            u["title"] = json!(if i % 2 == 0 { "Same" } else { "Other" });
            u["displayName"] = json!(format!("D{}", i % 4));
        }
        app.post("/Users", &u).await.assert_status(201);
    }
}

async fn index_pages_with_ties_never_overlap(app: TestApp) {
    seed_ties(&app, 23).await;
    for query in [
        "sortBy=title",
        "sortBy=title&sortOrder=descending",
        "sortBy=displayName",
        "sortBy=displayName&sortOrder=descending",
        "sortBy=meta.resourceType",
        "",
    ] {
        let all = index_walk(&app, query, 100).await;
        assert_eq!(all.len(), 23, "{query}");
        for count in [1, 4, 7] {
            let paged = index_walk(&app, query, count).await;
            assert_eq!(paged, all, "{query} count={count}");
        }
    }
}

/// Follows `nextCursor` from the first page; returns the ids and the last
/// page's body.
async fn cursor_walk(app: &TestApp, query: &str, count: usize) -> (Vec<String>, Resp) {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    let mut first = true;
    for _ in 0..100 {
        let r = app
            .get(&format!("/Users?{query}&count={count}&cursor={cursor}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.body.get("startIndex").is_none(), "{}", r.text);
        assert_eq!(
            r.body.get("previousCursor").is_some(),
            !first,
            "previousCursor on every page but the first: {}",
            r.text
        );
        first = false;
        ids.extend(resource_ids(&r));
        match r.body["nextCursor"].as_str() {
            Some(next) => {
                assert_eq!(r.body["itemsPerPage"], count);
                cursor = next.to_owned();
            }
            None => return (ids, r),
        }
    }
    panic!("{query}: the cursor walk did not end after 100 pages");
}

async fn cursor_pages_walk_forward_and_back(app: TestApp) {
    seed_ties(&app, 23).await;
    for query in [
        "",
        "sortBy=userName",
        "sortBy=displayName",
        "sortBy=displayName&sortOrder=descending",
        "sortBy=title&sortOrder=descending",
        "sortBy=meta.resourceType",
    ] {
        let expected = index_walk(&app, query, 100).await;
        let (forward, last) = cursor_walk(&app, query, 5).await;
        assert_eq!(forward, expected, "{query}");
        assert_eq!(last.body["totalResults"], 23);
        // Back from the last page with previousCursor.
        let mut backward = resource_ids(&last);
        let mut previous = last.body["previousCursor"].as_str().map(str::to_owned);
        while let Some(cursor) = previous {
            let r = app
                .get(&format!("/Users?{query}&count=5&cursor={cursor}"))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.body["totalResults"], 23);
            assert!(r.body["nextCursor"].is_string(), "{}", r.text);
            let mut page = resource_ids(&r);
            page.extend(backward);
            backward = page;
            previous = r.body["previousCursor"].as_str().map(str::to_owned);
        }
        assert_eq!(backward, expected, "{query} backwards");
    }
    // A filter narrows the walk; the bare `cursor` flag starts it.
    let r = app
        .get(&format!(
            "/Users?filter={}&cursor&count=50",
            url_encode(r#"title eq "same""#)
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totalResults"], 8);
    assert!(r.body.get("nextCursor").is_none());
}

async fn cursor_paging_ignores_concurrent_inserts_behind_it(app: TestApp) {
    seed_ties(&app, 10).await;
    let r = app.get("/Users?sortBy=userName&count=4&cursor").await;
    let mut seen: Vec<String> = user_names(&r);
    // One user sorts before the position (never shown), one after (shown).
    app.create_user("aaa@example.com").await;
    app.create_user("zzz@example.com").await;
    let mut cursor = r.body["nextCursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let r = app
            .get(&format!("/Users?sortBy=userName&count=4&cursor={c}"))
            .await;
        seen.extend(user_names(&r));
        cursor = r.body["nextCursor"].as_str().map(str::to_owned);
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    assert_eq!(seen.len(), 11);
    assert!(!seen.contains(&"aaa@example.com".to_owned()));
    assert_eq!(seen.last().map(String::as_str), Some("zzz@example.com"));
}

async fn bad_cursors_and_sorts_are_rejected(app: TestApp) {
    seed_ties(&app, 6).await;
    let r = app.get("/Users?sortBy=userName&count=2&cursor=").await;
    let next = r.body["nextCursor"]
        .as_str()
        .expect("nextCursor")
        .to_owned();
    // Tampered: one character of the payload changed.
    let mut chars: Vec<char> = next.chars().collect();
    chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for bad in [tampered.as_str(), "garbage", "a.b", "..", "x.y.z"] {
        app.get(&format!("/Users?sortBy=userName&count=2&cursor={bad}"))
            .await
            .assert_scim_error(400, Some("invalidCursor"));
    }
    // The same cursor with another order or filter is refused too.
    for other in [
        "sortBy=userName&sortOrder=descending",
        "sortBy=title",
        "sortBy=userName&filter=title%20pr",
    ] {
        app.get(&format!("/Users?{other}&count=2&cursor={next}"))
            .await
            .assert_scim_error(400, Some("invalidCursor"));
    }
    // A group cursor is no user cursor.
    app.create_group("g", &[]).await;
    app.get(&format!("/Groups?sortBy=userName&count=2&cursor={next}"))
        .await
        .assert_scim_error(400, Some("invalidValue"));
    app.get(&format!("/Groups?sortBy=displayName&count=2&cursor={next}"))
        .await
        .assert_scim_error(400, Some("invalidCursor"));
    app.get("/Users?count=0&cursor=")
        .await
        .assert_scim_error(400, Some("invalidCount"));
    app.get("/Users?startIndex=1&cursor=")
        .await
        .assert_scim_error(400, Some("invalidValue"));
    // Another instance (another key) does not accept this one's cursors.
    let other = TestApp::spawn_with(app.kind, |c| {
        c.scim.cursor_secret = Some(roster::config::Secret::new("another key"));
    })
    .await;
    other
        .get(&format!("/Users?sortBy=userName&count=2&cursor={next}"))
        .await
        .assert_scim_error(400, Some("invalidCursor"));
    for sort in [
        "sortBy=shoeSize",
        "sortBy=name",
        "sortBy=groups",
        "sortBy=password",
        "sortBy=meta.location",
        "sortBy=userName&sortOrder=sideways",
        "sortBy=a%20b",
    ] {
        let r = app.get(&format!("/Users?{sort}")).await;
        r.assert_scim_error(400, Some("invalidValue"));
    }
    let r = app.get("/Groups?sortBy=members").await;
    r.assert_scim_error(400, Some("invalidValue"));
}

async fn service_provider_config_advertises_sorting_and_cursors(app: TestApp) {
    let spc = app.get("/ServiceProviderConfig").await;
    spc.assert_status(200);
    assert_eq!(spc.body["sort"]["supported"], true);
    assert_eq!(
        spc.body["pagination"],
        json!({
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": 100,
            "maxPageSize": 1000,
            "cursorTimeout": 3600,
        })
    );
}
