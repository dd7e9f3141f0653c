//! How credentials are read and throttled: scheme names in any case, and
//! the failure limits, which bound guessing without ever locking out a
//! credential that is known good.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use roster::config::{Config, OAuthClientConfig, Secret};
use roster::service::{DEFAULT_TENANT, tokens};

use crate::each_database;
use crate::helpers::{BASIC_PASSWORD, BASIC_USER, Db, Resp, TOKEN, TestApp, read};
use crate::issuer::{
    AUDIENCE, INTROSPECTION_CLIENT, ISSUER, Issuer, SCOPE, TestKey, call_users, claims, jwks,
};

each_database!(
    scheme_names_are_case_insensitive,
    known_credentials_pass_where_guesses_are_refused,
    guesses_past_the_allowance_never_reach_the_verifier,
    guesses_at_one_user_name_are_throttled_across_addresses,
    a_known_oauth_client_gets_tokens_where_guesses_are_refused,
);

const ENTRA_SECRET: &str = "entra-client-secret";

fn basic(scheme: &str, user: &str, password: &str) -> String {
    format!("{scheme} {}", STANDARD.encode(format!("{user}:{password}")))
}

fn tight_limits(c: &mut Config) {
    c.auth.rate_limit.burst = 3;
    c.auth.rate_limit.per_minute = 1;
}

/// GET /Users with this Authorization header, as the client `addr`
/// (honoured when `trust_forwarded_for` is on).
async fn call_from(app: &TestApp, addr: &str, authorization: &str) -> Resp {
    let req = awc::Client::default()
        .get(app.url("/Users"))
        .insert_header(("X-Forwarded-For", addr))
        .insert_header(("Authorization", authorization));
    read(req.send().await.expect("send")).await
}

#[track_caller]
fn assert_refused_for_now(r: &Resp) {
    r.assert_scim_error(429, None);
    let retry: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("an integer Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
}

async fn scheme_names_are_case_insensitive(db: Db) {
    let key = TestKey::rsa(1, "rsa-1");
    let issuer = Issuer::start(jwks(&[&key])).await;
    let jwks_url = issuer.jwks_url();
    let app = TestApp::spawn_with(db, |c| {
        c.auth.jwt.issuer = Some(ISSUER.to_owned());
        c.auth.jwt.audience = vec![AUDIENCE.to_owned()];
        c.auth.jwt.jwks_url = Some(jwks_url);
        c.auth.jwt.required_scope = Some(SCOPE.to_owned());
        entra_client(c);
    })
    .await;
    let external = key.sign(&claims());
    let built_in = client_credentials_token(&app, &basic("basic", "entra", ENTRA_SECRET)).await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        for token in [TOKEN, &external, &built_in] {
            call_users(&app, Some(&format!("{scheme} {token}")))
                .await
                .assert_status(200);
        }
    }
    for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
        call_users(&app, Some(&basic(scheme, BASIC_USER, BASIC_PASSWORD)))
            .await
            .assert_status(200);
        client_credentials_token(&app, &basic(scheme, "entra", ENTRA_SECRET)).await;
    }
    call_users(&app, Some(&basic("basic", BASIC_USER, "wrong")))
        .await
        .assert_scim_error(401, None);
}

/// A token from the built-in server, the client authenticating with
/// `authorization`.
async fn client_credentials_token(app: &TestApp, authorization: &str) -> String {
    let r = token_request(app, authorization).await;
    assert_eq!(r.status, 200, "{authorization}: {}", r.text);
    r.body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn token_request(app: &TestApp, authorization: &str) -> Resp {
    let url = format!("{}/oauth2/token", app.base.trim_end_matches("/scim/v2"));
    read(
        awc::Client::default()
            .post(url)
            .insert_header(("Authorization", authorization))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .send_body("grant_type=client_credentials&scope=scim")
            .await
            .expect("send"),
    )
    .await
}

fn entra_client(c: &mut Config) {
    c.oauth.clients = vec![OAuthClientConfig {
        client_id: "entra".to_owned(),
        client_secret: Secret::new(ENTRA_SECRET),
        redirect_uris: vec![],
        grant_types: vec!["client_credentials".to_owned()],
        scopes: vec!["scim".to_owned()],
        require_pkce: true,
    }];
}

async fn a_known_oauth_client_gets_tokens_where_guesses_are_refused(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        tight_limits(c);
        entra_client(c);
    })
    .await;
    let good = basic("Basic", "entra", ENTRA_SECRET);
    client_credentials_token(&app, &good).await;
    for i in 0..3 {
        let r = token_request(&app, &basic("Basic", "entra", &format!("guess-{i}"))).await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = token_request(&app, &basic("Basic", "entra", "guess-3")).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.header("retry-after").is_some());
    assert_eq!(
        token_request(&app, &basic("Basic", "other", ENTRA_SECRET))
            .await
            .status,
        429,
        "an unknown pair is refused unchecked"
    );
    let token = client_credentials_token(&app, &good).await;
    call_users(&app, Some(&format!("Bearer {token}")))
        .await
        .assert_status(200);
}

async fn known_credentials_pass_where_guesses_are_refused(db: Db) {
    let app = TestApp::spawn_with(db, tight_limits).await;
    let minted = tokens::create(&app.db, DEFAULT_TENANT, "okta")
        .await
        .expect("mint");
    let good_basic = basic("Basic", BASIC_USER, BASIC_PASSWORD);
    let minted_bearer = format!("Bearer {}", minted.token);
    // The connector worked before its neighbours started guessing.
    for good in [&good_basic, &minted_bearer] {
        call_users(&app, Some(good)).await.assert_status(200);
    }
    for i in 0..3 {
        call_users(&app, Some(&format!("Bearer guess-{i}")))
            .await
            .assert_scim_error(401, None);
    }
    assert_refused_for_now(&call_users(&app, Some("Bearer guess-3")).await);
    assert_refused_for_now(&call_users(&app, Some(&basic("Basic", BASIC_USER, "guess"))).await);
    // No credentials is no guess, but is not served either while refused.
    assert_refused_for_now(&call_users(&app, None).await);
    // Known credentials from the same address carry on.
    for good in [
        good_basic.as_str(),
        minted_bearer.as_str(),
        &format!("Bearer {TOKEN}"),
        &format!("bearer {TOKEN}"),
    ] {
        for _ in 0..3 {
            call_users(&app, Some(good)).await.assert_status(200);
        }
    }
    // A known credential that stops being valid counts as a failure again.
    tokens::revoke(&app.db, DEFAULT_TENANT, minted.id)
        .await
        .expect("revoke");
    assert_refused_for_now(&call_users(&app, Some(&minted_bearer)).await);
}

async fn guesses_past_the_allowance_never_reach_the_verifier(db: Db) {
    let issuer = Issuer::start(jwks(&[])).await;
    let app = TestApp::spawn_with(db, |c| {
        tight_limits(c);
        c.auth.introspection.url = Some(issuer.introspection_url());
        c.auth.introspection.client_id = Some(INTROSPECTION_CLIENT.0.to_owned());
        c.auth.introspection.client_secret = Some(Secret::new(INTROSPECTION_CLIENT.1));
        c.auth.introspection.required_scope = Some(SCOPE.to_owned());
    })
    .await;
    call_users(&app, Some("Bearer good-opaque"))
        .await
        .assert_status(200);
    for i in 0..3 {
        call_users(&app, Some(&format!("Bearer guess-{i}")))
            .await
            .assert_scim_error(401, None);
    }
    assert_eq!(issuer.introspections(), 4, "every unknown token so far");
    // The failure that spends the allowance was checked; nothing after it.
    assert_refused_for_now(&call_users(&app, Some("Bearer guess-3")).await);
    let asked = issuer.introspections();
    for i in 4..20 {
        assert_refused_for_now(&call_users(&app, Some(&format!("Bearer guess-{i}"))).await);
    }
    // A guess that would be valid is refused unseen as well: nothing is
    // checked past the allowance, so a 429 confirms nothing.
    assert_refused_for_now(&call_users(&app, Some("Bearer good-unseen")).await);
    assert_eq!(
        issuer.introspections(),
        asked,
        "refused guesses cost nothing"
    );
    call_users(&app, Some("Bearer good-opaque"))
        .await
        .assert_status(200);
}

async fn guesses_at_one_user_name_are_throttled_across_addresses(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        tight_limits(c);
        c.auth.rate_limit.trust_forwarded_for = true;
    })
    .await;
    let good = basic("Basic", BASIC_USER, BASIC_PASSWORD);
    call_from(&app, "198.51.100.1", &good)
        .await
        .assert_status(200);
    for i in 0..3 {
        let addr = format!("203.0.113.{i}");
        call_from(
            &app,
            &addr,
            &basic("Basic", BASIC_USER, &format!("guess-{i}")),
        )
        .await
        .assert_scim_error(401, None);
    }
    for i in 3..10 {
        let addr = format!("203.0.113.{i}");
        let guess = basic("Basic", BASIC_USER, &format!("guess-{i}"));
        assert_refused_for_now(&call_from(&app, &addr, &guess).await);
    }
    // Even the password known to be good waits: the name's allowance is
    // what bounds guessing it. Other names and tokens are untouched.
    assert_refused_for_now(&call_from(&app, "203.0.113.52", &good).await);
    call_from(&app, "203.0.113.50", &basic("Basic", "someone-else", "x"))
        .await
        .assert_scim_error(401, None);
    call_from(&app, "203.0.113.51", &format!("Bearer {TOKEN}"))
        .await
        .assert_status(200);
}
