//! A stand-in for an external authorization server: a local HTTP server
//! publishing a JWKS (which tests swap or take down) and answering RFC 7662
//! introspection, plus keys and helpers to mint tokens the way Okta or
//! Entra would.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, read};

pub const ISSUER: &str = "https://issuer.example.test/oauth2/default";
pub const AUDIENCE: &str = "api://roster";
pub const SCOPE: &str = "scim";
pub const INTROSPECTION_CLIENT: (&str, &str) = ("roster", "introspection-secret");

/// Runs each named `async fn(Db)` once on SQLite and once on MariaDB, for
/// tests that configure their own app.
#[macro_export]
macro_rules! each_database {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Db::Sqlite).await
                }
                #[actix_web::test]
                async fn mariadb() {
                    super::$name($crate::helpers::Db::MariaDb).await
                }
            }
        )*
    };
}

pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    encoding: EncodingKey,
    pub jwk: Value,
}

impl TestKey {
    fn new(kid: &str, alg: Algorithm, encoding: EncodingKey) -> Self {
        let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&encoding, alg).expect("jwk"))
            .expect("jwk json");
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        Self {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
        }
    }

    /// One of the two throwaway RSA keys under tests/keys.
    pub fn rsa(which: u8, kid: &str) -> Self {
        let pem = std::fs::read(key_path(&format!("rsa{which}.pem"))).expect("test key");
        Self::new(
            kid,
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(&pem).expect("rsa key"),
        )
    }

    pub fn ec(kid: &str) -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("randomness");
        let pem = p256::SecretKey::from_slice(&bytes)
            .expect("scalar")
            .to_pkcs8_pem(LineEnding::LF)
            .expect("pem");
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).expect("ec key");
        Self::new(kid, Algorithm::ES256, encoding)
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(self.alg, Some(&self.kid), claims)
    }

    pub fn sign_as(&self, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

pub fn key_path(name: &str) -> String {
    format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims as Okta's custom authorization server sends them.
pub fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "0oa1okta",
        "iat": now(),
        "nbf": now(),
        "exp": now() + 300,
        "scp": [SCOPE],
        "cid": "0oa1okta",
    })
}

pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
}

/// A token whose header says `alg: none` and whose signature is empty.
pub fn unsigned(kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT", "kid": kid});
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[derive(Clone, Default)]
struct Shared {
    jwks: Arc<Mutex<Value>>,
    jwks_hits: Arc<AtomicUsize>,
    introspections: Arc<AtomicUsize>,
}

pub struct Issuer {
    pub base: String,
    shared: Shared,
    handle: ServerHandle,
}

impl Issuer {
    pub async fn start(keys: Value) -> Self {
        let shared = Shared::default();
        *shared.jwks.lock().expect("lock") = keys;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let data = shared.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(data.clone()))
                .route("/keys", web::get().to(serve_jwks))
                .route("/introspect", web::post().to(introspect))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            base: format!("http://127.0.0.1:{port}"),
            shared,
            handle,
        }
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/keys", self.base)
    }

    pub fn introspection_url(&self) -> String {
        format!("{}/introspect", self.base)
    }

    pub fn publish(&self, keys: Value) {
        *self.shared.jwks.lock().expect("lock") = keys;
    }

    pub fn jwks_hits(&self) -> usize {
        self.shared.jwks_hits.load(Ordering::SeqCst)
    }

    pub fn introspections(&self) -> usize {
        self.shared.introspections.load(Ordering::SeqCst)
    }

    /// Takes the issuer off the network, as an outage would.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

async fn serve_jwks(data: web::Data<Shared>) -> HttpResponse {
    data.jwks_hits.fetch_add(1, Ordering::SeqCst);
    let body = data.jwks.lock().expect("lock").clone();
    HttpResponse::Ok().json(body)
}

/// Opaque tokens: `good-*` is active with the scope, `noscope-*` active
/// without it, anything else inactive. The caller must authenticate.
async fn introspect(
    req: HttpRequest,
    data: web::Data<Shared>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    data.introspections.fetch_add(1, Ordering::SeqCst);
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!(
            "{}:{}",
            INTROSPECTION_CLIENT.0, INTROSPECTION_CLIENT.1
        ))
    );
    let authorized = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str());
    if !authorized {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let body = if token.starts_with("good-") {
        json!({"active": true, "scope": "openid scim", "sub": "entra-app", "exp": now() + 300})
    } else if token.starts_with("noscope-") {
        json!({"active": true, "scope": "openid", "exp": now() + 300})
    } else {
        json!({"active": false})
    };
    HttpResponse::Ok().json(body)
}

/// GET /Users with this Authorization header (or none).
pub async fn call_users(app: &TestApp, authorization: Option<&str>) -> Resp {
    let mut req = awc::Client::default().get(app.url("/Users"));
    if let Some(a) = authorization {
        req = req.insert_header(("Authorization", a));
    }
    read(req.send().await.expect("send")).await
}

pub async fn call_with_bearer(app: &TestApp, token: &str) -> Resp {
    call_users(app, Some(&format!("Bearer {token}"))).await
}

/// Asserts a 401 for a bad bearer token, as RFC 6750 §3.1 words it.
#[track_caller]
pub fn assert_invalid_token(r: &Resp, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text);
    r.assert_scim_error(401, None);
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{what}: {challenge}"
    );
}

/// The `type`/`name` pairs ServiceProviderConfig advertises.
pub async fn advertised_schemes(app: &TestApp, authorization: &str) -> Vec<(String, String)> {
    let r = read(
        awc::Client::default()
            .get(app.url("/ServiceProviderConfig"))
            .insert_header(("Authorization", authorization))
            .send()
            .await
            .expect("send"),
    )
    .await;
    r.assert_status(200);
    r.body["authenticationSchemes"]
        .as_array()
        .expect("schemes")
        .iter()
        .map(|s| {
            (
                s["type"].as_str().unwrap_or_default().to_owned(),
                s["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}
