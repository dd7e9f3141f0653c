//! Adding, listing and removing the console's admin accounts. Their
//! passwords are kept only as Argon2 hashes.

use entity::admin_account;
use sea_orm::ActiveValue::Set;
use sea_orm::DatabaseConnection;

use super::ServiceError;
use crate::scim::ScimError;
use crate::secrets::hash_secret;
use crate::store::admins as admin_store;
use crate::time::now_ms;

/// Shortest password an admin account accepts.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Adds the account `name`; an error when it exists or the name or
/// password is unusable.
pub async fn add(db: &DatabaseConnection, name: &str, password: &str) -> Result<(), ServiceError> {
    check_name(name)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(invalid(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if admin_store::find(db, name).await?.is_some() {
        return Err(ScimError::uniqueness(format!("admin {name:?} already exists")).into());
    }
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_secret(&password))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .map_err(ServiceError::Internal)?;
    let model = admin_account::ActiveModel {
        name: Set(name.to_owned()),
        password_hash: Set(hash),
        created_at: Set(now_ms()),
    };
    admin_store::insert(db, model).await?;
    Ok(())
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<admin_account::Model>, ServiceError> {
    Ok(admin_store::list(db).await?)
}

/// Whether an account was removed.
pub async fn remove(db: &DatabaseConnection, name: &str) -> Result<bool, ServiceError> {
    Ok(admin_store::remove(db, name).await?)
}

/// A name is printable, without ':' (it travels in HTTP Basic), and fits
/// the key column.
fn check_name(name: &str) -> Result<(), ServiceError> {
    let printable = name.chars().all(|c| !c.is_control() && c != ':');
    if name.is_empty() || name.chars().count() > 255 || !printable || name.trim() != name {
        return Err(invalid(format!(
            "an admin name must be 1 to 255 printable characters without ':' or surrounding spaces, got {name:?}"
        )));
    }
    Ok(())
}

fn invalid(detail: String) -> ServiceError {
    ScimError::invalid_value(detail).into()
}
