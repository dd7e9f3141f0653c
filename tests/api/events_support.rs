//! What the event tests share: receivers added the way the CLI adds them,
//! a poll client, SET verification against the published key set with
//! `jsonwebtoken`, a local push receiver, and a clock tests move by hand.

use std::sync::atomic::{AtomicI64, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use roster::events::Clock;
use roster::events::receivers::{self, Format, Mode, NewReceiver};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::TestApp;

pub const URI: &str = "urn:ietf:params:scim:event:";

/// Adds a receiver as `roster receiver add` does; its secret, if any.
pub async fn add_receiver(
    db: &DatabaseConnection,
    tenant: Uuid,
    name: &str,
    mode: Mode,
    format: Format,
    url: Option<String>,
) -> Option<String> {
    let new = NewReceiver {
        name: name.to_owned(),
        mode,
        format,
        url,
        audience: None,
        events: Vec::new(),
    };
    receivers::add(db, tenant, new, roster::time::now_ms(), None)
        .await
        .expect("add a receiver")
        .secret
}

pub async fn add_poll(db: &DatabaseConnection, tenant: Uuid, name: &str) -> String {
    add_receiver(db, tenant, name, Mode::Poll, Format::Set, None)
        .await
        .expect("a poll credential")
}

/// POSTs `body` to the poll endpoint with `credential`.
pub async fn poll(app: &TestApp, credential: &str, body: &Value) -> (u16, Value) {
    let mut resp = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .finish()
        .post(format!("{}/events/poll", app.root))
        .insert_header(("Authorization", format!("Bearer {credential}")))
        .send_json(body)
        .await
        .expect("poll");
    let status = resp.status().as_u16();
    let bytes = resp.body().limit(64 << 20).await.expect("poll body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Polls with `returnImmediately` until nothing is left, acknowledging
/// what came; every SET verified and decoded.
pub async fn drain(app: &TestApp, credential: &str) -> Vec<Value> {
    let keys = jwks(app).await;
    let mut seen = Vec::new();
    let mut ack: Vec<String> = Vec::new();
    loop {
        let body = json!({"ack": ack, "returnImmediately": true, "maxEvents": 50});
        let (status, answer) = poll(app, credential, &body).await;
        assert_eq!(status, 200, "{answer}");
        let sets = answer["sets"].as_object().expect("sets").clone();
        if sets.is_empty() {
            return seen;
        }
        ack = sets.keys().cloned().collect();
        for (jti, token) in sets {
            let claims = verify(token.as_str().expect("a SET"), &keys);
            assert_eq!(claims["jti"], jti);
            seen.push(claims);
        }
    }
}

pub async fn jwks(app: &TestApp) -> JwkSet {
    let resp = awc::Client::default()
        .get(format!("{}/oauth2/jwks", app.root))
        .send()
        .await
        .expect("jwks")
        .json::<JwkSet>()
        .await;
    resp.expect("a key set")
}

/// Verifies a SET as a receiver would: its `kid` in the key set, ES256,
/// `typ` `secevent+jwt`; its claims.
pub fn verify(token: &str, keys: &JwkSet) -> Value {
    let header = decode_header(token).expect("a JWS header");
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    let kid = header.kid.expect("a kid");
    let jwk = keys.find(&kid).expect("the signing key is published");
    let key = DecodingKey::from_jwk(jwk).expect("a decoding key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    decode::<Value>(token, &key, &validation)
        .expect("the signature verifies")
        .claims
}

/// The one event of a SET: (short name, payload).
pub fn event_of(claims: &Value) -> (String, Value) {
    let events = claims["events"].as_object().expect("events");
    assert_eq!(events.len(), 1, "one event per SET: {claims}");
    let (uri, payload) = events.iter().next().expect("an event");
    let short = uri.strip_prefix(URI).expect("an RFC 9967 URI").to_owned();
    (short, payload.clone())
}

/// (event, resource id) of each SET, sorted.
pub fn summary(sets: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = sets
        .iter()
        .map(|c| {
            (
                event_of(c).0,
                c["sub_id"]["id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// One request a push receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub content_type: String,
    pub signature: Option<String>,
    pub body: String,
}

/// A local push receiver answering with `status` (202 unless changed).
#[derive(Clone)]
pub struct Sink {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub status: Arc<AtomicU16>,
    /// How long each answer takes.
    pub delay_ms: Arc<AtomicU64>,
}

impl Sink {
    pub fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(202));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (r, s, d) = (received.clone(), status.clone(), delay_ms.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new((r.clone(), s.clone(), d.clone())))
                .default_service(web::to(take))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("bind the receiver");
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        Self {
            url: format!("http://127.0.0.1:{port}/events"),
            received,
            status,
            delay_ms,
        }
    }

    pub fn bodies(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until `n` requests were accepted (202) or `secs` passed.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let got = self.bodies();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

type SinkState = (Arc<Mutex<Vec<Received>>>, Arc<AtomicU16>, Arc<AtomicU64>);

async fn take(state: web::Data<SinkState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let delay = state.2.load(Ordering::SeqCst);
    if delay > 0 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let status = state.1.load(Ordering::SeqCst);
    if status == 202 || status == 200 {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        state.0.lock().expect("lock").push(Received {
            content_type: header("content-type").unwrap_or_default(),
            signature: header("roster-signature"),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    let code = actix_web::http::StatusCode::from_u16(status).expect("a status");
    if status == 400 {
        return HttpResponse::build(code)
            .json(json!({"err": "invalid_request", "description": "refused by the test"}));
    }
    HttpResponse::build(code).finish()
}

/// A clock the test moves.
#[derive(Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn starting_now() -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(roster::time::now_ms())))
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
