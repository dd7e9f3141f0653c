//! The console's sign-in without a browser: sessions kept hashed in the
//! database, cookie flags, CSRF, the Content-Security-Policy, sign-out
//! that ends the session everywhere, and failed sign-ins under limits.

use crate::audit_admins::{ADMIN, ADMIN_PASSWORD, app_with_admin, app_with_admin_and};
use crate::console_client::ConsoleClient;
use crate::each_database;
use crate::helpers::{Db, TestApp, mariadb_url};

each_database!(
    sign_in_sets_a_strict_cookie_and_keeps_only_its_hash,
    pages_send_the_signed_out_to_the_sign_in_page,
    every_page_forbids_inline_script_and_framing,
    forms_without_the_token_or_from_elsewhere_are_refused,
    sign_out_ends_the_session_on_the_server,
    failed_sign_ins_are_limited,
    the_console_api_accepts_the_session_cookie,
    the_console_moves_with_its_path,
);

async fn sign_in_sets_a_strict_cookie_and_keeps_only_its_hash(db: Db) {
    let app = app_with_admin(db).await;
    let console = ConsoleClient::new(&app);
    let resp = console.sign_in_as(ADMIN, ADMIN_PASSWORD).await;
    resp.assert_status(303);
    assert_eq!(resp.header("location"), Some("/console"));
    let cookie = resp
        .headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("roster_console="))
        .expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP cannot keep a Secure cookie: {cookie}"
    );
    let token = console.cookie("roster_console").unwrap();
    let stored = app.count_rows("console_sessions").await;
    assert_eq!(stored, 1);
    let plain = sea_orm::Statement::from_sql_and_values(
        app.db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM console_sessions WHERE token_hash = ?",
        [token.clone().into()],
    );
    use sea_orm::ConnectionTrait;
    let row = app.db.query_one_raw(plain).await.unwrap().unwrap();
    assert_eq!(
        row.try_get::<i64>("", "n").unwrap(),
        0,
        "the token is stored only hashed"
    );
    let users = console.get("/console/users").await;
    users.assert_status(200);
    assert!(users.text.contains("Signed in as"), "{}", users.text);

    let wrong = ConsoleClient::new(&app);
    let refused = wrong.sign_in_as(ADMIN, "not the password").await;
    refused.assert_status(401);
    assert!(wrong.cookie("roster_console").is_none());
    assert!(refused.text.contains("Wrong user name or password"));

    // Over TLS (here: behind a proxy that ends it), the cookie is Secure.
    let tls = app_with_admin_and(Db::Sqlite, |c| {
        c.server.public_url = Some("https://scim.example.com/scim/v2".to_owned());
    })
    .await;
    let over_tls = ConsoleClient::new(&tls)
        .sign_in_as(ADMIN, ADMIN_PASSWORD)
        .await;
    over_tls.assert_status(303);
    let secure = over_tls.headers.get_all("set-cookie").any(|v| {
        v.to_str().unwrap().starts_with("roster_console=")
            && v.to_str().unwrap().contains("; Secure")
    });
    assert!(secure, "{:?}", over_tls.headers);
}

async fn pages_send_the_signed_out_to_the_sign_in_page(db: Db) {
    let app = app_with_admin(db).await;
    let console = ConsoleClient::new(&app);
    for page in [
        "/console/users",
        "/console/groups",
        "/console/credentials",
        "/console/status",
    ] {
        let resp = console.get(page).await;
        resp.assert_status(303);
        let to = resp.header("location").unwrap();
        assert!(to.starts_with("/console/login?next="), "{page} → {to}");
    }
    // A forged cookie is no session.
    console.set_cookie("roster_console", "forged");
    console.get("/console/users").await.assert_status(303);
    // After signing in, the browser lands where it was sent from, and
    // never outside the console.
    let form = console.get("/console/login?next=%2Fconsole%2Fgroups").await;
    let csrf = crate::console_client::hidden(&form.text, "csrf");
    let next = crate::console_client::hidden(&form.text, "next");
    assert_eq!(next, "/console/groups");
    let fields = [
        ("username", ADMIN),
        ("password", ADMIN_PASSWORD),
        ("csrf", &csrf),
        ("next", "//evil.example/x"),
    ];
    let resp = console.post("/console/login", &fields, &[]).await;
    assert_eq!(resp.header("location"), Some("/console"));
}

async fn every_page_forbids_inline_script_and_framing(db: Db) {
    let app = app_with_admin(db).await;
    let console = ConsoleClient::new(&app);
    let login = console.get("/console/login").await;
    console.sign_in().await;
    for resp in [
        login,
        console.get("/console/users").await,
        console.get("/console/nope").await,
    ] {
        let csp = resp.header("content-security-policy").expect("a CSP");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(resp.header("x-frame-options"), Some("DENY"));
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        assert!(
            !resp.text.contains("<script>"),
            "no inline script: {}",
            resp.text
        );
        assert!(!resp.text.contains(" onclick="), "no inline handler");
    }
    let js = console.get("/console/assets/console.js").await;
    js.assert_status(200);
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    console
        .get("/console/assets/console.css")
        .await
        .assert_status(200);
}

async fn forms_without_the_token_or_from_elsewhere_are_refused(db: Db) {
    let app = app_with_admin(db).await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let csrf = console.csrf().await;
    let tokens_before = app.count_rows("api_tokens").await;
    let no_token = console
        .post("/console/credentials/tokens", &[("name", "a")], &[])
        .await;
    no_token.assert_status(403);
    let wrong = console
        .post(
            "/console/credentials/tokens",
            &[("name", "a"), ("csrf", "x")],
            &[],
        )
        .await;
    wrong.assert_status(403);
    let cross = [
        ("Origin", "http://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ];
    let elsewhere = console
        .post(
            "/console/credentials/tokens",
            &[("name", "a"), ("csrf", &csrf)],
            &cross,
        )
        .await;
    elsewhere.assert_status(403);
    assert_eq!(
        app.count_rows("api_tokens").await,
        tokens_before,
        "nothing was created"
    );
    // Sign-out and sign-in are forms too.
    console
        .post("/console/logout", &[], &[])
        .await
        .assert_status(403);
    console.get("/console/users").await.assert_status(200);
    let login = ConsoleClient::new(&app);
    let no_form_token = login
        .post(
            "/console/login",
            &[("username", ADMIN), ("password", ADMIN_PASSWORD)],
            &[],
        )
        .await;
    no_form_token.assert_status(403);
    assert!(login.cookie("roster_console").is_none());
    let ok = console
        .post(
            "/console/credentials/tokens",
            &[("name", "a"), ("csrf", &csrf)],
            &[],
        )
        .await;
    ok.assert_status(201);
    assert_eq!(app.count_rows("api_tokens").await, tokens_before + 1);
}

async fn sign_out_ends_the_session_on_the_server(db: Db) {
    let app = app_with_admin(db).await;
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let token = console.cookie("roster_console").unwrap();
    let csrf = console.csrf().await;
    let out = console
        .post("/console/logout", &[("csrf", &csrf)], &[])
        .await;
    out.assert_status(303);
    assert!(
        console.cookie("roster_console").is_none(),
        "the browser forgets the cookie"
    );
    assert_eq!(app.count_rows("console_sessions").await, 0);
    // The old cookie, replayed, is no longer a session.
    console.set_cookie("roster_console", &token);
    console.get("/console/users").await.assert_status(303);
}

async fn failed_sign_ins_are_limited(db: Db) {
    let app = app_with_admin_and(db, |c| {
        c.auth.rate_limit.burst = 3;
        c.auth.rate_limit.per_minute = 1;
    })
    .await;
    let console = ConsoleClient::new(&app);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(console.sign_in_as(ADMIN, "wrong password!").await.status);
    }
    assert_eq!(statuses[..2], [401, 401], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    let refused = console.sign_in_as(ADMIN, ADMIN_PASSWORD).await;
    refused.assert_status(429);
    assert!(refused.header("retry-after").is_some());
    assert!(console.cookie("roster_console").is_none());
}

async fn the_console_api_accepts_the_session_cookie(db: Db) {
    let app = app_with_admin(db).await;
    let console = ConsoleClient::new(&app);
    console.get("/console/api/me").await.assert_status(401);
    console.sign_in().await;
    let me = console.get("/console/api/me").await;
    me.assert_status(200);
    assert_eq!(me.body["name"], ADMIN);
}

/// Two nodes on one MariaDB: a session opened on one is honoured by the
/// other, and signing out on the other ends it for both.
#[actix_web::test]
async fn two_nodes_share_sessions() {
    let url = mariadb_url().await;
    let first = TestApp::spawn_on(url.clone(), |_| {}).await;
    let second = TestApp::spawn_on(url, |_| {}).await;
    roster::service::admins::add(&first.db, ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let on_first = ConsoleClient::new(&first);
    on_first.sign_in().await;
    let token = on_first.cookie("roster_console").unwrap();
    let on_second = ConsoleClient::new(&second);
    on_second.set_cookie("roster_console", &token);
    on_second.get("/console/users").await.assert_status(200);
    let csrf = on_second.csrf().await;
    on_second
        .post("/console/logout", &[("csrf", &csrf)], &[])
        .await
        .assert_status(303);
    on_first.get("/console/users").await.assert_status(303);
}

async fn the_console_moves_with_its_path(db: Db) {
    let app = app_with_admin_and(db, |c| c.console.path = "/ops/console".to_owned()).await;
    let console = ConsoleClient::new(&app);
    let login = console.get("/ops/console/login").await;
    login.assert_status(200);
    assert!(
        login.text.contains("action=\"/ops/console/login\""),
        "{}",
        login.text
    );
    assert!(login.text.contains("/ops/console/assets/console.css"));
    console.get("/console/login").await.assert_status(404);
    let to = console.get("/ops/console/users").await;
    assert_eq!(
        to.header("location"),
        Some("/ops/console/login?next=%2Fops%2Fconsole%2Fusers")
    );
}
