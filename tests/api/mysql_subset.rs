//! Every statement Roster sends to a MySQL-family server stays inside what
//! MariaDB 10.4+, MySQL 8.0+ and TiDB all accept. The suite can only run
//! MariaDB 10.11, which accepts more than that subset, so the test records
//! what the server receives (its general query log) while Roster migrates
//! a fresh database and serves a representative run of requests, and
//! checks every statement text against the constructs outside the subset.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use roster::config::{Config, SchemaExtensionConfig};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, url_encode};
use crate::on_both_databases;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

/// Constructs some supported server lacks, each with why. Matched against
/// the upper-cased statement text.
const OUTSIDE_THE_SUBSET: &[(&str, &str)] = &[
    ("JSON_TABLE(", "MariaDB 10.6+ only; not TiDB"),
    ("JSON_TABLE (", "MariaDB 10.6+ only; not TiDB"),
    (" RETURNING ", "MariaDB 10.5+ only; not MySQL or TiDB"),
    ("JSON_VALUE(", "MySQL 8.0.21+; not TiDB"),
    ("JSON_ARRAYAGG", "not MariaDB 10.4"),
    ("JSON_OBJECTAGG", "not MariaDB 10.4"),
    ("JSON_OVERLAPS", "MySQL 8.0.17+, MariaDB 10.9+"),
    (" MEMBER OF", "MySQL only"),
    ("JSON_EQUALS", "MariaDB 10.7+ only"),
    ("JSON_NORMALIZE", "MariaDB 10.7+ only"),
    ("JSON_SCHEMA_VALID", "MySQL 8.0.17+, MariaDB 11.1+"),
    (" LATERAL", "MySQL 8.0.14+ only; not MariaDB"),
    ("VALUES ROW(", "MySQL 8.0.19+ only"),
    (" INTERSECT ", "MySQL 8.0.31+"),
    (" EXCEPT ", "MySQL 8.0.31+"),
    ("_0900_", "MySQL-only collations"),
    ("UCA1400", "MariaDB 10.10+ collations"),
    (" AS DOUBLE)", "MySQL 8.0.17+"),
    (" AS FLOAT)", "MySQL 8.0.17+"),
    ("SKIP LOCKED", "MariaDB 10.6+"),
    (" NOWAIT", "MariaDB 10.3+, MySQL 8.0.1+; not TiDB before 8"),
    ("REGEXP_LIKE", "MySQL only"),
    ("ANY_VALUE(", "MySQL only"),
    ("CREATE INDEX IF NOT EXISTS", "MariaDB only"),
    ("ADD COLUMN IF NOT EXISTS", "MariaDB only"),
    ("DROP INDEX IF EXISTS", "MariaDB only"),
    ("DEFAULT (", "expression defaults: MySQL 8.0.13+"),
    ("SEQ_0_TO", "MariaDB's Sequence engine"),
];

/// The insert-alias form of an upsert (`INSERT … AS new ON DUPLICATE KEY
/// UPDATE`), MySQL 8.0.19+ only.
fn upsert_alias(upper: &str) -> bool {
    upper.find(" ON DUPLICATE KEY UPDATE").is_some_and(|at| {
        let before = &upper[..at];
        let tail = before.rsplit(')').next().unwrap_or("");
        tail.trim_start().starts_with("AS ")
    })
}

/// Functional index parts (`INDEX (( expr ))`), MySQL 8.0.13+ only.
fn functional_index(upper: &str) -> bool {
    (upper.starts_with("CREATE INDEX") || upper.starts_with("CREATE UNIQUE INDEX"))
        && upper.contains("((")
}

fn violations(sql: &str) -> Vec<&'static str> {
    let upper = sql
        .to_uppercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut found: Vec<&'static str> = OUTSIDE_THE_SUBSET
        .iter()
        .filter(|(construct, _)| upper.contains(construct))
        .map(|(_, why)| *why)
        .collect();
    if upsert_alias(&upper) {
        found.push("insert alias upsert: MySQL 8.0.19+ only");
    }
    if functional_index(&upper) {
        found.push("functional index: MySQL 8.0.13+ only");
    }
    if mentions_bare_groups(&upper) {
        found.push("`groups` unquoted: a reserved word in MySQL 8");
    }
    found
}

/// `groups` is a reserved word in MySQL 8.0.2+; MariaDB accepts it bare.
fn mentions_bare_groups(upper: &str) -> bool {
    upper.match_indices("GROUPS").any(|(at, _)| {
        let before = upper[..at].chars().next_back();
        let after = upper[at + 6..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let quoted = matches!(before, Some('`' | '"' | '\''));
        !word(before) && !word(after) && !quoted
    })
}

#[test]
fn the_denylist_catches_what_it_names() {
    for bad in [
        "SELECT 1 FROM JSON_TABLE(doc, '$[*]' COLUMNS (v JSON PATH '$')) AS je",
        "INSERT INTO t (a) VALUES (1) RETURNING a",
        "SELECT JSON_VALUE(doc, '$.a') FROM t",
        "INSERT INTO t (a) VALUES (1) AS new ON DUPLICATE KEY UPDATE a = new.a",
        "CREATE INDEX ix ON t ((lower(a)))",
        "CREATE TABLE t (a varchar(9) COLLATE utf8mb4_0900_ai_ci)",
        "SELECT CAST(x AS DOUBLE) FROM t",
        "SELECT id FROM groups WHERE id = 1",
    ] {
        assert!(!violations(bad).is_empty(), "{bad}");
    }
    for good in [
        "INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a)",
        "SELECT `groups`.`id` FROM `groups` WHERE JSON_UNQUOTE(JSON_EXTRACT(`doc`, '$.a')) = ?",
        "CREATE INDEX `ix` ON `t` (`tenant_id`, `a`)",
        "SELECT `users`.`id` FROM `users` ORDER BY `users`.`id` LIMIT 10",
    ] {
        assert!(
            violations(good).is_empty(),
            "{good}: {:?}",
            violations(good)
        );
    }
}

fn acme_schema() -> Value {
    json!({
        "id": ACME,
        "name": "AcmeUser",
        "attributes": [
            {"name": "level", "type": "integer"},
            {"name": "rating", "type": "decimal"},
            {"name": "remote", "type": "boolean"},
            {"name": "skills", "type": "string", "multiValued": true},
            {"name": "site", "type": "complex", "subAttributes": [
                {"name": "building", "type": "string"},
                {"name": "floor", "type": "integer"}
            ]}
        ]
    })
}

/// The server the suite's MariaDB databases live on.
fn server_url() -> String {
    std::env::var("ROSTER_TEST_MYSQL_URL")
        .expect("ROSTER_TEST_MYSQL_URL is not set: run the suite with scripts/test")
        .trim_end_matches('/')
        .to_owned()
}

async fn admin() -> DatabaseConnection {
    Database::connect(server_url().as_str())
        .await
        .expect("connect to the test MariaDB")
}

async fn general_log(admin: &DatabaseConnection, on: bool) {
    let sql = if on {
        "SET GLOBAL log_output = 'TABLE', GLOBAL general_log = 'ON'"
    } else {
        "SET GLOBAL general_log = 'OFF'"
    };
    admin
        .execute_unprepared(sql)
        .await
        .expect("switch the general log");
}

/// The statement texts (not values: prepared statements are logged with
/// their placeholders) that connections to `database` sent.
async fn statements_sent_to(admin: &DatabaseConnection, database: &str) -> Vec<String> {
    let sql = "SELECT l.argument AS sql_text FROM mysql.general_log AS l \
               WHERE l.command_type IN ('Query', 'Prepare') AND l.thread_id IN \
               (SELECT c.thread_id FROM mysql.general_log AS c \
                WHERE c.command_type = 'Connect' AND c.argument LIKE ?)";
    let stmt = Statement::from_sql_and_values(
        DbBackend::MySql,
        sql,
        [format!("% on {database} using %").into()],
    );
    admin
        .query_all_raw(stmt)
        .await
        .expect("read the general log")
        .iter()
        .map(|row| {
            row.try_get::<String>("", "sql_text")
                .or_else(|_| {
                    row.try_get::<Vec<u8>>("", "sql_text")
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                })
                .expect("statement text")
        })
        .collect()
}

#[actix_web::test]
async fn mariadb_statements_stay_inside_the_mysql_family_subset() {
    let admin = admin().await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("acme.json");
    std::fs::write(&file, acme_schema().to_string()).expect("write schema");
    let adjust = move |c: &mut Config| {
        c.scim.schema_extensions = vec![SchemaExtensionConfig {
            resource_type: "User".to_owned(),
            file,
            required: false,
        }];
    };
    general_log(&admin, true).await;
    let run = AssertUnwindSafe(async {
        let app = TestApp::spawn_with(Db::MariaDb, adjust).await;
        representative_requests(&app).await;
        app
    })
    .catch_unwind()
    .await;
    general_log(&admin, false).await;
    let app = match run {
        Ok(app) => app,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    let database = current_database(&app.db).await;
    let sent = statements_sent_to(&admin, &database).await;
    admin
        .execute_unprepared("TRUNCATE TABLE mysql.general_log")
        .await
        .ok();

    // The recording saw the run: migrations, the JSON filters and writes.
    for expected in [
        "CREATE TABLE",
        "\"PHONENUMBERS\"",
        "INSERT INTO",
        "FOR UPDATE",
    ] {
        assert!(
            sent.iter().any(|s| s.to_uppercase().contains(expected)),
            "no statement with {expected} among {} recorded",
            sent.len()
        );
    }
    let outside: Vec<String> = sent
        .iter()
        .filter_map(|s| {
            let why = violations(s);
            (!why.is_empty()).then(|| format!("{why:?}: {s}"))
        })
        .collect();
    assert!(
        outside.is_empty(),
        "{} of {} statements use constructs outside MariaDB 10.4+ / MySQL 8.0+ / TiDB:\n{}",
        outside.len(),
        sent.len(),
        outside.join("\n")
    );
}

async fn current_database(db: &DatabaseConnection) -> String {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::MySql,
            "SELECT DATABASE() AS name",
        ))
        .await
        .expect("query")
        .expect("a row");
    row.try_get::<String>("", "name").expect("name")
}

fn user(name: &str, acme: Value) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, ACME],
        "userName": name,
        "externalId": format!("ext-{name}"),
        "displayName": format!("{name} display"),
        "name": {"givenName": "Ann", "familyName": format!("Family {name}")},
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true},
                   {"value": format!("{name}@home.example"), "type": "home"}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}, {"value": "+1 555 0199", "type": "mobile"}],
        "addresses": [{"postalCode": "12345", "type": "work", "primary": true}],
        "roles": [{"value": "admin", "primary": true}],
        "x509Certificates": [{"value": "QUJD"}],
        ENTERPRISE: {"employeeNumber": "42", "manager": {"value": "m-1"}},
        ACME: acme,
    })
}

/// Creates, reads every way a filter, sort or page can, changes and
/// deletes users and groups, one by one and in bulk.
async fn representative_requests(app: &TestApp) {
    let mut users = Vec::new();
    for (name, acme) in [
        (
            "ann",
            json!({"level": 3, "rating": 4.5, "remote": true, "skills": ["Rust", "SQL"],
                       "site": {"building": "HQ", "floor": 3}}),
        ),
        (
            "bob",
            json!({"level": 1, "rating": 3.25, "remote": false, "skills": ["Go"]}),
        ),
        ("cat", json!({"level": 12})),
    ] {
        let r = app.post("/Users", &user(name, acme)).await;
        r.assert_status(201);
        users.push(r.body["id"].as_str().expect("id").to_owned());
    }
    let group = app.create_group("Staff", &[&users[0], &users[1]]).await;
    app.get(&format!("/Users/{}", users[0]))
        .await
        .assert_status(200);
    app.get(&format!("/Groups/{group}"))
        .await
        .assert_status(200);
    app.get(&format!("/Groups/{group}?excludedAttributes=members"))
        .await
        .assert_status(200);
    app.post("/Users", &user("ann", json!({})))
        .await
        .assert_status(409);

    let user_filters = [
        "userName eq \"ann\"",
        "userName ne \"ann\"",
        "userName co \"n\"",
        "userName sw \"a\"",
        "userName ew \"b\"",
        "userName gt \"a\" and userName lt \"c\"",
        "userName ge \"b\" or userName le \"a\"",
        "not (userName eq \"bob\")",
        "externalId eq \"ext-ann\"",
        "displayName co \"display\"",
        "active eq true",
        "emails.value eq \"ann@example.com\"",
        "emails co \"home\"",
        "emails[type eq \"work\" and value sw \"ann\"]",
        "emails.display pr",
        "emails.primary eq true",
        "phoneNumbers.value eq \"+1 555 0199\"",
        "phoneNumbers[type eq \"mobile\" and value co \"0199\"]",
        "phoneNumbers.type ne \"fax\"",
        "addresses.postalCode sw \"123\"",
        "roles[primary eq true]",
        "x509Certificates.value pr",
        "name.familyName co \"ann\"",
        "name[givenName eq \"ann\"]",
        "meta.created gt \"2000-01-01T00:00:00Z\"",
        "meta.lastModified le \"2100-01-01T00:00:00Z\"",
        "meta.resourceType eq \"User\"",
        "groups.value eq \"00000000-0000-0000-0000-000000000000\"",
        "groups.display eq \"staff\"",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"42\"",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m-1\"",
        "level gt 2",
        "rating le 4",
        "remote eq true",
        "skills eq \"rust\"",
        "skills co \"o\"",
        "site[building eq \"hq\" and floor ge 3]",
        "emails eq null",
        "phoneNumbers ne null",
    ];
    for filter in user_filters {
        app.filter("/Users", filter).await.assert_status(200);
    }
    for filter in [
        "displayName eq \"staff\"",
        "members.value eq \"00000000-0000-0000-0000-000000000000\"",
        "members.type eq \"user\"",
        "members pr",
        "externalId pr",
    ] {
        app.filter("/Groups", filter).await.assert_status(200);
    }
    for sort in [
        "userName",
        "displayName&sortOrder=descending",
        "name.familyName",
        "emails",
        "phoneNumbers.value&sortOrder=descending",
        "level",
        "remote",
        "meta.lastModified",
    ] {
        let query = format!("sortBy={sort}&count=2");
        app.get(&format!("/Users?{query}&startIndex=2"))
            .await
            .assert_status(200);
        let first = app.get(&format!("/Users?{query}&cursor=")).await;
        first.assert_status(200);
        if let Some(next) = first.body["nextCursor"].as_str() {
            app.get(&format!("/Users?{query}&cursor={}", url_encode(next)))
                .await
                .assert_status(200);
        }
    }
    app.post(
        "/Users/.search",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "phoneNumbers.type eq \"work\"", "sortBy": "userName", "count": 2}),
    )
    .await
    .assert_status(200);

    let mut replaced = user("bob", json!({"level": 2}));
    replaced["active"] = json!(false);
    app.put(&format!("/Users/{}", users[1]), &replaced)
        .await
        .assert_status(200);
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    app.patch(
        &format!("/Users/{}", users[0]),
        &patch(json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ann@new.example"},
                      {"op": "add", "path": "phoneNumbers", "value": [{"value": "+1 555 0111", "type": "fax"}]}])),
    )
    .await
    .assert_status(200);
    app.patch(
        &format!("/Groups/{group}"),
        &patch(
            json!([{"op": "add", "path": "members", "value": [{"value": users[2]}]},
                      {"op": "remove", "path": format!("members[value eq \"{}\"]", users[0])}]),
        ),
    )
    .await;
    let etag = app.get(&format!("/Groups/{group}")).await;
    let version = etag.header("etag").expect("an ETag").to_owned();
    let mut req = app.request(awc::http::Method::PUT, &format!("/Groups/{group}"));
    req = req.insert_header(("If-Match", version));
    app.send(
        req,
        Some(
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                     "displayName": "Staff", "members": [{"value": users[1]}]}),
        ),
    )
    .await
    .assert_status(200);
    app.post(
        "/Bulk",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "dan"}},
            {"method": "POST", "path": "/Groups", "bulkId": "g",
             "data": {"displayName": "Bulk", "members": [{"value": "bulkId:u"}]}},
            {"method": "PATCH", "path": "/Users/bulkId:u",
             "data": {"Operations": [{"op": "replace", "path": "active", "value": false}]}},
            {"method": "DELETE", "path": "/Groups/bulkId:g"}
        ]}),
    )
    .await
    .assert_status(200);
    app.delete(&format!("/Users/{}", users[2]))
        .await
        .assert_status(204);
    app.delete(&format!("/Groups/{group}"))
        .await
        .assert_status(204);
}

on_both_databases!(filters_see_every_element_of_a_long_list);

/// Lists longer than the positions MySQL-family servers start with
/// (1,000) are searched to their last element, after a create and after
/// a replace.
async fn filters_see_every_element_of_a_long_list(app: TestApp) {
    let roles =
        |n: usize| -> Vec<Value> { (0..n).map(|i| json!({"value": format!("r{i}")})).collect() };
    let body = |n: usize| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": "many", "roles": roles(n)})
    };
    let r = app.post("/Users", &body(1_100)).await;
    r.assert_status(201);
    let id = r.body["id"].as_str().expect("id").to_owned();
    app.create_user("few").await;
    assert_eq!(found(&app, "roles.value eq \"r1099\"").await, 1);
    app.put(&format!("/Users/{id}"), &body(1_300))
        .await
        .assert_status(200);
    assert_eq!(found(&app, "roles[value eq \"r1299\"]").await, 1);
    assert_eq!(found(&app, "not (roles.value eq \"r1299\")").await, 1);
}

async fn found(app: &TestApp, filter: &str) -> u64 {
    let r = app.filter("/Users", filter).await;
    r.assert_status(200);
    r.body["totalResults"].as_u64().expect("totalResults")
}
