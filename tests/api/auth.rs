use awc::http::Method;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use roster::service::{DEFAULT_TENANT, tokens};

use crate::helpers::{BASIC_PASSWORD, BASIC_USER, TestApp, read};
use crate::on_both_databases;

on_both_databases!(
    missing_or_bad_credentials_are_401_with_challenges,
    basic_credentials_work,
    database_tokens_work_until_revoked,
    argon2_hashed_basic_credentials_work,
);

async fn call(app: &TestApp, authorization: Option<&str>) -> crate::helpers::Resp {
    let mut req = awc::Client::default().request(Method::GET, app.url("/Users"));
    if let Some(a) = authorization {
        req = req.insert_header(("Authorization", a));
    }
    read(req.send().await.expect("send")).await
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

async fn missing_or_bad_credentials_are_401_with_challenges(app: TestApp) {
    for auth in [
        None,
        Some("non-token"),
        Some("Bearer wrong-token"),
        Some("Bearer "),
        Some("Digest abc"),
    ] {
        let r = call(&app, auth).await;
        r.assert_scim_error(401, None);
        let challenges: Vec<&str> = r
            .headers
            .get_all("www-authenticate")
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert!(
            challenges.iter().any(|c| c.starts_with("Bearer")),
            "{auth:?}: {challenges:?}"
        );
        assert!(
            challenges.iter().any(|c| c.starts_with("Basic")),
            "{auth:?}: {challenges:?}"
        );
    }
    let r = call(&app, Some("Bearer wrong-token")).await;
    assert!(
        r.header("www-authenticate")
            .is_some_and(|c| c.contains("invalid_token"))
    );
    assert!(
        !r.text.contains("wrong-token"),
        "the presented secret is never echoed"
    );
    // Every route under the base path is guarded, even unknown ones.
    let r = read(
        awc::Client::default()
            .get(app.url("/ServiceProviderConfig"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    r.assert_scim_error(401, None);
}

async fn basic_credentials_work(app: TestApp) {
    call(&app, Some(&basic(BASIC_USER, BASIC_PASSWORD)))
        .await
        .assert_status(200);
    call(&app, Some(&basic(BASIC_USER, "wrong")))
        .await
        .assert_scim_error(401, None);
    call(&app, Some(&basic("someone", BASIC_PASSWORD)))
        .await
        .assert_scim_error(401, None);
    call(&app, Some("Basic !!!not-base64"))
        .await
        .assert_scim_error(401, None);
}

async fn database_tokens_work_until_revoked(app: TestApp) {
    let minted = tokens::create(&app.db, DEFAULT_TENANT, "okta")
        .await
        .expect("mint");
    call(&app, Some(&format!("Bearer {}", minted.token)))
        .await
        .assert_status(200);
    assert!(
        tokens::revoke(&app.db, DEFAULT_TENANT, minted.id)
            .await
            .expect("revoke")
    );
    call(&app, Some(&format!("Bearer {}", minted.token)))
        .await
        .assert_scim_error(401, None);
    let listed = tokens::list(&app.db, DEFAULT_TENANT).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_ne!(
        listed[0].token_hash, minted.token,
        "only a digest is stored"
    );
}

async fn argon2_hashed_basic_credentials_work(default: TestApp) {
    let hash = roster::secrets::hash_secret("hashed-pw").expect("hash");
    let app = TestApp::spawn_with(default.kind, move |c| {
        c.auth.basic = vec![roster::config::Secret::new(format!("scim:{hash}"))];
    })
    .await;
    for _ in 0..2 {
        call(&app, Some(&basic("scim", "hashed-pw")))
            .await
            .assert_status(200);
    }
    call(&app, Some(&basic("scim", "Hashed-pw")))
        .await
        .assert_scim_error(401, None);
}
