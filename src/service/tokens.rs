//! Minting and revoking the static bearer tokens kept in the database.

use std::collections::HashMap;

use entity::api_token;
use sea_orm::ActiveValue::Set;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::ServiceError;
use crate::secrets::{generate_token, sha256_hex};
use crate::store::tokens as token_store;
use crate::time::now_ms;

/// A freshly minted token: the only time its plain text exists.
pub struct MintedToken {
    pub id: Uuid,
    pub name: String,
    pub token: String,
}

pub async fn create(
    db: &DatabaseConnection,
    tenant: Uuid,
    name: &str,
) -> Result<MintedToken, ServiceError> {
    let token = generate_token().map_err(ServiceError::Internal)?;
    let id = Uuid::new_v4();
    let model = api_token::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(id),
        name: Set(name.to_owned()),
        token_hash: Set(sha256_hex(token.as_bytes())),
        created_at: Set(now_ms()),
        revoked_at: Set(None),
    };
    token_store::insert(db, model).await?;
    Ok(MintedToken {
        id,
        name: name.to_owned(),
        token,
    })
}

pub async fn list(
    db: &DatabaseConnection,
    tenant: Uuid,
) -> Result<Vec<api_token::Model>, ServiceError> {
    Ok(token_store::list(db, tenant).await?)
}

/// When each of the tenant's stored credentials (bearer tokens and OAuth
/// clients) was last used, by id, to the minute (see `auth::credential_use`).
pub async fn last_used(
    db: &DatabaseConnection,
    tenant: Uuid,
) -> Result<HashMap<Uuid, i64>, ServiceError> {
    let uses = crate::store::token_use::of_tenant(db, tenant).await?;
    Ok(uses
        .into_iter()
        .map(|u| (u.token_id, u.last_used_at))
        .collect())
}

pub async fn revoke(db: &DatabaseConnection, tenant: Uuid, id: Uuid) -> Result<bool, ServiceError> {
    Ok(token_store::revoke(db, tenant, id, now_ms()).await?)
}

/// With no credential configured and none minted yet, mints the first
/// token so that a fresh server is usable but never open.
pub async fn ensure_bootstrap(
    db: &DatabaseConnection,
    tenant: Uuid,
) -> Result<Option<MintedToken>, ServiceError> {
    if token_store::count_active(db).await? > 0 {
        return Ok(None);
    }
    create(db, tenant, "bootstrap").await.map(Some)
}
