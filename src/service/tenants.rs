//! Tenants: the directories one server holds apart. Every row is keyed by
//! its tenant; a credential decides the tenant of a request (see
//! `auth`), and the [`TenantDirectory`] names it without asking the
//! database again.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use entity::tenant;
use sea_orm::ActiveValue::Set;
use sea_orm::{DatabaseConnection, DbErr, SqlErr};
use uuid::Uuid;

use super::DEFAULT_TENANT;
use crate::scim::idp_dialect::{Dialect, Overrides};
use crate::scim::profile::Profile;
use crate::store::tenants as tenant_store;
use crate::time::now_ms;

/// The name of the tenant every database starts with.
pub const DEFAULT_TENANT_NAME: &str = "default";
const MAX_NAME: usize = 63;

/// A tenant as a request carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: Uuid,
    pub name: Arc<str>,
    pub profile: Profile,
    /// Per-rule overrides of the profile (a JSON object), if any.
    pub overrides: Option<Arc<str>>,
    /// The rules in force: the profile's, with the overrides applied.
    pub dialect: Dialect,
}

impl Tenant {
    /// `default` as it is before the tenants table is read.
    pub fn default_tenant() -> Self {
        Self {
            id: DEFAULT_TENANT,
            name: DEFAULT_TENANT_NAME.into(),
            profile: Profile::Okta,
            overrides: None,
            dialect: Profile::Okta.base(),
        }
    }

    pub fn is_default(&self) -> bool {
        self.id == DEFAULT_TENANT
    }

    fn from_row(row: tenant::Model) -> Self {
        // A name written by a later version reads as the default.
        let profile: Profile = row.profile.parse().unwrap_or_default();
        let overrides = row.overrides.as_deref().map(parse_overrides);
        let dialect = match &overrides {
            Some(Ok(o)) => profile.dialect(o),
            Some(Err(e)) => {
                log::warn!("tenant {}: rule overrides ignored: {e}", row.name);
                profile.base()
            }
            None => profile.base(),
        };
        Self {
            id: row.id,
            name: row.name.into(),
            profile,
            overrides: row.overrides.map(Into::into),
            dialect,
        }
    }
}

fn parse_overrides(json: &str) -> Result<Overrides, TenantError> {
    serde_json::from_str(json).map_err(|e| TenantError::Invalid(format!("rule overrides: {e}")))
}

/// Overrides from `NAME=on|off` pairs, as `tenant add --rule` takes them.
pub fn overrides_from_pairs(pairs: &[String]) -> Result<Option<String>, TenantError> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut map = serde_json::Map::new();
    for pair in pairs {
        let (name, value) = pair.split_once('=').ok_or_else(|| {
            TenantError::Invalid(format!("rule {pair:?}: expected NAME=on or NAME=off"))
        })?;
        let on = match value {
            "on" | "true" => true,
            "off" | "false" => false,
            _ => {
                return Err(TenantError::Invalid(format!(
                    "rule {name}: expected on or off, not {value:?}"
                )));
            }
        };
        map.insert(name.to_owned(), serde_json::Value::Bool(on));
    }
    let json = serde_json::Value::Object(map).to_string();
    // Unknown rule names are refused here rather than ignored later.
    parse_overrides(&json)?;
    Ok(Some(json))
}

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("{0}")]
    Invalid(String),
    #[error("a tenant named {0:?} exists already")]
    Exists(String),
    #[error("no tenant named {0:?}")]
    NotFound(String),
    #[error("the default tenant cannot be removed")]
    RemoveDefault,
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// Lowercase letters, digits and `-`, 1 to 63 characters: a name that fits
/// a URL path segment and a DNS label unchanged.
pub fn validate_name(name: &str) -> Result<(), TenantError> {
    let ok = (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    match ok {
        true => Ok(()),
        false => Err(TenantError::Invalid(format!(
            "invalid tenant name {name:?}: use 1 to {MAX_NAME} lowercase letters, digits and '-'"
        ))),
    }
}

pub async fn add(
    db: &DatabaseConnection,
    name: &str,
    profile: Profile,
    overrides: Option<String>,
) -> Result<Tenant, TenantError> {
    validate_name(name)?;
    if tenant_store::find_by_name(db, name).await?.is_some() {
        return Err(TenantError::Exists(name.to_owned()));
    }
    let row = tenant::Model {
        id: Uuid::new_v4(),
        name: name.to_owned(),
        profile: profile.name().to_owned(),
        overrides,
        created_at: now_ms(),
    };
    let model = tenant::ActiveModel {
        id: Set(row.id),
        name: Set(row.name.clone()),
        profile: Set(row.profile.clone()),
        overrides: Set(row.overrides.clone()),
        created_at: Set(row.created_at),
    };
    tenant_store::insert(db, model)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => TenantError::Exists(name.to_owned()),
            _ => TenantError::Db(e),
        })?;
    Ok(Tenant::from_row(row))
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<Tenant>, TenantError> {
    let rows = tenant_store::list(db).await?;
    Ok(rows.into_iter().map(Tenant::from_row).collect())
}

pub async fn find(db: &DatabaseConnection, name: &str) -> Result<Tenant, TenantError> {
    validate_name(name)?;
    match tenant_store::find_by_name(db, name).await? {
        Some(row) => Ok(Tenant::from_row(row)),
        None => Err(TenantError::NotFound(name.to_owned())),
    }
}

/// Deletes the tenant named `name` and everything it owns; the rows
/// deleted per table.
pub async fn remove(
    db: &DatabaseConnection,
    name: &str,
) -> Result<Vec<(&'static str, u64)>, TenantError> {
    let tenant = find(db, name).await?;
    if tenant.is_default() {
        return Err(TenantError::RemoveDefault);
    }
    tenant_store::remove(db, tenant.id)
        .await?
        .ok_or_else(|| TenantError::NotFound(name.to_owned()))
}

/// How long a tenant read from the database is used before it is read
/// again: a tenant removed (or changed) while the server runs stops being
/// served within this time, whatever credential still names it.
const FRESH_FOR: Duration = Duration::from_secs(30);

/// Tenants by id, as requests need them: from memory, read from the
/// database on a tenant's first request and again once `FRESH_FOR` has
/// passed, never per request. `default` is always there.
pub struct TenantDirectory {
    db: DatabaseConnection,
    known: RwLock<HashMap<Uuid, (Arc<Tenant>, Instant)>>,
}

impl TenantDirectory {
    pub async fn load(db: DatabaseConnection) -> Result<Self, DbErr> {
        let now = Instant::now();
        let mut known: HashMap<Uuid, (Arc<Tenant>, Instant)> = tenant_store::list(&db)
            .await?
            .into_iter()
            .map(|row| (row.id, (Arc::new(Tenant::from_row(row)), now)))
            .collect();
        known
            .entry(DEFAULT_TENANT)
            .or_insert_with(|| (Arc::new(Tenant::default_tenant()), now));
        Ok(Self {
            db,
            known: RwLock::new(known),
        })
    }

    /// The tenant with this id; `None` when there is none (removed).
    pub async fn get(&self, id: Uuid) -> Result<Option<Arc<Tenant>>, DbErr> {
        if let Some(t) = self.cached(id) {
            return Ok(Some(t));
        }
        let row = tenant_store::find_by_id(&self.db, id).await?;
        let Ok(mut known) = self.known.write() else {
            return Ok(row.map(|r| Arc::new(Tenant::from_row(r))));
        };
        match row {
            Some(row) => {
                let tenant = Arc::new(Tenant::from_row(row));
                known.insert(id, (tenant.clone(), Instant::now()));
                Ok(Some(tenant))
            }
            None if id == DEFAULT_TENANT => Ok(known.get(&id).map(|(t, _)| t.clone())),
            None => {
                known.remove(&id);
                Ok(None)
            }
        }
    }

    /// The tenant with this id if memory holds it and it is fresh.
    pub fn cached(&self, id: Uuid) -> Option<Arc<Tenant>> {
        let known = self.known.read().ok()?;
        let (tenant, read_at) = known.get(&id)?;
        let fresh = id == DEFAULT_TENANT || read_at.elapsed() < FRESH_FOR;
        fresh.then(|| tenant.clone())
    }

    /// The id of the tenant named `name` (start-up resolves the configured
    /// bindings with this).
    pub async fn id_of(&self, name: &str) -> Result<Option<Uuid>, DbErr> {
        Ok(tenant_store::find_by_name(&self.db, name)
            .await?
            .map(|row| row.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels() {
        for good in ["a", "acme", "acme-2", &"x".repeat(63)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Acme", "a_b", "a b", "ü", &"x".repeat(64), "a/b"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rule_pairs_become_overrides() {
        let json = overrides_from_pairs(&["empty_members=off".into()]).unwrap();
        let o: Overrides = serde_json::from_str(json.as_deref().unwrap()).unwrap();
        assert!(!Profile::Okta.dialect(&o).empty_members);
        assert!(overrides_from_pairs(&[]).unwrap().is_none());
        assert!(overrides_from_pairs(&["no_such_rule=on".into()]).is_err());
        assert!(overrides_from_pairs(&["empty_members=maybe".into()]).is_err());
        assert!(overrides_from_pairs(&["empty_members".into()]).is_err());
    }
}
