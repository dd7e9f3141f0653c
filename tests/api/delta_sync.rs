//! Incremental sync by `meta.lastModified` (the README's recipe): times
//! are exact to the millisecond, compared in SQL on the
//! `(tenant, modified_at, id)` index, and ordered with the id as
//! tiebreak, so a client that keeps a watermark misses and repeats
//! nothing, even when many writes share a millisecond.

use std::collections::{HashMap, HashSet};

use futures_util::future::join_all;
use roster::config::Config;
use roster::service::DEFAULT_TENANT;
use roster::time::{format_ms, parse_datetime_ms};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value as SqlValue};
use serde_json::json;

use crate::counts::insert_user_row;
use crate::helpers::{TestApp, url_encode, user_body};
use crate::on_both_databases;

on_both_databases!(
    a_watermark_sync_misses_and_repeats_nothing,
    last_modified_filters_are_exact_to_the_millisecond,
    last_modified_pages_read_the_index,
);

/// A client of the recipe: the watermark (the greatest `lastModified` it
/// has processed), the versions it processed at exactly that time (a
/// resource written twice in one millisecond has two), and every
/// (id, version) it processed, in order.
#[derive(Default)]
struct SyncClient {
    watermark: Option<i64>,
    at_watermark: HashSet<(String, String)>,
    processed: Vec<(String, String)>,
}

impl SyncClient {
    /// One run: `ge` the watermark in `lastModified` order, pages followed
    /// by cursor; what was processed at exactly the watermark is skipped.
    async fn run(&mut self, app: &TestApp) {
        while !self.run_pages(app, usize::MAX).await {}
    }

    /// A run cut short after `pages` pages that had something new (a
    /// client that stops, and goes on later from its watermark; a page of
    /// only what it skipped does not count, or a millisecond with more
    /// writes than a page would hold it forever); whether it read to the
    /// end.
    async fn run_pages(&mut self, app: &TestApp, pages: usize) -> bool {
        let filter = self.watermark.map(|w| {
            let f = format!("meta.lastModified ge \"{}\"", format_ms(w));
            format!("&filter={}", url_encode(&f))
        });
        let mut cursor = String::new();
        let mut new_pages = 0;
        while new_pages < pages {
            let before = self.processed.len();
            let path = format!(
                "/Users?sortBy=meta.lastModified&count=50&attributes=meta{}&cursor={cursor}",
                filter.as_deref().unwrap_or_default()
            );
            let r = app.get(&path).await;
            r.assert_status(200);
            for u in r.body["Resources"].as_array().expect("Resources") {
                let (id, at) = stamp(u);
                let version = u["meta"]["version"].as_str().expect("version").to_owned();
                let key = (id, version);
                match self.watermark {
                    Some(w) if at == w && self.at_watermark.contains(&key) => continue,
                    Some(w) if at == w => {
                        self.at_watermark.insert(key.clone());
                    }
                    Some(w) => assert!(at > w, "a time before the watermark"),
                    None => {}
                }
                if self.watermark != Some(at) {
                    self.watermark = Some(at);
                    self.at_watermark = HashSet::from([key.clone()]);
                }
                self.processed.push(key);
            }
            if self.processed.len() > before {
                new_pages += 1;
            }
            match r.body["nextCursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => return true,
            }
        }
        false
    }
}

fn stamp(u: &serde_json::Value) -> (String, i64) {
    let at = u["meta"]["lastModified"].as_str().expect("lastModified");
    let id = u["id"].as_str().expect("id").to_owned();
    (id, parse_datetime_ms(at).expect("a time"))
}

/// Every user: its version and its `lastModified`, now.
async fn current(app: &TestApp) -> HashMap<(String, String), i64> {
    let mut all = HashMap::new();
    loop {
        let start = all.len() + 1;
        let r = app
            .get(&format!(
                "/Users?startIndex={start}&count=500&attributes=meta"
            ))
            .await;
        r.assert_status(200);
        let page = r.body["Resources"].as_array().expect("Resources");
        if page.is_empty() {
            return all;
        }
        for u in page {
            let (id, at) = stamp(u);
            let version = u["meta"]["version"].as_str().expect("version").to_owned();
            all.insert((id, version), at);
        }
    }
}

async fn a_watermark_sync_misses_and_repeats_nothing(app: TestApp) {
    let mut client = SyncClient::default();
    // 1,000 writes within one second, as a bulk load by another node
    // leaves them: four to a millisecond, and 120 (more than a page) in
    // one. Read a page per run, so that runs stop inside a millisecond.
    let config = Config::default();
    let second = (roster::time::now_ms() / 1000 - 60) * 1000;
    for i in 0..1000 {
        let at = if i < 120 {
            second + 500
        } else {
            second + i % 250 * 4
        };
        let name = format!("burst{i}@example.com");
        insert_user_row(&app.db, &config, DEFAULT_TENANT, &name, at).await;
    }
    while !client.run_pages(&app, 1).await {}
    assert_eq!(client.processed.len(), 1000);
    // Then writes through the API in rounds of concurrent creates and
    // updates, a run after each round.
    let mut ids = Vec::new();
    for round in 0..5 {
        let app = &app;
        let creates = (0..40).map(|i| async move {
            let r = app
                .post("/Users", &user_body(&format!("d{round}-{i}@example.com")))
                .await;
            r.assert_status(201);
            r.body["id"].as_str().expect("id").to_owned()
        });
        ids.extend(join_all(creates).await);
        let patch = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": format!("round {round}")}]
        });
        let patch = &patch;
        let updates = ids.iter().rev().step_by(4).take(10).map(|id| async move {
            app.patch(&format!("/Users/{id}"), patch)
                .await
                .assert_status(200);
        });
        join_all(updates).await;
        client.run(app).await;
    }
    client.run(&app).await;

    let now = current(&app).await;
    assert_eq!(now.len(), 1200);
    // Writes shared seconds and milliseconds.
    let mut per_ms: HashMap<i64, usize> = HashMap::new();
    for at in now.values() {
        *per_ms.entry(*at).or_default() += 1;
    }
    assert!(
        per_ms.values().any(|&n| n > 100),
        "a millisecond with many writes"
    );
    // Nothing repeated: no version of a user processed twice.
    let mut once = HashSet::new();
    for p in &client.processed {
        assert!(once.insert(p.clone()), "{p:?} processed twice");
    }
    // Nothing missed: every user's latest version was processed.
    for (key, at) in &now {
        assert!(once.contains(key), "{key:?} at {at} never processed");
    }
}

async fn last_modified_filters_are_exact_to_the_millisecond(app: TestApp) {
    let id = app.create_user("exact@example.com").await;
    let r = app.get(&format!("/Users/{id}")).await;
    let text = r.body["meta"]["lastModified"]
        .as_str()
        .expect("lastModified")
        .to_owned();
    // RFC 3339 with milliseconds.
    assert_eq!(text.len(), "2026-12-05T01:02:03.456Z".len(), "{text}");
    let ms = parse_datetime_ms(&text).expect("a time");
    let inside = format!("{}4Z", text.trim_end_matches('Z'));
    let in_paris = chrono::DateTime::from_timestamp_millis(ms)
        .expect("a time")
        .with_timezone(&chrono::FixedOffset::east_opt(3600).expect("an offset"))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
    let cases = [
        ("eq", text.as_str(), true),
        ("eq", in_paris.as_str(), true),
        ("ge", text.as_str(), true),
        ("le", text.as_str(), true),
        ("gt", text.as_str(), false),
        ("lt", text.as_str(), false),
        ("eq", inside.as_str(), false),
        ("ne", inside.as_str(), true),
        ("ge", inside.as_str(), false),
        ("gt", inside.as_str(), false),
        ("lt", inside.as_str(), true),
        ("le", inside.as_str(), true),
        ("gt", &format_ms(ms - 1), true),
        ("lt", &format_ms(ms + 1), true),
        ("ge", &format_ms(ms + 1), false),
        ("le", &format_ms(ms - 1), false),
    ];
    for (op, value, matches) in cases {
        let r = app
            .filter("/Users", &format!("meta.lastModified {op} \"{value}\""))
            .await;
        r.assert_status(200);
        let expected = u64::from(matches);
        assert_eq!(r.body["totalResults"], expected, "{op} {value}: {}", r.text);
    }
}

/// What the databases plan for a delta-sync page (its first page and a
/// cursor's next), as Roster builds it: a range of the
/// `(tenant, modified_at, id)` index, read in order, with no sort step.
async fn last_modified_pages_read_the_index(app: TestApp) {
    let config = Config::default();
    let base = roster::time::now_ms() - 3_600_000;
    for i in 0..300 {
        let name = format!("plan{i}@example.com");
        insert_user_row(&app.db, &config, DEFAULT_TENANT, &name, base + i).await;
    }
    let backend = app.db.get_database_backend();
    if backend == DbBackend::MySql {
        app.db
            .execute_unprepared("ANALYZE TABLE users")
            .await
            .expect("analyze");
    }
    let since = SqlValue::from(base + 290);
    let tenant = SqlValue::from(DEFAULT_TENANT);
    let (first, next) = match backend {
        DbBackend::MySql => (
            "EXPLAIN SELECT id, doc FROM users WHERE tenant_id = ? AND modified_at IS NOT NULL \
             AND modified_at >= ? ORDER BY modified_at, id LIMIT 51",
            "EXPLAIN SELECT id, doc FROM users WHERE tenant_id = ? AND modified_at IS NOT NULL \
             AND modified_at >= ? AND (modified_at > ? OR (modified_at = ? AND id > ?)) \
             ORDER BY modified_at, id LIMIT 51",
        ),
        _ => (
            "EXPLAIN QUERY PLAN SELECT id, doc FROM users WHERE tenant_id = ? AND \
             modified_at IS NOT NULL AND modified_at >= ? ORDER BY modified_at, id LIMIT 51",
            "EXPLAIN QUERY PLAN SELECT id, doc FROM users WHERE tenant_id = ? AND \
             modified_at IS NOT NULL AND modified_at >= ? AND (modified_at, id) > (?, ?) \
             ORDER BY modified_at, id LIMIT 51",
        ),
    };
    let after = SqlValue::from(uuid::Uuid::nil());
    let next_values = match backend {
        DbBackend::MySql => vec![
            tenant.clone(),
            since.clone(),
            since.clone(),
            since.clone(),
            after,
        ],
        _ => vec![tenant.clone(), since.clone(), since.clone(), after],
    };
    for (sql, values) in [(first, vec![tenant, since.clone()]), (next, next_values)] {
        let stmt = Statement::from_sql_and_values(backend, sql, values);
        let rows = app.db.query_all_raw(stmt).await.expect("explain");
        let plan: Vec<String> = rows
            .iter()
            .map(|row| match backend {
                DbBackend::MySql => format!(
                    "key={} extra={}",
                    row.try_get::<Option<String>>("", "key")
                        .ok()
                        .flatten()
                        .unwrap_or_default(),
                    row.try_get::<Option<String>>("", "Extra")
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                ),
                _ => row.try_get::<String>("", "detail").expect("detail"),
            })
            .collect();
        let text = plan.join("; ");
        assert!(text.contains("ix_users_sort_modified_at"), "{sql}: {text}");
        assert!(!text.contains("TEMP B-TREE"), "{sql}: {text}");
        assert!(!text.contains("filesort"), "{sql}: {text}");
    }
}
