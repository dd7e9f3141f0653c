//! Credentials that decide the tenant besides database tokens: clients of
//! the built-in authorization server (their tokens reach their tenant
//! only), and `[[tenant]]` bindings of Basic users and external JWTs.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{EncodingKey, Header};
use roster::config::{JwtTenantConfig, Secret, TenantConfig};
use roster::oauth::{NewClient, add_client};
use roster::scim::profile::Profile;
use roster::service::tenants;
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::each_database;
use crate::helpers::{Db, Resp, TestApp, read};
use crate::tenants::{Caller, default_caller};

each_database!(
    the_token_endpoint_issues_tokens_of_the_clients_tenant,
    configured_basic_users_and_jwt_audiences_reach_their_tenant,
);

async fn client_in(db: &DatabaseConnection, tenant: &str, client_id: &str) -> String {
    let t = tenants::find(db, tenant).await.expect("tenant");
    let new = NewClient {
        client_id: client_id.to_owned(),
        redirect_uris: vec![],
        grant_types: vec!["client_credentials".to_owned()],
        scopes: vec![],
        require_pkce: true,
    };
    add_client(db, t.id, new).await.expect("add client")
}

async fn token_request(app: &TestApp, client_id: &str, secret: &str) -> Resp {
    let basic = STANDARD.encode(format!("{client_id}:{secret}"));
    let sent = awc::Client::default()
        .post(format!("{}/oauth2/token", app.root))
        .insert_header(("Authorization", format!("Basic {basic}")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body("grant_type=client_credentials")
        .await
        .expect("send");
    read(sent).await
}

async fn access_token(app: &TestApp, client_id: &str, secret: &str) -> String {
    let r = token_request(app, client_id, secret).await;
    r.assert_status(200);
    r.body["access_token"].as_str().expect("token").to_owned()
}

async fn the_token_endpoint_issues_tokens_of_the_clients_tenant(db: Db) {
    let secrets = std::sync::Mutex::new(Vec::new());
    let app = TestApp::spawn_prepared(
        db,
        |_| {},
        async |db: &DatabaseConnection| {
            for name in ["acme", "beta"] {
                tenants::add(db, name, Profile::Okta, None)
                    .await
                    .expect("tenant");
            }
            let a = client_in(db, "acme", "acme-app").await;
            let b = client_in(db, "beta", "beta-app").await;
            secrets.lock().expect("lock").extend([a, b]);
        },
    )
    .await;
    let (a_secret, b_secret) = {
        let s = secrets.lock().expect("lock");
        (s[0].clone(), s[1].clone())
    };
    // A client id names one client in all tenants.
    let taken = NewClient {
        client_id: "acme-app".to_owned(),
        redirect_uris: vec![],
        grant_types: vec!["client_credentials".to_owned()],
        scopes: vec![],
        require_pkce: true,
    };
    let beta = tenants::find(&app.db, "beta").await.expect("beta");
    assert!(add_client(&app.db, beta.id, taken).await.is_err());
    // Another tenant's secret is no secret of this client.
    let r = token_request(&app, "acme-app", &b_secret).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.body["error"], "invalid_client");
    let a = Caller::bearer(&app, &access_token(&app, "acme-app", &a_secret).await);
    let b = Caller::bearer(&app, &access_token(&app, "beta-app", &b_secret).await);
    let alice = a.create_user("alice@example.com").await;
    b.create_user("alice@example.com").await;
    b.get(&format!("/Users/{alice}"))
        .await
        .assert_scim_error(404, None);
    a.get(&format!("/Users/{alice}")).await.assert_status(200);
    assert_eq!(b.get("/Users").await.body["totalResults"], 1);
    assert_eq!(a.get("/Users").await.body["totalResults"], 1);
    assert_eq!(
        default_caller(&app).get("/Users").await.body["totalResults"],
        0
    );
    a.under("acme").get("/Users").await.assert_status(200);
    a.under("beta")
        .get("/Users")
        .await
        .assert_scim_error(404, None);
}

const ISSUER: &str = "https://idp.example";
const SECRET: &str = "a-shared-secret-of-at-least-32-bytes!";

fn jwt_for(audience: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let claims = json!({"iss": ISSUER, "aud": audience, "sub": "connector", "exp": now + 300});
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign")
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

async fn configured_basic_users_and_jwt_audiences_reach_their_tenant(db: Db) {
    let app = TestApp::spawn_prepared(
        db,
        |c| {
            c.auth.basic.push(Secret::new("acme-user:acme-password"));
            c.auth.jwt.issuer = Some(ISSUER.to_owned());
            c.auth.jwt.audience = vec!["roster".to_owned(), "roster-acme".to_owned()];
            c.auth.jwt.hs256_secret = Some(Secret::new(SECRET));
            c.tenant = vec![TenantConfig {
                name: "acme".to_owned(),
                basic_users: vec!["acme-user".to_owned()],
                jwt: vec![JwtTenantConfig {
                    issuer: ISSUER.to_owned(),
                    audience: "roster-acme".to_owned(),
                }],
            }];
        },
        async |db: &DatabaseConnection| {
            tenants::add(db, "acme", Profile::Entra, None)
                .await
                .expect("tenant");
        },
    )
    .await;
    let as_auth = |authorization: String| Caller {
        app: &app,
        authorization,
        prefix: String::new(),
    };
    let acme_basic = as_auth(basic("acme-user", "acme-password"));
    let default_basic = as_auth(basic(
        crate::helpers::BASIC_USER,
        crate::helpers::BASIC_PASSWORD,
    ));
    let acme_jwt = as_auth(format!("Bearer {}", jwt_for("roster-acme")));
    let default_jwt = as_auth(format!("Bearer {}", jwt_for("roster")));
    let id = acme_basic.create_user("alice@example.com").await;
    for (caller, seen) in [
        (&acme_basic, true),
        (&acme_jwt, true),
        (&default_basic, false),
        (&default_jwt, false),
    ] {
        let r = caller.get(&format!("/Users/{id}")).await;
        assert_eq!(r.status, if seen { 200 } else { 404 }, "{}", r.text);
    }
    acme_jwt
        .under("acme")
        .get("/Users")
        .await
        .assert_status(200);
    default_jwt
        .under("default")
        .get("/Users")
        .await
        .assert_status(200);
    default_jwt
        .under("acme")
        .get("/Users")
        .await
        .assert_scim_error(404, None);
}
