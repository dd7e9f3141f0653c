//! What the events need at run time, and the routes they add: the poll
//! endpoint and, when the built-in authorization server is off, the key
//! set receivers verify SETs with.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;

use super::clock::Clock;
use super::horizon::Horizon;
use super::outbox::Outbox;
use super::{EventsError, poll, push, receivers, store};
use crate::config::EventsConfig;
use crate::oauth::{JWKS_PATH, KeyRing};
use crate::observe::metrics::EventInstruments;
use crate::store::exec::Db;

pub struct EventsState {
    pub pool: DatabaseConnection,
    /// Where the delivery worker's writes run: with the server's own
    /// writes (on SQLite the write thread), never beside them.
    pub db: Db,
    pub keys: Arc<KeyRing>,
    pub issuer: String,
    pub outbox: Arc<Outbox>,
    pub horizon: Horizon,
    pub config: EventsConfig,
    pub clock: Arc<dyn Clock>,
    /// This node's name in receiver claims.
    pub node: String,
    pub instruments: EventInstruments,
}

impl EventsState {
    /// Reads the receivers once, so that events are recorded from the
    /// first write, and starts from where the slowest receiver is.
    pub async fn new(
        (pool, db): (DatabaseConnection, Db),
        keys: Arc<KeyRing>,
        issuer: String,
        outbox: Arc<Outbox>,
        config: EventsConfig,
        clock: Arc<dyn Clock>,
        instruments: EventInstruments,
    ) -> Result<Self, EventsError> {
        let all = receivers::list(&pool, None).await?;
        outbox.set_tenants(all.iter().map(|r| r.tenant).collect());
        let start = match all.iter().map(|r| r.cursor_seq).min() {
            Some(slowest) => slowest,
            None => store::max_seq(&pool).await?,
        };
        let horizon = Horizon::new(start, config.gap_wait_ms as i64);
        Ok(Self {
            pool,
            db,
            keys,
            issuer,
            outbox,
            horizon,
            config,
            clock,
            node: uuid::Uuid::new_v4().simple().to_string(),
            instruments,
        })
    }

    /// Starts this node's delivery worker.
    pub fn start_worker(self: &Arc<Self>) {
        push::spawn(self.clone());
    }
}

/// The poll endpoint, and the key set when nothing else serves it.
pub fn routes(cfg: &mut web::ServiceConfig, state: Arc<EventsState>, serve_jwks: bool) {
    let path = state.config.poll_path.clone();
    let data = web::Data::from(state);
    cfg.service(
        web::resource(path)
            .app_data(data.clone())
            .route(web::post().to(poll::poll)),
    );
    if serve_jwks {
        cfg.service(
            web::resource(JWKS_PATH)
                .app_data(data)
                .route(web::get().to(jwks)),
        );
    }
}

/// While no tenant has a receiver there are no events to verify, and a
/// server without an authorization server publishes no keys (nor makes
/// any) as before.
async fn jwks(state: web::Data<EventsState>) -> HttpResponse {
    if !state.outbox.any() {
        return crate::http::error::scim_error_response(&crate::scim::ScimError::not_found(
            format!("no such endpoint: {JWKS_PATH}"),
        ));
    }
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(&*state.keys.jwks().await)
}
