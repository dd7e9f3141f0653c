//! Bearer JWTs from an external issuer (JWKS URL, key file, shared secret),
//! opaque tokens by introspection, and all modes together.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use roster::config::{Config, Secret};
use serde_json::{Value, json};

use crate::each_database;
use crate::helpers::{BASIC_PASSWORD, BASIC_USER, Db, TOKEN, TestApp};
use crate::issuer::{
    AUDIENCE, INTROSPECTION_CLIENT, ISSUER, Issuer, SCOPE, TestKey, advertised_schemes,
    assert_invalid_token, call_users, call_with_bearer, claims, jwks, key_path, now, unsigned,
};

each_database!(
    jwt_alone_accepts_tokens_from_the_issuer,
    bad_jwts_are_rejected,
    missing_scope_is_403_insufficient_scope,
    hs256_needs_the_configured_secret,
    jwks_rotation_picks_up_new_keys_and_drops_old_ones,
    unknown_kids_do_not_hammer_the_issuer,
    cached_keys_survive_an_unreachable_issuer,
    keys_from_a_jwks_file_or_a_pem_file,
    introspection_alone_checks_opaque_tokens,
    all_modes_together,
);

/// Only the external issuer (no static credentials), as Okta's OAuth mode
/// would be set up; failure limits out of the way.
fn jwt_only(issuer: &Issuer) -> impl FnOnce(&mut Config) {
    let url = issuer.jwks_url();
    move |c| {
        c.auth.bearer_tokens.clear();
        c.auth.basic.clear();
        c.auth.jwt.issuer = Some(ISSUER.to_owned());
        c.auth.jwt.audience = vec!["other-api".to_owned(), AUDIENCE.to_owned()];
        c.auth.jwt.jwks_url = Some(url);
        c.auth.jwt.required_scope = Some(SCOPE.to_owned());
        c.auth.jwt.jwks_min_refresh_seconds = 0;
        c.auth.rate_limit.burst = 1000;
    }
}

fn with(mut c: Value, key: &str, value: Value) -> Value {
    c[key] = value;
    c
}

async fn jwt_alone_accepts_tokens_from_the_issuer(db: Db) {
    let (rsa, ec) = (TestKey::rsa(1, "rsa-1"), TestKey::ec("ec-1"));
    let issuer = Issuer::start(jwks(&[&rsa, &ec])).await;
    let app = TestApp::spawn_with(db, jwt_only(&issuer)).await;

    call_with_bearer(&app, &rsa.sign(&claims()))
        .await
        .assert_status(200);
    call_with_bearer(&app, &ec.sign(&claims()))
        .await
        .assert_status(200);
    // Entra's form: `scp` as a space-separated string, `aud` a list.
    let entra = with(
        with(claims(), "scp", json!("openid scim")),
        "aud",
        json!([AUDIENCE]),
    );
    call_with_bearer(&app, &rsa.sign(&entra))
        .await
        .assert_status(200);
    let rfc9068 = with(claims(), "scope", json!("scim"));
    let rfc9068 = rfc9068.as_object().cloned().map(|mut o| {
        o.remove("scp");
        Value::Object(o)
    });
    call_with_bearer(&app, &rsa.sign(&rfc9068.expect("object")))
        .await
        .assert_status(200);

    // Basic is not enabled: refused, and not offered.
    let r = call_users(&app, Some("Basic b2t0YTpva3RhLXNlY3JldA==")).await;
    r.assert_scim_error(401, None);
    let challenges: Vec<_> = r.headers.get_all("www-authenticate").collect();
    assert_eq!(challenges.len(), 1, "{challenges:?}");

    let schemes = advertised_schemes(&app, &format!("Bearer {}", rsa.sign(&claims()))).await;
    let names: Vec<&str> = schemes.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["Bearer token", "OAuth 2.0 bearer JWT"]);
}

async fn bad_jwts_are_rejected(db: Db) {
    let (rsa1, rsa2) = (TestKey::rsa(1, "rsa-1"), TestKey::rsa(2, "rsa-2"));
    let issuer = Issuer::start(jwks(&[&rsa1])).await;
    let app = TestApp::spawn_with(db, jwt_only(&issuer)).await;
    let public_pem = std::fs::read(key_path("rsa1.pub.pem")).expect("pem");
    let forged_hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("rsa-1".to_owned());
        jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&public_pem))
            .expect("sign")
    };
    let valid = rsa1.sign(&claims());
    let tampered = {
        let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
        parts[1] = rsa2
            .sign(&with(claims(), "sub", json!("admin")))
            .split('.')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        parts.join(".")
    };
    let cases = [
        (
            "wrong signature (key 2 posing as key 1)",
            rsa2.sign_as(Algorithm::RS256, Some("rsa-1"), &claims()),
        ),
        (
            "unknown kid",
            rsa2.sign_as(Algorithm::RS256, Some("rsa-9"), &claims()),
        ),
        ("alg none", unsigned("rsa-1", &claims())),
        ("HS256 keyed with the RSA public key", forged_hs256),
        ("claims swapped under a valid signature", tampered),
        (
            "RS256 key used as PS256",
            rsa1.sign_as(Algorithm::PS256, Some("rsa-1"), &claims()),
        ),
        (
            "wrong issuer",
            rsa1.sign(&with(claims(), "iss", json!("https://evil.example.test"))),
        ),
        (
            "wrong audience",
            rsa1.sign(&with(claims(), "aud", json!("api://someone-else"))),
        ),
        (
            "no audience",
            rsa1.sign(
                &claims()
                    .as_object()
                    .map(|o| {
                        let mut o = o.clone();
                        o.remove("aud");
                        Value::Object(o)
                    })
                    .unwrap_or_default(),
            ),
        ),
        (
            "expired",
            rsa1.sign(&with(claims(), "exp", json!(now() - 600))),
        ),
        (
            "not yet valid",
            rsa1.sign(&with(claims(), "nbf", json!(now() + 600))),
        ),
        (
            "no expiry",
            rsa1.sign(
                &claims()
                    .as_object()
                    .map(|o| {
                        let mut o = o.clone();
                        o.remove("exp");
                        Value::Object(o)
                    })
                    .unwrap_or_default(),
            ),
        ),
        ("not a JWT", "abc.def.ghi".to_owned()),
    ];
    for (what, token) in cases {
        let r = call_with_bearer(&app, &token).await;
        assert_invalid_token(&r, what);
        assert!(
            !r.text.contains(&token),
            "{what}: the token is never echoed"
        );
    }
    call_with_bearer(&app, &valid).await.assert_status(200);
    // Expiry within the leeway is still accepted (clock skew).
    call_with_bearer(&app, &rsa1.sign(&with(claims(), "exp", json!(now() - 5))))
        .await
        .assert_status(200);
}

async fn missing_scope_is_403_insufficient_scope(db: Db) {
    let rsa = TestKey::rsa(1, "rsa-1");
    let issuer = Issuer::start(jwks(&[&rsa])).await;
    let app = TestApp::spawn_with(db, jwt_only(&issuer)).await;
    for scopes in [json!(["openid"]), json!("openid profile"), json!([])] {
        let r = call_with_bearer(&app, &rsa.sign(&with(claims(), "scp", scopes))).await;
        r.assert_scim_error(403, None);
        let challenge = r.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.contains(r#"error="insufficient_scope""#)
                && challenge.contains(r#"scope="scim""#),
            "{challenge}"
        );
    }
}

async fn hs256_needs_the_configured_secret(db: Db) {
    const SECRET: &str = "a-shared-secret-of-at-least-32-bytes!";
    let app = TestApp::spawn_with(db, |c| {
        c.auth.jwt.issuer = Some(ISSUER.to_owned());
        c.auth.jwt.audience = vec![AUDIENCE.to_owned()];
        c.auth.jwt.hs256_secret = Some(Secret::new(SECRET));
        c.auth.rate_limit.burst = 1000;
    })
    .await;
    let sign = |alg: Algorithm, secret: &str| {
        jsonwebtoken::encode(
            &Header::new(alg),
            &claims(),
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("sign")
    };
    call_with_bearer(&app, &sign(Algorithm::HS256, SECRET))
        .await
        .assert_status(200);
    assert_invalid_token(
        &call_with_bearer(
            &app,
            &sign(Algorithm::HS256, "another-secret-of-at-least-32-bytes"),
        )
        .await,
        "wrong secret",
    );
    assert_invalid_token(
        &call_with_bearer(&app, &sign(Algorithm::HS384, SECRET)).await,
        "HS384",
    );
    assert_invalid_token(
        &call_with_bearer(&app, &TestKey::rsa(1, "rsa-1").sign(&claims())).await,
        "RS256 without keys",
    );

    // Without a secret, HS256 is refused whatever the key.
    let rsa = TestKey::rsa(1, "rsa-1");
    let issuer = Issuer::start(jwks(&[&rsa])).await;
    let app = TestApp::spawn_with(db, jwt_only(&issuer)).await;
    assert_invalid_token(
        &call_with_bearer(&app, &sign(Algorithm::HS256, SECRET)).await,
        "HS256 without a secret",
    );
}

async fn jwks_rotation_picks_up_new_keys_and_drops_old_ones(db: Db) {
    let (old, new) = (TestKey::rsa(1, "2024-key"), TestKey::rsa(2, "2025-key"));
    let issuer = Issuer::start(jwks(&[&old])).await;
    let app = TestApp::spawn_with(db, jwt_only(&issuer)).await;
    call_with_bearer(&app, &old.sign(&claims()))
        .await
        .assert_status(200);
    assert_eq!(issuer.jwks_hits(), 1);

    // The issuer rolls over: both keys, then only the new one.
    issuer.publish(jwks(&[&old, &new]));
    call_with_bearer(&app, &new.sign(&claims()))
        .await
        .assert_status(200);
    call_with_bearer(&app, &old.sign(&claims()))
        .await
        .assert_status(200);
    assert_eq!(issuer.jwks_hits(), 2, "one refetch, for the unknown kid");

    issuer.publish(jwks(&[&new]));
    let third = TestKey::ec("2026-key");
    // A token with an unknown kid makes Roster refetch and see the old key gone.
    assert_invalid_token(
        &call_with_bearer(&app, &third.sign(&claims())).await,
        "unpublished key",
    );
    assert_invalid_token(
        &call_with_bearer(&app, &old.sign(&claims())).await,
        "dropped key",
    );
    call_with_bearer(&app, &new.sign(&claims()))
        .await
        .assert_status(200);
}

async fn unknown_kids_do_not_hammer_the_issuer(db: Db) {
    let rsa = TestKey::rsa(1, "rsa-1");
    let issuer = Issuer::start(jwks(&[&rsa])).await;
    let app = TestApp::spawn_with(db, |c| {
        jwt_only(&issuer)(c);
        c.auth.jwt.jwks_min_refresh_seconds = 300;
    })
    .await;
    call_with_bearer(&app, &rsa.sign(&claims()))
        .await
        .assert_status(200);
    for i in 0..10 {
        let token = rsa.sign_as(Algorithm::RS256, Some(&format!("made-up-{i}")), &claims());
        assert_invalid_token(&call_with_bearer(&app, &token).await, "made-up kid");
    }
    assert_eq!(issuer.jwks_hits(), 1, "refetches are rate-limited");
    call_with_bearer(&app, &rsa.sign(&claims()))
        .await
        .assert_status(200);
}

async fn cached_keys_survive_an_unreachable_issuer(db: Db) {
    let rsa = TestKey::rsa(1, "rsa-1");
    let issuer = Issuer::start(jwks(&[&rsa])).await;
    let app = TestApp::spawn_with(db, |c| {
        jwt_only(&issuer)(c);
        c.auth.jwt.jwks_cache_seconds = 1;
    })
    .await;
    call_with_bearer(&app, &rsa.sign(&claims()))
        .await
        .assert_status(200);
    issuer.stop().await;
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    // Keys are stale now and the issuer is down: the cached ones still serve.
    for _ in 0..3 {
        call_with_bearer(&app, &rsa.sign(&claims()))
            .await
            .assert_status(200);
    }
    let unknown = TestKey::rsa(2, "rsa-2");
    assert_invalid_token(
        &call_with_bearer(&app, &unknown.sign(&claims())).await,
        "unknown kid, issuer down",
    );
    call_with_bearer(&app, &rsa.sign(&claims()))
        .await
        .assert_status(200);
}

async fn keys_from_a_jwks_file_or_a_pem_file(db: Db) {
    let dir = tempfile::tempdir().expect("dir");
    let (rsa1, rsa2, ec) = (
        TestKey::rsa(1, "rsa-1"),
        TestKey::rsa(2, "any"),
        TestKey::ec("ec-1"),
    );
    let jwks_file = dir.path().join("keys.json");
    std::fs::write(&jwks_file, jwks(&[&rsa1, &ec]).to_string()).expect("write");
    let file_app = |path: std::path::PathBuf| {
        move |c: &mut Config| {
            c.auth.jwt.issuer = Some(ISSUER.to_owned());
            c.auth.jwt.audience = vec![AUDIENCE.to_owned()];
            c.auth.jwt.jwks_file = Some(path);
        }
    };
    let app = TestApp::spawn_with(db, file_app(jwks_file)).await;
    call_with_bearer(&app, &rsa1.sign(&claims()))
        .await
        .assert_status(200);
    call_with_bearer(&app, &ec.sign(&claims()))
        .await
        .assert_status(200);
    assert_invalid_token(
        &call_with_bearer(&app, &rsa2.sign(&claims())).await,
        "key not in the file",
    );

    let app = TestApp::spawn_with(db, file_app(key_path("rsa2.pub.pem").into())).await;
    call_with_bearer(&app, &rsa2.sign(&claims()))
        .await
        .assert_status(200);
    assert_invalid_token(
        &call_with_bearer(&app, &rsa1.sign(&claims())).await,
        "other key",
    );
}

fn introspection(issuer: &Issuer, c: &mut Config) {
    c.auth.introspection.url = Some(issuer.introspection_url());
    c.auth.introspection.client_id = Some(INTROSPECTION_CLIENT.0.to_owned());
    c.auth.introspection.client_secret = Some(Secret::new(INTROSPECTION_CLIENT.1));
    c.auth.introspection.required_scope = Some(SCOPE.to_owned());
}

async fn introspection_alone_checks_opaque_tokens(db: Db) {
    let issuer = Issuer::start(jwks(&[])).await;
    let app = TestApp::spawn_with(db, |c| {
        c.auth.bearer_tokens.clear();
        c.auth.basic.clear();
        introspection(&issuer, c);
    })
    .await;
    for _ in 0..3 {
        call_with_bearer(&app, "good-opaque-1")
            .await
            .assert_status(200);
    }
    assert_eq!(issuer.introspections(), 1, "active answers are cached");
    assert_invalid_token(
        &call_with_bearer(&app, "revoked-opaque").await,
        "inactive token",
    );
    call_with_bearer(&app, "noscope-opaque")
        .await
        .assert_scim_error(403, None);
    let names: Vec<String> = advertised_schemes(&app, "Bearer good-opaque-1")
        .await
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(names, ["Bearer token", "OAuth 2.0 introspected token"]);
}

async fn all_modes_together(db: Db) {
    let rsa = TestKey::rsa(1, "rsa-1");
    let issuer = Issuer::start(jwks(&[&rsa])).await;
    let app = TestApp::spawn_with(db, |c| {
        let (tokens, basic) = (c.auth.bearer_tokens.clone(), c.auth.basic.clone());
        jwt_only(&issuer)(c);
        introspection(&issuer, c);
        c.auth.bearer_tokens = tokens;
        c.auth.basic = basic;
    })
    .await;
    let minted = roster::service::tokens::create(&app.db, roster::service::DEFAULT_TENANT, "entra")
        .await
        .expect("mint");
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{BASIC_USER}:{BASIC_PASSWORD}")
        )
    );
    for auth in [
        basic.clone(),
        format!("Bearer {TOKEN}"),
        format!("Bearer {}", minted.token),
        format!("Bearer {}", rsa.sign(&claims())),
        "Bearer good-opaque-2".to_owned(),
    ] {
        call_users(&app, Some(&auth)).await.assert_status(200);
    }
    assert_invalid_token(
        &call_with_bearer(&app, "nothing-known").await,
        "unknown token",
    );
    let schemes = advertised_schemes(&app, &basic).await;
    let types: Vec<&str> = schemes.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "oauthbearertoken",
            "httpbasic",
            "oauthbearertoken",
            "oauthbearertoken"
        ]
    );
}
