//! `[[tenant]]`: which configured credentials reach a tenant other than
//! `default`. The tenants themselves live in the database (`roster tenant
//! add`); start-up refuses a binding to a tenant that does not exist.

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantConfig {
    pub name: String,
    /// Users of `auth.basic` whose requests reach this tenant.
    pub basic_users: Vec<String>,
    /// External JWTs (`auth.jwt`) with this issuer and audience.
    pub jwt: Vec<JwtTenantConfig>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtTenantConfig {
    pub issuer: String,
    pub audience: String,
}

/// No credential may be bound to two tenants.
pub(super) fn validate(tenants: &[TenantConfig]) -> Result<(), ConfigError> {
    let mut users = std::collections::HashSet::new();
    let mut jwts = std::collections::HashSet::new();
    for t in tenants {
        if t.name.is_empty() {
            return Err(invalid("every [[tenant]] needs a name"));
        }
        for user in &t.basic_users {
            if !users.insert(user.as_str()) {
                return Err(invalid(format!(
                    "Basic user {user:?} is bound to more than one [[tenant]]"
                )));
            }
        }
        for j in &t.jwt {
            if j.issuer.is_empty() || j.audience.is_empty() {
                return Err(invalid(format!(
                    "[[tenant]] {:?}: a jwt binding needs an issuer and an audience",
                    t.name
                )));
            }
            if !jwts.insert((j.issuer.as_str(), j.audience.as_str())) {
                return Err(invalid(format!(
                    "JWT issuer {:?} with audience {:?} is bound to more than one [[tenant]]",
                    j.issuer, j.audience
                )));
            }
        }
    }
    Ok(())
}
