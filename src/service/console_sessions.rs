//! Console sign-in sessions: opened after the admin's password checked out,
//! found by the cookie's token on every page, closed on sign-out. Kept in
//! the database, so every node sharing it sees the same sessions.

use entity::console_session;
use sea_orm::ActiveValue::Set;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::ServiceError;
use crate::secrets::{random_secret, sha256_hex};
use crate::store::console_sessions as store;
use crate::time::now_ms;

/// A session as a page sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub tenant: Uuid,
    pub admin: String,
    /// What each state-changing form must send back.
    pub csrf_token: String,
    pub expires_at: i64,
}

/// A new session: the cookie's token exists in plain text only here.
pub struct Opened {
    pub token: String,
    pub session: Session,
}

pub async fn open(
    db: &DatabaseConnection,
    tenant: Uuid,
    admin: &str,
    ttl_ms: i64,
) -> Result<Opened, ServiceError> {
    let token = random_secret("").map_err(ServiceError::Internal)?;
    let csrf_token = random_secret("").map_err(ServiceError::Internal)?;
    let now = now_ms();
    let expires_at = now.saturating_add(ttl_ms);
    // Expired rows go when new ones come, so the table stays the size of
    // the sessions in use.
    store::delete_expired(db, now).await?;
    store::insert(
        db,
        console_session::ActiveModel {
            token_hash: Set(sha256_hex(token.as_bytes())),
            tenant_id: Set(tenant),
            admin: Set(admin.to_owned()),
            csrf_token: Set(csrf_token.clone()),
            created_at: Set(now),
            expires_at: Set(expires_at),
        },
    )
    .await?;
    Ok(Opened {
        token,
        session: Session {
            tenant,
            admin: admin.to_owned(),
            csrf_token,
            expires_at,
        },
    })
}

/// The live session the token opened, if any.
pub async fn find(db: &DatabaseConnection, token: &str) -> Result<Option<Session>, ServiceError> {
    let found = store::find_live(db, &sha256_hex(token.as_bytes()), now_ms()).await?;
    Ok(found.map(|m| Session {
        tenant: m.tenant_id,
        admin: m.admin,
        csrf_token: m.csrf_token,
        expires_at: m.expires_at,
    }))
}

/// Shows `tenant`'s resources in the session from now on, on every node.
pub async fn switch_tenant(
    db: &DatabaseConnection,
    token: &str,
    tenant: Uuid,
) -> Result<(), ServiceError> {
    Ok(store::set_tenant(db, &sha256_hex(token.as_bytes()), tenant).await?)
}

/// Ends the session for every node at once.
pub async fn close(db: &DatabaseConnection, token: &str) -> Result<(), ServiceError> {
    Ok(store::delete(db, &sha256_hex(token.as_bytes())).await?)
}
