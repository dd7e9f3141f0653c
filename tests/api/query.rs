//! Filters (RFC 7644 §3.4.2.2) on every kind of attribute, run by the
//! database: projected columns, side tables and the JSON search document.

use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, url_encode};
use crate::on_both_databases;

on_both_databases!(
    string_operators_follow_case_exactness,
    booleans_datetimes_and_ids,
    presence_absence_and_negation,
    multi_valued_attributes_match_on_any_value,
    enterprise_extension_and_the_entra_manager_check,
    group_filters_use_members_and_memberships,
    bad_filters_are_invalid_filter_never_500,
    old_rows_get_their_search_columns_at_start,
    a_fill_of_many_batches_reaches_every_row,
);

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Three users that between them have, and lack, every kind of attribute.
/// Returns the ids of alice, bob and carol.
async fn seed(app: &TestApp) -> (String, String, String) {
    let carol = app
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "carol@example.org", "active": true}),
        )
        .await;
    carol.assert_status(201);
    let carol = carol.body["id"].as_str().expect("id").to_owned();
    let alice = app
        .post(
            "/Users",
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "userName": "Alice.Smith@Example.com",
                "externalId": "EXT-A",
                "displayName": "ÁLICE Smith",
                "name": {"familyName": "Smith", "givenName": "Alice"},
                "title": "Engineer",
                "active": true,
                "emails": [
                    {"value": "alice@work.example", "type": "work", "primary": true},
                    {"value": "alice@home.example", "type": "home"}
                ],
                "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}],
                "x509Certificates": [{"value": "QUJD"}],
                ENTERPRISE: {
                    "employeeNumber": "1001",
                    "department": "R&D",
                    "manager": {"value": carol}
                }
            }),
        )
        .await;
    alice.assert_status(201);
    let bob = app
        .post(
            "/Users",
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "bob@example.com",
                "externalId": "ext-b",
                "displayName": "Bob Jones",
                "name": {"familyName": "Jones"},
                "active": "False",
                "emails": [{"value": "Bob@Work.Example", "type": "Work"}],
                ENTERPRISE: {"employeeNumber": "1002"}
            }),
        )
        .await;
    bob.assert_status(201);
    (
        alice.body["id"].as_str().expect("id").to_owned(),
        bob.body["id"].as_str().expect("id").to_owned(),
        carol,
    )
}

/// The first label of each matching userName, sorted: "alice", "bob", …
#[track_caller]
fn who(r: &Resp) -> Vec<String> {
    r.assert_status(200);
    let mut names: Vec<String> = r.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .filter_map(|u| u["userName"].as_str())
        .map(|n| n.split(['@', '.']).next().unwrap_or(n).to_lowercase())
        .collect();
    names.sort();
    assert_eq!(r.body["totalResults"], names.len(), "{}", r.text);
    names
}

async fn expect(app: &TestApp, filter: &str, names: &[&str]) {
    let r = app.filter("/Users", filter).await;
    assert_eq!(who(&r), names, "filter: {filter}");
}

async fn string_operators_follow_case_exactness(app: TestApp) {
    seed(&app).await;
    // userName: caseExact=false, projected column.
    expect(&app, r#"userName eq "ALICE.SMITH@example.COM""#, &["alice"]).await;
    expect(&app, r#"userName co "SMITH@""#, &["alice"]).await;
    expect(&app, r#"userName sw "B""#, &["bob"]).await;
    expect(&app, r#"userName ew ".ORG""#, &["carol"]).await;
    expect(
        &app,
        r#"userName ne "bob@example.com""#,
        &["alice", "carol"],
    )
    .await;
    expect(&app, r#"userName gt "bob@example.com""#, &["carol"]).await;
    expect(&app, r#"userName le "bob@example.com""#, &["alice", "bob"]).await;
    // externalId: caseExact=true.
    expect(&app, r#"externalId eq "EXT-A""#, &["alice"]).await;
    expect(&app, r#"externalId eq "ext-a""#, &[]).await;
    expect(&app, r#"externalId sw "ext""#, &["bob"]).await;
    expect(&app, r#"externalId co "XT""#, &["alice"]).await;
    // displayName: caseExact=false with Unicode folding (Á/á), new column.
    expect(&app, r#"displayName eq "álice smith""#, &["alice"]).await;
    expect(&app, r#"displayName sw "ÁL""#, &["alice"]).await;
    // Attributes without a column: the JSON search document.
    expect(&app, r#"name.familyName eq "SMITH""#, &["alice"]).await;
    expect(&app, r#"name.familyName ew "ONES""#, &["bob"]).await;
    expect(&app, r#"title co "GINE""#, &["alice"]).await;
    expect(&app, r#"title lt "F""#, &["alice"]).await;
    // x509Certificates.value is binary, hence caseExact.
    expect(&app, r#"x509Certificates.value eq "QUJD""#, &["alice"]).await;
    expect(&app, r#"x509Certificates.value eq "qujd""#, &[]).await;
    // LIKE/GLOB wildcards in values are literal characters.
    expect(&app, r#"userName co "%""#, &[]).await;
    expect(&app, r#"userName co "_""#, &[]).await;
    expect(&app, r#"title co "*""#, &[]).await;
}

async fn booleans_datetimes_and_ids(app: TestApp) {
    let (alice, bob, _) = seed(&app).await;
    expect(&app, "active eq false", &["bob"]).await;
    expect(&app, "active ne false", &["alice", "carol"]).await;
    expect(&app, "emails.primary eq true", &["alice"]).await;
    expect(&app, &format!(r#"id eq "{alice}""#), &["alice"]).await;
    expect(&app, &format!(r#"id ne "{alice}""#), &["bob", "carol"]).await;
    expect(&app, r#"id eq "not-a-uuid""#, &[]).await;

    let r = app.get(&format!("/Users/{bob}")).await;
    let created = r.body["meta"]["created"]
        .as_str()
        .expect("created")
        .to_owned();
    expect(&app, &format!(r#"meta.created ge "{created}""#), &["bob"]).await;
    expect(
        &app,
        &format!(r#"meta.created lt "{created}""#),
        &["alice", "carol"],
    )
    .await;
    expect(
        &app,
        &format!(r#"meta.lastModified eq "{created}""#),
        &["bob"],
    )
    .await;
    // The same instant written with an offset compares as the same time.
    let ms = created.trim_end_matches('Z');
    let (date, time) = ms.split_once('T').expect("T");
    let hour: u32 = time[..2].parse().expect("hour");
    if hour < 23 {
        let shifted = format!("{date}T{:02}{}+01:00", hour + 1, &time[2..]);
        expect(&app, &format!(r#"meta.created eq "{shifted}""#), &["bob"]).await;
    }
    expect(
        &app,
        r#"meta.resourceType eq "User""#,
        &["alice", "bob", "carol"],
    )
    .await;
    expect(&app, r#"meta.resourceType eq "Group""#, &[]).await;
}

async fn presence_absence_and_negation(app: TestApp) {
    seed(&app).await;
    expect(&app, "title pr", &["alice"]).await;
    expect(&app, "displayName pr", &["alice", "bob"]).await;
    expect(&app, "name pr", &["alice", "bob"]).await;
    expect(&app, "emails pr", &["alice", "bob"]).await;
    // A user without emails has none present, under `not` too.
    expect(&app, "not (emails pr)", &["carol"]).await;
    expect(&app, "emails pr and not (emails pr)", &[]).await;
    expect(&app, "externalId pr", &["alice", "bob"]).await;
    expect(&app, "not (title pr)", &["bob", "carol"]).await;
    expect(&app, "title eq null", &["bob", "carol"]).await;
    // An absent attribute is "not equal" to any value, and `not` is the
    // exact complement even where SQL would see NULL.
    expect(&app, r#"title ne "Engineer""#, &["bob", "carol"]).await;
    expect(&app, r#"not (title eq "Engineer")"#, &["bob", "carol"]).await;
    expect(&app, r#"not (name.familyName sw "j")"#, &["alice", "carol"]).await;
    expect(
        &app,
        r#"not (displayName eq "bob jones")"#,
        &["alice", "carol"],
    )
    .await;
    expect(
        &app,
        r#"title pr or (userName sw "b" and not (active eq true))"#,
        &["alice", "bob"],
    )
    .await;
}

async fn multi_valued_attributes_match_on_any_value(app: TestApp) {
    seed(&app).await;
    expect(&app, r#"emails.value eq "ALICE@home.example""#, &["alice"]).await;
    // A complex attribute without a sub-attribute means its value.
    expect(&app, r#"emails co "@WORK""#, &["alice", "bob"]).await;
    expect(&app, r#"emails[type eq "work"]"#, &["alice", "bob"]).await;
    expect(
        &app,
        r#"emails[type eq "work" and value co "alice"]"#,
        &["alice"],
    )
    .await;
    expect(&app, r#"emails[type eq "home" and value co "@work"]"#, &[]).await;
    expect(
        &app,
        r#"emails[type eq "work"].value eq "bob@work.example""#,
        &["bob"],
    )
    .await;
    expect(&app, r#"emails[not (type eq "work")]"#, &["alice"]).await;
    // No element at all: `ne` matches, as for an absent singular attribute.
    expect(&app, r#"emails.type ne "work""#, &["alice", "carol"]).await;
    // Sub-attributes without a side-table column go through JSON.
    expect(&app, "emails[display pr]", &[]).await;
    expect(&app, r#"phoneNumbers[type eq "MOBILE"]"#, &["alice"]).await;
    expect(&app, r#"phoneNumbers.value sw "+1 555""#, &["alice"]).await;
    expect(&app, r#"name[givenName eq "alice"]"#, &["alice"]).await;
    expect(
        &app,
        r#"emails[type eq "work"] and phoneNumbers pr"#,
        &["alice"],
    )
    .await;
}

async fn enterprise_extension_and_the_entra_manager_check(app: TestApp) {
    let (alice, bob, carol) = seed(&app).await;
    expect(
        &app,
        &format!(r#"{ENTERPRISE}:employeeNumber eq "1001""#),
        &["alice"],
    )
    .await;
    expect(&app, r#"employeeNumber eq "1002""#, &["bob"]).await;
    expect(&app, r#"department eq "r&d""#, &["alice"]).await;
    expect(&app, &format!(r#"manager.value eq "{carol}""#), &["alice"]).await;
    expect(&app, &format!("{ENTERPRISE}:manager pr"), &["alice"]).await;
    // Entra's manager check: unquoted GUIDs, `manager` meaning its value.
    let check = |uid: &str| format!("id eq {uid} and manager eq {carol}");
    let r = app
        .get(&format!(
            "/Users?filter={}&attributes=id",
            crate::helpers::url_encode(&check(&alice))
        ))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
    assert_eq!(r.body["Resources"][0]["id"], Value::from(alice));
    expect(&app, &check(&bob), &[]).await;
}

async fn group_filters_use_members_and_memberships(app: TestApp) {
    let (alice, bob, _) = seed(&app).await;
    let admins = app.create_group("Admins", &[&alice]).await;
    let all = app.create_group("Everyone", &[&alice, &bob, &admins]).await;
    let groups = |r: &Resp| {
        assert_eq!(r.status, 200, "{}", r.text);
        let mut names: Vec<String> = r.body["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .filter_map(|g| g["displayName"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        groups(&app.filter("/Groups", r#"displayName eq "ADMINS""#).await),
        ["Admins"]
    );
    assert_eq!(
        groups(
            &app.filter("/Groups", &format!("members.value eq {bob}"))
                .await
        ),
        ["Everyone"]
    );
    assert_eq!(
        groups(
            &app.filter("/Groups", &format!(r#"members[value eq "{alice}"]"#))
                .await
        ),
        ["Admins", "Everyone"]
    );
    assert_eq!(
        groups(&app.filter("/Groups", r#"members[type eq "group"]"#).await),
        ["Everyone"]
    );
    assert_eq!(
        groups(&app.filter("/Groups", r#"not (members pr)"#).await),
        Vec::<String>::new()
    );
    // A user's groups come from the same membership table.
    expect(&app, &format!(r#"groups.value eq "{admins}""#), &["alice"]).await;
    expect(&app, r#"groups[display eq "everyone"]"#, &["alice", "bob"]).await;
    expect(
        &app,
        &format!(r#"groups.value eq "{all}""#),
        &["alice", "bob"],
    )
    .await;
    expect(&app, "not (groups pr)", &["carol"]).await;
}

async fn bad_filters_are_invalid_filter_never_500(app: TestApp) {
    seed(&app).await;
    for filter in [
        r#"shoeSize eq "9""#,
        r#"name.middle eq "x""#,
        r#"urn:example:nope:1.0:User:x eq "1""#,
        r#"name eq "Smith""#,
        "active gt true",
        "active eq \"true\"",
        "title co 5",
        r#"password eq "x""#,
        r#"meta.location eq "x""#,
        r#"emails[shoe eq "x"]"#,
        r#"emails[type eq "work" and emails[value pr]]"#,
        r#"userName[value eq "x"]"#,
        r#"meta.created co "2025""#,
        r#"meta.created gt "yesterday""#,
        r#"id gt "a""#,
        r#"groups.$ref eq "x""#,
    ] {
        let r = app.filter("/Users", filter).await;
        r.assert_scim_error(400, Some("invalidFilter"));
        assert!(
            r.body["detail"].as_str().is_some_and(|d| d.len() > 10),
            "{filter}: {}",
            r.text
        );
    }
    for filter in [r#"members.display eq "x""#, r#"members[$ref eq "x"]"#] {
        app.filter("/Groups", filter)
            .await
            .assert_scim_error(400, Some("invalidFilter"));
    }
    let r = app.filter("/Users", r#"shoeSize eq "9""#).await;
    assert!(r.text.contains("shoeSize"), "{}", r.text);
}

/// The state of a database from before the search columns: the migration
/// adds them empty, and no fingerprint of the schemas they were computed
/// for.
async fn forget_search_columns(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    for sql in [
        "UPDATE users SET doc_search = NULL, display_name_norm = NULL",
        "UPDATE user_emails SET type_norm = NULL",
        "DELETE FROM roster_state",
    ] {
        app.db.execute_unprepared(sql).await.expect("reset");
    }
}

/// What the server does at start, before it takes requests.
async fn start_up_fill(app: &TestApp) {
    roster::startup::reindex(&roster::config::Config::default(), &app.db)
        .await
        .expect("reindex");
}

/// Rows written before the search columns existed get them when the
/// server starts.
async fn old_rows_get_their_search_columns_at_start(app: TestApp) {
    seed(&app).await;
    forget_search_columns(&app).await;
    expect(&app, r#"title pr"#, &[]).await;
    start_up_fill(&app).await;
    expect(&app, r#"title pr"#, &["alice"]).await;
    expect(&app, r#"displayName eq "bob jones""#, &["bob"]).await;
    expect(&app, r#"emails[type eq "work"]"#, &["alice", "bob"]).await;
}

/// The start-up fill reads pending rows 500 at a time, each batch after
/// the last one's key; 1,001 users take three batches.
async fn a_fill_of_many_batches_reaches_every_row(app: TestApp) {
    const USERS: usize = 1001;
    for chunk in (0..USERS).collect::<Vec<_>>().chunks(1000) {
        let ops: Vec<Value> = chunk
            .iter()
            .map(|i| {
                json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                       "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("fill{i}@example.com"), "title": "T",
                                "emails": [{"value": format!("fill{i}@work.example"), "type": "Work"}]}})
            })
            .collect();
        let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                          "Operations": ops});
        app.post("/Bulk", &bulk).await.assert_status(200);
    }
    forget_search_columns(&app).await;
    let total = |filter: &'static str| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/Users?count=1&filter={}", url_encode(filter)))
                .await;
            r.body["totalResults"].as_u64().expect("totalResults")
        }
    };
    assert_eq!(total("title pr").await, 0);
    start_up_fill(&app).await;
    assert_eq!(total("title pr").await, USERS as u64);
    assert_eq!(total(r#"emails[type eq "work"]"#).await, USERS as u64);
}
