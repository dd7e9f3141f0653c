//! Webhook secrets at rest: a copy of the database must not let anyone
//! sign webhooks an application would trust, so with a secrets key
//! configured (`[secrets]`) they are sealed under it, bound to their
//! receiver's id, as the authorization server's signing keys are.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use uuid::Uuid;

use super::EventsError;
use super::receivers::Receiver;
use super::store::RECEIVERS;
use crate::secrets::at_rest::{SealingKey, is_sealed};
use crate::store::exec::Write;

/// `secret` as it is stored for the receiver `id`.
pub fn stored(secret: &str, id: Uuid, sealing: Option<&SealingKey>) -> Result<String, EventsError> {
    match sealing {
        Some(key) => key
            .seal(secret, id.as_bytes())
            .map_err(|e| EventsError::Invalid(e.to_string())),
        None => Ok(secret.to_owned()),
    }
}

/// The receiver's webhook secret in plain text, opened when sealed; none
/// for a receiver without one.
pub fn plain(receiver: &Receiver, sealing: Option<&SealingKey>) -> Result<Option<String>, String> {
    let Some(stored) = &receiver.webhook_secret else {
        return Ok(None);
    };
    if !is_sealed(stored) {
        return Ok(Some(stored.clone()));
    }
    let key = sealing.ok_or_else(|| {
        format!(
            "receiver {:?}: its webhook secret is sealed and no secrets key is configured \
             (set [secrets] key or key_file)",
            receiver.name
        )
    })?;
    key.open(stored, receiver.id.as_bytes())
        .map(Some)
        .map_err(|e| format!("receiver {:?}: webhook secret: {e}", receiver.name))
}

/// Seals the webhook secrets of `all` still stored in plain text
/// (receivers added before a secrets key was configured); how many it
/// sealed.
pub async fn seal_plain<W: Write>(
    w: &W,
    all: &[Receiver],
    sealing: &SealingKey,
) -> Result<usize, EventsError> {
    let mut sealed = 0;
    for r in all {
        let Some(secret) = r.webhook_secret.as_deref().filter(|s| !is_sealed(s)) else {
            continue;
        };
        let value = stored(secret, r.id, Some(sealing))?;
        let stmt = Query::update()
            .table(Alias::new(RECEIVERS))
            .value(Alias::new("webhook_secret"), value)
            .and_where(Expr::col(Alias::new("id")).eq(r.id))
            .to_owned();
        w.exec(w.backend().build(&stmt)).await?;
        sealed += 1;
    }
    Ok(sealed)
}
