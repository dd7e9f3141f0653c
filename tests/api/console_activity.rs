//! The activity and request pages over HTTP: Okta's create → deactivate →
//! group push, as the console shows it, with secrets nowhere in the pages,
//! filters that narrow, and the live feed.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::audit_admins::{ADMIN, ADMIN_PASSWORD, app_with_admin_and, basic, console_get};
use crate::audit_trail::logged;
use crate::console_client::ConsoleClient;
use crate::each_database;
use crate::helpers::{Db, TOKEN, TestApp};
use crate::tenants::{Caller, tenant_with_token};

fn admin_basic() -> String {
    basic(ADMIN, ADMIN_PASSWORD)
}

each_database!(
    okta_flow_in_the_activity_pages,
    the_live_feed_sends_new_requests,
    each_entry_names_its_tenant_and_filters_by_it,
    a_rare_filter_searches_a_large_log_a_window_at_a_time,
    a_resources_history_is_searched_a_window_at_a_time
);

pub const PASSWORD: &str = "Okta-Initial-Pa55word!";

/// What Okta sends to provision a user, deactivate them and push a group
/// with them in it; the user's id and the group's.
pub async fn okta_flow(app: &TestApp) -> (String, String) {
    let lookup =
        "/Users?filter=userName%20eq%20%22okta.user%40example.com%22&startIndex=1&count=100";
    app.get(lookup).await.assert_status(200);
    let created = app
        .post(
            "/Users",
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "okta.user@example.com",
                "name": {"givenName": "Okta", "familyName": "User"},
                "emails": [{"primary": true, "value": "okta.user@example.com", "type": "work"}],
                "displayName": "Okta User",
                "active": true,
                "password": PASSWORD
            }),
        )
        .await;
    created.assert_status(201);
    let user = created.body["id"].as_str().unwrap().to_owned();
    let deactivate = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    });
    app.patch(&format!("/Users/{user}"), &deactivate)
        .await
        .assert_status(200);
    let group = app
        .post(
            "/Groups",
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Okta Push",
                "members": []
            }),
        )
        .await;
    group.assert_status(201);
    let gid = group.body["id"].as_str().unwrap().to_owned();
    let push = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": user, "display": "okta.user@example.com"}]}]
    });
    let pushed = app.patch(&format!("/Groups/{gid}"), &push).await;
    assert!(
        pushed.status == 200 || pushed.status == 204,
        "{}",
        pushed.text
    );
    (user, gid)
}

pub const SUMMARIES: [&str; 4] = [
    "created user okta.user@example.com",
    "deactivated okta.user@example.com",
    "created group Okta Push",
    "added 1 member to Okta Push",
];

fn quick(c: &mut roster::config::Config) {
    c.audit.flush_interval_ms = 20;
}

async fn okta_flow_in_the_activity_pages(db: Db) {
    let app = app_with_admin_and(db, quick).await;
    let (user, _) = okta_flow(&app).await;
    logged(&app, 5).await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let page = console.get("/console/activity").await;
    page.assert_status(200);
    let positions: Vec<usize> = SUMMARIES
        .iter()
        .map(|s| {
            page.text
                .find(s)
                .unwrap_or_else(|| panic!("{s} missing: {}", page.text))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] > w[1]),
        "newest first: {positions:?}"
    );
    for secret in [TOKEN, PASSWORD] {
        assert!(!page.text.contains(secret), "{secret} shown");
    }
    let refused = console.get("/console/activity?status=4xx").await;
    assert!(
        !refused.text.contains(SUMMARIES[0]),
        "a 2xx passed the 4xx filter"
    );
    let groups = console
        .get("/console/activity?resource=Group&operation=patch")
        .await;
    assert!(groups.text.contains(SUMMARIES[3]) && !groups.text.contains(SUMMARIES[2]));

    // The user's creation in full: redacted headers and body, the diff, a link.
    let at = page.text.find(SUMMARIES[0]).unwrap();
    let link_end = page.text[..at].rfind("\">").unwrap();
    let link_start = page.text[..link_end].rfind("href=\"").unwrap() + "href=\"".len();
    let detail = console.get(&page.text[link_start..link_end]).await;
    detail.assert_status(200);
    assert!(detail.text.contains("okta.user@example.com"));
    assert!(
        detail.text.contains(&format!("/console/users/{user}")),
        "a link to the user"
    );
    assert!(
        detail.text.contains("<ins>"),
        "the change as a diff: {}",
        detail.text
    );
    assert!(
        detail.text.contains("\n  &quot;userName&quot;"),
        "the body pretty-printed"
    );
    for secret in [TOKEN, PASSWORD] {
        assert!(
            !detail.text.contains(secret),
            "{secret} shown: {}",
            detail.text
        );
    }
    // The user's page lists the change, linked to the request that made it.
    let user_page = console.get(&format!("/console/users/{user}")).await;
    user_page.assert_status(200);
    let request_page = &page.text[link_start..link_end];
    assert!(
        user_page.text.contains(&format!("href=\"{request_page}\"")),
        "the change links to {request_page}: {}",
        user_page.text
    );
    console
        .get("/console/requests/no-such-request")
        .await
        .assert_status(404);
}

/// What a server-sent event stream sends until `needle` is among it, for
/// at most 15 s.
pub async fn read_until(
    feed: &mut (
             impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
             + Unpin
         ),
    needle: &str,
) -> String {
    let until = Instant::now() + Duration::from_secs(15);
    let mut seen = String::new();
    while !seen.contains(needle) {
        assert!(Instant::now() < until, "no event arrived: {seen}");
        let chunk = actix_web::rt::time::timeout(Duration::from_secs(15), feed.next())
            .await
            .expect("an event in time")
            .expect("the stream stays open")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

/// The live feed with this query, as the console's page opens it.
async fn open_feed(
    app: &TestApp,
    cookie: &str,
    query: &str,
) -> awc::ClientResponse<
    impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
> {
    awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish()
        .get(format!("{}/console/activity/stream?{query}", app.root))
        .insert_header(("Cookie", cookie.to_owned()))
        .send()
        .await
        .unwrap()
}

async fn the_live_feed_sends_new_requests(db: Db) {
    let app = app_with_admin_and(db, quick).await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let cookie = format!(
        "roster_console={}",
        console.cookie("roster_console").unwrap()
    );
    let mut feed = open_feed(&app, &cookie, "resource=User").await;
    // A time range holds for live entries too: one that ended long ago
    // admits none of them, one that began long ago admits them all.
    let mut ended = open_feed(&app, &cookie, "resource=User&until=2000-01-01T00:00").await;
    let mut begun = open_feed(&app, &cookie, "resource=User&since=2000-01-01T00:00").await;
    let refused = open_feed(&app, &cookie, "since=yesterday").await;
    assert_eq!(refused.status(), 400, "a bad time is refused");
    assert_eq!(feed.status(), 200);
    assert_eq!(
        feed.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    app.create_group("Not a user", &[]).await;
    app.create_user("live@example.com").await;
    let seen = read_until(&mut feed, "created user live@example.com").await;
    assert!(
        !seen.contains("Not a user"),
        "the filter holds for live entries: {seen}"
    );
    let from_begun = actix_web::rt::time::timeout(Duration::from_secs(15), begun.next())
        .await
        .expect("the open range's event in time")
        .expect("the stream stays open")
        .unwrap();
    assert!(
        String::from_utf8_lossy(&from_begun).contains("live@example.com"),
        "{from_begun:?}"
    );
    // All feeds get each entry at once; the closed range's has had time.
    if let Ok(chunk) = actix_web::rt::time::timeout(Duration::from_secs(1), ended.next()).await {
        let chunk = chunk.expect("the stream stays open").unwrap();
        assert!(
            !String::from_utf8_lossy(&chunk).contains("live@example.com"),
            "an entry outside the range was sent: {chunk:?}"
        );
    }
    let event = seen
        .split("\n\n")
        .find(|e| e.contains("live@example.com"))
        .unwrap();
    let data: Value = serde_json::from_str(event.split("data: ").nth(1).unwrap()).unwrap();
    assert!(
        data["link"]
            .as_str()
            .unwrap()
            .starts_with("/console/requests/")
    );
}

async fn each_entry_names_its_tenant_and_filters_by_it(db: Db) {
    let app = app_with_admin_and(db, quick).await;
    let (acme, acme_token) = tenant_with_token(&app.db, "acme").await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let cookie = format!(
        "roster_console={}",
        console.cookie("roster_console").unwrap()
    );
    let mut acme_feed = open_feed(&app, &cookie, "tenant=acme").await;
    assert_eq!(acme_feed.status(), 200);
    let unknown = open_feed(&app, &cookie, "tenant=nobody").await;
    assert_eq!(unknown.status(), 400, "an unknown tenant is refused");

    app.create_user("default.user@example.com").await;
    Caller::bearer(&app, &acme_token)
        .create_user("wile@acme.example")
        .await;
    logged(&app, 2).await;

    let all = console.get("/console/activity").await;
    all.assert_status(200);
    assert!(
        all.text.contains("<th scope=\"col\">Tenant</th>"),
        "{}",
        all.text
    );
    for (tenant, user) in [
        ("default", "default.user@example.com"),
        ("acme", "wile@acme.example"),
    ] {
        let at = all
            .text
            .find(&format!("created user {user}"))
            .expect("listed");
        let row = &all.text[all.text[..at].rfind("<tr").unwrap()..at];
        assert!(row.contains(&format!("<td>{tenant}</td>")), "{row}");
    }
    let only_acme = console.get("/console/activity?tenant=acme").await;
    assert!(only_acme.text.contains("created user wile@acme.example"));
    assert!(!only_acme.text.contains("default.user@example.com"));

    let api = console_get(
        &app,
        "/console/api/activity?tenant=acme",
        Some(&admin_basic()),
    )
    .await;
    api.assert_status(200);
    let entries = api.body["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "{}", api.text);
    assert!(
        entries.iter().all(|e| e["tenant_id"] == acme.to_string()),
        "{}",
        api.text
    );
    console_get(
        &app,
        "/console/api/activity?tenant=nobody",
        Some(&admin_basic()),
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));

    // Live, only acme's entries come, named.
    let seen = read_until(&mut acme_feed, "wile@acme.example").await;
    assert!(!seen.contains("default.user@example.com"), "{seen}");
    assert!(seen.contains("\"tenant\":\"acme\""), "{seen}");
}

/// Adds `n` read entries to the request log, keyed 1 to `n`, all status
/// 200 but the keys in `failed`, which are 500.
/// `SELECT … AS i` of 1 to 1,000,000, from six digits (recursive queries
/// are capped low on some MariaDB servers).
fn numbers() -> String {
    let digit = (0..10)
        .map(|d| format!("SELECT {d} AS d"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let places: Vec<String> = (0..6).map(|p| format!("({digit}) AS p{p}")).collect();
    let number = (0..6)
        .map(|p| format!("p{p}.d * {}", 10u64.pow(p)))
        .collect::<Vec<_>>()
        .join(" + ");
    format!("(SELECT {number} + 1 AS i FROM {}) AS n", places.join(", "))
}

async fn synthetic_log(app: &TestApp, n: u64, failed: [u64; 2]) {
    let backend = app.request_log.get_database_backend();
    let request_id = match backend {
        DbBackend::MySql => "CONCAT('synthetic-', i)",
        _ => "'synthetic-' || i",
    };
    let sql = format!(
        "INSERT INTO audit_requests (seq, tenant_id, at, request_id, method, route, path, status, \
         latency_us, summary, request_headers) \
         SELECT i, ?, i / 1000, {request_id}, 'GET', '/scim/v2/Users/{{id}}', '/scim/v2/Users/x', \
         CASE WHEN i IN (?, ?) THEN 500 ELSE 200 END, 1000, 'read user x', '{{}}' \
         FROM {} WHERE i <= ?",
        numbers()
    );
    let values = [
        sea_orm::Value::from(roster::service::DEFAULT_TENANT),
        failed[0].into(),
        failed[1].into(),
        n.into(),
    ];
    app.request_log
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .expect("the synthetic log");
}

/// `n` change records keyed 1 to `n`, of other resources but at `keys`,
/// which are `resource`'s.
async fn synthetic_changes(app: &TestApp, n: u64, resource: uuid::Uuid, keys: [u64; 2]) {
    let backend = app.db.get_database_backend();
    let sql = format!(
        "INSERT INTO audit_changes (seq, tenant_id, at, kind, resource_id, operation, \
         version_after, detail) \
         SELECT i, ?, i / 1000, 'User', CASE WHEN i IN (?, ?) THEN ? ELSE ? END, 'patch', 2, '{{}}' \
         FROM {} WHERE i <= ?",
        numbers()
    );
    let values = [
        sea_orm::Value::from(roster::service::DEFAULT_TENANT),
        keys[0].into(),
        keys[1].into(),
        resource.into(),
        uuid::Uuid::new_v4().into(),
        n.into(),
    ];
    app.db
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .expect("the synthetic changes");
}

/// The change records have no index by resource: a resource's history
/// looks through the newest 100,000 of them at a time, and says where to
/// go on.
async fn a_resources_history_is_searched_a_window_at_a_time(db: Db) {
    let app = app_with_admin_and(db, quick).await;
    let user = app.create_user("rarely.changed@example.com").await;
    let id = uuid::Uuid::parse_str(&user).unwrap();
    // Two old changes to the user under 150,001 records of others; its
    // create, the newest record, is found at once.
    synthetic_changes(&app, 150_001, id, [150_000, 10]).await;
    let admin = admin_basic();
    let history = |q: String| {
        let path = format!("/console/api/resources/{user}/history{q}");
        let (app, admin) = (&app, &admin);
        async move { console_get(app, &path, Some(admin)).await }
    };
    let seqs = |r: &crate::helpers::Resp| -> Vec<i64> {
        r.body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["seq"].as_i64().unwrap())
            .collect()
    };
    let first = history(String::new()).await;
    first.assert_status(200);
    let found = seqs(&first);
    assert_eq!(found.len(), 2, "the create and key 150,000: {}", first.text);
    assert_eq!(found[1], 150_000, "{}", first.text);
    // It stopped at the window: the older change is on the next page.
    let next = first.body["next_before"].as_i64().expect("next_before");
    assert!((50_000..=50_003).contains(&next), "{}", first.text);
    let second = history(format!("?before={next}")).await;
    assert_eq!(seqs(&second), [10], "{}", second.text);
    assert!(second.body["next_before"].is_null(), "{}", second.text);

    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let page = console.get(&format!("/console/users/{user}")).await;
    page.assert_status(200);
    assert!(
        page.text.contains("id=\"history-searched\""),
        "{}",
        page.text
    );
    assert!(
        page.text.contains(&format!("before={next}")),
        "{}",
        page.text
    );
}

async fn a_rare_filter_searches_a_large_log_a_window_at_a_time(db: Db) {
    let app = app_with_admin_and(db, quick).await;
    let entries = 150_001;
    // One failure among the newest 100,000 entries, one far older.
    synthetic_log(&app, entries, [150_000, 10]).await;
    let admin = admin_basic();
    let api = |q: &str| {
        let path = format!("/console/api/activity?{q}");
        let (app, admin) = (&app, &admin);
        async move { console_get(app, &path, Some(admin)).await }
    };

    let first = api("status=5xx&limit=50").await;
    first.assert_status(200);
    let seqs = |r: &crate::helpers::Resp| -> Vec<i64> {
        r.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&first), [150_000], "{}", first.text);
    // It looked through the newest 100,000 (keys 150,001 to 50,002).
    assert_eq!(first.body["next_before"], 50_002, "{}", first.text);
    let second = api("status=5xx&limit=50&before=50002").await;
    assert_eq!(seqs(&second), [10], "{}", second.text);
    assert!(
        second.body["next_before"].is_null(),
        "the end: {}",
        second.text
    );

    // Unnarrowed pages are full pages, as before.
    let plain = api("limit=50").await;
    assert_eq!(seqs(&plain).len(), 50);
    assert_eq!(plain.body["next_before"], seqs(&plain)[49]);

    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let page = console.get("/console/activity?status=5xx").await;
    page.assert_status(200);
    assert!(page.text.contains("id=\"searched\""), "{}", page.text);
    assert!(
        page.text.contains("before=50002"),
        "Older → goes on: {}",
        page.text
    );
    assert!(!page.text.contains("No request matches"));
}
