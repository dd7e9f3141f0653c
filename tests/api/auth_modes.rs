//! Static tokens and Basic each on their own, and failure limits on the
//! SCIM API.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::each_database;
use crate::helpers::{BASIC_PASSWORD, BASIC_USER, Db, TOKEN, TestApp};
use crate::issuer::{advertised_schemes, assert_invalid_token, call_users, call_with_bearer};

each_database!(
    static_tokens_alone,
    basic_alone,
    repeated_failures_are_refused_with_429
);

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

async fn static_tokens_alone(db: Db) {
    let app = TestApp::spawn_with(db, |c| c.auth.basic.clear()).await;
    call_with_bearer(&app, TOKEN).await.assert_status(200);
    let minted = roster::service::tokens::create(&app.db, roster::service::DEFAULT_TENANT, "okta")
        .await
        .expect("mint");
    call_with_bearer(&app, &minted.token)
        .await
        .assert_status(200);
    assert_invalid_token(&call_with_bearer(&app, "unknown").await, "unknown token");
    let r = call_users(&app, Some(&basic(BASIC_USER, BASIC_PASSWORD))).await;
    r.assert_scim_error(401, None);
    let challenges: Vec<_> = r.headers.get_all("www-authenticate").collect();
    assert_eq!(challenges.len(), 1, "no Basic challenge: {challenges:?}");
    let names: Vec<String> = advertised_schemes(&app, &format!("Bearer {TOKEN}"))
        .await
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(names, ["Bearer token"]);
}

async fn basic_alone(db: Db) {
    let app = TestApp::spawn_with(db, |c| c.auth.bearer_tokens.clear()).await;
    let good = basic(BASIC_USER, BASIC_PASSWORD);
    call_users(&app, Some(&good)).await.assert_status(200);
    call_users(&app, Some(&basic(BASIC_USER, "wrong")))
        .await
        .assert_scim_error(401, None);
    assert_invalid_token(&call_with_bearer(&app, TOKEN).await, "token not configured");
    let types: Vec<String> = advertised_schemes(&app, &good)
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    // Minted tokens are always accepted, so the bearer scheme stays listed.
    assert_eq!(types, ["oauthbearertoken", "httpbasic"]);
}

async fn repeated_failures_are_refused_with_429(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        c.auth.rate_limit.burst = 3;
        c.auth.rate_limit.per_minute = 1;
    })
    .await;
    // Requests without credentials are not guesses and do not count.
    for _ in 0..5 {
        call_users(&app, None).await.assert_scim_error(401, None);
    }
    for _ in 0..3 {
        call_users(&app, Some(&basic(BASIC_USER, "guess")))
            .await
            .assert_scim_error(401, None);
    }
    let r = call_users(&app, Some(&basic(BASIC_USER, "guess"))).await;
    r.assert_scim_error(429, None);
    let retry: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("an integer Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    // A password never seen to work is refused unchecked, right or wrong,
    // so a 429 confirms no guess; a configured token is known and passes.
    call_users(&app, Some(&basic(BASIC_USER, BASIC_PASSWORD)))
        .await
        .assert_scim_error(429, None);
    call_with_bearer(&app, TOKEN).await.assert_status(200);
}
