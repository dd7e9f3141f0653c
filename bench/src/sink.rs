//! `roster-bench sink`: a push receiver for `bench/events.py` that costs
//! next to nothing, so that what the benchmark charges to events is
//! Roster's work, not the receiver's. It answers every POST with 202, or
//! 503 while told to refuse, and counts what it accepted with the times of
//! the first and the last arrival. The harness steers it over `/control/…`:
//!
//! * `POST /control/refuse`, `POST /control/accept`;
//! * `POST /control/reset` forgets the arrivals counted so far;
//! * `GET /control/stats` answers `{"received": n, "first": s, "last": s}`,
//!   seconds since the sink started.
//!
//! The first line on stdout is `listening on 127.0.0.1:PORT`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use actix_web::{App, HttpResponse, HttpServer, web};

struct Sink {
    started: Instant,
    refusing: AtomicBool,
    received: AtomicU64,
    /// Nanoseconds since `started`, plus one, of the first and the last
    /// arrival; 0 when none.
    first: AtomicU64,
    last: AtomicU64,
}

impl Sink {
    fn arrived(&self) {
        let at = u64::try_from(self.started.elapsed().as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        self.received.fetch_add(1, Ordering::Relaxed);
        let _ = self
            .first
            .compare_exchange(0, at, Ordering::Relaxed, Ordering::Relaxed);
        self.last.fetch_max(at, Ordering::Relaxed);
    }

    fn reset(&self) {
        self.received.store(0, Ordering::Relaxed);
        self.first.store(0, Ordering::Relaxed);
        self.last.store(0, Ordering::Relaxed);
    }
}

fn seconds(nanos_plus_one: u64) -> f64 {
    nanos_plus_one.saturating_sub(1) as f64 / 1e9
}

async fn event(sink: web::Data<Sink>, _body: web::Bytes) -> HttpResponse {
    if sink.refusing.load(Ordering::Relaxed) {
        return HttpResponse::ServiceUnavailable().finish();
    }
    sink.arrived();
    HttpResponse::Accepted().finish()
}

async fn control(sink: web::Data<Sink>, what: web::Path<String>) -> HttpResponse {
    match what.as_str() {
        "refuse" => sink.refusing.store(true, Ordering::Relaxed),
        "accept" => sink.refusing.store(false, Ordering::Relaxed),
        "reset" => sink.reset(),
        _ => return HttpResponse::NotFound().finish(),
    }
    HttpResponse::NoContent().finish()
}

async fn stats(sink: web::Data<Sink>) -> HttpResponse {
    let body = serde_json::json!({
        "received": sink.received.load(Ordering::Relaxed),
        "first": seconds(sink.first.load(Ordering::Relaxed)),
        "last": seconds(sink.last.load(Ordering::Relaxed)),
    });
    HttpResponse::Ok().json(body)
}

/// Serves until killed; port 0 takes a free one.
pub async fn run(port: u16) -> Result<(), String> {
    let sink = web::Data::from(Arc::new(Sink {
        started: Instant::now(),
        refusing: AtomicBool::new(false),
        received: AtomicU64::new(0),
        first: AtomicU64::new(0),
        last: AtomicU64::new(0),
    }));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(sink.clone())
            .route("/control/stats", web::get().to(stats))
            .route("/control/{what}", web::post().to(control))
            .default_service(web::to(event))
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .map_err(|e| format!("cannot listen on port {port}: {e}"))?;
    let bound = server
        .addrs()
        .first()
        .map_or(port, std::net::SocketAddr::port);
    println!("listening on 127.0.0.1:{bound}");
    server.run().await.map_err(|e| format!("sink stopped: {e}"))
}
