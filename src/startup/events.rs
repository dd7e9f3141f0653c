//! Turning on the events: the outbox hook every write runs, the state the
//! poll endpoint and the delivery worker share, and the signing keys
//! (the built-in authorization server's, or a key ring of their own over
//! the same keys when that server is off).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use super::StartupError;
use super::auth::{AuthStack, key_retention, sealing_key};
use crate::config::Config;
use crate::events::{self, Clock, EventsState, Outbox, webhook_secret};
use crate::oauth::KeyRing;
use crate::observe::metrics::EventInstruments;
use crate::service::{ChangeHooks, DEFAULT_TENANT};
use crate::store::exec::Db;

/// The outbox, when events are on; `hooks` with it first, so that a hook
/// that refuses a write rolls its events back too.
pub(super) fn outbox(config: &Config, hooks: ChangeHooks) -> (Option<Arc<Outbox>>, ChangeHooks) {
    if !config.events.enabled {
        return (None, hooks);
    }
    let outbox = Arc::new(Outbox::default());
    let hooks = hooks.before(outbox.clone());
    (Some(outbox), hooks)
}

pub(super) async fn state(
    config: &Config,
    (db, writes): (&DatabaseConnection, &Db),
    auth: &AuthStack,
    outbox: Arc<Outbox>,
    (clock, instruments): (Arc<dyn Clock>, EventInstruments),
) -> Result<Arc<EventsState>, StartupError> {
    let keys = match &auth.server {
        Some(server) => server.keys.clone(),
        None => Arc::new(key_ring(config, db)),
    };
    let issuer = config
        .events
        .issuer
        .clone()
        .unwrap_or_else(|| config.oauth_issuer());
    let state = EventsState::new(
        (db.clone(), writes.clone()),
        keys.clone(),
        issuer,
        outbox,
        config.events.clone(),
        clock,
        instruments,
    )
    .await
    .map_err(|e| StartupError::Cli(format!("events: {e}")))?;
    seal_webhook_secrets(db, &keys).await?;
    if state.outbox.any() {
        keys.ensure_signing_key().await?;
    }
    Ok(Arc::new(state))
}

/// With a secrets key, seals the webhook secrets stored before it was
/// configured; without one, says that they are stored in plain text.
async fn seal_webhook_secrets(db: &DatabaseConnection, keys: &KeyRing) -> Result<(), StartupError> {
    let failed = |e: events::EventsError| StartupError::Cli(format!("events: {e}"));
    let receivers = events::receivers::list(db, None)
        .await
        .map_err(|e| failed(e.into()))?;
    match keys.sealing() {
        Some(key) => {
            let sealed = webhook_secret::seal_plain(db, &receivers, key)
                .await
                .map_err(failed)?;
            if sealed > 0 {
                log::info!("sealed {sealed} webhook secret(s) under the secrets key");
            }
        }
        None => {
            if receivers.iter().any(|r| r.webhook_secret.is_some()) {
                log::warn!(
                    "webhook secrets are stored unencrypted in the database; \
                     set [secrets] key or key_file to seal them"
                );
            }
        }
    }
    Ok(())
}

/// The signing keys as the authorization server would load them.
pub fn key_ring(config: &Config, db: &DatabaseConnection) -> KeyRing {
    KeyRing::new(
        db.clone(),
        DEFAULT_TENANT,
        key_retention(config),
        Duration::from_secs(config.oauth.key_reload_seconds),
        sealing_key(config).ok().flatten(),
    )
}

/// The clock delivery runs by unless a test brings its own.
pub(super) fn default_clock() -> Arc<dyn Clock> {
    events::clock::system()
}
