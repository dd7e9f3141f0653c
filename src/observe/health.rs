//! `/healthz` (the process serves) and `/readyz` (the database answers and
//! carries this build's migrations). Neither reads SCIM data nor needs a
//! credential.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::Observe;
use crate::config::DatabaseUrl;
use crate::store;

/// How long a readiness probe waits for the database.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// What a 503 asks the prober to wait, in seconds.
const RETRY_AFTER_SECS: u64 = 5;

pub struct Readiness {
    db: DatabaseConnection,
    /// Once the migrations were found current they stay so: this process
    /// never drops one.
    migrations_current: AtomicBool,
    /// Taken out of every reason before it is shown.
    password: Option<String>,
}

impl Readiness {
    pub fn new(db: DatabaseConnection, url: &DatabaseUrl) -> Self {
        Self {
            db,
            migrations_current: AtomicBool::new(false),
            password: password_of(url),
        }
    }

    /// `Err(reason)` when the server should not receive traffic.
    pub async fn check(&self) -> Result<(), String> {
        let answered = tokio::time::timeout(PROBE_TIMEOUT, self.db.ping()).await;
        match answered {
            Err(_) => return Err("database unreachable: no answer within 1 s".to_owned()),
            Ok(Err(e)) => return Err(self.scrub(format!("database unreachable: {e}"))),
            Ok(Ok(())) => {}
        }
        if self.migrations_current.load(Ordering::Relaxed) {
            return Ok(());
        }
        let pending = tokio::time::timeout(PROBE_TIMEOUT, store::pending_migrations(&self.db))
            .await
            .map_err(|_| "database unreachable: no answer within 1 s".to_owned())?
            .map_err(|e| self.scrub(format!("cannot read the applied migrations: {e}")))?;
        if pending > 0 {
            return Err(format!(
                "{pending} database migrations are not applied; run 'roster migrate'"
            ));
        }
        self.migrations_current.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn scrub(&self, reason: String) -> String {
        match &self.password {
            Some(p) if !p.is_empty() => reason.replace(p.as_str(), "***"),
            _ => reason,
        }
    }
}

/// The password in a database URL, as written and percent-decoded: the
/// first is what the URL holds, the second what a driver may echo.
fn password_of(url: &DatabaseUrl) -> Option<String> {
    let parsed = url::Url::parse(url.expose()).ok()?;
    let raw = parsed.password()?;
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?;
    Some(decoded.into_owned())
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(observe: web::Data<Observe>) -> HttpResponse {
    match observe.readiness.check().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(reason) => {
            log::warn!("not ready: {reason}");
            HttpResponse::ServiceUnavailable()
                .insert_header(("Retry-After", RETRY_AFTER_SECS.to_string()))
                .json(json!({"status": "unavailable", "reason": reason}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_found_decoded() {
        let url = DatabaseUrl::new("mysql://scim:p%40ss@db:3306/scim");
        assert_eq!(password_of(&url).as_deref(), Some("p@ss"));
        assert_eq!(password_of(&DatabaseUrl::new("sqlite://x.db")), None);
    }
}
