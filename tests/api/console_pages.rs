//! The console's pages without a browser: what IdPs sent is escaped, users
//! are found by a SCIM filter, a large group's members page by keyset, and
//! credentials are created (shown once) and revoked.

use serde_json::json;

use crate::audit_admins::{app_with_admin, app_with_admin_and, basic};
use crate::console_client::ConsoleClient;
use crate::each_database;
use crate::helpers::{Db, TOKEN, TestApp, user_body};
use crate::tenants::{Caller, tenant_with_token};
use roster::config::{OAuthClientConfig, Secret};

each_database!(
    values_from_an_idp_are_escaped,
    users_are_found_by_a_scim_filter,
    a_large_groups_members_page_by_keyset,
    tokens_are_shown_once_and_revoked,
    oauth_clients_are_shown_once_used_and_removed,
    the_tenant_picker_switches_what_is_browsed,
    the_status_page_reports_readiness,
);

pub const XSS: &str = "<img src=x onerror=alert(1)>";

async fn values_from_an_idp_are_escaped(db: Db) {
    let app = app_with_admin(db).await;
    let mut body = user_body("xss@example.com");
    body["displayName"] = json!(XSS);
    let created = app.post("/Users", &body).await;
    created.assert_status(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let group = app.create_group(XSS, &[&id]).await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    for page in [
        "/console/users".to_owned(),
        format!("/console/users/{id}"),
        "/console/groups".to_owned(),
        format!("/console/groups/{group}"),
    ] {
        let resp = console.get(&page).await;
        resp.assert_status(200);
        assert!(
            !resp.text.contains("<img"),
            "{page} carries the markup: {}",
            resp.text
        );
        assert!(
            resp.text.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page}: {}",
            resp.text
        );
    }
}

async fn users_are_found_by_a_scim_filter(db: Db) {
    let app = app_with_admin(db).await;
    for name in ["ada@example.com", "alan@example.com", "grace@example.com"] {
        app.create_user(name).await;
    }
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let found = console
        .get("/console/users?filter=userName+sw+%22a%22")
        .await;
    found.assert_status(200);
    assert!(found.text.contains("ada@example.com") && found.text.contains("alan@example.com"));
    assert!(!found.text.contains("grace@example.com"), "{}", found.text);
    assert!(found.text.contains("2 results"), "{}", found.text);
    let bad = console.get("/console/users?filter=userName+sw").await;
    bad.assert_status(200);
    assert!(
        bad.text.contains("The filter cannot be used"),
        "{}",
        bad.text
    );
}

async fn a_large_groups_members_page_by_keyset(db: Db) {
    let app = app_with_admin(db).await;
    let mut ids = Vec::new();
    for i in 0..230 {
        ids.push(app.create_user(&format!("member{i:03}@example.com")).await);
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let group = app.create_group("Everyone", &refs).await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let mut path = format!("/console/groups/{group}");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = console.get(&path).await;
        page.assert_status(200);
        pages += 1;
        let rows = page.text.matches("<td class=\"mono member-id\">").count();
        seen.push(rows);
        let Some(at) = page.text.find("rel=\"next\" href=\"") else {
            break;
        };
        let start = at + "rel=\"next\" href=\"".len();
        let end = start + page.text[start..].find('"').unwrap();
        path = page.text[start..end].replace("&amp;", "&");
        assert!(pages < 5, "paging does not end");
    }
    assert_eq!(seen, [100, 100, 30]);
}

/// The status of `GET /Users` with this bearer token.
async fn users_with(app: &TestApp, token: &str) -> u16 {
    let sent = awc::Client::default()
        .get(app.url("/Users"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .expect("reaches the server");
    sent.status().as_u16()
}

async fn tokens_are_shown_once_and_revoked(db: Db) {
    let app = app_with_admin(db).await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let csrf = console.csrf().await;
    let created = console
        .post(
            "/console/credentials/tokens",
            &[("name", "okta-prod"), ("csrf", &csrf)],
            &[],
        )
        .await;
    created.assert_status(201);
    let token = crate::console_client::value_of(&created.text, "fresh-secret");
    assert!(token.starts_with("roster_"), "{token}");
    assert!(created.text.contains("<td>never</td>"), "not used yet");
    assert!(
        created.text.contains("clients-later"),
        "without a client the built-in server is off, and the page says so"
    );
    assert_eq!(users_with(&app, &token).await, 200);
    // Its use is noted off the request's path, so it shows shortly after.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let listed = loop {
        let listed = console.get("/console/credentials").await;
        if !listed.text.contains("<td>never</td>") || std::time::Instant::now() > until {
            break listed;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        !listed.text.contains("<td>never</td>"),
        "the last use is shown"
    );
    assert!(listed.text.contains("okta-prod"));
    assert!(
        !listed.text.contains(&token),
        "the token is shown only once"
    );
    assert!(!listed.text.contains(TOKEN));
    let at = listed.text.find("/revoke\"").expect("a revoke button");
    let start = listed.text[..at].rfind("action=\"").unwrap() + "action=\"".len();
    let action = format!("{}/revoke", &listed.text[start..at]);
    let revoked = console.post(&action, &[("csrf", &csrf)], &[]).await;
    revoked.assert_status(303);
    assert_eq!(users_with(&app, &token).await, 401, "revoked");
}

/// Polls the credentials page until `done` holds of it, for at most 10 s:
/// uses are noted off the request's path.
async fn credentials_once(console: &ConsoleClient, done: impl Fn(&str) -> bool) -> String {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let listed = console.get("/console/credentials").await;
        listed.assert_status(200);
        if done(&listed.text) || std::time::Instant::now() > until {
            return listed.text;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The table row that names `name`.
fn row_of<'a>(html: &'a str, name: &str) -> &'a str {
    let cell = format!(">{name}</td>");
    let at = html
        .find(&cell)
        .unwrap_or_else(|| panic!("{name} is listed"));
    let start = html[..at].rfind("<tr>").expect("a row");
    let end = at + html[at..].find("</tr>").expect("the row's end");
    &html[start..end]
}

async fn token_request(app: &TestApp, client_id: &str, secret: &str) -> crate::helpers::Resp {
    let sent = awc::Client::default()
        .post(format!("{}/oauth2/token", app.root))
        .insert_header(("Authorization", basic(client_id, secret)))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body("grant_type=client_credentials")
        .await
        .expect("reaches the server");
    crate::helpers::read(sent).await
}

async fn oauth_clients_are_shown_once_used_and_removed(db: Db) {
    // A configured client turns the built-in authorization server on.
    let app = app_with_admin_and(db, |c| {
        c.oauth.clients = vec![OAuthClientConfig {
            client_id: "configured".to_owned(),
            client_secret: Secret::new("configured-client-secret"),
            redirect_uris: vec![],
            grant_types: vec!["client_credentials".to_owned()],
            scopes: vec![],
            require_pkce: true,
        }];
    })
    .await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let csrf = console.csrf().await;
    let empty = console.get("/console/credentials").await;
    assert!(empty.text.contains("No client is stored"), "{}", empty.text);
    assert!(
        !empty.text.contains("clients-later"),
        "the server runs, so no restart is asked for"
    );
    let fields = [
        ("client_id", "entra-prod"),
        ("redirect_uris", ""),
        ("client_credentials", "on"),
        ("csrf", csrf.as_str()),
    ];
    let created = console
        .post("/console/credentials/clients", &fields, &[])
        .await;
    created.assert_status(201);
    let secret = crate::console_client::value_of(&created.text, "fresh-secret");
    assert!(secret.starts_with("roster_cs_"), "{secret}");
    assert!(row_of(&created.text, "entra-prod").contains("<td>never</td>"));

    let granted = token_request(&app, "entra-prod", &secret).await;
    granted.assert_status(200);
    let access = granted.body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    assert_eq!(users_with(&app, &access).await, 200);
    let listed = credentials_once(&console, |html| {
        !row_of(html, "entra-prod").contains("<td>never</td>")
    })
    .await;
    assert!(
        !row_of(&listed, "entra-prod").contains("<td>never</td>"),
        "the client's last use is shown: {}",
        row_of(&listed, "entra-prod")
    );
    assert!(!listed.contains(&secret), "the secret is shown only once");

    let row = row_of(&listed, "entra-prod");
    let start = row.find("action=\"").expect("a remove button") + "action=\"".len();
    let action = &row[start..start + row[start..].find('"').unwrap()];
    assert!(action.ends_with("/remove"), "{action}");
    console
        .post(action, &[("csrf", &csrf)], &[])
        .await
        .assert_status(303);
    token_request(&app, "entra-prod", &secret)
        .await
        .assert_status(401);
}

async fn the_tenant_picker_switches_what_is_browsed(db: Db) {
    let app = app_with_admin(db).await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let csrf = console.csrf().await;
    let alone = console.get("/console/users").await;
    assert!(
        !alone.text.contains("name=\"tenant\""),
        "one tenant, no picker"
    );
    let (_, acme_token) = tenant_with_token(&app.db, "acme").await;
    Caller::bearer(&app, &acme_token)
        .create_user("wile@acme.example")
        .await;
    app.create_user("default.user@example.com").await;

    let before = console.get("/console/users").await;
    assert!(before.text.contains("default.user@example.com"));
    assert!(
        !before.text.contains("wile@acme.example"),
        "only the session's tenant"
    );
    assert!(
        before.text.contains("<option value=\"acme\">acme</option>"),
        "{}",
        before.text
    );

    let switch = [
        ("tenant", "acme"),
        ("back", "/console/users"),
        ("csrf", csrf.as_str()),
    ];
    let moved = console.post("/console/tenant", &switch, &[]).await;
    moved.assert_status(303);
    assert_eq!(moved.header("location"), Some("/console/users"));
    let after = console.get("/console/users").await;
    assert!(after.text.contains("wile@acme.example"), "{}", after.text);
    assert!(!after.text.contains("default.user@example.com"));
    assert!(
        after
            .text
            .contains("<option value=\"acme\" selected>acme</option>")
    );
    let credentials = console.get("/console/credentials").await;
    assert!(credentials.text.contains("acme-token"), "acme's own tokens");

    // Refused: a form without the session's CSRF token, an unknown tenant,
    // and a way back that leaves the console.
    let forged = [("tenant", "default"), ("back", "/console/users")];
    assert_eq!(
        console.post("/console/tenant", &forged, &[]).await.status,
        403
    );
    let unknown = [("tenant", "nobody"), ("back", ""), ("csrf", csrf.as_str())];
    console
        .post("/console/tenant", &unknown, &[])
        .await
        .assert_status(400);
    let away = [
        ("tenant", "default"),
        ("back", "https://evil.example/"),
        ("csrf", csrf.as_str()),
    ];
    let back = console.post("/console/tenant", &away, &[]).await;
    assert_eq!(back.header("location"), Some("/console/users"));
    let default_again = console.get("/console/users").await;
    assert!(default_again.text.contains("default.user@example.com"));
}

async fn the_status_page_reports_readiness(db: Db) {
    let app = app_with_admin(db).await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let status = console.get("/console/status").await;
    status.assert_status(200);
    assert!(status.text.contains("Ready:"), "{}", status.text);
    assert!(status.text.contains(env!("CARGO_PKG_VERSION")));
    let kind = match db {
        Db::Sqlite => "sqlite",
        Db::MariaDb => "mysql",
    };
    assert!(status.text.contains(kind), "{}", status.text);
    assert!(status.text.contains("remove_members_by_value"));
}
