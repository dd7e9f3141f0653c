//! Generative fuzzing of the real application, in-process: the same `App`
//! the server runs (`startup::app`), called without sockets so that
//! 100,000 requests fit in the stage. No answer may be a 5xx, no handler
//! may panic, and every 4xx of the SCIM API is an RFC 7644 §3.12 error.
//!
//! `ROSTER_FUZZ_SEED` replays a run (the seed is printed),
//! `ROSTER_FUZZ_REQUESTS` sizes it, `ROSTER_FUZZ_SECONDS` bounds it.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::dev::Service;
use actix_web::test::{TestRequest, init_service};
use futures_util::{FutureExt, StreamExt};
use roster::config::{Config, DatabaseUrl, OAuthClientConfig, Secret};
use roster::startup::{Application, app};
use serde_json::Value;

use super::fuzz_gen::{BASE, Gen, Req};
use crate::helpers::{BASIC_PASSWORD, BASIC_USER, Db, TOKEN, mariadb_url};

/// Requests in flight at once: enough to overlap the write thread's work
/// with the next requests' parsing.
const IN_FLIGHT: usize = 8;

static PANICS: AtomicUsize = AtomicUsize::new(0);

pub struct Plan {
    pub requests: usize,
    pub budget: Duration,
    pub seed: u64,
}

impl Plan {
    /// From the environment, else `requests` within `budget` with a fresh seed.
    pub fn from_env(requests: usize, budget: Duration) -> Self {
        let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        Self {
            requests: var("ROSTER_FUZZ_REQUESTS").map_or(requests, |n| n as usize),
            budget: var("ROSTER_FUZZ_SECONDS").map_or(budget, Duration::from_secs),
            seed: var("ROSTER_FUZZ_SEED").unwrap_or_else(rand::random),
        }
    }
}

pub struct Outcome {
    pub sent: usize,
    pub failures: Vec<String>,
    pub by_status: std::collections::BTreeMap<u16, usize>,
}

async fn config(db: Db) -> (Config, Option<tempfile::TempDir>) {
    let (url, dir) = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("fuzz.db").display());
            (url, Some(dir))
        }
        Db::MariaDb => (mariadb_url().await, None),
    };
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:1".to_owned();
    config.database.url = DatabaseUrl::new(url);
    config.database.max_connections = 4;
    config.auth.bearer_tokens = vec![Secret::new(TOKEN)];
    config.auth.basic = vec![Secret::new(format!("{BASIC_USER}:{BASIC_PASSWORD}"))];
    // The fuzzer sends bad credentials on purpose; it must not lock itself out.
    config.auth.rate_limit.burst = u32::MAX / 2;
    config.auth.rate_limit.per_minute = u32::MAX / 2;
    // Small pages: a list renders every resource of its page, and the
    // fuzzer creates thousands; what paging does is the same at any size.
    config.scim.default_page_size = 10;
    config.scim.max_page_size = 50;
    config.oauth.admins = vec![Secret::new("admin:admin-password")];
    config.oauth.clients = vec![OAuthClientConfig {
        client_id: "fuzz".to_owned(),
        client_secret: Secret::new("fuzz-secret-0123456789"),
        redirect_uris: vec!["https://idp.example/cb".to_owned()],
        grant_types: vec![
            "client_credentials".to_owned(),
            "authorization_code".to_owned(),
            "refresh_token".to_owned(),
        ],
        scopes: Vec::new(),
        require_pkce: true,
    }];
    (config, dir)
}

/// Counts panics on every thread (the write thread's too), beside the
/// default report.
fn count_panics() {
    static HOOKED: std::sync::Once = std::sync::Once::new();
    HOOKED.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

pub async fn run(db: Db, plan: &Plan) -> Outcome {
    count_panics();
    let panics_before = PANICS.load(Ordering::SeqCst);
    println!(
        "fuzz on {db:?}: part seed {}, up to {} requests in {:?}",
        plan.seed, plan.requests, plan.budget
    );
    let (config, _dir) = config(db).await;
    let routes = Application::builder(config)
        .connect()
        .await
        .expect("connect")
        .routes()
        .await
        .expect("routes");
    let service = init_service(app(routes)).await;
    let generator = RefCell::new(Gen::new(plan.seed));
    let outcome = RefCell::new(Outcome {
        sent: 0,
        failures: Vec::new(),
        by_status: Default::default(),
    });
    let started = Instant::now();
    let requests = futures_util::stream::iter(0..plan.requests)
        .take_while(|_| futures_util::future::ready(started.elapsed() < plan.budget))
        .map(|_| generator.borrow_mut().request())
        .map(|req| {
            let service = &service;
            async move {
                let call = service.call(test_request(&req).to_request());
                let answer = match AssertUnwindSafe(call).catch_unwind().await {
                    Ok(Ok(resp)) => Ok(answered(resp.into_parts().1).await),
                    Ok(Err(e)) => Ok(answered(e.error_response()).await),
                    Err(_) => Err("the handler panicked".to_owned()),
                };
                (req, answer)
            }
        })
        .buffer_unordered(IN_FLIGHT);
    requests
        .for_each(|(req, answer)| {
            let mut out = outcome.borrow_mut();
            out.sent += 1;
            match answer {
                Err(e) => out.failures.push(format!("{e}:\n{}", req.describe())),
                Ok((status, headers, body)) => {
                    *out.by_status.entry(status).or_default() += 1;
                    let body = match body.map(|b| decoded(&headers, b)) {
                        Ok(body) => body,
                        Err(e) => {
                            out.failures
                                .push(format!("{status} {e}:\n{}", req.describe()));
                            return futures_util::future::ready(());
                        }
                    };
                    if let Some(problem) = judge(&req, status, &headers, &body) {
                        out.failures.push(format!("{problem}:\n{}", req.describe()));
                    }
                    learn(&mut generator.borrow_mut(), &req, status, &body);
                }
            }
            futures_util::future::ready(())
        })
        .await;
    let mut out = outcome.into_inner();
    let panics = PANICS.load(Ordering::SeqCst) - panics_before;
    if panics > 0 {
        out.failures.push(format!(
            "{panics} panic(s) on some thread (see the output above)"
        ));
    }
    let elapsed = started.elapsed();
    println!(
        "fuzz on {db:?}: {} requests in {elapsed:.1?} ({:.0}/s), statuses {:?}, {} failure(s)",
        out.sent,
        out.sent as f64 / elapsed.as_secs_f64(),
        out.by_status,
        out.failures.len()
    );
    out
}

/// Status, headers and body of an answer, whether a handler's or an
/// error's.
async fn answered<B: actix_web::body::MessageBody>(
    resp: actix_web::HttpResponse<B>,
) -> (
    u16,
    actix_web::http::header::HeaderMap,
    Result<actix_web::web::Bytes, String>,
) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = actix_web::body::to_bytes(resp.into_body())
        .await
        .map_err(|_| "the body stream failed".to_owned());
    (status, headers, body)
}

fn test_request(req: &Req) -> TestRequest {
    let mut test = TestRequest::default()
        .method(req.method.clone())
        .uri(&req.uri);
    for (name, value) in &req.headers {
        if let (Ok(name), Ok(value)) = (
            actix_web::http::header::HeaderName::from_bytes(name.as_bytes()),
            actix_web::http::header::HeaderValue::from_bytes(value),
        ) {
            test = test.append_header((name, value));
        }
    }
    test.set_payload(req.body.clone())
}

/// The body as sent before compression (the client asked for gzip).
fn decoded(headers: &actix_web::http::header::HeaderMap, body: actix_web::web::Bytes) -> Vec<u8> {
    use std::io::Read;
    let gzipped = headers.get("content-encoding").is_some_and(|v| v == "gzip");
    if !gzipped {
        return body.to_vec();
    }
    let mut out = Vec::new();
    match flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut out) {
        Ok(_) => out,
        Err(_) => body.to_vec(),
    }
}

/// What is wrong with an answer, if anything.
fn judge(
    req: &Req,
    status: u16,
    headers: &actix_web::http::header::HeaderMap,
    body: &[u8],
) -> Option<String> {
    if status >= 500 {
        return Some(format!("{status}: {}", String::from_utf8_lossy(body)));
    }
    if !(400..500).contains(&status) || req.method == actix_web::http::Method::HEAD {
        return None;
    }
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if !req.uri.starts_with(BASE) {
        // The authorization server answers in OAuth's format (RFC 6749
        // §5.2), its sign-in page in HTML; everything else in SCIM's.
        let html = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if json["error"].is_string() || html || json["schemas"][0].is_string() {
            return None;
        }
        return Some(format!(
            "{status} without an error body: {}",
            String::from_utf8_lossy(body)
        ));
    }
    let scim = json["schemas"][0] == "urn:ietf:params:scim:api:messages:2.0:Error"
        && json["status"].as_str() == Some(status.to_string().as_str())
        && json["detail"].as_str().is_some_and(|d| !d.is_empty());
    (!scim).then(|| {
        format!(
            "{status} without a SCIM error body: {}",
            String::from_utf8_lossy(body)
        )
    })
}

/// Ids of created resources, for later requests to address.
fn learn(generator: &mut Gen, req: &Req, status: u16, body: &[u8]) {
    if status != 201 {
        return;
    }
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let Some(id) = json["id"].as_str() else {
        return;
    };
    if req.uri.ends_with("/Users") {
        generator.users.push(id.to_owned());
    } else if req.uri.ends_with("/Groups") {
        generator.groups.push(id.to_owned());
    }
}

fn assert_clean(outcome: &Outcome) {
    for failure in outcome.failures.iter().take(20) {
        println!("---- failure\n{failure}\n");
    }
    assert!(
        outcome.failures.is_empty(),
        "{} failure(s); the first are printed above",
        outcome.failures.len()
    );
    assert!(outcome.sent > 0);
}

/// `plan` split over `threads` runs, each on its own thread, application
/// and database, seeded `seed + i`: the same seed and thread count replay
/// the same requests.
fn run_parallel(db: Db, plan: &Plan, threads: usize) -> Outcome {
    println!(
        "fuzz on {db:?}: ROSTER_FUZZ_SEED={} ROSTER_FUZZ_THREADS={threads} ROSTER_FUZZ_REQUESTS={} replays this run",
        plan.seed, plan.requests
    );
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let part = Plan {
                requests: plan.requests / threads + usize::from(i < plan.requests % threads),
                budget: plan.budget,
                seed: plan.seed.wrapping_add(i as u64),
            };
            std::thread::spawn(move || actix_web::rt::System::new().block_on(run(db, &part)))
        })
        .collect();
    let mut total = Outcome {
        sent: 0,
        failures: Vec::new(),
        by_status: Default::default(),
    };
    for handle in handles {
        let part = handle.join().expect("a fuzzing thread");
        total.sent += part.sent;
        total.failures.extend(part.failures);
        for (status, n) in part.by_status {
            *total.by_status.entry(status).or_default() += n;
        }
    }
    println!(
        "fuzz on {db:?}: {} requests in all, statuses {:?}",
        total.sent, total.by_status
    );
    if total.sent < plan.requests {
        println!(
            "fuzz on {db:?}: the time budget ended the run before {} requests",
            plan.requests
        );
    }
    total
}

fn threads() -> usize {
    std::env::var("ROSTER_FUZZ_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
        .max(1)
}

#[test]
#[ignore = "faults stage"]
fn fuzz_sqlite() {
    let plan = Plan::from_env(100_000, Duration::from_secs(120));
    assert_clean(&run_parallel(Db::Sqlite, &plan, threads()));
}

#[test]
#[ignore = "faults stage"]
fn fuzz_mariadb() {
    let plan = Plan::from_env(20_000, Duration::from_secs(45));
    assert_clean(&run_parallel(Db::MariaDb, &plan, threads()));
}
